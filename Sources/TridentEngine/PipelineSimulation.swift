/// How a simulated send behaves.
public enum PipelineSendSemantics: Sendable, Equatable {
    /// The send returns at once; the message waits in the receiver's queue (`LocalCommunicator`,
    /// MPI eager sends of small messages, TCP while the socket buffer has room).
    case buffered
    /// The send returns only when the receiver has posted the matching receive (MPI `Ssend`,
    /// large messages on most transports). The strictest assumption.
    case rendezvous
}

/// Unit costs for the schedule simulator, in abstract time steps.
public struct PipelineCosts: Sendable, Equatable {
    /// Steps one forward pass of one micro-batch takes on any stage.
    public var forward: Int
    /// Steps one backward pass takes (about twice a forward in practice).
    public var backward: Int
    /// Steps between a send and the message being available to the receiver.
    public var transfer: Int

    public init(forward: Int = 1, backward: Int = 2, transfer: Int = 0) {
        precondition(forward >= 1 && backward >= 1 && transfer >= 0, "costs must be positive (transfer >= 0)")
        self.forward = forward
        self.backward = backward
        self.transfer = transfer
    }
}

/// The outcome of simulating a valid schedule.
public struct PipelineSimulation: Sendable, Equatable {
    /// Time step at which the last stage finished its last action.
    public var makespan: Int
    /// Steps each stage spent computing (forward + backward).
    public var busySteps: [Int]
    /// Time step at which each stage finished.
    public var finishTimes: [Int]
    /// Most micro-batches whose activations a stage held for a pending backward at once
    /// (0 for forward-only schedules).
    public var peakActivationsHeld: [Int]

    /// Fraction of the makespan each stage was not computing: `1 - busy / makespan`.
    public var idleFractions: [Double] {
        busySteps.map { makespan == 0 ? 0 : 1 - Double($0) / Double(makespan) }
    }

    /// The largest idle fraction of any stage (the pipeline bubble with uniform stage costs).
    public var bubbleFraction: Double { idleFractions.max() ?? 0 }
}

/// Why a schedule is invalid, naming the stage and the index of the offending action.
public struct PipelineScheduleError: Error, CustomStringConvertible, Equatable {
    public enum Kind: Sendable, Equatable {
        /// A send or receive names a peer other than the adjacent stage in its direction.
        case wrongPeer
        /// A micro-batch index outside `0 ..< microBatches`.
        case microBatchOutOfRange
        /// A forward that is not the next micro-batch in order (or a repeat).
        case forwardOutOfOrder
        /// A stage never forwards some micro-batch.
        case missingForward
        /// The same receive, send or backward appears twice.
        case duplicateAction
        /// A backward before that micro-batch's forward on the same stage.
        case backwardBeforeForward
        /// A training schedule in which a stage never runs some micro-batch's backward.
        case missingBackward
        /// A forward (backward) before its activations (gradients) were received.
        case usedBeforeReceived
        /// A send of activations (gradients) before the forward (backward) producing them.
        case sentBeforeComputed
        /// A receive that would get a different micro-batch's message first.
        case messageOutOfOrder
        /// Stages wait for each other forever.
        case deadlock
        /// A message sent that no stage ever receives.
        case messageNeverReceived
    }

    public var kind: Kind
    /// The stage whose program is at fault (for a deadlock, the first blocked stage).
    public var stage: Int?
    /// Index of the offending action in that stage's list.
    public var actionIndex: Int?
    /// What was expected and what was found.
    public var detail: String

    public init(_ kind: Kind, stage: Int?, actionIndex: Int?, detail: String) {
        self.kind = kind
        self.stage = stage
        self.actionIndex = actionIndex
        self.detail = detail
    }

    public var description: String {
        var where_ = ""
        if let stage { where_ += " at stage \(stage)" }
        if let actionIndex { where_ += ", action \(actionIndex)" }
        return "invalid pipeline schedule (\(kind))\(where_): \(detail)"
    }
}
