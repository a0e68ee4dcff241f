import Foundation
import TridentModel
import TridentTokenizer

/// The continuous-batching scheduler, pulled by its owner: `enqueue` a request (an id comes
/// back), call `step` while `hasWork` and handle the events it returns, `cancel` an id at any
/// time. The server, `generate --prompts-file` (through `BatchGenerator`) and the benchmarks
/// share it. Not thread-safe: one thread (the driver's) owns it.
///
/// Each step runs one chunk per running sequence of one overlap group: a piece of its prompt
/// while it is prefilling, then the one token it sampled last. Sequences join (a waiting
/// request takes a free slot) and leave (finished or cancelled) at every step, and the decode
/// tokens of all running sequences go through the model as one batched pass. Prompts are
/// prefilled in chunks of at most `prefillBudget` tokens per step over all sequences, so a
/// long prompt never stalls the streams that are decoding. With `maxInFlight` > 1 (pipeline
/// stages over a backend that buffers sends) the slots are split into `runner.overlapGroups`
/// and each group keeps one step in flight: `step` collects the group's previous step, then
/// submits its next, so every stage stays busy.
public final class Scheduler {
    public let runner: any ModelRunner
    public let tokenizer: Tokenizer
    /// Longest prompt chunk of one micro-batch.
    public var prefillChunk = 512
    /// Most prompt tokens one step runs, over all its sequences (at least 1).
    public var prefillBudget = 512
    /// Whether a request admitted into a free slot skips the leading prompt tokens whose keys
    /// and values are already cached: the ones the slot's previous sequence left there
    /// (llama-server's prompt cache), or the ones a running sequence of the same replica holds,
    /// which are copied into the slot before its first chunk runs (vLLM's prefix caching, e.g.
    /// a shared system prompt). Results do not change: the cached positions hold what running
    /// the same tokens at the same positions would write.
    public var reusesPromptPrefixes = true
    /// Most requests waiting for a slot; `enqueue` refuses more.
    public let maxQueue: Int
    /// KV-cache blocks in use and available (nil: no budget beyond the slots).
    public private(set) var budget: KVBlockBudget?

    private var nextID = 0
    private var waiting: [(id: Int, request: GenerationRequest)] = []
    var running: [Int: Running] = [:]  // by slot
    private var cancelled = Set<Int>()
    /// Per free slot, the tokens whose keys and values its last sequence left at positions
    /// `0..<count` (absent: unknown or empty).
    private var slotContents: [Int: [Int32]] = [:]
    private let groups: [[Int]]
    private var outstanding: [Step?]
    private var group = 0

    /// A sequence in a slot, with the KV blocks it reserved.
    struct Running {
        let id: Int
        var sequence: GenerationSequence
        let blocks: Int
        /// The running sequence (slot and id) whose cached prefix this one copies when its
        /// first chunk runs (nil: none, or already copied).
        var prefixSource: (slot: Int, id: Int)? = nil
    }

    /// - Parameters:
    ///   - maxQueue: most waiting requests (unlimited by default).
    ///   - budget: KV blocks the running sequences may reserve (nil: only the slots limit them).
    public init(runner: any ModelRunner, tokenizer: Tokenizer, maxQueue: Int = .max, budget: KVBlockBudget? = nil) {
        self.runner = runner
        self.tokenizer = tokenizer
        self.maxQueue = maxQueue
        self.budget = budget
        groups = runner.overlapGroups
        outstanding = Array(repeating: nil, count: groups.count)
    }

    /// Requests waiting for a slot.
    public var queueDepth: Int { waiting.count }
    func sequence(inSlot slot: Int) -> GenerationSequence? { running[slot]?.sequence }
    /// The slot whose cached prefix `slot`'s sequence copies when its first chunk runs.
    func prefixSource(ofSlot slot: Int) -> Int? { running[slot]?.prefixSource?.slot }

    /// Sequences holding a slot (prefilling or decoding).
    public var runningCount: Int { running.count }
    /// Whether `step` has anything to do.
    public var hasWork: Bool { !waiting.isEmpty || !running.isEmpty }

