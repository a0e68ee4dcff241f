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
///   - kernel: the inner loops, as for `matvec`.
/// Results equal separate `matvec` calls exactly (same loops, same order within a row).
public func matvecFused(_ a: MatvecTarget, _ b: MatvecTarget, _ c: MatvecTarget? = nil,
                        input: UnsafePointer<Float>, pool: ThreadPool, kernel: MatvecKernel = .current) {
    let columns = a.weight.columns
    precondition(b.weight.columns == columns && (c?.weight.columns ?? columns) == columns,
                 "matvecFused: column counts differ (\(columns), \(b.weight.columns), \(c?.weight.columns ?? columns))")
    if columns == 0 {
        matvec(weight: a.weight, input: input, output: a.output, pool: pool, kernel: kernel)
        matvec(weight: b.weight, input: input, output: b.output, pool: pool, kernel: kernel)
        if let c { matvec(weight: c.weight, input: input, output: c.output, pool: pool, kernel: kernel) }
        return
    }
    let blocks = columns / 32
    withUnsafeTemporaryAllocation(of: Float.self, capacity: max(blocks, 1)) { sums in
        let sumsBase = sums.baseAddress!
        if blocks > 0 { RowDot.blockSums(input, blocks, into: sumsBase) }
        let totalRows = a.weight.rows + b.weight.rows + (c?.weight.rows ?? 0)
        let chunksWanted = pool.threadCount == 1 ? 1 : pool.threadCount * 4
        let chunkLength = max(8, ((totalRows + chunksWanted - 1) / chunksWanted + 7) / 8 * 8)
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
            matvecRange(target.weight, range, input, sumsPointer, target.output, kernel: kernel)
        }
    }
}
