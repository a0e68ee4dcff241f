import Foundation
import TridentKernels
import TridentModel

/// `train --init random --config FILE|preset`: the architecture of a model trained from
/// scratch, read from a JSON file (`ModelConfiguration`'s Hugging Face `config.json` keys) or a
/// named preset. The vocabulary (and tokenizer) always come from `--model`.
enum TrainingModelConfig {
    /// Named architectures; the vocabulary size is filled in from `--model`.
    static let presets: [String: ModelConfiguration] = [
        // The seed's own style: LayerNorm with bias, biases everywhere, gated GELU, learned positions.
        "tiny-gelu": preset(hidden: 64, ffn: 128, layers: 2, heads: 4, kvHeads: 2, context: 256) {
            $0.normalization = .layer; $0.activation = .gelu; $0.gatedMLP = true
            $0.attentionBias = true; $0.mlpBias = true; $0.positionEncoding = .learned
        },
        // GPT-2's shape: LayerNorm, plain two-layer GELU MLP, biases, learned positions, MHA.
        "tiny-gpt2": preset(hidden: 64, ffn: 256, layers: 2, heads: 4, kvHeads: 4, context: 256) {
            $0.normalization = .layer; $0.activation = .gelu; $0.gatedMLP = false
            $0.attentionBias = true; $0.mlpBias = true; $0.positionEncoding = .learned
        },
        // Llama's shape: RMSNorm, SwiGLU, no biases, RoPE, grouped-query attention.
        "tiny-llama": preset(hidden: 64, ffn: 176, layers: 2, heads: 4, kvHeads: 2, context: 256) { _ in },
    ]

    private static func preset(hidden: Int, ffn: Int, layers: Int, heads: Int, kvHeads: Int, context: Int,
                               _ choose: (inout ModelConfiguration) -> Void) -> ModelConfiguration {
        var c = ModelConfiguration(hiddenSize: hidden, intermediateSize: ffn, layerCount: layers, headCount: heads,
                                   kvHeadCount: kvHeads, vocabularySize: 0, contextLength: context)
        choose(&c)
        return c
    }

    /// The configuration named by `spec` (a preset name, or a path to a JSON file) with the
    /// vocabulary of `vocabularySize`, checked for consistency.
    /// - Throws: `ExitMessage` (one line) for an unknown preset, unreadable or malformed JSON,
    ///   unknown keys, a vocabulary that differs from `--model`'s, or inconsistent sizes.
    static func load(_ spec: String, vocabularySize: Int) throws -> ModelConfiguration {
        var configuration: ModelConfiguration
        if let preset = presets[spec] {
            configuration = preset
            configuration.vocabularySize = vocabularySize
        } else if spec.hasSuffix(".json") || spec.contains("/") || FileManager.default.fileExists(atPath: spec) {
            configuration = try decode(file: spec, vocabularySize: vocabularySize)
        } else {
            throw ExitMessage("--config: '\(spec)' is neither a JSON file nor a preset (presets: \(presets.keys.sorted().joined(separator: ", ")))")
        }
        try check(configuration, "--config '\(spec)'")
        return configuration
    }

    /// Decodes a JSON object of `ModelConfiguration` keys; `vocab_size`, when present, must be
    /// `--model`'s.
    static func decode(file: String, vocabularySize: Int) throws -> ModelConfiguration {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ExitMessage("--config: cannot read '\(file)'")
        }
        guard var object = (try? JSONSerialization.jsonObject(with: data)) as? [String: Any] else {
            throw ExitMessage("--config '\(file)': not a JSON object")
        }
        if let given = object["vocab_size"] {
            guard (given as? NSNumber)?.intValue == vocabularySize else {
                throw ExitMessage("--config '\(file)': vocab_size \(given) differs from --model's vocabulary of \(vocabularySize) (leave it out)")
            }
        }
        object["vocab_size"] = vocabularySize
        let configuration: ModelConfiguration
        do {
            configuration = try JSONDecoder().decode(ModelConfiguration.self,
                                                     from: JSONSerialization.data(withJSONObject: object))
        } catch let DecodingError.keyNotFound(key, _) {
            throw ExitMessage("--config '\(file)': missing key '\(key.stringValue)'")
        } catch let DecodingError.typeMismatch(_, context), let DecodingError.dataCorrupted(context) {
            let key = context.codingPath.map(\.stringValue).joined(separator: ".")
            throw ExitMessage("--config '\(file)': bad value for '\(key)': \(context.debugDescription)")
        } catch {
            throw ExitMessage("--config '\(file)': \(error)")
        }
        // Keys the configuration does not know (typos) are errors, not silently ignored.
        let known = try JSONSerialization.jsonObject(with: JSONEncoder().encode(configuration)) as? [String: Any] ?? [:]
        if let unknown = object.keys.sorted().first(where: { known[$0] == nil }) {
            throw ExitMessage("--config '\(file)': unknown key '\(unknown)' (known: \(known.keys.sorted().joined(separator: ", ")))")
        }
        return configuration
    }

    /// Sizes that fit together: `ModelConfiguration.validate`, plus heads that split the hidden
    /// size and a bounded position table.
    static func check(_ c: ModelConfiguration, _ what: String) throws {
        do { try c.validate() } catch { throw ExitMessage("\(what): \(error)") }
        guard c.headDimension * c.headCount == c.hiddenSize || c.headDimension != c.hiddenSize / c.headCount else {
            throw ExitMessage("\(what): hidden_size \(c.hiddenSize) is not a multiple of \(c.headCount) heads (give head_dim)")
        }
        guard c.contextLength > 0 && c.contextLength <= 1 << 20 else {
            throw ExitMessage("\(what): max_position_embeddings \(c.contextLength) must be in 1...\(1 << 20)")
        }
        guard c.rmsNormEpsilon > 0 && c.rmsNormEpsilon.isFinite && c.ropeTheta > 0 && c.ropeTheta.isFinite else {
            throw ExitMessage("\(what): rms_norm_eps and rope_theta must be finite and > 0")
        }
    }
}
