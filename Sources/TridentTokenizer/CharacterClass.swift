/// The classes that the pre-tokenizer regexes distinguish: `\p{L}`, `\p{N}`, `\s`, and the rest.
enum CharacterClass: UInt8, Sendable {
    case letter, number, whitespace, other

    /// Classifies one scalar. `\s` is the Unicode White_Space property (as in Python's `regex`).
    @inline(__always)
    init(_ scalar: Unicode.Scalar) {
        let v = scalar.value
        if v < 0x80 {
            self = CharacterClass.ascii[Int(v)]
            return
        }
        let properties = scalar.properties
        switch properties.generalCategory {
        case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter:
            self = .letter
        case .decimalNumber, .letterNumber, .otherNumber:
            self = .number
        default:
            self = properties.isWhitespace ? .whitespace : .other
        }
    }

    /// Classes of the 128 ASCII scalars.
    private static let ascii: [CharacterClass] = (0..<128).map { v -> CharacterClass in
        switch v {
        case 0x41...0x5A, 0x61...0x7A: return .letter
        case 0x30...0x39: return .number
        case 0x09...0x0D, 0x20: return .whitespace
        default: return .other
        }
    }
}

/// A run of text prepared for scanning: its scalars and their classes, indexed alike.
struct ClassifiedText {
    /// [n]
    let scalars: [Unicode.Scalar]
    /// [n]
    let classes: [CharacterClass]

    /// Scanning stops here: lookahead never sees scalars at or beyond `end`.
    var end: Int

    init(_ scalars: [Unicode.Scalar]) {
        self.scalars = scalars
        self.classes = scalars.map(CharacterClass.init)
        self.end = scalars.count
    }

    @inline(__always) func isLetter(_ i: Int) -> Bool { i < end && classes[i] == .letter }
    @inline(__always) func isNumber(_ i: Int) -> Bool { i < end && classes[i] == .number }
    @inline(__always) func isSpace(_ i: Int) -> Bool { i < end && classes[i] == .whitespace }
    @inline(__always) func isOther(_ i: Int) -> Bool { i < end && classes[i] == .other }
    @inline(__always) func isNewline(_ i: Int) -> Bool {
        i < end && (scalars[i] == "\r" || scalars[i] == "\n")
    }
    /// Lower-cased ASCII value of scalar `i`, or 0 beyond the end or for non-ASCII.
    @inline(__always) func lowerASCII(_ i: Int) -> UInt32 {
        guard i < end else { return 0 }
        let v = scalars[i].value
        return (0x41...0x5A).contains(v) ? v + 0x20 : (v < 0x80 ? v : 0)
    }
}
