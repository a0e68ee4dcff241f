import ArgumentParser
import Foundation
import TridentFormats
import TridentTraining

/// `trident export CKPT_DIR OUT.gguf`: a sharded training checkpoint merged into one GGUF file.
struct ExportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "export",
        abstract: "Merge a sharded training checkpoint (a --save root or one step-N directory) into one GGUF file.",
        discussion: "Every file's CRC-32C is checked first; a damaged or incomplete checkpoint is refused naming the file.")

    @Argument(help: "The checkpoint: a --save directory (its 'latest') or one step-N directory.")
    var checkpoint: String

    @Argument(help: "The GGUF file to write.")
    var output: String

    @Option(help: "Tensor type of the merged matrices: f32, f16, bf16 or q8_0 (vectors stay f32).")
    var type: SaveType = .f32

    func run() throws {
        do {
            try CheckpointExport.merge(checkpoint: checkpoint, type: type, to: output)
        } catch let error as CheckpointError {
            throw ExitMessage("export: \(error)")
        }
    }
}

/// `--model CKPT_DIR` for commands that read a GGUF: the checkpoint merged (f32) into a
/// temporary file, removed when the command ends.
enum CheckpointModel {
    /// Whether `path` is a checkpoint directory (one `step-N` with manifest.json, or a root with `latest`).
    static func isCheckpoint(_ path: String) -> Bool {
        CheckpointDirectory.isCheckpoint(path) || FileManager.default.fileExists(atPath: path + "/" + CheckpointDirectory.latestFile)
    }

    /// The merged GGUF of the checkpoint at `path`, or nil when `path` is not a checkpoint.
    static func exportIfCheckpoint(_ path: String) throws -> String? {
        guard isCheckpoint(path) else { return nil }
        let output = NSTemporaryDirectory() + "/trident-checkpoint-\(getpid())-\(UInt32.random(in: 0 ... .max)).gguf"
        do {
            try CheckpointExport.merge(checkpoint: path, type: .f32, to: output)
        } catch let error as CheckpointError {
            throw ExitMessage("--model: \(error)")
        }
        return output
    }
}
