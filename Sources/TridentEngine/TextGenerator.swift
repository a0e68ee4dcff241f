import Foundation
import TridentModel
import TridentTokenizer

/// The generation loop for one prompt: prefill the prompt, then sample and decode one token at
/// a time, streaming text as it becomes complete UTF-8 and stopping at end-of-generation
/// tokens, stop strings or the token limit. (`BatchGenerator` with a single request.)
public final class TextGenerator {
    public let runner: any ModelRunner
    public let tokenizer: Tokenizer
    /// Longest prompt chunk (passes are also capped at `DistributedRunner.rowsPerPass` rows).
    public var prefillChunk = 512

    public init(runner: any ModelRunner, tokenizer: Tokenizer) {
        self.runner = runner
        self.tokenizer = tokenizer
    }

    /// Generates a continuation of `request.promptTokens` (in sequence slot 0).
    /// - Parameter onText: called with each newly completed piece of text, in order.
    public func generate(_ request: GenerationRequest, onText: (String) -> Void = { _ in }) throws -> GenerationResult {
        let batch = BatchGenerator(runner: runner, tokenizer: tokenizer)
        batch.prefillChunk = prefillChunk
        do {
            return try batch.generate([request], onText: { onText($1) })[0]
        } catch GenerationError.emptyPrompt {
            throw GenerationError.emptyPrompt(index: nil)
        } catch let GenerationError.promptTooLong(_, tokens, capacity) {
            throw GenerationError.promptTooLong(index: nil, tokens: tokens, capacity: capacity)
        }
    }
}

/// Why a generation request was refused.
public enum GenerationError: Error, CustomStringConvertible, Equatable {
    /// `index`: which request of a batch (nil for a single prompt).
    case emptyPrompt(index: Int?)
    case promptTooLong(index: Int?, tokens: Int, capacity: Int)

    public var description: String {
        switch self {
        case .emptyPrompt(let index):
            return "\(Self.which(index))is empty (no tokens)"
        case let .promptTooLong(index, tokens, capacity):
            return "\(Self.which(index))has \(tokens) tokens but the context holds \(capacity); shorten it or raise --context"
        }
    }

    private static func which(_ index: Int?) -> String {
        index.map { "prompt \($0 + 1) " } ?? "the prompt "
    }
}
