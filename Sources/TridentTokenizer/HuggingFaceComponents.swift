/// Recognises the normalizer / pre-tokenizer / decoder combinations of a Hugging Face
/// `tokenizer.json` that this module implements, and refuses the others by name.
///
/// Two families are known:
/// - byte-level BPE (GPT-2, Llama 3, Qwen 2, SmolLM2): `ByteLevel` alone, or a `Sequence` of a
///   `Split` on a known regex (or `Digits`) and `ByteLevel`; normalizer none or `NFC`;
/// - SentencePiece-style BPE (Llama 2, TinyLlama, Mistral): normalizer `Prepend("▁")` +
///   `Replace(" ", "▁")` or a `Metaspace` pre-tokenizer; decoder `Replace`/`ByteFallback`/
///   `Fuse`/`Strip` or `Metaspace`.
struct HuggingFaceComponents {
    enum Family { case byteLevel, sentencePiece }

    var family: Family
    /// llama.cpp pre-tokenizer name for byte-level BPE (`gpt-2`, `llama3`, `qwen2`, `smollm`).
    var preTokenizer: String = "default"
    var normalizeNFC = false
    /// SentencePiece: a `▁` is prepended to text.
    var addSpacePrefix = false
    var spacePrefixRule = SpacePrefixRule.everyFragment

    static let file = "tokenizer.json"

    /// The regexes of the Split pre-tokenizers we implement, by llama.cpp pre-tokenizer name.
    static let knownPatterns: [String: String] = [
        #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#: "gpt-2",
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: "llama3",
        #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#: "qwen2",
    ]

    /// - Throws: ``TokenizerError/unsupportedComponent(file:path:found:supported:)`` naming the
    ///   first component (or regex) that is not implemented.
    init(_ json: HuggingFaceJSON) throws(TokenizerError) {
        let pre = json["pre_tokenizer"] ?? .null
        let normalizer = json["normalizer"] ?? .null
        if Self.contains(pre, type: "ByteLevel") || json["decoder"]?.type == "ByteLevel" {
            family = .byteLevel
            preTokenizer = try Self.byteLevelPreTokenizer(pre)
            normalizeNFC = try Self.byteLevelNormalizer(normalizer)
        } else {
            family = .sentencePiece
            try readSentencePieceSpaces(normalizer: normalizer, pre: pre)
        }
        try Self.checkDecoder(json["decoder"] ?? .null, family: family)
    }

    /// Whether `component` is of `type` or a `Sequence` holding one.
    static func contains(_ component: HuggingFaceJSON, type: String) -> Bool {
        if component.type == type { return true }
        let parts = component["pretokenizers"]?.array ?? component["normalizers"]?.array
            ?? component["decoders"]?.array ?? []
        return parts.contains { $0.type == type }
    }

    private static func unsupported(_ path: String, _ found: HuggingFaceJSON, _ supported: String) -> TokenizerError {
        .unsupportedComponent(file: file, path: path, found: found.summary, supported: supported)
    }

    private static func byteLevelPreTokenizer(_ pre: HuggingFaceJSON) throws(TokenizerError) -> String {
        let supported = "ByteLevel, or Sequence of Split (GPT-2, Llama 3 or Qwen 2 regex) or Digits, then ByteLevel"
        if pre.type == "ByteLevel" {
            try checkByteLevel(pre, path: "pre_tokenizer", regex: true)
            return "gpt-2"
        }
        guard pre.type == "Sequence", let parts = pre["pretokenizers"]?.array, parts.count == 2 else {
            throw unsupported("pre_tokenizer", pre, supported)
        }
        let first = parts[0], path = "pre_tokenizer.pretokenizers[0]"
        switch first.type {
        case "Split":
            try checkByteLevel(parts[1], path: "pre_tokenizer.pretokenizers[1]", regex: false)
            guard first["behavior"]?.string == "Isolated", first["invert"]?.bool != true else {
                throw unsupported(path + ".behavior", first["behavior"] ?? .null, "Isolated, not inverted")
            }
            let pattern = first["pattern"]?["Regex"]?.string ?? first["pattern"]?["String"]?.string
            guard let pattern, let name = knownPatterns[pattern] else {
                throw TokenizerError.unsupportedComponent(
                    file: file, path: path + ".pattern", found: "regex '\(pattern ?? "?")'",
                    supported: "the GPT-2, Llama 3 and Qwen 2 regexes")
            }
            return name
        case "Digits":
            try checkByteLevel(parts[1], path: "pre_tokenizer.pretokenizers[1]", regex: true)
            guard first["individual_digits"]?.bool == true else {
                throw unsupported(path + ".individual_digits", first["individual_digits"] ?? .null, "true")
            }
            return "smollm"
        default:
            throw unsupported(path, first, supported)
        }
    }

