import TridentFormats

extension ModelConfiguration {
    /// Llama-family GGUF files (`llama`, `mistral`, `granite`) may carry biases, which llama.cpp
    /// loads when present (Hugging Face `attention_bias` / `mlp_bias`): block 0's
    /// `attn_q.bias` turns on q/k/v biases (and `attn_output.bias` the output's), `ffn_up.bias`
    /// the MLP's. Each block must then hold them all (a missing one is a missing tensor).
    /// Other architectures keep their fixed choices.
    /// - Throws: `ModelLoadingError.unsupportedFeature` for an output bias without q/k/v biases.
    mutating func detectOptionalBiases(gguf file: GGUFFile, architecture: Architecture) throws {
        guard [.llama, .mistral, .granite].contains(architecture) else { return }
        func has(_ part: LayerTensor) -> Bool { file.tensor(named: TensorNaming.gguf.name(.layer(0, part))) != nil }
        let query = has(.queryBias), output = has(.attentionOutputBias)
        if output && !query {
            throw ModelLoadingError.unsupportedFeature(
                "\(TensorNaming.gguf.name(.layer(0, .attentionOutputBias))) without \(TensorNaming.gguf.name(.layer(0, .queryBias))): an output-only attention bias is not supported")
        }
        attentionBias = query
        qkvBiasOnly = query && !output
        mlpBias = has(.upBias)
    }
}
