import Foundation
import TridentModel

/// Perplexity by llama.cpp's method: the text is cut into chunks of `context` tokens, each
/// evaluated from an empty cache; in each chunk the predictions of tokens
/// `context/2 + 1 ..< context` are scored.
public enum PerplexityEvaluator {
    public struct Result: Sendable, Equatable {
        public var perplexity: Double
        /// Number of scored predictions.
        public var scoredTokens: Int
        public var chunks: Int
    }

    /// Chunks are independent, so up to `runner.slotCount` of them run in one step, each in its
    /// own slot: pipeline stages and data-parallel replicas work on different chunks at once.
    /// The result does not depend on how many run together.
    /// - Parameters:
    ///   - tokens: the whole text, tokenized.
    ///   - context: chunk length; at least 2 chunks' worth of tokens are needed.
    ///   - bos: when the model adds BOS, the first token of each chunk is replaced by it.
    ///   - onProgress: called after each step with the chunks done so far and their perplexity.
    public static func evaluate(runner: any ModelRunner, tokens: [Int32], context: Int,
                                bos: Int32? = nil, onProgress: (Result) -> Void = { _ in }) throws -> Result {
        guard context >= 4, context <= runner.capacity else {
            throw PerplexityError.badContext(context: context, capacity: runner.capacity)
        }
        guard tokens.count >= 2 * context else {
            throw PerplexityError.tooFewTokens(have: tokens.count, need: 2 * context)
        }
        let chunks = tokens.count / context
        let vocabulary = runner.configuration.vocabularySize
        var nll = 0.0
        var count = 0
        var chunk = 0
        while chunk < chunks {
            let group = chunk ..< min(chunks, chunk + runner.slotCount)
            let inputs = group.map { c -> [Int32] in
                var input = Array(tokens[c * context ..< (c + 1) * context])
                if let bos { input[0] = bos }
                return input
            }
            let step = inputs.enumerated().map { slot, input in
                SequenceChunk(slot: slot, start: 0, tokens: input, logits: .all)
            }
            for (input, logits) in zip(inputs, try runner.forward(step)) {
                let (sum, scored) = negativeLogLikelihood(logits, input: input, vocabulary: vocabulary)
                nll += sum
                count += scored
            }
            chunk = group.upperBound
            onProgress(Result(perplexity: exp(nll / Double(count)), scoredTokens: count, chunks: chunk))
        }
        return Result(perplexity: exp(nll / Double(count)), scoredTokens: count, chunks: chunks)
    }

    /// Sum of `-log p(input[j + 1])` over the scored positions `j` of one chunk
    /// (`context/2 ..< context - 1`), from its `[context, vocabulary]` logits.
    static func negativeLogLikelihood(_ logits: [Float], input: [Int32], vocabulary: Int) -> (Double, Int) {
        let context = input.count
        var nll = 0.0
        for j in context / 2 ..< context - 1 {
            let row = logits[j * vocabulary ..< (j + 1) * vocabulary]
            let maxLogit = Double(row.max()!)
            var sum = 0.0
            for v in row { sum += exp(Double(v) - maxLogit) }
            let target = Double(row[row.startIndex + Int(input[j + 1])])
            nll += log(sum) + maxLogit - target
        }
        return (nll, context - 1 - context / 2)
    }
}

public enum PerplexityError: Error, CustomStringConvertible, Equatable {
    case tooFewTokens(have: Int, need: Int)
    case badContext(context: Int, capacity: Int)

    public var description: String {
        switch self {
        case let .tooFewTokens(have, need):
            return "the text has \(have) tokens; perplexity with this context needs at least \(need)"
        case let .badContext(context, capacity):
            return "context \(context) must be between 4 and the KV cache capacity \(capacity)"
        }
    }
}
