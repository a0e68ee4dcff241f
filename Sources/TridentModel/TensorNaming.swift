/// A tensor of a decoder-only model by its role; each file format names it its own way.
enum ModelTensor: Hashable {
    case tokenEmbedding, positionEmbedding, outputNorm, outputNormBias, output
    case layer(Int, LayerTensor)
}

/// A tensor of one transformer block, by role.
enum LayerTensor: Hashable {
    case attentionNorm, attentionNormBias
    case query, queryBias, key, keyBias, value, valueBias
    /// q, k and v stacked as one `[q + 2 kv, hidden]` matrix (GPT-2).
    case fusedQKV, fusedQKVBias
    case attentionOutput, attentionOutputBias
    case mlpNorm, mlpNormBias
    case gate, gateBias, up, upBias, down, downBias
}

/// How one model's files name its tensors, and which are stored transposed.
enum TensorNaming: Sendable {
    /// llama.cpp's names (`blk.N.attn_q.weight`, `token_embd.weight`, ...), every architecture.
    case gguf
    /// Hugging Face Llama, Mistral and Qwen2 (`model.layers.N.self_attn.q_proj.weight`, ...).
    case huggingFaceLlama
    /// Hugging Face GPT-2 (`h.N.attn.c_attn.weight`, ...), with an optional `transformer.` prefix.
    /// Its `Conv1D` weights are stored `[in, out]`: transposed.
    case huggingFaceGPT2(prefix: String)

    /// The file's name for `tensor`.
    func name(_ tensor: ModelTensor) -> String {
        switch self {
        case .gguf: return Self.ggufName(tensor)
        case .huggingFaceLlama: return Self.llamaName(tensor)
        case .huggingFaceGPT2(let prefix): return tensor == .output ? "lm_head.weight" : prefix + Self.gpt2Name(tensor)
        }
    }

    /// Whether the file stores `tensor` as `[in, out]` rather than `[out, in]`.
    func isTransposed(_ tensor: ModelTensor) -> Bool {
        guard case .huggingFaceGPT2 = self, case .layer(_, let part) = tensor else { return false }
        return [.fusedQKV, .attentionOutput, .up, .down].contains(part)
    }

    private static func ggufName(_ tensor: ModelTensor) -> String {
        switch tensor {
        case .tokenEmbedding: return "token_embd.weight"
        case .positionEmbedding: return "position_embd.weight"
        case .outputNorm: return "output_norm.weight"
        case .outputNormBias: return "output_norm.bias"
        case .output: return "output.weight"
        case .layer(let i, let part):
            let names: [LayerTensor: String] = [
                .attentionNorm: "attn_norm.weight", .attentionNormBias: "attn_norm.bias",
                .query: "attn_q.weight", .queryBias: "attn_q.bias", .key: "attn_k.weight", .keyBias: "attn_k.bias",
                .value: "attn_v.weight", .valueBias: "attn_v.bias",
                .fusedQKV: "attn_qkv.weight", .fusedQKVBias: "attn_qkv.bias",
                .attentionOutput: "attn_output.weight", .attentionOutputBias: "attn_output.bias",
                .mlpNorm: "ffn_norm.weight", .mlpNormBias: "ffn_norm.bias",
                .gate: "ffn_gate.weight", .gateBias: "ffn_gate.bias", .up: "ffn_up.weight", .upBias: "ffn_up.bias",
                .down: "ffn_down.weight", .downBias: "ffn_down.bias"]
            return "blk.\(i).\(names[part]!)"
        }
    }

    private static func llamaName(_ tensor: ModelTensor) -> String {
        switch tensor {
        case .tokenEmbedding: return "model.embed_tokens.weight"
        case .positionEmbedding: return "model.embed_positions.weight"
        case .outputNorm: return "model.norm.weight"
        case .outputNormBias: return "model.norm.bias"
        case .output: return "lm_head.weight"
        case .layer(let i, let part):
            let names: [LayerTensor: String] = [
                .attentionNorm: "input_layernorm.weight", .attentionNormBias: "input_layernorm.bias",
                .query: "self_attn.q_proj.weight", .queryBias: "self_attn.q_proj.bias",
                .key: "self_attn.k_proj.weight", .keyBias: "self_attn.k_proj.bias",
                .value: "self_attn.v_proj.weight", .valueBias: "self_attn.v_proj.bias",
                .fusedQKV: "self_attn.qkv_proj.weight", .fusedQKVBias: "self_attn.qkv_proj.bias",
                .attentionOutput: "self_attn.o_proj.weight", .attentionOutputBias: "self_attn.o_proj.bias",
                .mlpNorm: "post_attention_layernorm.weight", .mlpNormBias: "post_attention_layernorm.bias",
                .gate: "mlp.gate_proj.weight", .gateBias: "mlp.gate_proj.bias",
                .up: "mlp.up_proj.weight", .upBias: "mlp.up_proj.bias",
                .down: "mlp.down_proj.weight", .downBias: "mlp.down_proj.bias"]
            return "model.layers.\(i).\(names[part]!)"
        }
    }

    private static func gpt2Name(_ tensor: ModelTensor) -> String {
        switch tensor {
        case .tokenEmbedding: return "wte.weight"
        case .positionEmbedding: return "wpe.weight"
        case .outputNorm: return "ln_f.weight"
        case .outputNormBias: return "ln_f.bias"
        case .output: return "lm_head.weight"
        case .layer(let i, let part):
            let names: [LayerTensor: String] = [
                .attentionNorm: "ln_1.weight", .attentionNormBias: "ln_1.bias",
                .query: "attn.q_proj.weight", .queryBias: "attn.q_proj.bias",
                .key: "attn.k_proj.weight", .keyBias: "attn.k_proj.bias",
                .value: "attn.v_proj.weight", .valueBias: "attn.v_proj.bias",
                .fusedQKV: "attn.c_attn.weight", .fusedQKVBias: "attn.c_attn.bias",
                .attentionOutput: "attn.c_proj.weight", .attentionOutputBias: "attn.c_proj.bias",
                .mlpNorm: "ln_2.weight", .mlpNormBias: "ln_2.bias",
                .gate: "mlp.c_gate.weight", .gateBias: "mlp.c_gate.bias",
                .up: "mlp.c_fc.weight", .upBias: "mlp.c_fc.bias",
                .down: "mlp.c_proj.weight", .downBias: "mlp.c_proj.bias"]
            return "h.\(i).\(names[part]!)"
        }
    }
}
