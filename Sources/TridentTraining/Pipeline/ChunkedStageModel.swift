import TridentModel

/// What the pipeline session needs from a rank's model: its chunks (virtual stages), each a
/// `LlamaTrainingModel`, whose parameters follow one another in `parameters`.
public protocol PipelineStageChunks: TrainableModel {
    var chunks: [LlamaTrainingModel] { get }
}

extension LlamaTrainingModel: PipelineStageChunks {
    public var chunks: [LlamaTrainingModel] { [self] }
}

extension PipelineStageChunks {
    /// Index in `parameters` of each chunk's first parameter.
    public var chunkOffsets: [Int] {
        var offsets: [Int] = [], total = 0
        for chunk in chunks { offsets.append(total); total += chunk.parameters.count }
        return offsets
    }

    /// Indices in `parameters` of the tied embedding copies held at either end of the pipeline.
    public var tiedEmbeddingParameterIndices: [Int] {
        zip(chunks, chunkOffsets).flatMap { chunk, offset in chunk.tiedEmbeddingIndices.map { $0 + offset } }
    }

    /// Indices in `parameters` that another stage counts in the global norm (the last stage's tied embedding).
    public var pipelineCopyIndices: Set<Int> {
        Set(zip(chunks, chunkOffsets).flatMap { chunk, offset in
            chunk.parameters.indices.filter { chunk.isPipelineCopy($0) }.map { $0 + offset }
        })
    }
}

/// A rank's V model chunks under interleaved 1F1B (chunk `c` is virtual stage `c·P + rank`),
/// seen by the session as one model whose parameters are the chunks' in chunk order.
public final class ChunkedStageModel: PipelineStageChunks {
    public let chunks: [LlamaTrainingModel]
    public let parameters: [TrainableParameter]
    /// Unused: `PipelineTrainer` reports each chunk's final gradients itself.
    public var gradientReady: ((Int) -> Void)?

    public init(chunks: [LlamaTrainingModel]) {
        precondition(!chunks.isEmpty, "a rank holds at least one chunk")
        self.chunks = chunks
        parameters = chunks.flatMap(\.parameters)
    }

    /// A chunked model runs only through `PipelineTrainer`.
    /// - Throws: `TrainingError.invalidValue` always.
    public func accumulateGradients(sequences: [[Int32]], denominator: Int) throws -> (lossSum: Double, targets: Int) {
        throw TrainingError.invalidValue(name: "model", expected: "one whole model for a step without a pipeline",
                                         found: "\(chunks.count) pipeline chunks")
    }
}
