import TridentCollectives

/// The four communication steps of Megatron-style tensor parallelism, as small functions the
/// parallel layers call. Each documents its forward and the backward training will use.
/// Every rank of the tensor-parallel group must call each of them, in the same order.
/// A group of size 1 does no communication.
public enum TensorParallelMappings {
    /// Forward: identity (each rank already holds the full input of a column-parallel layer).
    /// Backward: all-reduce (sum) of the input gradient over the group.
    @inline(__always)
    public static func copyToRegion(_ x: UnsafeMutableBufferPointer<Float>, group: any Communicator) {}

    /// Forward: all-reduce (sum) of the partial outputs of a row-parallel layer, in place.
    /// Backward: identity.
    /// - Parameter x: `[tokens, hidden]` partial sums on every rank; the full sum afterwards.
    public static func reduceFromRegion(_ x: UnsafeMutableBufferPointer<Float>, group: any Communicator) throws {
        guard group.size > 1, x.count > 0 else { return }
        try group.allReduce(UnsafeMutableRawBufferPointer(x), type: .float32, op: .sum)
    }

    /// Forward: all-gather of each rank's slice along the last dimension.
    /// Backward: split (each rank keeps its own slice of the gradient).
    /// - Parameters:
    ///   - local: `[rows, localWidth]` this rank's slice.
    ///   - widths: every rank's slice width, in rank order (uneven splits allowed).
    /// - Returns: `[rows, sum(widths)]` on every rank.
    public static func gatherFromRegion(_ local: UnsafeBufferPointer<Float>, rows: Int, widths: [Int],
                                        group: any Communicator) throws -> [Float] {
        let total = widths.reduce(0, +)
        precondition(widths.count == group.size && local.count == rows * widths[group.rank])
        if group.size == 1 { return Array(local) }
        // All-gather needs equal chunks: pad every slice to the widest.
        let widest = widths.max()!
        var padded = [Float](repeating: 0, count: rows * widest)
        for r in 0..<rows {
            for c in 0..<widths[group.rank] { padded[r * widest + c] = local[r * widths[group.rank] + c] }
        }
        var everything = [Float](repeating: 0, count: rows * widest * group.size)
        try padded.withUnsafeBytes { input in
            try everything.withUnsafeMutableBytes { output in try group.allGather(input, into: output) }
        }
        var out = [Float](repeating: 0, count: rows * total)
        var column = 0
        for (rank, width) in widths.enumerated() {
            let chunk = rank * rows * widest
            for r in 0..<rows {
                for c in 0..<width { out[r * total + column + c] = everything[chunk + r * widest + c] }
            }
            column += width
        }
        return out
    }

    /// Forward: keep this rank's slice `[columns]` of a replicated `[rows, width]` input.
    /// Backward: all-gather of the gradient slices.
    public static func scatterToRegion(_ x: UnsafeBufferPointer<Float>, rows: Int, width: Int,
                                       columns: Range<Int>) -> [Float] {
        var out = [Float](repeating: 0, count: rows * columns.count)
        for r in 0..<rows {
            for (i, c) in columns.enumerated() { out[r * columns.count + i] = x[r * width + c] }
        }
        return out
    }
}
