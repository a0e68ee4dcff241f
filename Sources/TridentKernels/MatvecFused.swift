/// One product of a fused matrix-vector call: `output[r] = Σ_c weight[r, c] · input[c]`.
public struct MatvecTarget: @unchecked Sendable {
    /// `[rows, columns]`, any `DType`.
    public let weight: WeightMatrix
    /// `[weight.rows]`, written.
    public let output: UnsafeMutablePointer<Float>

    public init(weight: WeightMatrix, output: UnsafeMutablePointer<Float>) {
        self.weight = weight
        self.output = output
    }
}

/// `matvec` of two or three matrices that read the same input (q/k/v, gate/up) in one
/// fork/join: the block sums of `input` are computed once and the rows of all matrices are
/// split over the pool together, in contiguous chunks of about equal length, so each thread
/// streams disjoint runs of memory and no thread waits between the products.
/// - Parameters:
///   - input: `[columns]`, the same for every target (all have `columns` columns).
///   - kernel: the inner loops, as for `matvec`; `activations` as for `matvec` (Q8_0 targets
///     share one 8-bit copy of `input`).
/// Results equal separate `matvec` calls exactly (same loops, same order within a row).
public func matvecFused(_ a: MatvecTarget, _ b: MatvecTarget, _ c: MatvecTarget? = nil,
                        input: UnsafePointer<Float>, pool: ThreadPool, kernel: MatvecKernel = .current,
                        activations: ActivationPrecision = .current) {
    let columns = a.weight.columns
    precondition(b.weight.columns == columns && (c?.weight.columns ?? columns) == columns,
                 "matvecFused: column counts differ (\(columns), \(b.weight.columns), \(c?.weight.columns ?? columns))")
    if columns == 0 {
        for t in [a, b, c].compactMap({ $0 }) {
            matvec(weight: t.weight, input: input, output: t.output, pool: pool, kernel: kernel, activations: activations)
        }
        return
    }
    let blocks = columns / 32
    // Q8_0 targets with int8 activations share one quantized copy of `input`.
    let quantize = activations == .int8 && [a, b, c].contains { $0?.weight.dtype == .q8_0 && $0?.weight.layout == .rows }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: max(blocks, 1)) { sums in
        Q8Activations.withBuffers(tokens: quantize ? 1 : 0, blocks: blocks) { q8 in
            let sumsBase = sums.baseAddress!
            if blocks > 0 { RowDot.blockSums(input, blocks, into: sumsBase) }
            if quantize { q8.quantize(input, token: 0) }
            let totalRows = a.weight.rows + b.weight.rows + (c?.weight.rows ?? 0)
            let chunksWanted = pool.threadCount == 1 ? 1 : pool.threadCount * 4
            // Whole row groups (16 rows), so row-group matrices split at group boundaries.
            let chunkLength = max(16, ((totalRows + chunksWanted - 1) / chunksWanted + 15) / 16 * 16)
            let chunksA = (a.weight.rows + chunkLength - 1) / chunkLength
            let chunksB = (b.weight.rows + chunkLength - 1) / chunkLength
            let chunksC = c.map { ($0.weight.rows + chunkLength - 1) / chunkLength } ?? 0
            let sumsPointer = UnsafePointer(sumsBase)
            pool.parallelFor(chunksA + chunksB + chunksC) { item in
                let target: MatvecTarget, chunk: Int
                if item < chunksA { (target, chunk) = (a, item) }
                else if item < chunksA + chunksB { (target, chunk) = (b, item - chunksA) }
                else { (target, chunk) = (c!, item - chunksA - chunksB) }
                let range = (chunk * chunkLength)..<min(target.weight.rows, (chunk + 1) * chunkLength)
                if quantize && target.weight.dtype == .q8_0 && target.weight.layout == .rows {
                    q8Rows(target.weight, range, q8, target.output, path: .current)
                } else {
                    matvecRange(target.weight, range, input, sumsPointer, target.output, kernel: kernel)
                }
            }
        }
    }
}
