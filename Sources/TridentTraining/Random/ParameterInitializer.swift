import TridentKernels

/// Layout-independent random initialisation as Megatron does it: weights normal with
/// standard deviation `std` (0.02), output projections (attention output and MLP down) with
/// `std / sqrt(2 · layers)`, biases zero, norm weights one. Element `(r, c)` of a global
/// `[rows, columns]` tensor takes `CounterRandom.normal(stream, index: r · columns + c)`, so
/// any shard — rows of a column-parallel weight, columns of a row-parallel one, a vocabulary
/// slice — holds exactly its part of the one-rank tensor.
public enum ParameterInitializer {
    /// The standard deviation of a layer's weight: `std`, or `std / sqrt(2 · layers)` for
    /// output projections.
    public static func standardDeviation(base std: Float = 0.02, isOutputProjection: Bool, layers: Int) -> Float {
        isOutputProjection ? std / (2 * Float(layers)).squareRoot() : std
    }

    /// Fills `out` `[rows.count, columns.count]` with the slice `rows × columns` of the global
    /// `[globalRows, globalColumns]` tensor of `stream`, each element `std · normal`.
    public static func normal(into out: UnsafeMutablePointer<Float>, globalRows: Int, globalColumns: Int,
                              rows: Range<Int>, columns: Range<Int>, std: Float, random: CounterRandom,
                              stream: UInt64, pool: ThreadPool) {
        precondition(rows.lowerBound >= 0 && rows.upperBound <= globalRows
                     && columns.lowerBound >= 0 && columns.upperBound <= globalColumns,
                     "slice \(rows) x \(columns) outside [\(globalRows), \(globalColumns)]")
        pool.parallelFor(rows.count) { i in
            let row = out + i * columns.count
            let base = UInt64((rows.lowerBound + i) * globalColumns)
            for (j, c) in columns.enumerated() {
                row[j] = std * random.normal(stream: stream, index: base + UInt64(c))
            }
        }
    }
}
