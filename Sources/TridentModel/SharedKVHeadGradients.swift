import TridentCollectives

/// Gradients of key/value heads that several tensor ranks hold.
///
/// With uneven head splits, a KV head whose query group straddles two ranks is duplicated
/// on both (`AttentionLayout.kvHeadForHead`); its K and V projection rows are one parameter,
/// so its gradient is the sum of every holder's contribution, and every holder then applies
/// the same update. Heads held by one rank keep their gradient unchanged.
public enum SharedKVHeadGradients {
    /// Sums, across `group`, the gradients of KV heads held by more than one rank.
    ///
    /// Each rank scatters its local heads into a zeroed `[totalKVHeads, elementsPerHead]`
    /// buffer, one all-reduce sums it, and each rank copies its heads back: holders of a
    /// shared head all end with the same sum. (The buffer is the full KV projection gradient
    /// of one layer, a few hundred KB for small models.) Every rank of `group` must call this,
    /// in the same order, with the same `totalKVHeads` and `elementsPerHead`.
    ///
    /// - Parameters:
    ///   - gradient: `[globalHeads.count, elementsPerHead]` f32, e.g. the K projection's weight
    ///     gradient `[localKVHeads · headDim, hidden]` (a head's rows are contiguous), or its bias
    ///     gradient `[localKVHeads · headDim]`.
    ///   - globalHeads: global index (`0 ..< totalKVHeads`) of each local KV head, distinct.
    public static func sum(_ gradient: UnsafeMutablePointer<Float>, elementsPerHead: Int, globalHeads: [Int],
                           totalKVHeads: Int, group: any Communicator) throws {
        precondition(globalHeads.allSatisfy { (0..<totalKVHeads).contains($0) } && Set(globalHeads).count == globalHeads.count,
                     "local KV heads \(globalHeads) are not distinct heads of 0..<\(totalKVHeads)")
        guard group.size > 1 else { return }
        var all = [Float](repeating: 0, count: totalKVHeads * elementsPerHead)   // [totalKVHeads, elementsPerHead]
        all.withUnsafeMutableBufferPointer { buffer in
            for (local, global) in globalHeads.enumerated() {
                (buffer.baseAddress! + global * elementsPerHead)
                    .update(from: gradient + local * elementsPerHead, count: elementsPerHead)
            }
        }
        try group.allReduce(&all, op: .sum)
        all.withUnsafeBufferPointer { buffer in
            for (local, global) in globalHeads.enumerated() {
                (gradient + local * elementsPerHead).update(from: buffer.baseAddress! + global * elementsPerHead,
                                                            count: elementsPerHead)
            }
        }
    }
}
