import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel
import TridentTraining

/// Builds this rank's trainable model shard for the tensor group in `groups`: the source GGUF's
/// architecture, with its weights (float32 master weights dequantized from the file) or, given
/// a seed, Megatron's random initialisation (the same numbers in every layout).
enum TrainingModelLoader {
    /// Every rank of `groups.tensor` must call this.
    /// `configuration` is the source's own, or a `--config` architecture (then `randomSeed` is set).
    static func load(source: GGUFFile, configuration: ModelConfiguration, randomSeed: UInt64? = nil,
                     groups: ProcessGroups, pool: ThreadPool, stage: TrainingStage? = nil) throws -> LlamaTrainingModel {
        try LlamaTrainingModel(configuration: configuration,
                               source: randomSeed.map { .random(seed: $0) } ?? .gguf(source),
                               group: groups.tensor, pool: pool, stage: stage)
    }
}
