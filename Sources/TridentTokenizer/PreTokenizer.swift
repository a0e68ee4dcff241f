/// Splits text into pieces before BPE, like llama.cpp's pre-tokenizer regexes
/// (selected by GGUF `tokenizer.ggml.pre`), implemented as hand-written scanners.
///
/// Every scalar lands in exactly one piece; pieces are returned in order.
public enum PreTokenizer: Sendable, Equatable {
    /// GPT-2: `'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+`.
    case gpt2
    /// StarCoder family (`smollm`, `starcoder`, `refact`, `codeshell`): every `\p{N}` scalar is
    /// its own piece, then the GPT-2 rules apply to the text between digits.
    case digitsThenGPT2
    /// Llama 3 (`llama3`, `llama-bpe`, `llama-v3`): case-insensitive contractions, a letter run may
    /// take one leading non-letter, numbers in groups of 1-3, newlines kept with punctuation.
    case llama3
    /// Qwen 2: as Llama 3 but every number scalar is its own piece.
    case qwen2
    /// Falcon: punctuation runs, then GPT-2, then ASCII digit triples split out.
    case falcon
    /// llama.cpp's `default` BPE pre-tokenizer: as Falcon plus number runs before the triples.
    case bpeDefault
    /// DeepSeek LLM: newlines, cased-letter runs, punctuation runs, trailing spaces, CJK runs, number runs.
    case deepseekLLM
    /// DeepSeek Coder: newlines, letter runs, punctuation runs, CJK runs, single numbers.
    case deepseekCoder
    /// No split: the whole text is one piece (SentencePiece vocabularies merge across words).
    case wholeText

    /// Maps a `tokenizer.ggml.pre` name; nil when unsupported.
    public init?(name: String) {
        switch name {
        case "gpt-2", "gpt2", "phi-2", "mpt", "olmo", "roberta-bpe": self = .gpt2
        case "smollm", "starcoder", "refact", "codeshell", "command-r": self = .digitsThenGPT2
        case "llama3", "llama-bpe", "llama-v3", "falcon3": self = .llama3
        case "qwen2", "deepseek-r1-qwen", "megrez": self = .qwen2
        case "falcon": self = .falcon
        case "default": self = .bpeDefault
        case "deepseek-llm": self = .deepseekLLM
        case "deepseek-coder": self = .deepseekCoder
        default: return nil
        }
    }

    /// The names ``init(name:)`` accepts.
    public static let supportedNames = ["gpt-2", "phi-2", "mpt", "olmo", "roberta-bpe", "smollm", "starcoder",
                                        "refact", "codeshell", "command-r", "llama3", "llama-bpe", "llama-v3",
                                        "falcon3", "qwen2", "deepseek-r1-qwen", "megrez", "falcon", "default",
                                        "deepseek-llm", "deepseek-coder"]

    /// llama.cpp adds BOS by default (when the GGUF does not say) only for Llama 3.
    var addsBOSByDefault: Bool { self == .llama3 }

    /// llama.cpp looks a whole piece up in the vocabulary before merging only for Llama 3.
    var ignoresMerges: Bool { self == .llama3 }

    /// Splits `text` into pieces (as UTF-8 strings), e.g. for tests and debugging.
    public func split(_ text: String) -> [String] {
        let classified = ClassifiedText(Array(text.unicodeScalars))
        var out: [String] = []
        split(classified) { range in
            var view = String.UnicodeScalarView()
            view.append(contentsOf: classified.scalars[range])
            out.append(String(view))
        }
        return out
    }

    /// Calls `emit` with the scalar range of each piece of `text[0..<text.end]`, in order.
    func split(_ text: ClassifiedText, emit: (Range<Int>) -> Void) {
        switch self {
        case .wholeText:
            if text.end > 0 { emit(0..<text.end) }
        case .falcon, .bpeDefault, .deepseekLLM, .deepseekCoder:
            for piece in sequencePieces(text) { emit(piece) }
        case .gpt2:
            Self.scan(text, from: 0, emit: emit, match: Self.gpt2Match)
        case .llama3:
            Self.scan(text, from: 0, emit: emit) { Self.llama3Match($0, at: $1, maxDigits: 3) }
        case .qwen2:
            Self.scan(text, from: 0, emit: emit) { Self.llama3Match($0, at: $1, maxDigits: 1) }
        case .digitsThenGPT2:
            var chunk = text
            var i = 0
            while i < text.end {
                if text.classes[i] == .number {
                    emit(i..<(i + 1))
                    i += 1
                    continue
                }
                var j = i + 1
                while j < text.end && text.classes[j] != .number { j += 1 }
                chunk.end = j
                Self.scan(chunk, from: i, emit: emit, match: Self.gpt2Match)
                i = j
            }
        }
    }

    /// Repeatedly applies `match` (which returns the end of the piece starting at its index).
    static func scan(_ text: ClassifiedText, from start: Int, emit: (Range<Int>) -> Void,
                             match: (ClassifiedText, Int) -> Int) {
        var i = start
        while i < text.end {
            let j = match(text, i)
            precondition(j > i && j <= text.end, "pre-tokenizer scanner made no progress")
            emit(i..<j)
            i = j
        }
    }

    /// Length of an English contraction suffix after an apostrophe at `i - 1`
    /// (`s t m d` -> 1, `re ve ll` -> 2), or nil.
    @inline(__always)
    static func contractionLength(_ t: ClassifiedText, at i: Int, caseInsensitive: Bool) -> Int? {
        func scalar(_ k: Int) -> UInt32 {
            caseInsensitive ? t.lowerASCII(k) : (k < t.end ? t.scalars[k].value : 0)
        }
        switch scalar(i) {
        case 0x73, 0x74, 0x6D, 0x64: return 1                       // s t m d
        case 0x72, 0x76: return scalar(i + 1) == 0x65 ? 2 : nil       // re ve
        case 0x6C: return scalar(i + 1) == 0x6C ? 2 : nil             // ll
        default: return nil
        }
    }

    /// End of a maximal run of class `cls` starting at `i`.
    @inline(__always)
    static func runEnd(_ t: ClassifiedText, from i: Int, _ cls: CharacterClass) -> Int {
        var j = i
        while j < t.end && t.classes[j] == cls { j += 1 }
        return j
    }

    /// `\s+(?!\S)|\s+` at `i` (a whitespace scalar): the whole run if it reaches the end or is a
    /// single scalar, else the run minus its last scalar (which then joins the next piece).
    @inline(__always)
    static func whitespaceMatch(_ t: ClassifiedText, at i: Int) -> Int {
        let k = runEnd(t, from: i, .whitespace)
        if k == t.end || k - i == 1 { return k }
        return k - 1
    }
}
