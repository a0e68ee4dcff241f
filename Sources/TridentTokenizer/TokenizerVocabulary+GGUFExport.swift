import TridentFormats

extension TokenizerVocabulary {
    /// The vocabulary as GGUF `tokenizer.*` metadata, in the spelling llama.cpp reads (the
    /// inverse of ``init(metadata:)``), in writing order.
    ///
    /// - `tokenizer.ggml.model`: `gpt2` (byte-level BPE, with `merges`) or `llama`
    ///   (SentencePiece-style, with `scores`: a vocabulary read from a Hugging Face
    ///   tokenizer.json has none, so each token gets minus the rank of the first merge that
    ///   forms it (higher merges first, as BPE ranks merge); tokens no merge forms get
    ///   minus the merge count).
    /// - `tokenizer.ggml.pre`: ``ggufPreTokenizerName``.
    /// - The token list is padded to `size` with `[PADn]` unused tokens, as
    ///   convert_hf_to_gguf.py pads it to the embedding's rows.
    /// - Throws: ``TokenizerError/lengthMismatch(key:expected:found:)`` when the vocabulary has
    ///   more than `size` tokens.
    public func ggufMetadata(paddedTo size: Int? = nil) throws(TokenizerError) -> [(key: String, value: GGUFValue)] {
        typealias K = GGUFTokenizerKey
        let size = size ?? tokens.count
        guard tokens.count <= size else {
            throw TokenizerError.lengthMismatch(key: K.tokens, expected: size, found: tokens.count)
        }
        let padding = tokens.count ..< size
        let allTokens = tokens + padding.map { "[PAD\($0)]" }
        let allTypes = tokenTypes + padding.map { _ in TokenType.unused }
        var pairs: [(key: String, value: GGUFValue)] = [
            (K.model, .string(model)),
            (K.pre, .string(ggufPreTokenizerName)),
            (K.tokens, .array(allTokens.map { .string($0) })),
            (K.tokenType, .array(allTypes.map { .int32($0.rawValue) })),
        ]
        if model == "llama" {
            let all = ggufScores() + padding.map { _ in -Float(merges.count + 1) }
            pairs.append((K.scores, .array(all.map { .float32($0) })))
            pairs.append((K.addSpacePrefix, .bool(addSpacePrefix)))
        } else {
            pairs.append((K.merges, .array(merges.map { .string($0) })))
        }
        for (key, id) in [(K.bos, bosId), (K.eos, eosId), (K.eot, eotId), (K.unknown, unknownId), (K.pad, padId)] {
            if let id { pairs.append((key, .uint32(UInt32(id)))) }
        }
        pairs.append((K.addBOS, .bool(addBOS)))
        pairs.append((K.addEOS, .bool(addEOS)))
        if let chatTemplate { pairs.append((K.chatTemplate, .string(chatTemplate))) }
        return pairs
    }

    /// The `tokenizer.ggml.pre` llama.cpp selects this pre-tokenizer by: Trident names the
    /// Llama 3 regex `llama3`, convert_hf_to_gguf.py writes `llama-bpe` for it; SentencePiece
    /// vocabularies get `default` (llama.cpp ignores it for them). Other names are kept
    /// (`gpt-2`, `qwen2`, `smollm`, ...), all of which llama.cpp knows.
    public var ggufPreTokenizerName: String {
        if model == "llama" { return "default" }
        return preTokenizer == "llama3" ? "llama-bpe" : preTokenizer
    }

    /// What GGUF metadata cannot say about this vocabulary, one line each (empty when the
    /// GGUF tokenizer behaves exactly as this one): llama.cpp fixes these by pre-tokenizer.
    public var ggufLosses: [String] {
        var out: [String] = []
        if normalizeNFC { out.append("the NFC normalizer (GGUF tokenizers do not normalize; text already in NFC encodes the same)") }
        if let ignoreMerges, ignoreMerges != (PreTokenizer(name: preTokenizer)?.ignoresMerges ?? false) {
            out.append("ignore_merges \(ignoreMerges) (llama.cpp decides it by pre-tokenizer)")
        }
        if !stripLeft.isEmpty || !stripRight.isEmpty { out.append("lstrip/rstrip of \(stripLeft.count + stripRight.count) added tokens") }
        if model == "llama" && addSpacePrefix && spacePrefixRule != .everyFragment {
            out.append("the Metaspace prepend scheme (GGUF prefixes a space to every text fragment)")
        }
        return out
    }

    /// SentencePiece scores: the stored ones, or minus the rank of the first merge forming each token.
    func ggufScores() -> [Float] {
        if scores.count == tokens.count { return scores }
        var index: [String: Int] = [:]
        for (id, text) in tokens.enumerated() where tokenTypes[id] != .unused { index[text] = index[text] ?? id }
        var result = [Float](repeating: -Float(merges.count + 1), count: tokens.count)
        var scored = [Bool](repeating: false, count: tokens.count)
        for (rank, merge) in merges.enumerated() {
            let chars = Array(merge)
            guard let space = chars.indices.dropFirst().first(where: { chars[$0] == " " }) else { continue }
            let joined = String(chars[..<space]) + String(chars[(space + 1)...])
            if let id = index[joined], !scored[id] {
                scored[id] = true
                result[id] = -Float(rank + 1)
            }
        }
        for id in tokens.indices where tokenTypes[id] != .normal && !scored[id] { result[id] = 0 }
        return result
    }
}
