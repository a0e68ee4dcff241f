import Testing
@testable import TridentTraining

/// The data contract: joining, sequence boundaries, step indices with wrap-around, the
/// split over replicas and micro-batches, and seeded per-pass shuffling.
@Suite struct SequenceBatchingTests {
    @Test func joinPutsEOSBetweenDocuments() {
        #expect(SequenceBatching.join([[1, 2], [3], [], [4, 5]], eos: 0) == [1, 2, 0, 3, 0, 0, 4, 5])
        #expect(SequenceBatching.join([[7, 8]], eos: 0) == [7, 8])
        #expect(SequenceBatching.join([], eos: 0) == [])
    }

    @Test func sequencesOverlapByOneToken() throws {
        let tokens: [Int32] = Array(100..<111)   // T = 11
        let batching = try SequenceBatching(tokenCount: 11, sequenceLength: 3, microBatch: 2)
        #expect(batching.sequenceCount == 3)     // ⌊10 / 3⌋
        #expect(batching.tokenRange(ofSequence: 0) == 0..<4)
        #expect(batching.tokenRange(ofSequence: 2) == 6..<10)
        let (inputs, targets) = batching.batch([2, 0], from: tokens)
        #expect(inputs == [106, 107, 108, 100, 101, 102])
        #expect(targets == [107, 108, 109, 101, 102, 103])
    }

    @Test func dataShorterThanOneSequenceIsAnError() throws {
        #expect(throws: TrainingError.dataTooShort(tokens: 3, needed: 4)) {
            try SequenceBatching(tokenCount: 3, sequenceLength: 3, microBatch: 1)
        }
        #expect(try SequenceBatching(tokenCount: 4, sequenceLength: 3, microBatch: 1).sequenceCount == 1)
        #expect(throws: TrainingError.invalidValue(name: "--accumulate", expected: ">= 1", found: "0")) {
            try SequenceBatching(tokenCount: 40, sequenceLength: 3, microBatch: 1, accumulation: 0)
        }
    }

    /// In order, step s takes global positions (s−1)·G ..< s·G modulo N.
    @Test func stepsWrapAroundTheData() throws {
        let batching = try SequenceBatching(tokenCount: 11, sequenceLength: 3, microBatch: 2)   // N = 3, G = 2
        #expect(batching.sequenceIndices(step: 1) == [0, 1])
        #expect(batching.sequenceIndices(step: 2) == [2, 0])
        #expect(batching.sequenceIndices(step: 3) == [1, 2])
        let big = try SequenceBatching(tokenCount: 100, sequenceLength: 9, microBatch: 3, accumulation: 2, dataParallel: 2)
        for step in 1...5 {
            #expect(big.sequenceIndices(step: step) == ((step - 1) * 12..<(step * 12)).map { $0 % 11 })
        }
    }

    /// Replica r, micro-batch m takes the B entries from r·A·B + m·B: concatenated in
    /// (replica, micro-batch) order they are exactly the step's list.
    @Test(arguments: [nil, UInt64(42)])
    func replicasAndMicroBatchesPartitionTheStep(seed: UInt64?) throws {
        let batching = try SequenceBatching(tokenCount: 200, sequenceLength: 7, microBatch: 2, accumulation: 2,
                                            dataParallel: 3, shuffleSeed: seed)
        for step in [1, 2, 3, 9] {
            var union: [Int] = []
            for replica in 0..<3 {
                for micro in 0..<2 { union += batching.sequenceIndices(step: step, replica: replica, microBatch: micro) }
            }
            #expect(union == batching.sequenceIndices(step: step))
            #expect(union == ((step - 1) * 12..<(step * 12)).map { batching.sequenceIndex(globalPosition: $0) })
        }
    }

    /// Each pass over the data visits every sequence once; the order depends only on the seed.
    @Test func shuffleIsASeededPermutationPerPass() throws {
        let make = { (seed: UInt64) in try SequenceBatching(tokenCount: 301, sequenceLength: 6, microBatch: 5, shuffleSeed: seed) }
        let batching = try make(7)       // N = 50, G = 5: a pass is 10 steps
        let firstPass = (1...10).flatMap { batching.sequenceIndices(step: $0) }
        let secondPass = (11...20).flatMap { batching.sequenceIndices(step: $0) }
        #expect(firstPass.sorted() == Array(0..<50))
        #expect(secondPass.sorted() == Array(0..<50))
        #expect(firstPass != secondPass)
        #expect(firstPass != Array(0..<50))
        #expect((1...10).flatMap { try! make(7).sequenceIndices(step: $0) } == firstPass)
        #expect((1...10).flatMap { try! make(8).sequenceIndices(step: $0) } != firstPass)
        #expect(SequencePermutation.make(count: 50, seed: 7, pass: 1) == secondPass)
    }

    /// Lemire's bounded draw is uniform: 60 000 draws in 0..<6 land within 3% of 10 000 each.
    @Test func boundedDrawsAreUniform() {
        var generator = SplitMix64(state: 1)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[Int(generator.bounded(6))] += 1 }
        #expect(counts.allSatisfy { abs($0 - 10_000) < 300 })
    }
}
