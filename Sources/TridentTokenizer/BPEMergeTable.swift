/// Merge ranks of a byte-level BPE vocabulary, keyed by pairs of symbol ids.
///
/// Symbols are token ids; a string that merges produce but the vocabulary lacks (only in
/// incomplete vocabularies) gets a synthetic id at or above the vocabulary size, so the result
/// equals merging strings as llama.cpp does.
struct BPEMergeTable: Sendable {
    struct Merge: Sendable {
        var rank: Int32
        var result: Int32
    }

    /// (left << 32 | right) -> merge.
    private let pairs: [UInt64: Merge]
    /// Text of each synthetic symbol, indexed by `id - vocabularySize`.
    private let syntheticTexts: [String]
    /// Symbol id of each byte's byte-level scalar. [256]
    let byteSymbols: [Int32]
    let vocabularySize: Int

    init(tokens: [String], tokenToId: [String: Int], merges: [String], byteLevel: ByteLevelMapping) {
        vocabularySize = tokens.count
        var synthetic: [String] = []
        var syntheticIds: [String: Int32] = [:]
        func symbol(_ text: String) -> Int32 {
            if let id = tokenToId[text] { return Int32(id) }
            if let id = syntheticIds[text] { return id }
            let id = Int32(tokens.count + synthetic.count)
            synthetic.append(text)
            syntheticIds[text] = id
            return id
        }
        byteSymbols = byteLevel.scalarForByte.map { symbol(String($0)) }
        var table: [UInt64: Merge] = [:]
        table.reserveCapacity(merges.count)
        for (rank, merge) in merges.enumerated() {
            // llama.cpp splits at the first space after position 0 (a merge may start with one).
            let utf8 = Array(merge.utf8)
            guard utf8.count > 1, let space = utf8[1...].firstIndex(of: 0x20) else { continue }
            let left = String(decoding: utf8[..<space], as: UTF8.self)
            let right = String(decoding: utf8[(space + 1)...], as: UTF8.self)
            let key = Self.key(symbol(left), symbol(right))
            if table[key] == nil {
                table[key] = Merge(rank: Int32(rank), result: symbol(left + right))
            }
        }
        pairs = table
        syntheticTexts = synthetic
    }

    @inline(__always)
    static func key(_ left: Int32, _ right: Int32) -> UInt64 {
        UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
    }

    @inline(__always)
    func merge(_ left: Int32, _ right: Int32) -> Merge? { pairs[Self.key(left, right)] }

    /// Text of a synthetic symbol (id >= vocabularySize).
    func syntheticText(_ id: Int32) -> String { syntheticTexts[Int(id) - vocabularySize] }
}
