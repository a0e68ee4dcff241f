import Foundation
import TridentFormats
import TridentKernels

/// Writes a Hugging Face Llama, Mistral or Qwen2 directory as a GGUF file laid out as
/// llama.cpp's convert_hf_to_gguf.py lays it out, so llama.cpp and Trident load it:
/// llama.cpp tensor names (`blk.N.attn_q.weight`, ...; no `output.weight` when the embeddings
/// are tied), Llama / Mistral q and k rows permuted for adjacent-pair RoPE (`QKRowPermutation`;
/// Qwen2 rows as stored), matrices in their stored type (F32, F16 or BF16), vectors (norms,
/// biases) as F32, and the `general.*` / `<arch>.*` hyperparameters (`HuggingFaceGGUFMetadata`).
/// Llama 3 RoPE scaling becomes `rope_freqs.weight` (`[headDim / 2]` F32 divisors).
/// Mistral is written as `llama`, as llama.cpp's converter does.
///
/// The tokenizer is not read here: the caller passes its `tokenizer.*` pairs as `metadata`
/// (TridentTokenizer's `TokenizerVocabulary.ggufMetadata`).
public enum HuggingFaceToGGUF {
    /// The `model_type`s the converter lays out.
    public static let supportedModelTypes = ["llama", "mistral", "qwen2"]

    /// What one conversion wrote.
    public struct Result: Sendable {
        /// GGUF `general.architecture`: `llama` or `qwen2`.
        public let architecture: String
        public let configuration: ModelConfiguration
        /// GGUF tensor names, in file order.
        public let tensors: [String]
    }

    /// Reads the directory's configuration (`config.json`, validated as `--model` reads it).
    /// - Throws: `HuggingFaceError`, `ModelLoadingError` (bad or unsupported `config.json`),
    ///   `HuggingFaceConversionError` (an architecture the converter does not lay out).
    public static func configuration(of directory: HuggingFaceDirectory) throws -> (modelType: String, ModelConfiguration) {
        let configuration = try ModelConfiguration(huggingFace: directory.config,
                                                   where: (directory.path as NSString).appendingPathComponent("config.json"))
        let object = (try? JSONSerialization.jsonObject(with: directory.config)) as? [String: Any]
        let type = object?["model_type"] as? String ?? "?"
        guard supportedModelTypes.contains(type) else { throw HuggingFaceConversionError.unsupportedArchitecture(type) }
        return (type, configuration)
    }

    /// Converts `directory` into the GGUF file `output` (written atomically), with `metadata`
    /// (the tokenizer's keys) after the model's own.
    /// - Throws: see ``configuration(of:)``; `HuggingFaceConversionError` for a missing,
    ///   misshapen, unmapped or non-float tensor; `FileWriteError`.
    @discardableResult
    public static func convert(directory: HuggingFaceDirectory, output: String,
                               metadata: [(key: String, value: GGUFValue)] = []) throws -> Result {
        let (type, config) = try configuration(of: directory)
        let architecture = type == "qwen2" ? "qwen2" : "llama"
        var writer = GGUFWriter(alignment: 32)
        let plan = HuggingFaceTensorPlan(config: config)
        try plan.checkNoStrayTensors(in: directory)
        var types: [GGMLType] = []
        var names: [String] = []
        if let factors = config.ropeScaling.frequencyFactors {
            // Llama 3 scaling: the per-pair divisors, first, as convert_hf_to_gguf.py's extra tensor.
            writer.addTensor(name: ModelConfiguration.ropeFrequencyFactorsTensor, shape: [factors.count], type: .f32,
                             bytes: factors.withUnsafeBytes { Array($0) })
            names.append(ModelConfiguration.ropeFrequencyFactorsTensor)
        }
        for entry in plan.entries {
            let tensor = try plan.read(entry, from: directory, permute: architecture == "llama")
            writer.addTensor(name: entry.ggufName, shape: tensor.shape.reversed(), type: tensor.type, bytes: tensor.bytes)
            types.append(tensor.type)
            names.append(entry.ggufName)
        }
        let name = (directory.path as NSString).lastPathComponent
        for (key, value) in HuggingFaceGGUFMetadata.model(config, architecture: architecture, name: name,
                                                        fileType: HuggingFaceGGUFMetadata.fileType(types)) {
            writer.add(key, value)
        }
        for (key, value) in metadata { writer.add(key, value) }
        try writer.write(to: output)
        return Result(architecture: architecture, configuration: config, tensors: names)
    }
}
