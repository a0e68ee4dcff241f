import Foundation
import Testing
@testable import TridentCollectives
import TridentTestSupport

@Suite("TCP backend collectives (ranks on threads, loopback)", .serialized)
struct TCPCollectiveTests {
    static let elementCounts = [0, 1, 7, 1_001, 70_001]

    /// Inputs of every rank and the expected sum/max/min, computed once outside the ranks.
    struct Case: Sendable {
        var inputs: [[Float]]
        var expected: [ReduceOperation: [Float]]
        init(size: Int, count: Int) {
            inputs = (0..<size).map { testValues(count: count, rank: $0, salt: UInt64(count)) }
            var sum = [Float](repeating: 0, count: count)
            var high = [Float](repeating: -.infinity, count: count), low = [Float](repeating: .infinity, count: count)
            for input in inputs {
                for i in 0..<count { sum[i] += input[i]; high[i] = max(high[i], input[i]); low[i] = min(low[i], input[i]) }
            }
            expected = [.sum: sum, .max: high, .min: low]
        }
    }

    static func checkAllReduce(size: Int, counts: [Int], sharedMemory: Bool) throws -> [String] {
        let cases = counts.map { Case(size: size, count: $0) }
        let problems = try withTCPWorld(size, sharedMemory: sharedMemory) { comm -> [String] in
            var problems: [String] = []
            for c in cases {
                for op in ReduceOperation.allCases {
                    var values = c.inputs[comm.rank]
                    try values.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: op) }
                    let expectedAlgorithms = comm.size == 1 || values.isEmpty ? ["none"]
                        : sharedMemory ? ["shared-memory"] : ["ring", "recursive-doubling"]
                    if !expectedAlgorithms.contains(comm.lastAlgorithm) { problems.append("algorithm \(comm.lastAlgorithm)") }
                    let expected = c.expected[op]!
                    // Sums may differ from the serial order by rounding: bound by size * ulp-ish.
                    if let bad = values.indices.first(where: { abs(values[$0] - expected[$0]) > 1e-5 * Float(size) }) {
                        problems.append("rank \(comm.rank) \(op) count \(values.count) [\(bad)]: \(values[bad]) vs \(expected[bad])")
                    }
                }
            }
            return problems
        }
        return problems.flatMap { $0 }
    }

    @Test("allReduce sum/max/min f32 over TCP (distinct host ids) matches the arithmetic result", arguments: 1...8)
    func allReduceFloat32(size: Int) throws {
        #expect(try Self.checkAllReduce(size: size, counts: Self.elementCounts, sharedMemory: false) == [])
    }

    @Test("allReduce f32 through shared memory (same host) matches the arithmetic result", arguments: [2, 3, 5, 8])
    func allReduceSharedMemory(size: Int) throws {
        #expect(try Self.checkAllReduce(size: size, counts: Self.elementCounts, sharedMemory: true) == [])
    }

    @Test("allReduce of several MB (multi-segment ring; multi-slot shared memory)", arguments: [false, true])
    func allReduceLarge(sharedMemory: Bool) throws {
        #expect(try Self.checkAllReduce(size: 2, counts: [1_000_001], sharedMemory: sharedMemory) == [])
    }

    @Test("allReduce int32, f16 and bf16 buffers", arguments: [2, 3, 5])
    func allReduceOtherTypes(size: Int) throws {
        let results = try withTCPWorld(size) { comm -> Bool in
            let n = 2_049
            var ints = (0..<n).map { Int32($0 * (comm.rank + 1)) }
            try ints.withUnsafeMutableBytes { try comm.allReduce($0, type: .int32, op: .sum) }
            let factor = Int32(comm.size * (comm.size + 1) / 2)
            let intsOK = ints.enumerated().allSatisfy { $0.element == Int32($0.offset) * factor }
            var halves = (0..<n).map { Float16(Float($0 % 64) * Float(comm.rank + 1)).bitPattern }
            try halves.withUnsafeMutableBytes { try comm.allReduce($0, type: .float16, op: .max) }
            let halvesOK = halves.enumerated().allSatisfy {
                Float(Float16(bitPattern: $0.element)) == Float($0.offset % 64) * Float(comm.size)
            }
            var brains = (0..<n).map { CollectiveReduction.floatToBFloat16(Float($0 % 16)) }
            try brains.withUnsafeMutableBytes { try comm.allReduce($0, type: .bfloat16, op: .sum) }
            let brainsOK = brains.enumerated().allSatisfy {
                CollectiveReduction.bfloat16ToFloat($0.element) == Float($0.offset % 16) * Float(comm.size)
            }
            return intsOK && halvesOK && brainsOK
        }
        #expect(results.allSatisfy { $0 })
    }

    @Test("allGather, reduceScatter, broadcast from every root", arguments: [1, 2, 3, 4, 7])
    func gatherScatterBroadcast(size: Int) throws {
        let results = try withTCPWorld(size) { comm -> [String] in
            var problems: [String] = []
            for count in [0, 1, 5, 20_001] {
                let mine = (0..<count).map { Int32(comm.rank * 1_000_000 + $0) }
                var gathered = [Int32](repeating: -1, count: count * comm.size)
                try mine.withUnsafeBytes { input in
                    try gathered.withUnsafeMutableBytes { try comm.allGather(input, into: $0) }
                }
                let expectedGather = (0..<comm.size).flatMap { r in (0..<count).map { Int32(r * 1_000_000 + $0) } }
                if gathered != expectedGather { problems.append("allGather count \(count)") }

                let input = (0..<(count * comm.size)).map { Int32($0 + comm.rank) }
                var chunk = [Int32](repeating: 0, count: count)
                try input.withUnsafeBytes { i in
                    try chunk.withUnsafeMutableBytes { try comm.reduceScatter(i, into: $0, type: .int32, op: .sum) }
                }
                let base = comm.rank * count
                let rankSum = Int32(comm.size * (comm.size - 1) / 2)
                let expectedChunk = (0..<count).map { Int32(comm.size) * Int32(base + $0) + rankSum }
                if chunk != expectedChunk { problems.append("reduceScatter count \(count)") }

                for root in 0..<comm.size {
                    var buffer = comm.rank == root ? (0..<count).map { Int32($0 ^ root) } : Array(repeating: -7, count: count)
                    try buffer.withUnsafeMutableBytes { try comm.broadcast($0, root: root) }
                    if buffer != (0..<count).map({ Int32($0 ^ root) }) { problems.append("broadcast root \(root) count \(count)") }
                }
            }
            try comm.barrier()
            return problems
        }
        #expect(results.flatMap { $0 } == [])
    }

    @Test("send/receive match by tag even when sent out of order")
    func pointToPoint() throws {
        let results = try withTCPWorld(3) { comm -> Bool in
            let next = (comm.rank + 1) % comm.size, previous = (comm.rank + comm.size - 1) % comm.size
            let a = [Int32](repeating: Int32(comm.rank), count: 3), b = [Int32](repeating: Int32(comm.rank + 10), count: 100_000)
            try a.withUnsafeBytes { try comm.send($0, to: next, tag: 1) }
            try b.withUnsafeBytes { try comm.send($0, to: next, tag: 2) }
            var gotB = [Int32](repeating: 0, count: 100_000), gotA = [Int32](repeating: 0, count: 3)
            try gotB.withUnsafeMutableBytes { try comm.receive(into: $0, from: previous, tag: 2) }
            try gotA.withUnsafeMutableBytes { try comm.receive(into: $0, from: previous, tag: 1) }
            return gotA == Array(repeating: Int32(previous), count: 3) && gotB == Array(repeating: Int32(previous + 10), count: 100_000)
        }
        #expect(results == [true, true, true])
    }

    @Test("receive of the wrong size is a protocol violation and poisons the communicator")
    func receiveSizeMismatch() throws {
        let results = try withTCPWorld(2) { comm -> String in
            if comm.rank == 0 {
                try [Int32(1), 2].withUnsafeBytes { try comm.send($0, to: 1, tag: 0) }
                return ""
            }
            var small = [Int32](repeating: 0, count: 1)
            let first = #expect(throws: CollectiveError.self) {
                try small.withUnsafeMutableBytes { try comm.receive(into: $0, from: 0, tag: 0) }
            }
            let second = #expect(throws: CollectiveError.self) { try comm.barrier() }
            return "\(first?.kind == .protocolViolation) \(second?.kind == .poisoned)"
        }
        #expect(results[1] == "true true")
    }

    @Test("split forms groups by color ordered by key; they run independently", arguments: [4, 6])
    func split(size: Int) throws {
        let results = try withTCPWorld(size) { comm -> [Int] in
            let sub = try comm.split(color: comm.rank % 2, key: -comm.rank)
            var value = [Int32(comm.rank)]
            try value.withUnsafeMutableBytes { try sub.allReduce($0, type: .int32, op: .sum) }
            var gathered = [Int32](repeating: 0, count: sub.size)
            try [Int32(comm.rank)].withUnsafeBytes { i in try gathered.withUnsafeMutableBytes { try sub.allGather(i, into: $0) } }
            return [sub.rank, sub.size, Int(value[0])] + gathered.map { Int($0) }
        }
        for (rank, result) in results.enumerated() {
            let peers = (0..<size).filter { $0 % 2 == rank % 2 }
            #expect(result[1] == peers.count)
            #expect(result[2] == peers.reduce(0, +))
            #expect(Array(result[3...]) == peers.reversed())   // key = -rank: highest rank first
            #expect(result[0] == peers.reversed().firstIndex(of: rank))
        }
    }
}