    /// Queues `request`. - Returns: its id, which the events name.
    /// - Throws: `GenerationError` for an empty prompt or one that fills the context,
    ///   `SchedulerError.queueFull` past `maxQueue`, `SchedulerError.exceedsBudget` for a request
    ///   whose KV blocks exceed the whole budget (it could never run).
    public func enqueue(_ request: GenerationRequest) throws -> Int {
        try check(request)
        guard waiting.count < maxQueue else { throw SchedulerError.queueFull(limit: maxQueue) }
        defer { nextID += 1 }
        waiting.append((nextID, request))
        return nextID
    }

    /// Checks `request` against the context and the KV budget without queueing it.
    public func check(_ request: GenerationRequest) throws {
        guard !request.promptTokens.isEmpty else { throw GenerationError.emptyPrompt(index: nil) }
        let capacity = runner.capacity
        guard request.promptTokens.count < capacity else {
            throw GenerationError.promptTooLong(index: nil, tokens: request.promptTokens.count, capacity: capacity)
        }
        if let budget, blocks(for: request) > budget.totalBlocks {
            throw SchedulerError.exceedsBudget(blocks: blocks(for: request), total: budget.totalBlocks)
        }
    }

    /// Drops request `id`: a waiting one at once, a running one at its group's next step (its
    /// slot and KV blocks are freed then). No further events name it.
    /// - Returns: whether `id` was waiting or running.
    @discardableResult
    public func cancel(_ id: Int) -> Bool {
        if let index = waiting.firstIndex(where: { $0.id == id }) {
            waiting.remove(at: index)
            return true
        }
        guard running.values.contains(where: { $0.id == id }) else { return false }
        cancelled.insert(id)
        return true
    }

    /// Positions a request may fill: its prompt plus its token limit, within the context.
    private func blocks(for request: GenerationRequest) -> Int {
        let positions = min(runner.capacity, request.promptTokens.count + request.maxTokens)
        return budget?.blocks(forPositions: positions) ?? 0
    }

    /// Advances the next overlap group by one step: collects its outstanding step (sampling a
    /// token for every sequence whose prompt is done), drops finished and cancelled sequences,
    /// admits waiting requests into its free slots, and submits its next step.
    /// - Returns: the tokens, text and finished results this step produced, in slot order.
    /// - Throws: the runner's errors; the scheduler is unusable afterwards.
    public func step() throws -> [SchedulerEvent] {
        var produced: [SchedulerEvent] = []
        try step { produced = $0 }
        return produced
    }

    /// `step()`, handing the collected step's events to `deliver` before the next step is
    /// submitted: a runner computes (part of) a step inside `submit`, so a caller that streams
    /// tokens would otherwise send each one a whole step late.
    /// - Parameter deliver: called once, on this thread, with the events (possibly none).
    public func step(delivering deliver: ([SchedulerEvent]) -> Void) throws {
        var events: [SchedulerEvent] = []
        if let step = outstanding[group] {
            outstanding[group] = nil
            events = try collect(step)
        }
        deliver(events)
        for slot in groups[group] {
            if let entry = running[slot], cancelled.remove(entry.id) != nil { free(slot) }
        }
        admit(into: groups[group])
        dropStalePrefixSources()
        let step = makeStep(slots: groups[group].filter { running[$0] != nil })
        for chunk in step.chunks where chunk.prefixSource != nil { running[chunk.slot]?.prefixSource = nil }
        if !step.chunks.isEmpty {
            // A prompt is split into micro-batches so that the stages overlap on it; decode
            // steps overlap with the other groups' instead.
            try runner.submit(step.chunks, microBatches: step.hasPrefill || groups.count == 1 ? nil : 1)
            outstanding[group] = step
        }
        group = (group + 1) % groups.count
    }

    private func collect(_ step: Step) throws -> [SchedulerEvent] {
        let logits = try runner.collect()
        for (m, slot) in step.scoredChunks {
            running[slot]?.sequence.scorePrompt(logits[m], start: step.chunks[m].start, count: step.chunks[m].tokens.count)
        }
        for (slot, ran) in step.partialPrefill { running[slot]?.sequence.advance(ran: ran) }
        var events: [SchedulerEvent] = []
        for (m, slot) in step.finalChunkOwner {
            guard var entry = running[slot], !cancelled.contains(entry.id) else { continue }
            let output = entry.sequence.accept(logits: step.lastLogits(logits[m], chunk: m), ran: step.ranTokens[slot]!,
                                               capacity: runner.capacity)
            if output.token != nil || !output.text.isEmpty { events.append(.output(id: entry.id, output)) }
            running[slot] = entry
            if entry.sequence.isFinished {
                events.append(.finished(id: entry.id, entry.sequence.result))
                free(slot)
            }
        }
        return events
    }

