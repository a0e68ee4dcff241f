import TridentModel

/// One unit of pipelined work: positions `start ..< start + tokens.count` of the sequence in
/// KV-cache `slot`. Micro-batches of one step are separate sequences (slots) or consecutive
/// chunks of one prompt; chunks of one sequence must appear in position order.
public struct PipelineMicroBatch: Sendable, Equatable {
    public var slot: Int
    public var start: Int
    /// Token ids; every stage needs them (the first embeds them, later stages use the count).
    public var tokens: [Int32]
    /// Logits the last stage computes for this micro-batch.
    public var logits: LogitsRequest

    public init(slot: Int, start: Int, tokens: [Int32], logits: LogitsRequest) {
        precondition(slot >= 0 && start >= 0 && !tokens.isEmpty, "a micro-batch has a slot, a start and tokens")
        self.slot = slot
        self.start = start
        self.tokens = tokens
        self.logits = logits
    }
}
