import TridentCollectives
import TridentFormats
import TridentKernels
import TridentModel
import TridentTraining

/// Builds this rank's trainable model shard from the source GGUF (float32 master weights
/// dequantized from the file) for the tensor group in `groups`.
enum TrainingModelLoader {
    static func load(source: GGUFFile, configuration: ModelConfiguration, groups: ProcessGroups,
                     pool: ThreadPool) throws -> any TrainableModel {
        throw ExitMessage("training a GGUF model needs LlamaTrainingModel, which this build does not have yet")
    }
}
