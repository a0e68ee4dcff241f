import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// All-reduce through a shared-memory segment for a group whose ranks share one host.
///
/// Layout: one 64-byte line per member holding its round counter, then two sets
/// (alternating rounds) of one `slotBytes` slot per member. Each round a member copies its
/// piece into its slot, publishes the round number (release), waits until every member has
/// published it (acquire), then reduces all slots in member order into its own buffer, so
/// every rank computes bitwise the same result. Alternating slot sets make it safe for a fast
/// rank to start the next round while others still read this one. Waiting spins briefly,
/// then yields, then sleeps: with more ranks than cores pure spinning would starve the peers.
final class SharedMemoryAllReduce: @unchecked Sendable {
    static let slotBytes = 1 << 20
    let segment: SharedMemorySegment
    let member: Int
    let members: Int
    private var round: UInt64 = 0
    private let dataOffset: Int

    static func byteCount(members: Int) -> Int {
        headerBytes(members: members) + 2 * members * slotBytes
    }

    private static func headerBytes(members: Int) -> Int { (members * 64 + 4095) / 4096 * 4096 }

    init(segment: SharedMemorySegment, member: Int, members: Int) {
        precondition(segment.byteCount >= Self.byteCount(members: members), "segment too small")
        self.segment = segment
        self.member = member
        self.members = members
        dataOffset = Self.headerBytes(members: members)
    }

    private func counter(_ index: Int) -> UnsafeMutablePointer<Atomic<UInt64>> {
        (segment.base + index * 64).assumingMemoryBound(to: Atomic<UInt64>.self)
    }

    private func slot(_ parity: Int, _ index: Int) -> UnsafeMutableRawPointer {
        segment.base + dataOffset + (parity * members + index) * Self.slotBytes
    }

    /// Reduces `buffer` across the group in place. `check` runs while waiting (peer failure,
    /// deadline) and may throw to abandon the operation.
    func allReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType, op: ReduceOperation,
                   check: () throws(TCPMeshFailure) -> Void) throws(TCPMeshFailure) {
        let piece = Self.slotBytes / type.byteWidth * type.byteWidth
        var offset = 0
        while offset < buffer.count {
            let length = min(piece, buffer.count - offset)
            round += 1
            let parity = Int(round & 1)
            let mine = buffer.baseAddress! + offset
            slot(parity, member).copyMemory(from: mine, byteCount: length)
            counter(member).pointee.store(round, ordering: .releasing)
            try waitForAll(round, check: check)
            if member != 0 { mine.copyMemory(from: slot(parity, 0), byteCount: length) }
            for index in 1..<members {
                CollectiveReduction.reduce(into: mine, from: slot(parity, index), count: length / type.byteWidth,
                                           type: type, op: op)
            }
            offset += length
        }
    }

    private func waitForAll(_ target: UInt64, check: () throws(TCPMeshFailure) -> Void) throws(TCPMeshFailure) {
        var spins = 0
        for index in 0..<members where index != member {
            while counter(index).pointee.load(ordering: .acquiring) < target {
                spins += 1
                if spins < 4_000 { continue }
                if spins & 255 == 0 { try check() }
                if spins < 20_000 { sched_yield() } else { usleep(50) }
            }
        }
    }
}
