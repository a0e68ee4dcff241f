import Foundation
import TridentFormats
import TridentModel
import TridentTokenizer

/// A Hugging Face directory as an unquantized GGUF file for `trident quantize`: the weights
/// (`HuggingFaceToGGUF`) and the tokenizer.json / tokenizer_config.json vocabulary as
/// `tokenizer.*` metadata (`TokenizerVocabulary.ggufMetadata`), padded to `vocab_size`.
enum HuggingFaceExport {
    /// Converts `path` into a temporary GGUF beside `output` when it is a Hugging Face
    /// directory (not a checkpoint); nil otherwise. The caller removes the file.
    /// - Throws: `ExitMessage` with one line naming the file or tensor at fault.
    static func exportIfHuggingFace(_ path: String, beside output: String) throws -> String? {
        guard HuggingFaceDirectory.isModelDirectory(path), !CheckpointModel.isCheckpoint(path) else { return nil }
        let temporary = output + ".hf-\(ProcessInfo.processInfo.processIdentifier).gguf"
        do {
            let vocabulary = try Self.vocabulary(path)
            let directory = try HuggingFaceDirectory(path: path)
            let (_, config) = try HuggingFaceToGGUF.configuration(of: directory)
            let metadata = try vocabulary.ggufMetadata(paddedTo: config.vocabularySize)
            for loss in vocabulary.ggufLosses { print("note:     the GGUF tokenizer cannot express \(loss)") }
            let result = try HuggingFaceToGGUF.convert(directory: directory, output: temporary, metadata: metadata)
            print("read:     \(path) (Hugging Face \(result.architecture), \(result.tensors.count) tensors, \(vocabulary.count) tokens)")
        } catch let error as ExitMessage {
            throw error
        } catch {
            try? FileManager.default.removeItem(atPath: temporary)
            throw ExitMessage("quantize: IN '\(path)': \(error)")
        }
        return temporary
    }

    /// The directory's tokenizer.json (required) with tokenizer_config.json when present,
    /// checked to build a tokenizer.
    private static func vocabulary(_ path: String) throws -> TokenizerVocabulary {
        let json = (path as NSString).appendingPathComponent("tokenizer.json")
        guard let data = FileManager.default.contents(atPath: json) else {
            throw ExitMessage("quantize: IN '\(path)' has no readable tokenizer.json (a GGUF file needs the tokenizer)")
        }
        let config = FileManager.default.contents(atPath: (path as NSString).appendingPathComponent("tokenizer_config.json"))
        let vocabulary = try TokenizerVocabulary(huggingFaceJSON: data, config: config)
        _ = try Tokenizer(vocabulary: vocabulary)
        return vocabulary
    }
}
