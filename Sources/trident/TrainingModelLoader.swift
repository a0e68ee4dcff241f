import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel
import TridentTraining

/// Builds this rank's trainable model shard from the source GGUF (float32 master weights
/// dequantized from the file) for the tensor group in `groups`.
enum TrainingModelLoader {
    /// Every rank of `groups.tensor` must call this.
    static func load(source: GGUFFile, groups: ProcessGroups, pool: ThreadPool) throws -> any TrainableModel {
        try LlamaTrainingModel(configuration: try ModelConfiguration(gguf: source), source: .gguf(source),
                               group: groups.tensor, pool: pool)
    }
}
