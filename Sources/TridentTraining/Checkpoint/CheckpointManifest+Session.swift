import Foundation
import TridentModel

extension ShardedCheckpointWriter {
    /// The manifest of `session` as it stands, without its files and tensors (rank 0 adds those).
    func makeManifest(_ session: TrainingSession, metrics: StepStatistics?) -> CheckpointManifest {
        let step = session.completedSteps
        let configuration = session.configuration
        let layout = session.groups.layout
        let heads = Self.headSplits(session.model, tensorParallel: layout.tensor)
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return CheckpointManifest(
            step: step, timestamp: formatter.string(from: Date()), worldSize: session.groups.world.size,
            layout: .init(tensorParallel: layout.tensor, pipelineParallel: layout.pipeline, dataParallel: layout.data,
                          queryHeads: heads?.query, kvHeads: heads?.kv, stageTensors: nil,
                          zeroStage: session.shardsOptimizerState ? ZeroStage.optimizerStates.rawValue : nil),
            configuration: configuration, globalBatch: session.batching.globalBatch,
            data: .init(tokens: session.tokens.count, hash: dataHash, sequencesConsumed: step * session.batching.globalBatch),
            random: .init(seed: configuration.seed, shuffle: configuration.shuffle, dropout: configuration.dropout,
                          nextStep: step + 1),
            optimizer: .init(stepCount: session.optimizer.stepCount,
                             lastLearningRate: step > 0 ? configuration.schedule.rate(atStep: step) : 0,
                             nextLearningRate: configuration.schedule.rate(atStep: step + 1)),
            metrics: metrics.map { .init(loss: $0.loss, learningRate: $0.learningRate, gradientNorm: $0.gradientNorm) },
            tensors: [], files: [])
    }

    /// Every tensor rank's query and KV heads `[first, end)`, for a Llama model.
    static func headSplits(_ model: any TrainableModel, tensorParallel: Int) -> (query: [[Int]], kv: [[Int]])? {
        guard let llama = model as? LlamaTrainingModel else { return nil }
        var query: [[Int]] = [], kv: [[Int]] = []
        for rank in 0 ..< tensorParallel {
            guard let plan = try? ShardingPlan(configuration: llama.configuration, tensorParallelSize: tensorParallel, rank: rank)
            else { return nil }
            query.append([plan.queryHeads.lowerBound, plan.queryHeads.upperBound])
            kv.append([plan.kvHeads.lowerBound, plan.kvHeads.upperBound])
        }
        return (query, kv)
    }
}
