import Foundation
import TridentModel
import TridentTokenizer

/// Generates for many prompts at once, keeping up to `runner.slotCount` sequences in flight:
/// a loop over a `Scheduler` (which see for continuous batching, chunked prefill and the
/// overlap of pipeline stages).
///
/// Every step carries one chunk per active sequence: its prompt (cut into pieces when a
/// pipeline needs them) the first time, then the one token it sampled last. A finished
/// sequence frees its slot for the next waiting prompt (continuous batching). With data
/// parallelism the slots, and so the sequences, are spread over the replicas. A single
/// sequence decoding alone cannot overlap across stages: each token needs the previous one's
/// logits, so P stages take turns and each is idle (P-1)/P of the time. Only its prompt, cut
/// into chunks, is pipelined.
public final class BatchGenerator {
    public let runner: any ModelRunner
    public let tokenizer: Tokenizer
    /// Longest prompt chunk (passes are also capped at `DistributedRunner.rowsPerPass` rows).
    public var prefillChunk = 512
    /// Most prompt tokens one step runs (see `Scheduler.prefillBudget`).
    public var prefillBudget = 2048

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
        let scheduler = Scheduler(runner: runner, tokenizer: tokenizer)
        scheduler.prefillChunk = prefillChunk
        scheduler.prefillBudget = prefillBudget
        for (index, request) in requests.enumerated() {
            do {
                try scheduler.check(request)
            } catch GenerationError.emptyPrompt {
                throw GenerationError.emptyPrompt(index: index)
            } catch let GenerationError.promptTooLong(_, tokens, capacity) {
                throw GenerationError.promptTooLong(index: index, tokens: tokens, capacity: capacity)
            }
        }
        var index: [Int: Int] = [:]  // scheduler id -> request index
        for (i, request) in requests.enumerated() { index[try scheduler.enqueue(request)] = i }
        var results = [GenerationResult?](repeating: nil, count: requests.count)
        while scheduler.hasWork {
            try scheduler.step { events in
                for event in events {
                    switch event {
                    case let .output(id, output):
                        if !output.text.isEmpty { onText(index[id]!, output.text) }
                    case let .finished(id, result):
                        results[index[id]!] = result
                        onFinish(index[id]!, result)
                    }
                }
            }
        }
        return results.map { $0! }
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
        prefillChunks(prompt, slot: slot, start: 0, chunks: chunks, longestChunk: longestChunk, endsPrompt: true)
    }

    /// `tokens` at positions `start...` of `slot` as consecutive chunks, as above; the last asks
    /// for logits only when `endsPrompt` (the rest of the prompt comes in a later step otherwise).
    public static func prefillChunks(_ tokens: [Int32], slot: Int, start: Int, chunks: Int, longestChunk: Int,
                                     endsPrompt: Bool) -> [SequenceChunk] {
        precondition(!tokens.isEmpty && chunks >= 1 && longestChunk >= 1)
        let chunk = min(longestChunk, (tokens.count + chunks - 1) / chunks)
        return stride(from: 0, to: tokens.count, by: chunk).map { offset in
            let end = min(tokens.count, offset + chunk)
            return SequenceChunk(slot: slot, start: start + offset, tokens: Array(tokens[offset..<end]),
                                 logits: end == tokens.count && endsPrompt ? .last : .none)
        }
    }
}
