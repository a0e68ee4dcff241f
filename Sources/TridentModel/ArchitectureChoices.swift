/// Which normalisation a model's blocks and final norm use.
public enum NormalizationKind: String, Codable, Sendable, CaseIterable {
    /// `RMSNorm` (Llama).
    case rms
    /// `LayerNorm` with a bias (GPT-2).
    case layer
}

/// How a model encodes token positions.
public enum PositionEncoding: String, Codable, Sendable, CaseIterable {
    /// Rotary embeddings on queries and keys (Llama).
    case rope
    /// A learned `[contextLength, hidden]` table added to the token embeddings (GPT-2).
    case learned
}
