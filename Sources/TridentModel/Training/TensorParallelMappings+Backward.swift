import TridentCollectives

extension TensorParallelMappings {
    /// Backward of `copyToRegion`: the input gradient of a column-parallel layer is summed over
    /// the group (each rank holds only its output slice's contribution), in place.
    /// Every rank of the group must call this, in the same order.
    /// - Parameter dx: `[tokens, inputs]` partial input gradient; the full one afterwards.
    public static func copyToRegionBackward(_ dx: UnsafeMutableBufferPointer<Float>, group: any Communicator) throws {
        guard group.size > 1, dx.count > 0 else { return }
        try group.allReduce(UnsafeMutableRawBufferPointer(dx), type: .float32, op: .sum)
    }

    /// Backward of `reduceFromRegion`: identity (every rank already holds the full output gradient).
    @inline(__always)
    public static func reduceFromRegionBackward(_ dy: UnsafeMutableBufferPointer<Float>, group: any Communicator) {}
}
