import Foundation
import TridentFormats
import TridentModel
import TridentTokenizer

/// The tokenizer of the model at `--model`: a GGUF file's own vocabulary, or a Hugging Face
/// directory's `tokenizer.json`. The one place the CLI picks a tokenizer by model format.
enum ModelTokenizer {
    /// - Throws: `ExitMessage` naming the file looked for when a directory has no tokenizer;
    ///   the format's errors otherwise.
    static func load(_ path: String) throws -> Tokenizer {
        guard ModelFiles.isDirectory(path) else { return try Tokenizer(gguf: GGUFFile(path: path)) }
        let file = (path as NSString).appendingPathComponent("tokenizer.json")
        guard FileManager.default.fileExists(atPath: file) else {
            throw ExitMessage("Hugging Face directory '\(path)' has no tokenizer.json (needed to tokenize text)")
        }
        return try huggingFace(file)
    }

    /// Reads a Hugging Face `tokenizer.json`, with the `tokenizer_config.json` beside it when
    /// there is one (special tokens, `add_bos_token`, chat template).
    static func huggingFace(_ file: String) throws -> Tokenizer {
        let url = URL(fileURLWithPath: file)
        let config = url.deletingLastPathComponent().appendingPathComponent("tokenizer_config.json")
        return try Tokenizer.load(tokenizerJSON: url,
                                  tokenizerConfig: FileManager.default.fileExists(atPath: config.path) ? config : nil)
    }
}
