/// Which tokens end generation.
///
/// Rule (llama.cpp's, `llama-vocab.cpp` "auto-detect special tokens by text"): the EOS and EOT
/// ids, plus every token whose text is a known end-of-turn marker (``markers``) or a
/// fill-in-the-middle pad/repo/separator marker (``fimMarkers``), whatever its token type.
/// For SmolLM2 this gives {0 `<|endoftext|>`, 2 `<|im_end|>`, 4 `<reponame>`}.
public enum EndOfGeneration {
    /// End-of-turn marker texts used by common models.
    public static let markers: Set<String> = [
        "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>",
        "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]",
        "<|end_of_text|>", "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>",
        "<\u{FF5C}end\u{2581}of\u{2581}sentence\u{FF5C}>", "[e~[",
    ]
    /// Fill-in-the-middle pad / repository / file-separator markers (also end generation).
    public static let fimMarkers: Set<String> = [
        "<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]",
        "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>",
    ]

    /// The end-of-generation ids of `vocabulary` under the rule above.
    public static func ids(for vocabulary: TokenizerVocabulary) -> Set<Int> {
        var ids = Set<Int>()
        if let eos = vocabulary.eosId { ids.insert(eos) }
        if let eot = vocabulary.eotId { ids.insert(eot) }
        for (id, text) in vocabulary.tokens.enumerated() where markers.contains(text) || fimMarkers.contains(text) {
            ids.insert(id)
        }
        return ids
    }
}
