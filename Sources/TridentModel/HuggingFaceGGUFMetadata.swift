import TridentFormats

/// The `general.*` and `<arch>.*` GGUF keys of a converted Hugging Face model, as
/// convert_hf_to_gguf.py writes them (integers as uint32, floats as float32).
enum HuggingFaceGGUFMetadata {
    /// Key/value pairs in writing order for `config` under GGUF `architecture`; linear RoPE
    /// scaling as `rope.scaling.type` / `rope.scaling.factor` (Llama 3 factors are a tensor).
    static func model(_ config: ModelConfiguration, architecture a: String, name: String,
                      fileType: UInt32) -> [(key: String, value: GGUFValue)] {
        func u(_ n: Int) -> GGUFValue { .uint32(UInt32(n)) }
        var pairs: [(key: String, value: GGUFValue)] = [
            ("general.architecture", .string(a)),
            ("general.name", .string(name)),
            ("general.file_type", .uint32(fileType)),
            ("\(a).vocab_size", u(config.vocabularySize)),
            ("\(a).context_length", u(config.contextLength)),
            ("\(a).embedding_length", u(config.hiddenSize)),
            ("\(a).block_count", u(config.layerCount)),
            ("\(a).feed_forward_length", u(config.intermediateSize)),
            ("\(a).attention.head_count", u(config.headCount)),
            ("\(a).attention.head_count_kv", u(config.kvHeadCount)),
            ("\(a).rope.freq_base", .float32(config.ropeTheta)),
            ("\(a).attention.layer_norm_rms_epsilon", .float32(config.rmsNormEpsilon)),
            ("\(a).rope.dimension_count", u(config.headDimension)),
        ]
        if config.ropeScaling.linearFactor != 1 {
            pairs.append(("\(a).rope.scaling.type", .string("linear")))
            pairs.append(("\(a).rope.scaling.factor", .float32(config.ropeScaling.linearFactor)))
        }
        if config.headDimension * config.headCount != config.hiddenSize {
            pairs.append(("\(a).attention.key_length", u(config.headDimension)))
            pairs.append(("\(a).attention.value_length", u(config.headDimension)))
        }
        return pairs
    }

    /// llama.cpp's `general.file_type` by the matrices' type: all F32 0, else F16 1 or BF16 32.
    static func fileType(_ types: [GGMLType]) -> UInt32 {
        if types.contains(.bf16) { return 32 }
        if types.contains(.f16) { return 1 }
        return 0
    }
}
