import TridentKernels

/// Converts one tensor's packed rows from one storage type to another through float32,
/// row by row (no whole-tensor float copy), and measures what the conversion lost.
enum TensorRequantizer {
    /// The converted bytes and the relative RMS error `sqrt(Σ(x̂ − x)² / Σx²)` of the result
    /// `x̂` against the source values `x` (0 when the source is all zeros and so is the result).
    struct Result {
        var bytes: [UInt8]
        var relativeRMSError: Double
    }

    /// `rows` rows of `columns` elements of `from` at `source` -> `rows` rows of `to`.
    /// Rows are spread over `pool`.
    /// - Precondition: `columns` is a whole number of both types' blocks; `to` is quantizable.
    static func convert(_ source: UnsafeRawPointer, rows: Int, columns: Int, from: DType, to: DType,
                        pool: ThreadPool) -> Result {
        let inRow = from.rowBytes(columns), outRow = to.rowBytes(columns)
        var bytes = [UInt8](repeating: 0, count: rows * outRow)
        let chunkCount = min(rows, pool.threadCount * 4)
        var sums = [(error: Double, signal: Double)](repeating: (0, 0), count: max(chunkCount, 1))
        let rowsPerChunk = (rows + max(chunkCount, 1) - 1) / max(chunkCount, 1)
        bytes.withUnsafeMutableBytes { out in
            sums.withUnsafeMutableBufferPointer { partial in
                let destination = out.baseAddress!, totals = partial.baseAddress!
                pool.parallelFor(chunkCount) { chunk in
                    let range = chunk * rowsPerChunk..<min(rows, (chunk + 1) * rowsPerChunk)
                    totals[chunk] = convertRows(range, source, inRow, destination, outRow, columns: columns, from: from, to: to)
                }
            }
        }
        let error = sums.reduce(0) { $0 + $1.error }, signal = sums.reduce(0) { $0 + $1.signal }
        return Result(bytes: bytes, relativeRMSError: signal > 0 ? (error / signal).squareRoot() : (error > 0 ? 1 : 0))
    }

    /// Converts `rows` and returns their summed squared error and squared source values.
    private static func convertRows(_ rows: Range<Int>, _ source: UnsafeRawPointer, _ inRow: Int,
                                    _ destination: UnsafeMutableRawPointer, _ outRow: Int, columns: Int,
                                    from: DType, to: DType) -> (error: Double, signal: Double) {
        var error = 0.0, signal = 0.0
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 2 * columns) { scratch in
            let values = scratch.baseAddress!, back = values + columns
            for row in rows {
                Dequantizer.dequantize(source + row * inRow, count: columns, dtype: from, into: values)
                let packed = destination + row * outRow
                Quantizer.quantizeRow(values, count: columns, to: to, into: packed)
                Dequantizer.dequantize(packed, count: columns, dtype: to, into: back)
                var rowError: Float = 0, rowSignal: Float = 0
                for i in 0..<columns {
                    let d = back[i] - values[i]
                    rowError += d * d
                    rowSignal += values[i] * values[i]
                }
                error += Double(rowError)
                signal += Double(rowSignal)
            }
        }
        return (error, signal)
    }
}