    private func free(_ slot: Int) {
        guard let entry = running.removeValue(forKey: slot) else { return }
        slotContents[slot] = Array(entry.sequence.tokensInCache)
        budget?.release(entry.blocks)
    }

    /// Fills free slots from the head of the queue while the KV budget allows (first come,
    /// first served: a request that does not fit yet holds back those behind it). Each request
    /// takes the free slot whose cached tokens share the longest prefix with its prompt.
    private func admit(into slots: [Int]) {
        var free = slots.filter { running[$0] == nil }
        while !free.isEmpty, let head = waiting.first {
            let blocks = blocks(for: head.request)
            if budget != nil, !budget!.reserve(blocks) { return }
            waiting.removeFirst()
            let (index, reused, source) = bestSlot(for: head.request, among: free)
            let slot = free.remove(at: index)
            slotContents[slot] = nil
            let sequence = GenerationSequence(head.request, tokenizer: tokenizer, cachedPrefix: reused)
            running[slot] = Running(id: head.id, sequence: sequence, blocks: blocks,
                                    prefixSource: source.map { ($0, running[$0]!.id) })
        }
    }

    /// A sequence waiting to copy its prefix from one that has since left (finished or
    /// cancelled: its slot may hold another sequence's rows by now) starts from position 0.
    private func dropStalePrefixSources() {
        for (slot, entry) in running {
            guard let source = entry.prefixSource, running[source.slot]?.id != source.id else { continue }
            running[slot]?.sequence = GenerationSequence(entry.sequence.request, tokenizer: tokenizer)
            running[slot]?.prefixSource = nil
        }
    }

    /// The index in `free` of the slot to give `request`, how many of its prompt tokens are
    /// cached for it (at most all but the last; 0 for requests that score their prompt, whose
    /// every position must run), and the running slot to copy them from (nil: the free slot
    /// holds them itself). A source must hold its rows already: one that is itself waiting to
    /// copy its prefix is not used.
    private func bestSlot(for request: GenerationRequest, among free: [Int]) -> (index: Int, reused: Int, source: Int?) {
        guard reusesPromptPrefixes, !request.promptLogprobs else { return (0, 0, nil) }
        let prompt = request.promptTokens
        func shared<C: Collection>(_ contents: C) -> Int where C.Element == Int32 {
            zip(contents, prompt.prefix(prompt.count - 1)).prefix { $0 == $1 }.count
        }
        var best = (index: 0, reused: 0, source: Int?.none)
        let sources = running.keys.sorted().filter { running[$0]!.prefixSource == nil }
        for (index, slot) in free.enumerated() {
            if let contents = slotContents[slot] {
                let inPlace = shared(contents)
                if inPlace > best.reused { best = (index, inPlace, nil) }
            }
            for source in sources where runner.canCopyPrefix(from: source, to: slot) {
                let copied = shared(running[source]!.sequence.tokensInCache)
                if copied > best.reused { best = (index, copied, source) }
            }
        }
        return best
    }
}

/// What a scheduler step reports about a request.
public enum SchedulerEvent: Sendable {
    /// A sampled token and/or text that became visible.
    case output(id: Int, SequenceOutput)
    /// The request finished (after its last `output`); its slot is free again.
    case finished(id: Int, GenerationResult)
}

/// Why the scheduler refused a request.
public enum SchedulerError: Error, CustomStringConvertible, Equatable {
    case queueFull(limit: Int)
    case exceedsBudget(blocks: Int, total: Int)

    public var description: String {
        switch self {
        case .queueFull(let limit): "the queue is full (\(limit) requests waiting); retry later"
        case let .exceedsBudget(blocks, total):
            "the request needs \(blocks) KV-cache blocks but the whole cache holds \(total); lower max_tokens or raise --kv-cache-memory"
        }
    }
}
