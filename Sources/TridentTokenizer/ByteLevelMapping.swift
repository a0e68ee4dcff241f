/// GPT-2's reversible map between bytes and printable Unicode scalars.
///
/// Printable Latin-1 bytes (`!`...`~`, `¡`...`¬`, `®`...`ÿ`) map to themselves; the other 68
/// bytes map to U+0100, U+0101, ... in byte order (so a space, 0x20, is `Ġ` U+0120).
/// Byte-level BPE vocabularies spell every token with these scalars.
struct ByteLevelMapping: Sendable {
    /// Scalar for each byte value. [256]
    let scalarForByte: [Unicode.Scalar]
    /// Byte for each scalar value below ``byteForScalar.count``, or -1. [324]
    private let byteForScalar: [Int16]

    init() {
        var isPrintable = [Bool](repeating: false, count: 256)
        for b in 0x21...0x7E { isPrintable[b] = true }
        for b in 0xA1...0xAC { isPrintable[b] = true }
        for b in 0xAE...0xFF { isPrintable[b] = true }
        var scalars = [Unicode.Scalar](repeating: " ", count: 256)
        var next: UInt32 = 256
        for b in 0..<256 {
            if isPrintable[b] {
                scalars[b] = Unicode.Scalar(UInt8(b))
            } else {
                scalars[b] = Unicode.Scalar(next)!
                next += 1
            }
        }
        var reverse = [Int16](repeating: -1, count: Int(next))
        for b in 0..<256 { reverse[Int(scalars[b].value)] = Int16(b) }
        scalarForByte = scalars
        byteForScalar = reverse
    }

    /// The byte a scalar stands for, or nil if the scalar is not part of the map.
    @inline(__always)
    func byte(for scalar: Unicode.Scalar) -> UInt8? {
        let v = Int(scalar.value)
        guard v < byteForScalar.count, byteForScalar[v] >= 0 else { return nil }
        return UInt8(byteForScalar[v])
    }

    /// Byte-level spelling of raw bytes (e.g. `" hi"` -> `"Ġhi"`).
    func encode<S: Sequence>(_ bytes: S) -> String where S.Element == UInt8 {
        var s = String.UnicodeScalarView()
        for b in bytes { s.append(scalarForByte[Int(b)]) }
        return String(s)
    }

    /// Raw bytes of a byte-level token text. Scalars outside the map are kept as their UTF-8.
    func decode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if let b = byte(for: scalar) {
                out.append(b)
            } else {
                out.append(contentsOf: String(scalar).utf8)
            }
        }
        return out
    }
}
