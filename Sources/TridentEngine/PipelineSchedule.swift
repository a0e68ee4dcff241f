/// One step of a pipeline stage's program. Stages are pipeline-group ranks; micro-batches are
/// indices `0 ..< schedule.microBatches`.
public enum PipelineAction: Sendable, Hashable, CustomStringConvertible {
    /// Block until the activations of `microBatch` arrive from stage `from` (the previous stage).
    case receiveActivations(microBatch: Int, from: Int)
    /// Run this stage's blocks forward on `microBatch`.
    case forward(microBatch: Int)
    /// Send the activations this stage produced for `microBatch` to stage `to` (the next stage).
    case sendActivations(microBatch: Int, to: Int)
    /// Block until the gradient of `microBatch`'s output activations arrives from stage `from` (the next stage).
    case receiveGradients(microBatch: Int, from: Int)
    /// Run this stage's blocks backward on `microBatch`.
    case backward(microBatch: Int)
    /// Send the gradient of `microBatch`'s input activations to stage `to` (the previous stage).
    case sendGradients(microBatch: Int, to: Int)

    /// The micro-batch this action concerns.
    public var microBatch: Int {
        switch self {
        case .receiveActivations(let m, _), .forward(let m), .sendActivations(let m, _),
             .receiveGradients(let m, _), .backward(let m), .sendGradients(let m, _):
            return m
        }
    }

    /// Whether this is a computation (forward or backward) rather than communication.
    public var isCompute: Bool {
        switch self {
        case .forward, .backward: true
        default: false
        }
    }

    /// Short form used in schedule dumps: `R0<1`, `F0`, `S0>2`, `r0<2`, `B0`, `s0>1`.
    public var description: String {
        switch self {
        case let .receiveActivations(m, p): "R\(m)<\(p)"
        case let .forward(m): "F\(m)"
        case let .sendActivations(m, p): "S\(m)>\(p)"
        case let .receiveGradients(m, p): "r\(m)<\(p)"
        case let .backward(m): "B\(m)"
        case let .sendGradients(m, p): "s\(m)>\(p)"
        }
    }
}

/// A pipeline schedule as data: for every stage, the ordered list of actions it performs.
///
/// Builders: `gpipe(stages:microBatches:includeBackward:)` (all forwards, then all backwards),
/// `forwardOnly(stages:microBatches:)` (inference) and `oneFOneB(stages:microBatches:)`.
/// `PipelineScheduleValidator` checks and simulates a schedule; `PipelineExecutor` runs the
/// forward-only ones on a model.
public struct PipelineSchedule: Sendable, Equatable, CustomStringConvertible {
    /// Number of pipeline stages (pipeline-group size).
    public var stages: Int
    /// Number of micro-batches, `0 ..< microBatches`.
    public var microBatches: Int
    /// `actions[s]` is stage `s`'s program, in order.
    public var actions: [[PipelineAction]]

    public init(stages: Int, microBatches: Int, actions: [[PipelineAction]]) {
        precondition(stages >= 1 && microBatches >= 0, "a schedule needs at least one stage")
        precondition(actions.count == stages, "\(actions.count) action lists for \(stages) stages")
        self.stages = stages
        self.microBatches = microBatches
        self.actions = actions
    }

    /// Whether any stage runs a backward pass.
    public var includesBackward: Bool {
        actions.contains { $0.contains { if case .backward = $0 { true } else { false } } }
    }

    /// One line per stage, e.g. `stage 1: R0<0 F0 S0>2 R1<0 F1 S1>2`.
    public var description: String {
        actions.enumerated().map { s, list in
            "stage \(s): " + list.map(\.description).joined(separator: " ")
        }.joined(separator: "\n")
    }

    /// Inference: every stage forwards micro-batches `0 ..< microBatches` in order, receiving
    /// each from the previous stage first and sending it on after (same as GPipe without backward).
    public static func forwardOnly(stages: Int, microBatches: Int) -> PipelineSchedule {
        gpipe(stages: stages, microBatches: microBatches, includeBackward: false)
    }

    /// Stage `s`'s actions for the forward pass of micro-batch `m`.
    static func forwardSteps(_ m: Int, stage s: Int, stages: Int) -> [PipelineAction] {
        var steps: [PipelineAction] = []
        if s > 0 { steps.append(.receiveActivations(microBatch: m, from: s - 1)) }
        steps.append(.forward(microBatch: m))
        if s < stages - 1 { steps.append(.sendActivations(microBatch: m, to: s + 1)) }
        return steps
    }

    /// Stage `s`'s actions for the backward pass of micro-batch `m`.
    static func backwardSteps(_ m: Int, stage s: Int, stages: Int) -> [PipelineAction] {
        var steps: [PipelineAction] = []
        if s < stages - 1 { steps.append(.receiveGradients(microBatch: m, from: s + 1)) }
        steps.append(.backward(microBatch: m))
        if s > 0 { steps.append(.sendGradients(microBatch: m, to: s - 1)) }
        return steps
    }
}
