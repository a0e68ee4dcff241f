
/// Inverted dropout with masks that do not depend on the layout: element `(r, c)` of a
/// global `[rows, width]` activation is kept when
/// `CounterRandom.uniform(stream, index: (rowOffset + r) · width + c) >= probability`, and
/// kept values are scaled by `1 / (1 − probability)`. Replicated activations (the hidden
/// state after a row-parallel all-reduce) pass the full `columns` on every tensor rank and so
/// draw the same mask; sharded ones (attention probabilities of this rank's heads, the MLP's
/// intermediate slice) pass their global column range and draw their slice of it.
///
/// `rowOffset` should come from the sequence's position in the optimizer step
/// (`j · L` for the step's `j`-th sequence), and `stream` from `CounterRandom.stream(step, layer, site)`,
/// so data-parallel layouts draw the same masks too. The backward recomputes the mask.
public enum Dropout {
    /// `out` `[rows, columns.count]` from `x` (same shape; may be the same buffer).
    /// `probability` in `[0, 1)`; 0 copies.
    public static func apply(_ x: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>, rows: Int, width: Int,
                             columns: Range<Int>, rowOffset: Int, probability: Float, random: CounterRandom,
                             stream: UInt64, pool: ThreadPool) {
        precondition(probability >= 0 && probability < 1, "dropout probability \(probability) outside [0, 1)")
        precondition(columns.lowerBound >= 0 && columns.upperBound <= width, "columns \(columns) outside 0..<\(width)")
        let scale = 1 / (1 - probability)
        let count = columns.count
        pool.parallelFor(rows) { r in
            let source = x + r * count, target = out + r * count
            let base = UInt64((rowOffset + r) * width)
            for (j, c) in columns.enumerated() {
                let keep = probability == 0 || random.uniform(stream: stream, index: base + UInt64(c)) >= probability
                target[j] = keep ? source[j] * scale : 0
            }
        }
    }

    /// Backward: the same mask and scale applied to the output gradient (`dx` may be `dy`).
    public static func backward(_ dy: UnsafePointer<Float>, inputGradient dx: UnsafeMutablePointer<Float>, rows: Int,
                                width: Int, columns: Range<Int>, rowOffset: Int, probability: Float,
                                random: CounterRandom, stream: UInt64, pool: ThreadPool) {
        apply(dy, out: dx, rows: rows, width: width, columns: columns, rowOffset: rowOffset,
              probability: probability, random: random, stream: stream, pool: pool)
    }
}
