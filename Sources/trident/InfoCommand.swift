import ArgumentParser
import Foundation
import TridentFormats
import TridentModel
import TridentTokenizer

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Architecture, sizes, tensor types and tokenizer facts of a model.")

    @Option(name: [.long, .customShort("m")], help: "A GGUF model file, or a Hugging Face directory (config.json + safetensors).")
    var model: String

    func validate() throws { try OptionCheck.modelFile(model) }

    func run() throws {
        if ModelFiles.isDirectory(model) { return try runDirectory() }
        let file = try GGUFFile(path: model)
        for line in ModelSupport(file: file).report { print("support:         \(line)") }
        let c = try ModelConfiguration(gguf: file)
        print("file:            \(model) (GGUF v\(file.version), \(file.fileSize) bytes)")
        print("architecture:    \(try file.architecture) \(file.metadata["general.name"]?.string.map { "(\($0))" } ?? "")")
        Self.printConfiguration(c)
        Self.printTensors(file.tensors.map { ("\($0.type)", $0.byteCount) }, embeddings: c.tiedEmbeddings ? "tied (LM head = token_embd)" : "separate output.weight")
        let tokenizer = try Tokenizer(gguf: file)
        let v = tokenizer.vocabulary
        print("tokenizer:       \(v.model), pre-tokenizer \(v.preTokenizer), \(v.tokens.count) tokens, \(v.merges.count) merges")
        print("special tokens:  bos \(v.bosId.map(String.init) ?? "-"), eos \(v.eosId.map(String.init) ?? "-"), add_bos \(v.addBOS), end of generation \(tokenizer.endOfGenerationIds.sorted())")
        print("chat template:   \(v.chatTemplate == nil ? "none" : "yes (\(v.chatTemplate!.count) characters)")")
    }

    /// A Hugging Face directory: its config.json and safetensors shards.
    private func runDirectory() throws {
        let directory = try HuggingFaceDirectory(path: model)
        let files = try ModelFiles(path: model)
        let c = files.configuration
        let type = (try? JSONSerialization.jsonObject(with: directory.config) as? [String: Any])?["model_type"] as? String
        let shards = directory.shards.map { ($0.path as NSString).lastPathComponent }
        print("directory:       \(model) (Hugging Face, \(shards.count) safetensors file\(shards.count == 1 ? "" : "s"): \(shards.joined(separator: ", ")))")
        print("architecture:    \(type ?? "?")")
        Self.printConfiguration(c)
        Self.printTensors(directory.tensors.map { ($0.dtype.rawValue, $0.byteCount) },
                          embeddings: c.tiedEmbeddings ? "tied (LM head = embedding)" : "separate lm_head.weight")
        let tokenizer = FileManager.default.fileExists(atPath: model + "/tokenizer.json") ? "tokenizer.json" : "none (no tokenizer.json)"
        print("tokenizer:       \(tokenizer)")
    }

    private static func printConfiguration(_ c: ModelConfiguration) {
        print("layers:          \(c.layerCount)")
        print("hidden size:     \(c.hiddenSize)")
        print("ffn size:        \(c.intermediateSize)")
        print("heads:           \(c.headCount) query, \(c.kvHeadCount) KV (group \(c.groupSize)), head dim \(c.headDimension)")
        print("vocabulary:      \(c.vocabularySize)")
        print("context length:  \(c.contextLength)")
        var positions = c.positionEncoding == .rope ? "RoPE base \(c.ropeTheta) (\(c.ropePairing) pairs)" : "learned positions"
        if !c.ropeScaling.isNone { positions += ", scaled: \(c.ropeScaling)" }
        print("blocks:          \(c.normalization == .rms ? "RMSNorm" : "LayerNorm") eps \(c.rmsNormEpsilon), \(c.gatedMLP ? "gated " : "")\(c.activation.rawValue) MLP, \(biases(c)), \(positions)")
        print("parameters:      \(c.parameterCount)")
    }

    private static func biases(_ c: ModelConfiguration) -> String {
        let parts = [c.attentionBias ? (c.qkvBiasOnly ? "q/k/v" : "attention") : nil, c.mlpBias ? "MLP" : nil].compactMap { $0 }
        return parts.isEmpty ? "no biases" : parts.joined(separator: " and ") + " biases"
    }

    private static func printTensors(_ tensors: [(type: String, bytes: Int)], embeddings: String) {
        var types: [String: Int] = [:]
        for t in tensors { types[t.type, default: 0] += 1 }
        print("embeddings:      \(embeddings)")
        print("tensors:         \(tensors.count) (\(types.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))), \(tensors.map(\.bytes).reduce(0, +)) bytes")
    }
}
