/// A buffer that is reused from step to step and grows to the largest size asked for.
/// Its contents are scratch: nothing survives from one `reserve` to the next user.
final class ScratchBuffer<Element> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var capacity = 0

    init() { pointer = UnsafeMutablePointer<Element>.allocate(capacity: 1) }

    /// At least `count` elements (uninitialised; `Element` must be a trivial type).
    func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity {
            pointer.deallocate()
            pointer = UnsafeMutablePointer<Element>.allocate(capacity: count)
            capacity = count
        }
        return pointer
    }

    deinit { pointer.deallocate() }
}

/// The activation buffers of one `LlamaStage`, so that a decode step allocates nothing.
/// Shapes are per step, `T` being its token count; only the thread running the stage uses them.
final class StageWorkspace {
    /// `[T, hidden]`: the normed input of attention or of the MLP.
    let normed = ScratchBuffer<Float>()
    /// `[T, hidden]`: partial sums of a row-parallel layer, all-reduced in place.
    let partial = ScratchBuffer<Float>()
    /// Attention: `[T, localHeads * headDim]` queries. MLP: `[T, localFFN]` gate, then
    /// `silu(gate) * up`. (The two phases never overlap, so they share the memory.)
    let innerA = ScratchBuffer<Float>()
    /// Attention: `[T, localHeads * headDim]` context before the output projection.
    /// MLP: `[T, localFFN]` up projection.
    let innerB = ScratchBuffer<Float>()
    /// `[T, localKVHeads * headDim]`: keys and values of a pass over several sequences,
    /// before they are copied into each sequence's cache slot.
    let keys = ScratchBuffer<Float>()
    let values = ScratchBuffer<Float>()
    /// `[T]`: positions of the step's tokens.
    let positions = ScratchBuffer<Int>()

    /// Each row's position in its sequence.
    func positions(_ pass: PassLayout) -> UnsafeMutablePointer<Int> {
        let p = positions.reserve(pass.rows)
        for (chunk, first) in zip(pass.chunks, pass.firstRows) {
            for i in 0 ..< chunk.tokens.count { p[first + i] = chunk.start + i }
        }
        return p
    }
}

/// The rows of one pass: chunk `i` occupies rows `firstRows[i] ..< firstRows[i] + chunks[i].tokens.count`.
struct PassLayout {
    let chunks: [SequenceChunk]
    let firstRows: [Int]
    let rows: Int

    init(_ chunks: [SequenceChunk]) {
        self.chunks = chunks
        var first: [Int] = []
        var row = 0
        for chunk in chunks {
            first.append(row)
            row += chunk.tokens.count
        }
        firstRows = first
        rows = row
    }
}
