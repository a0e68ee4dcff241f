/// Checks a `PipelineSchedule` and simulates it in unit time.
///
/// Static checks, per stage: peers are the adjacent stages in the right direction; every
/// micro-batch is forwarded exactly once, in order; a forward (backward) comes after its
/// activations (gradients) were received; a send comes after the computation producing it;
/// a backward comes after its forward; a schedule with any backward backwards every
/// micro-batch on every stage. Then all stages run in lock-step with blocking point-to-point
/// semantics: a receive takes the oldest message on its channel (one channel per sender,
/// receiver and direction, like a communicator tag) and must find the expected micro-batch;
/// a wait that can never end is reported as a deadlock naming what each stage waits for.
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
        for stage in 0..<schedule.stages { try checkProgram(schedule, stage: stage) }
        var simulator = Simulator(schedule: schedule, costs: costs, sends: sends)
        return try simulator.run()
    }

    /// Static checks of one stage's program.
    func checkProgram(_ schedule: PipelineSchedule, stage s: Int) throws {
        let p = schedule.stages, m = schedule.microBatches
        var forwarded = 0
        var received = Set<Int>(), gradients = Set<Int>(), sentActivations = Set<Int>()
        var sentGradients = Set<Int>(), backwarded = Set<Int>()
        for (index, action) in schedule.actions[s].enumerated() {
            func fail(_ kind: PipelineScheduleError.Kind, _ detail: String) -> PipelineScheduleError {
                PipelineScheduleError(kind, stage: s, actionIndex: index, detail: "\(action): \(detail)")
            }
            let mb = action.microBatch
            guard mb >= 0 && mb < m else { throw fail(.microBatchOutOfRange, "micro-batches are 0..<\(m)") }
            switch action {
            case .receiveActivations(_, let from):
                guard s > 0 && from == s - 1 else { throw fail(.wrongPeer, "activations come from stage \(s - 1)") }
                guard received.insert(mb).inserted else { throw fail(.duplicateAction, "received twice") }
            case .forward:
                guard mb == forwarded else { throw fail(.forwardOutOfOrder, "expected forward of micro-batch \(forwarded)") }
                guard s == 0 || received.contains(mb) else {
                    throw fail(.usedBeforeReceived, "activations of micro-batch \(mb) not yet received from stage \(s - 1)")
                }
                forwarded += 1
            case .sendActivations(_, let to):
                guard s < p - 1 && to == s + 1 else { throw fail(.wrongPeer, "activations go to stage \(s + 1)") }
                guard mb < forwarded else { throw fail(.sentBeforeComputed, "micro-batch \(mb) not yet forwarded") }
                guard sentActivations.insert(mb).inserted else { throw fail(.duplicateAction, "sent twice") }
            case .receiveGradients(_, let from):
                guard s < p - 1 && from == s + 1 else { throw fail(.wrongPeer, "gradients come from stage \(s + 1)") }
                guard gradients.insert(mb).inserted else { throw fail(.duplicateAction, "received twice") }
            case .backward:
                guard mb < forwarded else { throw fail(.backwardBeforeForward, "micro-batch \(mb) not yet forwarded") }
                guard s == p - 1 || gradients.contains(mb) else {
                    throw fail(.usedBeforeReceived, "gradients of micro-batch \(mb) not yet received from stage \(s + 1)")
                }
                guard backwarded.insert(mb).inserted else { throw fail(.duplicateAction, "backward twice") }
            case .sendGradients(_, let to):
                guard s > 0 && to == s - 1 else { throw fail(.wrongPeer, "gradients go to stage \(s - 1)") }
                guard backwarded.contains(mb) else { throw fail(.sentBeforeComputed, "micro-batch \(mb) has no backward yet") }
                guard sentGradients.insert(mb).inserted else { throw fail(.duplicateAction, "sent twice") }
            }
        }
        guard forwarded == m else {
            throw PipelineScheduleError(.missingForward, stage: s, actionIndex: nil,
                                        detail: "micro-batch \(forwarded) is never forwarded (of \(m))")
        }
        if schedule.includesBackward, let missing = (0..<m).first(where: { !backwarded.contains($0) }) {
            throw PipelineScheduleError(.missingBackward, stage: s, actionIndex: nil,
                                        detail: "micro-batch \(missing) is never backwarded")
        }
    }
}

/// Lock-step execution of every stage's program with message queues.
private struct Simulator {
    struct Channel: Hashable { var from: Int; var to: Int; var gradient: Bool }
    struct Message { var microBatch: Int; var available: Int }

    let schedule: PipelineSchedule
    let costs: PipelineCosts
    let sends: PipelineSendSemantics
    /// Whether forwards keep activations for a later backward.
    let training: Bool
    var pc: [Int]
    var clock: [Int]
    var busy: [Int]
    var held: [Int]
    var peakHeld: [Int]
    var queues: [Channel: [Message]] = [:]

    init(schedule: PipelineSchedule, costs: PipelineCosts, sends: PipelineSendSemantics) {
        self.schedule = schedule
        self.costs = costs
        self.sends = sends
        self.training = schedule.includesBackward
        let zeros = [Int](repeating: 0, count: schedule.stages)
        pc = zeros; clock = zeros; busy = zeros; held = zeros; peakHeld = zeros
    }

