/// Lock-step execution of every rank's program with message queues (`PipelineScheduleValidator`
/// runs it after the static checks).
struct PipelineScheduleSimulator {
    struct Channel: Hashable { var from: Int; var to: Int; var gradient: Bool }
    /// A message for virtual stage `target`'s `microBatch`, available from time `available`.
    struct Message { var target: Int; var microBatch: Int; var available: Int }

    let schedule: ChunkedPipelineSchedule
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

    init(schedule: ChunkedPipelineSchedule, costs: PipelineCosts, sends: PipelineSendSemantics) {
        self.schedule = schedule
        self.costs = costs
        self.sends = sends
        self.training = schedule.includesBackward
        let zeros = [Int](repeating: 0, count: schedule.ranks)
        pc = zeros; clock = zeros; busy = zeros; held = zeros; peakHeld = zeros
    }

    mutating func run() throws -> PipelineSimulation {
        let ranks = 0..<schedule.ranks
        while ranks.contains(where: { pc[$0] < schedule.actions[$0].count }) {
            var progressed = false
            for s in ranks {
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

    func text(_ action: ChunkedAction) -> String { action.description(chunks: schedule.chunks) }

    /// The virtual stage a send's message is for: the next one for activations, the previous for gradients.
    func target(of action: ChunkedAction, rank s: Int) -> Int {
        schedule.virtualStage(rank: s, chunk: action.chunk) + (action.isGradient ? -1 : 1)
    }

    /// Executes rank `s`'s next action if it can proceed. - Returns: whether it did.
    mutating func step(_ s: Int) throws -> Bool {
        guard pc[s] < schedule.actions[s].count else { return false }
        let action = schedule.actions[s][pc[s]]
        switch action.kind {
        case .forward:
            clock[s] += costs.forward; busy[s] += costs.forward
            if training { held[s] += 1; peakHeld[s] = max(peakHeld[s], held[s]) }
        case .backward:
            clock[s] += costs.backward; busy[s] += costs.backward
            held[s] -= 1
        case .sendActivations, .sendGradients:
            let to = action.peer, channel = Channel(from: s, to: to, gradient: action.isGradient)
            let message = Message(target: target(of: action, rank: s), microBatch: action.microBatch,
                                  available: clock[s] + costs.transfer)
            if sends == .rendezvous {
                // Completes only together with the receiver's matching receive.
                guard pc[to] < schedule.actions[to].count, let peerChannel = receiveChannel(to),
                      peerChannel == channel else { return false }
                try checkOrder(expected: schedule.actions[to][pc[to]], found: message, rank: to)
                let t = max(clock[s], clock[to])
                clock[s] = t
                clock[to] = t + costs.transfer
                pc[to] += 1
            } else {
                queues[channel, default: []].append(message)
            }
        case .receiveActivations, .receiveGradients:
            guard sends == .buffered else { return false }   // rendezvous receives complete from the sender's side
            let channel = receiveChannel(s)!
            guard let message = queues[channel]?.first else { return false }
            try checkOrder(expected: action, found: message, rank: s)
            queues[channel]!.removeFirst()
            clock[s] = max(clock[s], message.available)
        }
        pc[s] += 1
        return true
    }

    /// The channel rank `s`'s current action receives on, if it is a receive.
    func receiveChannel(_ s: Int) -> Channel? {
        let action = schedule.actions[s][pc[s]]
        switch action.kind {
        case .receiveActivations, .receiveGradients: return Channel(from: action.peer, to: s, gradient: action.isGradient)
        default: return nil
        }
    }

    func checkOrder(expected action: ChunkedAction, found message: Message, rank s: Int) throws {
        let k = schedule.virtualStage(rank: s, chunk: action.chunk)
        guard action.microBatch == message.microBatch && k == message.target else {
            let other = schedule.chunks == 1 ? "micro-batch \(message.microBatch)"
                : "virtual stage \(message.target)'s micro-batch \(message.microBatch)"
            throw PipelineScheduleError(.messageOutOfOrder, stage: s, actionIndex: pc[s],
                                        detail: "\(text(action)) would receive \(other)'s message first")
        }
    }

    /// Describes what every blocked rank waits for.
    func deadlock() -> PipelineScheduleError {
        let blocked = (0..<schedule.ranks).filter { pc[$0] < schedule.actions[$0].count }
        let reasons = blocked.map { s -> String in
            let action = schedule.actions[s][pc[s]], mb = action.microBatch, peer = action.peer
            switch action.kind {
            case .receiveActivations, .receiveGradients:
                let kind = action.isGradient ? "gradients" : "activations"
                // The sender's chunk: the virtual stage after (gradients) or before (activations) this one.
                let k = schedule.virtualStage(rank: s, chunk: action.chunk) + (action.isGradient ? 1 : -1)
                let matching = ChunkedAction(action.isGradient ? .sendGradients : .sendActivations,
                                             chunk: k / schedule.ranks, microBatch: mb, peer: s)
                let later = schedule.actions[peer][pc[peer]...].contains(matching)
                let why = later ? "stage \(peer) is blocked at \(pc[peer] < schedule.actions[peer].count ? text(schedule.actions[peer][pc[peer]]) : "its end")"
                    : "stage \(peer) never sends them"
                return "stage \(s) waits for \(kind) of micro-batch \(mb) from stage \(peer) (\(why))"
            case .sendActivations, .sendGradients:
                let here = pc[peer] < schedule.actions[peer].count ? text(schedule.actions[peer][pc[peer]]) : "its end"
                return "stage \(s) waits to send micro-batch \(mb) to stage \(peer), which is at \(here)"
            case .forward, .backward:
                return "stage \(s) at \(text(action))"
            }
        }
        return PipelineScheduleError(.deadlock, stage: blocked.first, actionIndex: blocked.first.map { pc[$0] },
                                     detail: reasons.joined(separator: "; "))
    }
}
