import Foundation
import TridentModel
import TridentTokenizer

/// Generates for many prompts at once, keeping up to `runner.slotCount` sequences in flight.
///
/// Every step carries one chunk per active sequence: its prompt (cut into pieces when a
/// pipeline needs them) the first time, then the one token it sampled last. A finished
/// sequence frees its slot for the next waiting prompt (continuous batching). The chunks of a
/// step are fused into micro-batches, each run as one pass that reads every weight once for
/// all its sequences. The sequences are split into `runner.overlapGroups`, one per pipeline
/// stage, each with one step in flight: a group's next step enters stage 0 as soon as its
/// logits are back, while the other groups are in later stages. A step that prefills is cut
/// into one micro-batch per stage (so a lone prompt is pipelined too); a decode step is one
/// micro-batch. With data parallelism the slots, and so the sequences, are spread over the
/// replicas. A single sequence decoding alone cannot overlap across stages: each token
/// needs the previous one's logits, so P stages take turns and each is idle (P-1)/P of the
/// time. Only its prompt, cut into chunks, is pipelined.
public final class BatchGenerator {
    public let runner: any ModelRunner
    public let tokenizer: Tokenizer
    /// Longest prompt chunk (passes are also capped at `DistributedRunner.rowsPerPass` rows).
    public var prefillChunk = 512

    public init(runner: any ModelRunner, tokenizer: Tokenizer) {
        self.runner = runner
        self.tokenizer = tokenizer
    }

    /// Generates a continuation for every request.
    /// - Parameters:
    ///   - onText: called with `(request index, newly completed text)` as text streams out.
    ///   - onFinish: called with `(request index, result)` as soon as a request finishes.
    /// - Returns: the results in request order.
    /// - Throws: `GenerationError` for an empty or too long prompt (before any step), or the
    ///   runner's errors.
    public func generate(_ requests: [GenerationRequest], onText: (Int, String) -> Void = { _, _ in },
                         onFinish: (Int, GenerationResult) -> Void = { _, _ in }) throws -> [GenerationResult] {
        let capacity = runner.capacity
        for (index, request) in requests.enumerated() {
            guard !request.promptTokens.isEmpty else { throw GenerationError.emptyPrompt(index: index) }
            guard request.promptTokens.count < capacity else {
                throw GenerationError.promptTooLong(index: index, tokens: request.promptTokens.count, capacity: capacity)
            }
        }
        var results = [GenerationResult?](repeating: nil, count: requests.count)
        var waiting = requests.indices.makeIterator()
        var nextWaiting = waiting.next()
        var active: [Int: (index: Int, sequence: GenerationSequence)] = [:]  // by slot
        // One step per group may be outstanding: while the last pipeline stage finishes one
        // group's step, the first stage runs the next group's (a single group without overlap).
        let groups = runner.overlapGroups
        var outstanding: [Step?] = Array(repeating: nil, count: groups.count)
        var group = 0
        while nextWaiting != nil || !active.isEmpty {
            if let step = outstanding[group] {
                let logits = try runner.collect()
                outstanding[group] = nil
                for (m, slot) in step.finalChunkOwner {
                    var entry = active[slot]!
                    entry.sequence.accept(logits: logits[m], ran: step.ranTokens[slot]!, capacity: capacity) {
                        onText(entry.index, $0)
                    }
                    if entry.sequence.isFinished {
                        let result = entry.sequence.result
                        results[entry.index] = result
                        onFinish(entry.index, result)
                        active[slot] = nil
                    } else {
                        active[slot] = entry
                    }
                }
            }
            for slot in groups[group] where active[slot] == nil {
                guard let index = nextWaiting else { break }
                active[slot] = (index, GenerationSequence(requests[index], tokenizer: tokenizer))
                nextWaiting = waiting.next()
            }
            let step = makeStep(active.filter { groups[group].contains($0.key) })
            if !step.chunks.isEmpty {
                // A prompt is split into micro-batches so that the stages overlap on it; decode
                // steps overlap with the other groups' instead.
                try runner.submit(step.chunks, microBatches: step.hasPrefill || groups.count == 1 ? nil : 1)
                outstanding[group] = step
            }
            group = (group + 1) % groups.count
        }
        return results.map { $0! }
    }

    /// One step's chunks, in slot order.
    private struct Step {
        var chunks: [SequenceChunk] = []
        /// (chunk index, slot) of each sequence's last chunk, whose logits it samples from.
        var finalChunkOwner: [(Int, Int)] = []
        /// Tokens each slot runs in this step.
        var ranTokens: [Int: Int] = [:]
        var hasPrefill = false
    }

    private func makeStep(_ active: [Int: (index: Int, sequence: GenerationSequence)]) -> Step {
        var step = Step()
        let prefilling = active.values.filter { $0.sequence.needsPrefill }.count
        let chunks = Self.chunksPerPrompt(stages: runner.pipelineStages, promptsInStep: prefilling)
        for slot in active.keys.sorted() {
            let sequence = active[slot]!.sequence
            if sequence.needsPrefill {
                let prompt = sequence.request.promptTokens
                step.chunks += Self.prefillChunks(prompt, slot: slot, chunks: chunks, longestChunk: prefillChunk)
                step.ranTokens[slot] = prompt.count
                step.hasPrefill = true
            } else {
                step.chunks.append(SequenceChunk(slot: slot, start: sequence.position, tokens: [sequence.nextToken!],
                                                 logits: .last))
                step.ranTokens[slot] = 1
            }
            step.finalChunkOwner.append((step.chunks.count - 1, slot))
        }
        return step
    }

    /// How many chunks to cut each prompt into when `promptsInStep` prompts are prefilled in
    /// one step through `stages` pipeline stages: enough that the step has a chunk for each of
    /// the pipeline's micro-batches (one chunk without a pipeline).
    public static func chunksPerPrompt(stages: Int, promptsInStep: Int) -> Int {
        guard stages > 1 else { return 1 }
        let prompts = max(promptsInStep, 1)
        return max(1, (stages + prompts - 1) / prompts)
    }

    /// `prompt` (positions from 0 of `slot`) as consecutive micro-batches: `chunks` about equal
    /// chunks of at most `longestChunk` tokens; only the last asks for logits (`.last`).
    public static func prefillChunks(_ prompt: [Int32], slot: Int, chunks: Int,
                                           longestChunk: Int) -> [SequenceChunk] {
        precondition(!prompt.isEmpty && chunks >= 1 && longestChunk >= 1)
        let chunk = min(longestChunk, (prompt.count + chunks - 1) / chunks)
        return stride(from: 0, to: prompt.count, by: chunk).map { start in
            let end = min(prompt.count, start + chunk)
            return SequenceChunk(slot: slot, start: start, tokens: Array(prompt[start..<end]),
                                      logits: end == prompt.count ? .last : .none)
        }
    }
}
