import Foundation
import Testing
import TridentCollectives
import TridentKernels
import TridentModel
@testable import TridentTraining

/// Megatron's interleaved 1F1B: each rank holds V non-adjacent chunks of blocks.
@Suite("Interleaved 1F1B training")
struct InterleavedTrainingTests {
    @Test("the programs run (buffered sends, FIFO channels) for P 2...4, V 2...3, M = P, 2P, 3P; M not a multiple of P is refused")
    func schedulesRun() throws {
        for p in 2...4 {
            for v in 2...3 {
                for multiple in 1...3 {
                    let schedule = try InterleavedSchedule(ranks: p, chunks: v, microBatches: multiple * p)
                    #expect(schedule.actions.allSatisfy { $0.filter { $0.kind == .forward }.count == v * multiple * p })
                    // Rank 0 warms up with more forwards than the last rank, and holds more.
                    #expect(schedule.peakLiveChunks[0] >= schedule.peakLiveChunks[p - 1])
                }
            }
        }
        #expect(throws: InterleavedScheduleError.self) { try InterleavedSchedule(ranks: 2, chunks: 2, microBatches: 3) }
        #expect(abs(InterleavedSchedule.bubbleFraction(ranks: 2, chunks: 2, microBatches: 4) - 1.0 / 9.0) < 1e-12)
    }

    @Test("PP 2 x V 2 (M = 2 and 4) and PP 2 x V 2 x DP 2 equal one rank; each rank held as many chunk activations as the simulation")
    func interleavedEqualsOneRank() throws {
        let c = PipelineTrainingTests.model(layers: 5)
        for accumulate in [2, 4] {
            let configuration = try PipelineTrainingTests.configuration(accumulate: accumulate)
            let one = try runPipeline(c, configuration, tokens: PipelineTrainingTests.tokens)
            let run = try runPipeline(c, pp: 2, schedule: .interleaved, virtualStages: 2, configuration,
                                      tokens: PipelineTrainingTests.tokens)
            expectSameAsOneRank(run, one)
            let simulated = try InterleavedSchedule(ranks: 2, chunks: 2, microBatches: accumulate).peakLiveChunks
            #expect(run.peakSaved.map(\.microBatches) == simulated)
        }
        let configuration = try PipelineTrainingTests.configuration(microBatch: 1, accumulate: 2)
        let one = try runPipeline(c, try PipelineTrainingTests.configuration(microBatch: 2, accumulate: 2),
                                  tokens: PipelineTrainingTests.tokens)
        expectSameAsOneRank(try runPipeline(c, pp: 2, dp: 2, schedule: .interleaved, virtualStages: 2, configuration,
                                            tokens: PipelineTrainingTests.tokens), one)
    }

    @Test("TP 2 x PP 2 x V 2 equals TP 2 (and one rank's loss and grad_norm); the seed's style with V 3 equals one rank")
    func interleavedGrids() throws {
        let c = PipelineTrainingTests.model(layers: 6)
        let configuration = try PipelineTrainingTests.configuration(accumulate: 2)
        let one = try runPipeline(c, configuration, tokens: PipelineTrainingTests.tokens)
        let tp = try runPipeline(c, tp: 2, configuration, tokens: PipelineTrainingTests.tokens)
        let grid = try runPipeline(c, tp: 2, pp: 2, schedule: .interleaved, virtualStages: 2, configuration,
                                   tokens: PipelineTrainingTests.tokens)
        expectSameAsOneRank(grid, tp)
        expectSameAsOneRank(grid, one, weightTolerance: 5e-5)
        let seed = PipelineTrainingTests.model(seedStyle: true, layers: 6)
        expectSameAsOneRank(try runPipeline(seed, pp: 2, schedule: .interleaved, virtualStages: 3, configuration,
                                            tokens: PipelineTrainingTests.tokens),
                            try runPipeline(seed, configuration, tokens: PipelineTrainingTests.tokens))
    }
}
