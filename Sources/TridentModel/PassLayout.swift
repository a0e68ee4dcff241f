/// The rows of one forward pass: chunk `i` occupies rows
/// `firstRows[i] ..< firstRows[i] + chunks[i].tokens.count`, and row `r` is at position
/// `positions[r]` of its sequence.
public struct PassLayout {
    public let chunks: [SequenceChunk]
    public let firstRows: [Int]
    /// Total rows (tokens) of the pass.
    public let rows: Int
    /// `[rows]`: each row's position in its sequence, in the context's scratch: valid until the
    /// next `PassLayout` is made with the same context.
    public let positions: UnsafePointer<Int>

    /// Lays out `chunks` and writes their positions into `context`'s scratch.
    public init(_ chunks: [SequenceChunk], context: InferenceContext) {
        self.chunks = chunks
        var first: [Int] = []
        first.reserveCapacity(chunks.count)
        var row = 0
        for chunk in chunks {
            first.append(row)
            row += chunk.tokens.count
        }
        let p = context.positions.reserve(row)
        for (chunk, start) in zip(chunks, first) {
            for i in 0 ..< chunk.tokens.count { p[start + i] = chunk.start + i }
        }
        firstRows = first
        rows = row
        positions = UnsafePointer(p)
    }
}