    /// A `ByteLevel` pre-tokenizer without a prefix space, with or without its own GPT-2 regex.
    private static func checkByteLevel(_ c: HuggingFaceJSON, path: String, regex: Bool) throws(TokenizerError) {
        guard c.type == "ByteLevel" else { throw unsupported(path, c, "ByteLevel") }
        if c["add_prefix_space"]?.bool == true {
            throw unsupported(path + ".add_prefix_space", .bool(true), "false")
        }
        let usesRegex = c["use_regex"]?.bool ?? true
        guard usesRegex == regex else {
            throw unsupported(path + ".use_regex", .bool(usesRegex), "\(regex) here")
        }
    }

    private static func byteLevelNormalizer(_ n: HuggingFaceJSON) throws(TokenizerError) -> Bool {
        switch n.type {
        case nil where n.isNull: return false
        case "NFC": return true
        case "Sequence" where n["normalizers"]?.array?.isEmpty == true: return false
        default: throw unsupported("normalizer", n, "none or NFC for byte-level BPE")
        }
    }

    /// SentencePiece spaces: `Prepend("▁")` + `Replace(" ", "▁")` normalizers (every text
    /// fragment gets the prefix), or a `Metaspace` pre-tokenizer (`prepend_scheme`).
    private mutating func readSentencePieceSpaces(normalizer: HuggingFaceJSON, pre: HuggingFaceJSON) throws(TokenizerError) {
        let parts = normalizer.type == "Sequence" ? (normalizer["normalizers"]?.array ?? []) : (normalizer.isNull ? [] : [normalizer])
        var replaces = false
        for (i, p) in parts.enumerated() {
            let path = "normalizer.normalizers[\(i)]"
            switch p.type {
            case "Prepend" where p["prepend"]?.string == "\u{2581}": addSpacePrefix = true
            case "Replace" where p["pattern"]?["String"]?.string == " " && p["content"]?.string == "\u{2581}": replaces = true
            default: throw Self.unsupported(path, p, "Prepend('▁'), Replace(' ', '▁')")
            }
        }
        if pre.type == "Metaspace" {
            guard pre["replacement"]?.string ?? "\u{2581}" == "\u{2581}" else {
                throw Self.unsupported("pre_tokenizer.replacement", pre["replacement"] ?? .null, "'▁'")
            }
            guard pre["split"]?.bool != true else {
                throw Self.unsupported("pre_tokenizer.split", .bool(true), "false (no splitting at spaces)")
            }
            let scheme = pre["prepend_scheme"]?.string ?? ((pre["add_prefix_space"]?.bool ?? true) ? "always" : "never")
            switch scheme {
            case "always": addSpacePrefix = true; spacePrefixRule = .everyFragmentNotStartingWithSpace
            case "first": addSpacePrefix = true; spacePrefixRule = .firstFragmentNotStartingWithSpace
            case "never": addSpacePrefix = false
            default: throw Self.unsupported("pre_tokenizer.prepend_scheme", .string(scheme), "always, first, never")
            }
            replaces = true
        } else if !pre.isNull {
            throw Self.unsupported("pre_tokenizer", pre, "none or Metaspace for SentencePiece-style BPE, ByteLevel for byte-level BPE")
        }
        guard replaces else {
            throw Self.unsupported("normalizer", normalizer, "Replace(' ', '▁') or a Metaspace pre-tokenizer")
        }
    }

    /// Decoders that undo the encoding as ``Tokenizer/decode(_:renderSpecial:)`` does.
    private static func checkDecoder(_ d: HuggingFaceJSON, family: Family) throws(TokenizerError) {
        if d.isNull { return }
        switch family {
        case .byteLevel:
            guard d.type == "ByteLevel" else { throw unsupported("decoder", d, "ByteLevel") }
        case .sentencePiece:
            let parts = d.type == "Sequence" ? (d["decoders"]?.array ?? []) : [d]
            for (i, p) in parts.enumerated() {
                switch p.type {
                case "Replace", "ByteFallback", "Fuse", "Strip", "Metaspace": continue
                default: throw unsupported("decoder.decoders[\(i)]", p, "Replace, ByteFallback, Fuse, Strip, Metaspace")
                }
            }
        }
    }
}
