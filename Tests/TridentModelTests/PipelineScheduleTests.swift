import Testing
import TridentEngine

@Suite("Pipeline schedules")
struct PipelineScheduleTests {
    static let grid = (1...4).flatMap { p in (1...8).map { m in (p, m) } }

    @Test("GPipe forward-only: makespan M + P - 1 and every stage idles (P-1)/(M+P-1)")
    func gpipeForward() throws {
        for (p, m) in Self.grid {
            let schedule = PipelineSchedule.forwardOnly(stages: p, microBatches: m)
            for sends in [PipelineSendSemantics.buffered, .rendezvous] {
                let sim = try PipelineScheduleValidator(sends: sends).simulate(schedule)
                #expect(sim.makespan == m + p - 1, "P=\(p) M=\(m) \(sends)")
                let formula = Double(p - 1) / Double(m + p - 1)
                #expect(abs(PipelineSchedule.bubbleFraction(stages: p, microBatches: m) - formula) < 1e-12)
                for idle in sim.idleFractions { #expect(abs(idle - formula) < 1e-12, "P=\(p) M=\(m)") }
                #expect(sim.peakActivationsHeld.allSatisfy { $0 == 0 })
            }
        }
    }

    @Test("GPipe with backward (b = 2f): makespan 3(M + P - 1), bubble (P-1)/(M+P-1), all M held")
    func gpipeTraining() throws {
        for (p, m) in Self.grid {
            let schedule = PipelineSchedule.gpipe(stages: p, microBatches: m, includeBackward: true)
            for sends in [PipelineSendSemantics.buffered, .rendezvous] {
                let sim = try PipelineScheduleValidator(costs: PipelineCosts(forward: 1, backward: 2), sends: sends)
                    .simulate(schedule)
                #expect(sim.makespan == 3 * (m + p - 1), "P=\(p) M=\(m) \(sends)")
                #expect(sim.busySteps.allSatisfy { $0 == 3 * m })
                #expect(abs(sim.bubbleFraction - PipelineSchedule.bubbleFraction(stages: p, microBatches: m)) < 1e-12)
                #expect(sim.peakActivationsHeld == Array(repeating: m, count: p))
            }
        }
    }

    @Test("1F1B: same makespan as GPipe, stage s holds at most P - s micro-batches")
    func oneFOneB() throws {
        let validator = PipelineScheduleValidator(costs: PipelineCosts(forward: 1, backward: 2))
        for (p, m) in Self.grid {
            let schedule = PipelineSchedule.oneFOneB(stages: p, microBatches: m)
            let sim = try validator.simulate(schedule)
            let gpipe = try validator.simulate(.gpipe(stages: p, microBatches: m, includeBackward: true))
            #expect(sim.makespan == gpipe.makespan, "P=\(p) M=\(m)")
            #expect(sim.peakActivationsHeld == (0..<p).map { min(p - $0, m) }, "P=\(p) M=\(m)")
            // Warm-up: stage s starts with min(P - s - 1, M) forwards before its first backward.
            for s in 0..<p {
                let computes = schedule.actions[s].filter(\.isCompute)
                let firstBackward = computes.firstIndex { if case .backward = $0 { true } else { false } }!
                let warmUp = min(p - s - 1, m)
                // After the warm-up comes one steady forward, unless the warm-up used every micro-batch.
                #expect(firstBackward == (warmUp < m ? warmUp + 1 : m), "P=\(p) M=\(m) stage \(s)")
            }
        }
    }

    @Test("1F1B deadlocks with rendezvous sends once two micro-batches are in flight")
    func oneFOneBRendezvous() throws {
        let validator = PipelineScheduleValidator(sends: .rendezvous)
        for (p, m) in Self.grid where p >= 2 {
            let schedule = PipelineSchedule.oneFOneB(stages: p, microBatches: m)
            if m == 1 {
                _ = try validator.simulate(schedule)
            } else {
                #expect(throws: PipelineScheduleError.self, "P=\(p) M=\(m)") { try validator.simulate(schedule) }
                do { _ = try validator.simulate(schedule) } catch let error as PipelineScheduleError {
                    #expect(error.kind == .deadlock)
                    #expect(error.detail.contains("waits to send"))
                }
            }
        }
    }

    @Test("schedules read as documented")
    func readable() {
        let gpipe = PipelineSchedule.gpipe(stages: 3, microBatches: 2, includeBackward: true)
        #expect(gpipe.actions[1].map(\.description).joined(separator: " ")
                == "R0<0 F0 S0>2 R1<0 F1 S1>2 r0<2 B0 s0>0 r1<2 B1 s1>0")
        let oneF = PipelineSchedule.oneFOneB(stages: 2, microBatches: 3)
        #expect(oneF.actions[0].map(\.description).joined(separator: " ")
                == "F0 S0>1 F1 S1>1 r0<1 B0 F2 S2>1 r1<1 B1 r2<1 B2")
        #expect(PipelineSchedule.forwardOnly(stages: 2, microBatches: 1).description == "stage 0: F0 S0>1\nstage 1: R0<0 F0")
    }

    @Test("a transfer latency adds (P - 1) * latency to the forward makespan")
    func transferLatency() throws {
        let validator = PipelineScheduleValidator(costs: PipelineCosts(transfer: 3))
        for (p, m) in Self.grid {
            let sim = try validator.simulate(.forwardOnly(stages: p, microBatches: m))
            #expect(sim.makespan == m + (p - 1) * 4, "P=\(p) M=\(m)")
        }
    }

    // MARK: - Broken schedules

    func kind(of schedule: PipelineSchedule, sends: PipelineSendSemantics = .buffered) -> PipelineScheduleError.Kind? {
        do {
            _ = try PipelineScheduleValidator(sends: sends).simulate(schedule)
            return nil
        } catch let error as PipelineScheduleError {
            return error.kind
        } catch {
            return nil
        }
    }

    @Test("a receive whose message is never sent is a deadlock naming both stages")
    func neverSent() throws {
        let schedule = PipelineSchedule(stages: 2, microBatches: 2, actions: [
            [.forward(microBatch: 0), .sendActivations(microBatch: 0, to: 1), .forward(microBatch: 1)],
            [.receiveActivations(microBatch: 0, from: 0), .forward(microBatch: 0),
             .receiveActivations(microBatch: 1, from: 0), .forward(microBatch: 1)],
        ])
        do {
            _ = try PipelineScheduleValidator().simulate(schedule)
            Issue.record("deadlock not detected")
        } catch let error as PipelineScheduleError {
            #expect(error.kind == .deadlock && error.stage == 1 && error.actionIndex == 2)
            #expect(error.detail.contains("stage 0 never sends them"))
        }
    }

    @Test("static errors: order, repeats, peers, ranges, backward before forward")
    func staticErrors() {
        let f = PipelineAction.forward(microBatch:)
        func one(_ list: [PipelineAction], microBatches: Int = 2) -> PipelineSchedule {
            PipelineSchedule(stages: 1, microBatches: microBatches, actions: [list])
        }
        #expect(kind(of: one([f(1), f(0)])) == .forwardOutOfOrder)
        #expect(kind(of: one([f(0), f(0), f(1)])) == .forwardOutOfOrder)
        #expect(kind(of: one([f(0)])) == .missingForward)
        #expect(kind(of: one([f(0), f(2)])) == .microBatchOutOfRange)
        #expect(kind(of: one([.backward(microBatch: 0), f(0), f(1)])) == .backwardBeforeForward)
        #expect(kind(of: one([f(0), f(1), .backward(microBatch: 0)])) == .missingBackward)
        #expect(kind(of: one([f(0), f(1), .backward(microBatch: 0), .backward(microBatch: 0)])) == .duplicateAction)
        #expect(kind(of: one([f(0), .sendActivations(microBatch: 0, to: 1), f(1)])) == .wrongPeer)
        let wrongPeer = PipelineSchedule(stages: 3, microBatches: 1, actions: [
            [f(0), .sendActivations(microBatch: 0, to: 2)], [], [.receiveActivations(microBatch: 0, from: 0), f(0)]])
        #expect(kind(of: wrongPeer) == .wrongPeer)
        let unreceived = PipelineSchedule(stages: 2, microBatches: 1, actions: [
            [f(0), .sendActivations(microBatch: 0, to: 1)], [f(0)]])
        #expect(kind(of: unreceived) == .usedBeforeReceived)
        let sendFirst = PipelineSchedule(stages: 2, microBatches: 1, actions: [
            [.sendActivations(microBatch: 0, to: 1), f(0)], [.receiveActivations(microBatch: 0, from: 0), f(0)]])
        #expect(kind(of: sendFirst) == .sentBeforeComputed)
    }

    @Test("sending micro-batches out of order makes the receiver see the wrong one first")
    func outOfOrderMessages() {
        let schedule = PipelineSchedule(stages: 2, microBatches: 2, actions: [
            [.forward(microBatch: 0), .forward(microBatch: 1),
             .sendActivations(microBatch: 1, to: 1), .sendActivations(microBatch: 0, to: 1)],
            [.receiveActivations(microBatch: 0, from: 0), .forward(microBatch: 0),
             .receiveActivations(microBatch: 1, from: 0), .forward(microBatch: 1)],
        ])
        #expect(kind(of: schedule) == .messageOutOfOrder)
        #expect(kind(of: schedule, sends: .rendezvous) == .messageOutOfOrder)
    }
}
