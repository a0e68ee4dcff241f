import Testing
import TridentEngine
@testable import TridentTraining

/// The interleaved schedule's programs go through `PipelineScheduleValidator`, the one
/// simulation of every schedule: valid lists pass it, corrupted ones fail with its error.
@Suite("Interleaved 1F1B under the schedule validator")
struct InterleavedValidatorTests {
    /// (P, V, M) with M a multiple of P.
    static let grid = (2...4).flatMap { p in (1...3).flatMap { v in (1...3).map { (p, v, $0 * p) } } }

    @Test("for P 2...4, V 1...3, M = P, 2P, 3P: the lists pass the validator with buffered sends; busy 3VM per rank, makespan 3(VM + P - 1) with b = 2f, peaks as the schedule reports")
    func gridPasses() throws {
        let validator = PipelineScheduleValidator(costs: PipelineCosts(forward: 1, backward: 2))
        for (p, v, m) in Self.grid {
            let interleaved = try InterleavedSchedule(ranks: p, chunks: v, microBatches: m)
            let sim = try validator.simulate(interleaved.schedule)
            #expect(sim.busySteps == Array(repeating: 3 * v * m, count: p), "P=\(p) V=\(v) M=\(m)")
            #expect(sim.makespan == 3 * (v * m + p - 1), "P=\(p) V=\(v) M=\(m): makespan \(sim.makespan)")
            #expect(abs(sim.bubbleFraction - InterleavedSchedule.bubbleFraction(ranks: p, chunks: v, microBatches: m)) < 1e-12)
            #expect(sim.peakActivationsHeld == interleaved.peakLiveChunks)
            // Each rank holds at most its warm-up plus one forwards of chunk activations.
            for r in 0..<p { #expect(sim.peakActivationsHeld[r] <= min((p - r - 1) * 2 + (v - 1) * p + 1, v * m)) }
        }
    }

    @Test("with one chunk the interleaved lists are a valid PipelineSchedule's (the same validator, the same actions)")
    func oneChunkIsAPipelineSchedule() throws {
        for p in 2...4 {
            let interleaved = try InterleavedSchedule(ranks: p, chunks: 1, microBatches: 2 * p)
            let plain = interleaved.actions.map { list in
                list.map { a -> PipelineAction in
                    switch a.kind {
                    case .receiveActivations: .receiveActivations(microBatch: a.microBatch, from: a.peer)
                    case .forward: .forward(microBatch: a.microBatch)
                    case .sendActivations: .sendActivations(microBatch: a.microBatch, to: a.peer)
                    case .receiveGradients: .receiveGradients(microBatch: a.microBatch, from: a.peer)
                    case .backward: .backward(microBatch: a.microBatch)
                    case .sendGradients: .sendGradients(microBatch: a.microBatch, to: a.peer)
                    }
                }
            }
            let schedule = PipelineSchedule(stages: p, microBatches: 2 * p, actions: plain)
            #expect(ChunkedPipelineSchedule(schedule) == interleaved.schedule)
            #expect(try PipelineScheduleValidator().simulate(schedule).peakActivationsHeld == interleaved.peakLiveChunks)
        }
    }

    func error(_ schedule: ChunkedPipelineSchedule) -> PipelineScheduleError? {
        do { _ = try PipelineScheduleValidator().simulate(schedule); return nil } catch let e as PipelineScheduleError {
            return e
        } catch { return nil }
    }

    @Test("corrupted interleaved lists are rejected with the validator's error: a dropped send, a wrong peer, a dropped backward, a repeated forward, a swapped chunk")
    func corruptedListsFail() throws {
        let good = try InterleavedSchedule(ranks: 2, chunks: 2, microBatches: 4).schedule
        #expect(error(good) == nil)

        var dropped = good   // rank 0 never sends chunk 0's micro-batch 0: rank 1 receives micro-batch 1 first
        dropped.actions[0].remove(at: dropped.actions[0].firstIndex { $0.kind == .sendActivations }!)
        let outOfOrder = error(dropped)
        #expect(outOfOrder?.kind == .messageOutOfOrder && outOfOrder?.stage == 1 && outOfOrder?.actionIndex == 0,
                "\(String(describing: outOfOrder))")
        #expect(outOfOrder?.description.contains("R0.0<0") == true, "\(String(describing: outOfOrder))")

        var wrongPeer = good
        let send = wrongPeer.actions[1].firstIndex { $0.kind == .sendActivations }!
        wrongPeer.actions[1][send].peer = 1
        #expect(error(wrongPeer)?.kind == .wrongPeer && error(wrongPeer)?.actionIndex == send)

        var noBackward = good
        noBackward.actions[1].remove(at: noBackward.actions[1].lastIndex { $0.kind == .backward }!)
        #expect(error(noBackward)?.kind == .missingBackward || error(noBackward)?.kind == .usedBeforeReceived
                || error(noBackward)?.kind == .sentBeforeComputed, "\(String(describing: error(noBackward)))")

        var twice = good
        let forward = twice.actions[0].firstIndex { $0.kind == .forward }!
        twice.actions[0].insert(twice.actions[0][forward], at: forward + 1)
        #expect(error(twice)?.kind == .forwardOutOfOrder && error(twice)?.stage == 0)

        var chunk = good   // rank 1's first forward claims chunk 1: its activations were never received there
        let first = chunk.actions[1].firstIndex { $0.kind == .forward }!
        chunk.actions[1][first].chunk = 1
        #expect(error(chunk)?.kind == .forwardOutOfOrder || error(chunk)?.kind == .usedBeforeReceived,
                "\(String(describing: error(chunk)))")

        var tooMany = good   // a chunk beyond V
        tooMany.actions[0][0].chunk = 2
        #expect(error(tooMany)?.kind == .microBatchOutOfRange)
    }
}
