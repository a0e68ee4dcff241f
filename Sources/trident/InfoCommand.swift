import ArgumentParser
import Foundation
import TridentFormats
import TridentModel
import TridentTokenizer

struct InfoCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "info", abstract: "Architecture, sizes, tensor types and tokenizer facts of a model.")

    @Option(name: [.long, .customShort("m")], help: "Path to a GGUF model file.")
    var model: String

    func validate() throws { try OptionCheck.modelFile(model) }

    func run() throws {
        let file = try GGUFFile(path: model)
        for line in ModelSupport(file: file).report { print("support:         \(line)") }
        let c = try ModelConfiguration(gguf: file)
        var types: [String: Int] = [:]
        var bytes = 0
        for t in file.tensors {
            types["\(t.type)", default: 0] += 1
            bytes += t.byteCount
        }
        print("file:            \(model) (GGUF v\(file.version), \(file.fileSize) bytes)")
        print("architecture:    \(try file.architecture) \(file.metadata["general.name"]?.string.map { "(\($0))" } ?? "")")
        print("layers:          \(c.layerCount)")
        print("hidden size:     \(c.hiddenSize)")
        print("ffn size:        \(c.intermediateSize)")
        print("heads:           \(c.headCount) query, \(c.kvHeadCount) KV (group \(c.groupSize)), head dim \(c.headDimension)")
        print("vocabulary:      \(c.vocabularySize)")
        print("context length:  \(c.contextLength)")
        print("rope base:       \(c.ropeTheta), rms eps \(c.rmsNormEpsilon)")
        print("embeddings:      \(c.tiedEmbeddings ? "tied (LM head = token_embd)" : "separate output.weight")")
        print("parameters:      \(c.parameterCount)")
        print("tensors:         \(file.tensors.count) (\(types.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", "))), \(bytes) bytes")
        let tokenizer = try Tokenizer(gguf: file)
        let v = tokenizer.vocabulary
        print("tokenizer:       \(v.model), pre-tokenizer \(v.preTokenizer), \(v.tokens.count) tokens, \(v.merges.count) merges")
        print("special tokens:  bos \(v.bosId.map(String.init) ?? "-"), eos \(v.eosId.map(String.init) ?? "-"), add_bos \(v.addBOS), end of generation \(tokenizer.endOfGenerationIds.sorted())")
        print("chat template:   \(v.chatTemplate == nil ? "none" : "yes (\(v.chatTemplate!.count) characters)")")
    }
}
