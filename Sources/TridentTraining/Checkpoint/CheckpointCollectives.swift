import Foundation
import TridentCollectives

/// The few collectives a checkpoint save or load needs, over the world group. Every rank of
/// `group` must call each of them in the same order.
enum CheckpointCollectives {
    static let tag = 0x5452_4350

    /// Whether every rank passed `ok` true.
    static func agree(_ ok: Bool, group: any Communicator) throws -> Bool {
        guard group.size > 1 else { return ok }
        var flag: [Int32] = [ok ? 1 : 0]
        try group.allReduce(&flag, op: .min)
        return flag[0] == 1
    }

    /// Every rank's `bytes`, in rank order, on rank 0 (nil elsewhere).
    static func gather(_ bytes: [UInt8], group: any Communicator) throws -> [[UInt8]]? {
        guard group.rank == 0 else {
            try group.send([Int64(bytes.count)], to: 0, tag: tag)
            if !bytes.isEmpty { try group.send(bytes, to: 0, tag: tag) }
            return nil
        }
        var all = [bytes]
        for peer in 1 ..< max(group.size, 1) {
            let count = try group.receive(Int64.self, count: 1, from: peer, tag: tag)[0]
            guard (0 ... Int64(1 << 30)).contains(count) else {
                throw CheckpointError.badManifest(path: "(rank \(peer)'s report)", reason: "\(count) bytes")
            }
            all.append(count == 0 ? [] : try group.receive(UInt8.self, count: Int(count), from: peer, tag: tag))
        }
        return all
    }

    /// Rank 0's `bytes` on every rank.
    static func broadcast(_ bytes: [UInt8], group: any Communicator) throws -> [UInt8] {
        guard group.size > 1 else { return bytes }
        var count: [Int64] = [Int64(bytes.count)]
        try group.broadcast(&count, root: 0)
        guard count[0] > 0 else { return [] }
        var data = group.rank == 0 ? bytes : [UInt8](repeating: 0, count: Int(count[0]))
        try group.broadcast(&data, root: 0)
        return data
    }
}

extension AdamWOptimizer {
    /// Calls `body` with every registered buffer's moments `(m, v)` as pointers, valid only inside `body`.
    func withMoments<T>(_ body: ([(UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>)]) throws -> T) rethrows -> T {
        var collected: [(UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>)] = []
        collected.reserveCapacity(states.count)
        func next(_ index: Int) throws -> T {
            guard index < states.count else { return try body(collected) }
            return try states[index].firstMoment.withUnsafeBufferPointer { m in
                try states[index].secondMoment.withUnsafeBufferPointer { v in
                    collected.append((m, v))
                    return try next(index + 1)
                }
            }
        }
        return try next(0)
    }
}
