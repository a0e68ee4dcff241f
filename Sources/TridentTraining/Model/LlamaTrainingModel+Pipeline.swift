import TridentKernels
import TridentModel

/// What a block's forward left for its backward: its whole context, or with activation
/// recomputation only its input, from which the context is recomputed just before the backward.
enum SavedBlock: @unchecked Sendable {
    case context(BlockContext)
    case input(ActivationBuffer)        // [B·L, hidden]
}

/// What one micro-batch's forward on a pipeline stage saved for its backward: the pass (rows,
/// dropout masks), the tokens the first stage embedded, every block's context (or, with
/// `recomputeActivations`, its input) and the head's context.
public struct StageMicroBatch: @unchecked Sendable {
    let pass: TrainingPass
    let inputs: [Int32]                 // [B·L] token ids (read by the first stage's backward)
    var blocks: [SavedBlock]            // one per block of the stage, in forward order
    var head: HeadContext?              // last stage only
    /// Bytes of activation buffers the saved contexts keep alive (each buffer counted once).
    public let savedBytes: Int
}

/// What a stage's forward produced: activations for the next stage, or (last stage) the loss.
public enum StageOutput: @unchecked Sendable {
    /// `[B·L, hidden]`, replicated over the tensor group.
    case activations(ActivationBuffer)
    /// Σ cross-entropy over the micro-batch's targets, and their count.
    case loss(lossSum: Double, targets: Int)
}

extension LlamaTrainingModel {
    /// Training forward of this stage on one micro-batch. Every rank of the tensor group must
    /// call this with the same sequences, in the same order.
    /// - Parameters:
    ///   - sequences: the micro-batch (B sequences of L + 1 tokens; the first stage embeds
    ///     their inputs, the last scores their targets).
    ///   - input: `[B·L, hidden]` activations from the previous stage (nil on the first stage).
    ///   - denominator: the step's target count (see `TrainableModel.accumulateGradients`).
    /// - Throws: `TrainingError.invalidValue` for bad sequences or a missing/misshapen input,
    ///   `CrossEntropyError`, collective errors of the tensor group.
    public func stageForward(sequences: [[Int32]], input: ActivationBuffer?,
                             denominator: Int) throws -> (StageOutput, StageMicroBatch) {
        let (inputs, targets, length) = try split(sequences)
        let pass = makePass(sequences: sequences.count, length: length)
        var x: ActivationBuffer
        if let embedding = layers.embedding {
            x = try embedding.trainingForward(inputs, pass: pass)
            layers.positions?.trainingForward(x, pass: pass)
        } else {
            guard let input, input.rows == pass.rows, input.columns == configuration.hiddenSize else {
                throw TrainingError.invalidValue(name: "stage input", expected: "[\(pass.rows), \(configuration.hiddenSize)]",
                                                 found: input.map { "[\($0.rows), \($0.columns)]" } ?? "none")
            }
            x = input
        }
        var contexts: [SavedBlock] = []
        for (i, block) in layers.blocks.enumerated() {
            let (y, context) = try block.trainingForward(x, layer: stage.blocks.lowerBound + i, pass: pass)
            contexts.append(recomputeActivations ? .input(x) : .context(context))   // else the context dies here
            x = y
        }
        var headContext: HeadContext? = nil
        var output = StageOutput.activations(x)
        if let head = layers.head {
            let (result, context) = try head.trainingLoss(x, targets: targets, denominator: denominator, pass: pass)
            headContext = context
            output = .loss(lossSum: result.lossSum, targets: result.targetCount)
        }
        let bytes = SavedActivations.bytes(of: (contexts, headContext))
        return (output, StageMicroBatch(pass: pass, inputs: inputs, blocks: contexts, head: headContext, savedBytes: bytes))
    }

    /// Backward of this stage on one micro-batch, adding into the parameters' gradients and
    /// reporting each final one through `gradientReady`. A block saved as its input alone
    /// (`recomputeActivations`) first runs its forward again from it (its tensor-group
    /// collectives included). Every rank of the tensor group must call this, in the same order.
    /// - Parameter outputGradient: `[B·L, hidden]` gradient of this stage's output from the
    ///   next stage (nil on the last stage, whose loss is the start).
    /// - Returns: the gradient of this stage's input `[B·L, hidden]`, nil on the first stage.
    public func stageBackward(_ saved: consuming StageMicroBatch, outputGradient: ActivationBuffer?) throws
        -> ActivationBuffer? {
        let pass = saved.pass
        var dx: ActivationBuffer
        if let head = layers.head, let context = saved.head {
            dx = try head.backward(context: context, pass: pass)
            let projectionIsTable = configuration.tiedEmbeddings && stage.isFirst
            notifyReady(head.norm.trainableParameters + (projectionIsTable ? [] : [head.projection.weightParameter!]))
        } else {
            guard let outputGradient, outputGradient.rows == pass.rows,
                  outputGradient.columns == configuration.hiddenSize else {
                throw TrainingError.invalidValue(name: "stage output gradient",
                                                 expected: "[\(pass.rows), \(configuration.hiddenSize)]",
                                                 found: outputGradient.map { "[\($0.rows), \($0.columns)]" } ?? "none")
            }
            dx = outputGradient
        }
        for index in layers.blocks.indices.reversed() {
            let block = layers.blocks[index], layer = stage.blocks.lowerBound + index
            let context: BlockContext
            switch saved.blocks.removeLast() {   // a context held nowhere else is freed after its backward
            case .context(let kept): context = kept
            case .input(let x): context = try block.trainingForward(x, layer: layer, pass: pass).1   // the same arithmetic again
            }
            dx = try block.backward(dx, context: context, layer: layer, pass: pass)
            notifyReady(block.trainableParameters)
        }
        guard let embedding = layers.embedding else { return dx }
        if let positions = layers.positions {
            positions.backward(dx, pass: pass)
            notifyReady([positions.weightParameter!])
        }
        embedding.backward(dx, tokens: saved.inputs, pass: pass)
        notifyReady([embedding.weightParameter!])
        return nil
    }

    /// Indices into `parameters` of a tied `token_embd.weight` that this stage holds while the
    /// other end of the pipeline holds it too (first and last stage, not the same one): their
    /// gradients must be summed between the two stages before the step. Empty otherwise.
    public var tiedEmbeddingIndices: [Int] {
        guard configuration.tiedEmbeddings, stage.isFirst != stage.isLast else { return [] }
        return parameters.indices.filter { parameters[$0].name == "token_embd.weight" }
    }

    /// Whether parameter `index` is a copy whose gradient another stage already counts in the
    /// global norm (the last stage's tied embedding).
    public func isPipelineCopy(_ index: Int) -> Bool {
        !stage.isFirst && tiedEmbeddingIndices.contains(index)
    }
}

/// Counts the activation bytes a saved context keeps alive, by walking it (each buffer once).
enum SavedActivations {
    static func bytes(of value: Any) -> Int {
        var seen = Set<ObjectIdentifier>()
        return walk(value, &seen)
    }

    private static func walk(_ value: Any, _ seen: inout Set<ObjectIdentifier>) -> Int {
        if let buffer = value as? ActivationBuffer {
            return seen.insert(ObjectIdentifier(buffer)).inserted ? buffer.count * MemoryLayout<Float>.stride : 0
        }
        var total = 0
        for child in Mirror(reflecting: value).children { total += walk(child.value, &seen) }
        return total
    }
}
