import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// All-reduce through a shared-memory segment for a group whose ranks share one host.
///
/// Layout: one 64-byte line per member holding its phase counter, then two sets (alternating
/// rounds) of one `slotBytes` slot per member plus one result slot. Round `r` (one piece of
/// at most `slotBytes`): each member copies its piece into its slot and publishes phase
/// `2r - 1` (release), waits until all have (acquire), reduces its 1/n share of the piece
/// over all slots in member order into the result slot, publishes `2r`, waits, and copies the
/// result out. Small pieces skip the result slot: every member reduces the whole piece after
/// one barrier. Either way each element is combined in member order, so all ranks get bitwise
/// equal results. Alternating slot sets let a fast rank start round `r + 1` while others
/// still read round `r`. Waiting spins briefly, then yields, then sleeps: with more ranks
/// than cores pure spinning would starve the peers.
final class SharedMemoryAllReduce: @unchecked Sendable {
    static let slotBytes = 1 << 20
    static let spinsBeforeYield = 50_000
    static let spinsBeforeSleep = 200_000
    /// Pieces up to this size use one barrier and a full local reduction.
    static let directLimit = 32 * 1024
    let segment: SharedMemorySegment
    let member: Int
    let members: Int
    private var round: UInt64 = 0
    private let dataOffset: Int

    static func byteCount(members: Int) -> Int {
        headerBytes(members: members) + 2 * (members + 1) * slotBytes
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

    /// Slot `index` of set `parity`; index `members` is the result slot.
    private func slot(_ parity: Int, _ index: Int) -> UnsafeMutableRawPointer {
        segment.base + dataOffset + (parity * (members + 1) + index) * Self.slotBytes
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
            if length <= Self.directLimit {
                counter(member).pointee.store(2 * round, ordering: .releasing)
                try waitForAll(2 * round, check: check)
                reduceSlots(parity, into: mine, range: 0..<length, type: type, op: op)
            } else {
                counter(member).pointee.store(2 * round - 1, ordering: .releasing)
                try waitForAll(2 * round - 1, check: check)
                let elements = length / type.byteWidth
                let share = (member * elements / members * type.byteWidth)..<((member + 1) * elements / members * type.byteWidth)
                reduceSlots(parity, into: slot(parity, members) + share.lowerBound, range: share, type: type, op: op)
                counter(member).pointee.store(2 * round, ordering: .releasing)
                try waitForAll(2 * round, check: check)
                mine.copyMemory(from: slot(parity, members), byteCount: length)
            }
            offset += length
        }
    }

    /// `destination = slot0[range] op slot1[range] op ...` in member order.
    private func reduceSlots(_ parity: Int, into destination: UnsafeMutableRawPointer, range: Range<Int>,
                             type: CollectiveDataType, op: ReduceOperation) {
        guard !range.isEmpty else { return }
        destination.copyMemory(from: slot(parity, 0) + range.lowerBound, byteCount: range.count)
        for index in 1..<members {
            CollectiveReduction.reduce(into: destination, from: slot(parity, index) + range.lowerBound,
                                       count: range.count / type.byteWidth, type: type, op: op)
        }
    }

    private func waitForAll(_ target: UInt64, check: () throws(TCPMeshFailure) -> Void) throws(TCPMeshFailure) {
        var spins = 0
        for index in 0..<members where index != member {
            while counter(index).pointee.load(ordering: .acquiring) < target {
                spins += 1
                // Peers usually arrive within microseconds (tensor parallelism all-reduces twice
                // per layer), so spin first; yield next (more ranks than cores); sleep last.
                if spins < Self.spinsBeforeYield { continue }
                if spins & 255 == 0 { try check() }
                if spins < Self.spinsBeforeSleep { sched_yield() } else { usleep(20) }
            }
        }
    }
}