    mutating func run() throws -> PipelineSimulation {
        let stages = 0..<schedule.stages
        while stages.contains(where: { pc[$0] < schedule.actions[$0].count }) {
            var progressed = false
            for s in stages {
                while try step(s) { progressed = true }
            }
            if !progressed { throw deadlock() }
        }
        if let (channel, messages) = queues.first(where: { !$0.value.isEmpty }) {
            let kind = channel.gradient ? "gradients" : "activations"
            throw PipelineScheduleError(.messageNeverReceived, stage: channel.to, actionIndex: nil,
                                        detail: "\(kind) of micro-batch \(messages[0].microBatch) sent by stage \(channel.from) are never received")
        }
        return PipelineSimulation(makespan: clock.max() ?? 0, busySteps: busy, finishTimes: clock,
                                  peakActivationsHeld: peakHeld)
    }

    /// Executes stage `s`'s next action if it can proceed. - Returns: whether it did.
    mutating func step(_ s: Int) throws -> Bool {
        guard pc[s] < schedule.actions[s].count else { return false }
        let action = schedule.actions[s][pc[s]]
        switch action {
        case .forward:
            clock[s] += costs.forward; busy[s] += costs.forward
            if training { held[s] += 1; peakHeld[s] = max(peakHeld[s], held[s]) }
        case .backward:
            clock[s] += costs.backward; busy[s] += costs.backward
            held[s] -= 1
        case let .sendActivations(mb, to), let .sendGradients(mb, to):
            let channel = Channel(from: s, to: to, gradient: isGradient(action))
            if sends == .rendezvous {
                // Completes only together with the receiver's matching receive.
                guard pc[to] < schedule.actions[to].count, let peerChannel = receiveChannel(to),
                      peerChannel == channel else { return false }
                let peerAction = schedule.actions[to][pc[to]]
                try checkOrder(expected: peerAction, found: mb, stage: to)
                let t = max(clock[s], clock[to])
                clock[s] = t
                clock[to] = t + costs.transfer
                pc[to] += 1
            } else {
                queues[channel, default: []].append(Message(microBatch: mb, available: clock[s] + costs.transfer))
            }
        case .receiveActivations, .receiveGradients:
            guard sends == .buffered else { return false }   // rendezvous receives complete from the sender's side
            let channel = receiveChannel(s)!
            guard let message = queues[channel]?.first else { return false }
            try checkOrder(expected: action, found: message.microBatch, stage: s)
            queues[channel]!.removeFirst()
            clock[s] = max(clock[s], message.available)
        }
        pc[s] += 1
        return true
    }

    func isGradient(_ action: PipelineAction) -> Bool {
        switch action {
        case .receiveGradients, .sendGradients, .backward: true
        default: false
        }
    }

    /// The channel stage `s`'s current action receives on, if it is a receive.
    func receiveChannel(_ s: Int) -> Channel? {
        switch schedule.actions[s][pc[s]] {
        case .receiveActivations(_, let from): Channel(from: from, to: s, gradient: false)
        case .receiveGradients(_, let from): Channel(from: from, to: s, gradient: true)
        default: nil
        }
    }

    func checkOrder(expected action: PipelineAction, found mb: Int, stage s: Int) throws {
        guard action.microBatch == mb else {
            throw PipelineScheduleError(.messageOutOfOrder, stage: s, actionIndex: pc[s],
                                        detail: "\(action) would receive micro-batch \(mb)'s message first")
        }
    }

    /// Describes what every blocked stage waits for.
    func deadlock() -> PipelineScheduleError {
        let blocked = (0..<schedule.stages).filter { pc[$0] < schedule.actions[$0].count }
        let reasons = blocked.map { s -> String in
            let action = schedule.actions[s][pc[s]]
            switch action {
            case let .receiveActivations(mb, peer), let .receiveGradients(mb, peer):
                let kind = isGradient(action) ? "gradients" : "activations"
                let matching: PipelineAction = isGradient(action) ? .sendGradients(microBatch: mb, to: s)
                    : .sendActivations(microBatch: mb, to: s)
                let later = schedule.actions[peer][pc[peer]...].contains(matching)
                let why = later ? "stage \(peer) is blocked at \(schedule.actions[peer][pc[peer]])"
                    : "stage \(peer) never sends them"
                return "stage \(s) waits for \(kind) of micro-batch \(mb) from stage \(peer) (\(why))"
            case let .sendActivations(mb, peer), let .sendGradients(mb, peer):
                let here = pc[peer] < schedule.actions[peer].count ? "\(schedule.actions[peer][pc[peer]])" : "its end"
                return "stage \(s) waits to send micro-batch \(mb) to stage \(peer), which is at \(here)"
            case .forward, .backward:
                return "stage \(s) at \(action)"
            }
        }
        return PipelineScheduleError(.deadlock, stage: blocked.first, actionIndex: blocked.first.map { pc[$0] },
                                     detail: reasons.joined(separator: "; "))
    }
}
