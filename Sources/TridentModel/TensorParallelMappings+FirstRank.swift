import TridentCollectives
import TridentKernels

extension TensorParallelMappings {
    /// Tag of the point-to-point messages `gatherToFirstRank` sends on the tensor group.
    public static let firstRankTag = MessageTag.gatherToFirstRank.rawValue

    /// Forward: gathers every rank's slice along the last dimension on tensor-group rank 0
    /// only (the driver of generation, the only rank that uses logits): half the traffic of an
    /// all-gather, and no rank waits for values it would discard.
    /// Backward: rank 0 sends each rank its slice of the gradient (a scatter).
    ///
    /// - Parameters:
    ///   - x: on rank 0, the full `[rows, sum(widths)]` result whose columns `0 ..< widths[0]`
    ///     already hold rank 0's own slice (computed in place); the other ranks' columns are
    ///     filled here. On rank `r > 0`, its contiguous `[rows, widths[r]]` slice, sent to rank 0.
    ///   - widths: every rank's slice width, in rank order (uneven splits allowed).
    /// Every rank of `group` must call this, in the same order. A group of size 1 does nothing.
    public static func gatherToFirstRank(_ x: MatrixView, widths: [Int], group: any Communicator) throws {
        precondition(widths.count == group.size, "\(widths.count) widths for a group of \(group.size)")
        guard group.size > 1, x.rows > 0 else { return }
        guard group.rank == 0 else {
            precondition(x.columns == widths[group.rank] && x.isContiguous)
            try group.send(UnsafeRawBufferPointer(x.buffer), to: 0, tag: firstRankTag)
            return
        }
        precondition(x.columns == widths.reduce(0, +))
        var column = widths[0]
        for peer in 1 ..< group.size {
            try receive(from: peer, into: MatrixView(x.base + column, rows: x.rows, columns: widths[peer],
                                                     stride: x.stride), group: group)
            column += widths[peer]
        }
    }

    /// Receives `peer`'s `[rows, width]` slice into the strided view `slice`: straight into
    /// place for one row (a decode step), through a temporary buffer otherwise.
    private static func receive(from peer: Int, into slice: MatrixView, group: any Communicator) throws {
        let bytes = slice.count * MemoryLayout<Float>.stride
        if slice.isContiguous {
            try group.receive(into: UnsafeMutableRawBufferPointer(start: slice.base, count: bytes), from: peer,
                              tag: firstRankTag)
            return
        }
        let staging = UnsafeMutableBufferPointer<Float>.allocate(capacity: slice.count)   // [rows, width]
        defer { staging.deallocate() }
        try group.receive(into: UnsafeMutableRawBufferPointer(staging), from: peer, tag: firstRankTag)
        for r in 0 ..< slice.rows {
            slice.row(r).update(from: staging.baseAddress! + r * slice.columns, count: slice.columns)
        }
    }
}
