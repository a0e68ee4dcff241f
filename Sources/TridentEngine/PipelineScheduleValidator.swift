/// Checks a pipeline schedule and simulates it in unit time: the single source of truth for
/// whether a schedule runs, for `PipelineSchedule` (one chunk per stage) and for
/// `ChunkedPipelineSchedule` (interleaved 1F1B's V chunks per rank) alike.
///
/// Static checks, per rank and chunk (virtual stage): peers are the ranks of the adjacent
/// virtual stages in the right direction; every micro-batch is forwarded exactly once, in
/// order; a forward (backward) comes after its activations (gradients) were received; a send
/// comes after the computation producing it; a backward comes after its forward; a schedule
/// with any backward backwards every micro-batch on every chunk. Then all ranks run in
/// lock-step with blocking point-to-point semantics: a receive takes the oldest message on its
/// channel (one channel per sender, receiver and direction, like a communicator tag) and must
/// find the expected virtual stage and micro-batch; a wait that can never end is reported as a
/// deadlock naming what each rank waits for. Errors name the rank as the `stage`.
public struct PipelineScheduleValidator: Sendable {
    public var costs: PipelineCosts
    public var sends: PipelineSendSemantics

    public init(costs: PipelineCosts = PipelineCosts(), sends: PipelineSendSemantics = .buffered) {
        self.costs = costs
        self.sends = sends
    }

    /// Validates `schedule` and returns its simulated timing.
    /// - Throws: `PipelineScheduleError` for the first problem found.
    public func simulate(_ schedule: PipelineSchedule) throws -> PipelineSimulation {
        try simulate(ChunkedPipelineSchedule(schedule))
    }

    /// Validates a schedule of several chunks per rank and returns its simulated timing
    /// (`peakActivationsHeld`: per rank, the most (chunk, micro-batch) forwards awaiting their backward).
    /// - Throws: `PipelineScheduleError` for the first problem found.
    public func simulate(_ schedule: ChunkedPipelineSchedule) throws -> PipelineSimulation {
        for rank in 0..<schedule.ranks { try checkProgram(schedule, rank: rank) }
        var simulator = PipelineScheduleSimulator(schedule: schedule, costs: costs, sends: sends)
        return try simulator.run()
    }

    /// Static checks of one rank's program.
    func checkProgram(_ schedule: ChunkedPipelineSchedule, rank s: Int) throws {
        var state = ProgramState(chunks: schedule.chunks)
        for (index, action) in schedule.actions[s].enumerated() {
            try check(action, index: index, rank: s, schedule, &state)
        }
        let m = schedule.microBatches, one = schedule.chunks == 1
        for c in 0..<schedule.chunks {
            guard state.forwarded[c] == m else {
                throw PipelineScheduleError(.missingForward, stage: s, actionIndex: nil,
                                            detail: "micro-batch \(state.forwarded[c]) is never forwarded (of \(m))"
                                                + (one ? "" : " on chunk \(c)"))
            }
            if schedule.includesBackward, let missing = (0..<m).first(where: { !state.backwarded.contains([c, $0]) }) {
                throw PipelineScheduleError(.missingBackward, stage: s, actionIndex: nil,
                                            detail: "micro-batch \(missing) is never backwarded" + (one ? "" : " on chunk \(c)"))
            }
        }
    }

    /// What one rank's program did so far, per (chunk, micro-batch).
    struct ProgramState {
        var forwarded: [Int]
        var received = Set<[Int]>(), gradients = Set<[Int]>(), sentActivations = Set<[Int]>()
        var sentGradients = Set<[Int]>(), backwarded = Set<[Int]>()
        init(chunks: Int) { forwarded = [Int](repeating: 0, count: chunks) }
    }

    /// Checks one action of rank `s` against what its program did before.
    func check(_ action: ChunkedAction, index: Int, rank s: Int, _ schedule: ChunkedPipelineSchedule,
               _ state: inout ProgramState) throws {
        let p = schedule.ranks, m = schedule.microBatches, one = schedule.chunks == 1
        func fail(_ kind: PipelineScheduleError.Kind, _ detail: String) -> PipelineScheduleError {
            PipelineScheduleError(kind, stage: s, actionIndex: index, detail: "\(action.description(chunks: schedule.chunks)): \(detail)")
        }
        let mb = action.microBatch, c = action.chunk
        guard c >= 0 && c < schedule.chunks else { throw fail(.microBatchOutOfRange, "chunks are 0..<\(schedule.chunks)") }
        guard mb >= 0 && mb < m else { throw fail(.microBatchOutOfRange, "micro-batches are 0..<\(m)") }
        let k = schedule.virtualStage(rank: s, chunk: c), key = [c, mb]
        let previous = (s - 1 + p) % p, next = (s + 1) % p
        let from = one ? "stage \(s - 1)" : "rank \(previous)", to = one ? "stage \(s + 1)" : "rank \(next)"
        switch action.kind {
        case .receiveActivations:
            guard k > 0 && action.peer == previous else { throw fail(.wrongPeer, "activations come from \(from)") }
            guard state.received.insert(key).inserted else { throw fail(.duplicateAction, "received twice") }
        case .forward:
            guard mb == state.forwarded[c] else { throw fail(.forwardOutOfOrder, "expected forward of micro-batch \(state.forwarded[c])") }
            guard k == 0 || state.received.contains(key) else {
                throw fail(.usedBeforeReceived, "activations of micro-batch \(mb) not yet received from \(from)")
            }
            state.forwarded[c] += 1
        case .sendActivations:
            guard k < schedule.lastVirtualStage && action.peer == next else { throw fail(.wrongPeer, "activations go to \(to)") }
            guard mb < state.forwarded[c] else { throw fail(.sentBeforeComputed, "micro-batch \(mb) not yet forwarded") }
            guard state.sentActivations.insert(key).inserted else { throw fail(.duplicateAction, "sent twice") }
        case .receiveGradients:
            guard k < schedule.lastVirtualStage && action.peer == next else { throw fail(.wrongPeer, "gradients come from \(to)") }
            guard state.gradients.insert(key).inserted else { throw fail(.duplicateAction, "received twice") }
        case .backward:
            guard mb < state.forwarded[c] else { throw fail(.backwardBeforeForward, "micro-batch \(mb) not yet forwarded") }
            guard k == schedule.lastVirtualStage || state.gradients.contains(key) else {
                throw fail(.usedBeforeReceived, "gradients of micro-batch \(mb) not yet received from \(to)")
            }
            guard state.backwarded.insert(key).inserted else { throw fail(.duplicateAction, "backward twice") }
        case .sendGradients:
            guard k > 0 && action.peer == previous else { throw fail(.wrongPeer, "gradients go to \(from)") }
            guard state.backwarded.contains(key) else { throw fail(.sentBeforeComputed, "micro-batch \(mb) has no backward yet") }
            guard state.sentGradients.insert(key).inserted else { throw fail(.duplicateAction, "sent twice") }
        }
    }
}
