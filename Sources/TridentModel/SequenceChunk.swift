/// Positions `start ..< start + tokens.count` of the sequence in KV-cache `slot`: a whole
/// prompt, a piece of one, or the one token a decoding sequence runs next.
///
/// A forward pass may fuse several chunks (of different sequences, or consecutive chunks of
/// one) into one batch of rows: every matrix is read once for all of them. Chunks of one
/// sequence must appear in position order.
public struct SequenceChunk: Sendable, Equatable {
    public var slot: Int
    public var start: Int
    /// Token ids; every stage needs them (the first embeds them, later stages use the count).
    public var tokens: [Int32]
    /// Logits the last stage computes for this chunk.
    public var logits: LogitsRequest
    /// A slot (of the same replica) whose positions `0..<start` hold the keys and values this
    /// sequence needs there: its prompt shares those tokens with that slot's sequence, so the
    /// rows are copied into `slot` before the chunk runs instead of being computed again.
    public var prefixSource: Int?

    public init(slot: Int, start: Int, tokens: [Int32], logits: LogitsRequest, prefixSource: Int? = nil) {
        precondition(slot >= 0 && start >= 0 && !tokens.isEmpty, "a chunk has a slot, a start and tokens")
        self.slot = slot
        self.start = start
        self.tokens = tokens
        self.logits = logits
        self.prefixSource = prefixSource
    }

    /// Rows of logits the chunk asks for: 0, 1 or `tokens.count`.
    public var logitRows: Int {
        switch logits { case .none: 0; case .last: 1; case .all: tokens.count }
    }
}
