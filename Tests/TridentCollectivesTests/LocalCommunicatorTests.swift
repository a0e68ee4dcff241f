import Testing
import TridentCollectives

/// Every collective of `LocalCommunicator` against arithmetic expectations, world sizes 1...8.
@Suite struct LocalCommunicatorTests {
    /// 0, 1, odd, just over a SIMD width, and ~1.2 MB (above the direct-reduce limit).
    static let lengths = [0, 1, 17, 1023, 20_001]

    @Test(arguments: worldSizes)
    func allReduceSumMatchesArithmetic(size: Int) throws {
        for count in Self.lengths {
            let results = try LocalCommunicator.run(size: size) { comm in
                var values = randomFloats(rank: comm.rank, count: count)
                try comm.allReduce(&values, op: .sum)
                return values
            }
            let want = expected(.sum, (0..<size).map { randomFloats(rank: $0, count: count) })
            for (rank, got) in results.enumerated() {
                #expect(got.count == count)
                // |error| of a Float sum of `size` terms in [-1, 1] is below size * size * ulp(1).
                #expect(maxError(got, want) <= Double(size * size) * 1.2e-7, "size \(size) count \(count) rank \(rank)")
                #expect(got == results[0], "every rank must hold identical bits")
            }
        }
    }

    /// A few MB through the sliced (reduce-scatter + all-gather) path.
    @Test(arguments: [2, 7])
    func allReduceOfMegabytes(size: Int) throws {
        let count = 393_217   // 1.5 MB of Float32 per rank, odd
        let results = try LocalCommunicator.run(size: size) { comm in
            var values = randomFloats(rank: comm.rank, count: count)
            try comm.allReduce(&values, op: .sum)
            return values
        }
        let want = expected(.sum, (0..<size).map { randomFloats(rank: $0, count: count) })
        #expect(maxError(results[0], want) <= Double(size * size) * 1.2e-7)
        for got in results.dropFirst() { #expect(got == results[0]) }
    }

    @Test(arguments: [ReduceOperation.max, .min], [3, 8])
    func allReduceMaxMinAreExact(op: ReduceOperation, size: Int) throws {
        for count in [1, 19, 70_000] {
            let results = try LocalCommunicator.run(size: size) { comm in
                var values = randomFloats(rank: comm.rank, count: count)
                try comm.allReduce(&values, op: op)
                return values
            }
            let want = expected(op, (0..<size).map { randomFloats(rank: $0, count: count) })
            for got in results { #expect(maxError(got, want) == 0) }
        }
    }

    @Test(arguments: [2, 5, 7])
    func allReduceInt32(size: Int) throws {
        for op in ReduceOperation.allCases {
            let results = try LocalCommunicator.run(size: size) { comm in
                var values = randomInts(rank: comm.rank, count: 20_001)
                try comm.allReduce(&values, op: op)
                return values
            }
            let inputs = (0..<size).map { randomInts(rank: $0, count: 20_001) }
            let want: [Int32] = (0..<20_001).map { i in
                let column = inputs.map { $0[i] }
                return op == .sum ? column.reduce(0, +) : (op == .max ? column.max()! : column.min()!)
            }
            for got in results { #expect(got == want, "op \(op)") }
        }
    }

    @Test(arguments: [2, 3, 6])
    func allReduceHalfAndBFloat16(size: Int) throws {
        let count = 40_001
        let halves = try LocalCommunicator.run(size: size) { comm in
            var values = randomFloats(rank: comm.rank, count: count).map { Float16($0) }
            try comm.allReduce(&values, op: .sum)
            return values.map { Float($0) }
        }
        let brains = try LocalCommunicator.run(size: size) { comm in
            var bits = randomFloats(rank: comm.rank, count: count).map { CollectiveReduction.floatToBFloat16($0) }
            try comm.allReduceBFloat16(&bits, op: .sum)
            return bits.map { CollectiveReduction.bfloat16ToFloat($0) }
        }
        let halfInputs = (0..<size).map { randomFloats(rank: $0, count: count).map { Float(Float16($0)) } }
        let brainInputs = (0..<size).map { r in
            randomFloats(rank: r, count: count).map { CollectiveReduction.bfloat16ToFloat(CollectiveReduction.floatToBFloat16($0)) }
        }
        // Each of the size-1 additions rounds to the format: |error| <= (size - 1) * ulp(size) / 2.
        let halfBound = Double(size) * Double(size) * 0x1p-11
        let brainBound = Double(size) * Double(size) * 0x1p-8
        for rank in 0..<size {
            #expect(maxError(halves[rank], expected(.sum, halfInputs)) <= halfBound)
            #expect(maxError(brains[rank], expected(.sum, brainInputs)) <= brainBound)
        }
    }

    @Test(arguments: worldSizes)
    func allGatherConcatenatesInRankOrder(size: Int) throws {
        for count in [0, 1, 13, 30_003] {
            let results = try LocalCommunicator.run(size: size) { comm in
                try comm.allGather(randomFloats(rank: comm.rank, count: count))
            }
            let want = (0..<size).flatMap { randomFloats(rank: $0, count: count) }
            for got in results { #expect(got == want, "size \(size) count \(count)") }
        }
    }

    @Test(arguments: worldSizes)
    func reduceScatterGivesRankItsChunk(size: Int) throws {
        for chunk in [0, 1, 9, 10_001] {
            let results = try LocalCommunicator.run(size: size) { comm in
                try comm.reduceScatter(randomFloats(rank: comm.rank, count: chunk * size), op: .sum)
            }
            let want = expected(.sum, (0..<size).map { randomFloats(rank: $0, count: chunk * size) })
            for (rank, got) in results.enumerated() {
                let mine = Array(want[(rank * chunk)..<((rank + 1) * chunk)])
                #expect(got.count == chunk)
                #expect(maxError(got, mine) <= Double(size * size) * 1.2e-7, "size \(size) chunk \(chunk) rank \(rank)")
            }
        }
    }

    @Test(arguments: worldSizes)
    func broadcastCopiesRootToAll(size: Int) throws {
        for count in [0, 1, 31, 50_000] {
            let root = size - 1
            let results = try LocalCommunicator.run(size: size) { comm in
                var values = randomFloats(rank: comm.rank, count: count)
                try comm.broadcast(&values, root: root)
                return values
            }
            for got in results { #expect(got == randomFloats(rank: root, count: count)) }
        }
    }

    @Test(arguments: [1, 2, 5, 8])
    func sendReceiveAroundARing(size: Int) throws {
        let results = try LocalCommunicator.run(size: size) { comm in
            let next = (comm.rank + 1) % comm.size, previous = (comm.rank + comm.size - 1) % comm.size
            try comm.send(randomFloats(rank: comm.rank, count: 33), to: next, tag: 7)
            try comm.send([Float(comm.rank)], to: next, tag: 8)
            let small = try comm.receive(Float.self, count: 1, from: previous, tag: 8)
            let large = try comm.receive(Float.self, count: 33, from: previous, tag: 7)
            try comm.barrier()
            return (small[0], large)
        }
        for (rank, (small, large)) in results.enumerated() {
            let previous = (rank + size - 1) % size
            #expect(small == Float(previous))
            #expect(large == randomFloats(rank: previous, count: 33))
        }
    }

    @Test func asyncAllReduceOverlapsAndCompletes() throws {
        let results = try LocalCommunicator.run(size: 4) { comm in
            var values = randomFloats(rank: comm.rank, count: 5000)
            let handle = values.withUnsafeMutableBytes { comm.allReduceAsync($0, type: .float32, op: .max) }
            try handle.wait()
            #expect(handle.isFinished)
            let queue = CollectiveQueue()
            defer { queue.shutdown() }
            var a: [Int32] = [Int32(comm.rank)], b: [Int32] = [1]
            let first = a.withUnsafeMutableBytes { comm.allReduceAsync($0, type: .int32, op: .sum, on: queue) }
            let second = b.withUnsafeMutableBytes { comm.allReduceAsync($0, type: .int32, op: .sum, on: queue) }
            try first.wait()
            try second.wait()
            return (values, a[0], b[0])
        }
        let want = expected(.max, (0..<4).map { randomFloats(rank: $0, count: 5000) })
        for (values, a, b) in results {
            #expect(maxError(values, want) == 0)
            #expect(a == 6 && b == 4)
        }
    }
}
