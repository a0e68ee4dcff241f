import Foundation

/// Chooses tokens from logits: greedy, or temperature sampling after repetition penalty,
/// top-k, top-p and min-p filtering (applied in that order, as llama.cpp does).
public struct Sampler: Sendable {
    public let parameters: SamplingParameters
    private var generator: SeededGenerator

    public init(_ parameters: SamplingParameters) {
        self.parameters = parameters
        self.generator = SeededGenerator(seed: parameters.seed)
    }

    /// Picks the next token.
    /// - Parameters:
    ///   - logits: `[vocabularySize]` raw logits of the last position.
    ///   - history: tokens generated or prompted so far (for the repetition penalty).
    public mutating func sample(logits: [Float], history: [Int32]) -> Int32 {
        var adjusted = logits
        applyRepetitionPenalty(&adjusted, history: history)
        if parameters.isGreedy { return Sampler.argmax(adjusted) }
        var candidates = Sampler.sortedCandidates(adjusted, limit: parameters.topK)
        // Probabilities at temperature 1 decide top-p and min-p, as in llama.cpp's chain.
        var probabilities = Sampler.softmax(candidates.map { $0.logit })
        var keep = candidates.count
        if parameters.topP < 1 {
            var mass: Float = 0
            for (i, p) in probabilities.enumerated() {
                mass += p
                if mass >= parameters.topP { keep = i + 1; break }
            }
        }
        if parameters.minP > 0, let top = probabilities.first {
            let threshold = top * parameters.minP
            keep = min(keep, max(1, probabilities.prefix(keep).prefix { $0 >= threshold }.count))
        }
        candidates.removeSubrange(keep...)
        probabilities = Sampler.softmax(candidates.map { $0.logit }, temperature: parameters.temperature)
        let u = Float(generator.nextUnitFloat())
        var cumulative: Float = 0
        for (i, p) in probabilities.enumerated() {
            cumulative += p
            if u < cumulative { return candidates[i].id }
        }
        return candidates[candidates.count - 1].id
    }

    private func applyRepetitionPenalty(_ logits: inout [Float], history: [Int32]) {
        let penalty = parameters.repetitionPenalty
        guard penalty != 1, !history.isEmpty else { return }
        var seen = Set<Int32>()
        for id in history.suffix(parameters.repetitionWindow) where seen.insert(id).inserted {
            let i = Int(id)
            guard i >= 0 && i < logits.count else { continue }
            logits[i] = logits[i] > 0 ? logits[i] / penalty : logits[i] * penalty
        }
    }

    /// Index of the largest value; ties go to the lowest index.
    public static func argmax(_ values: [Float]) -> Int32 {
        var best = 0
        var bestValue = -Float.infinity
        for (i, v) in values.enumerated() where v > bestValue {
            best = i
            bestValue = v
        }
        return Int32(best)
    }

    /// Candidates sorted by logit, descending (ties by id ascending); at most `limit`
    /// of them when `limit > 0`.
    static func sortedCandidates(_ logits: [Float], limit: Int) -> [(id: Int32, logit: Float)] {
        var all = logits.enumerated().map { (id: Int32($0.offset), logit: $0.element) }
        let order: ((id: Int32, logit: Float), (id: Int32, logit: Float)) -> Bool = {
            $0.logit != $1.logit ? $0.logit > $1.logit : $0.id < $1.id
        }
        if limit > 0 && limit < all.count {
            // Partial selection: keep a running threshold so most entries are skipped cheaply.
            var top = Array(all.prefix(limit)).sorted(by: order)
            for c in all.dropFirst(limit) where order(c, top[limit - 1]) {
                var i = limit - 1
                while i > 0 && order(c, top[i - 1]) { i -= 1 }
                top.insert(c, at: i)
                top.removeLast()
            }
            return top
        }
        all.sort(by: order)
        return all
    }

    /// Numerically stable softmax of `logits / temperature`, computed as
    /// `exp((logit - max) / temperature)`: every exponent is <= 0, so no temperature, however
    /// small (down to the least subnormal), overflows. When it is so small that every gap
    /// underflows, the largest logit gets all the mass (greedy); exact ties share it.
    /// - Parameter temperature: > 0 (infinity gives the uniform distribution).
    static func softmax(_ logits: [Float], temperature: Float = 1) -> [Float] {
        guard let maxLogit = logits.max() else { return [] }
        let t = Double(temperature)
        var out = logits.map { Float(exp((Double($0) - Double(maxLogit)) / t)) }
        let sum = out.reduce(0, +)  // >= 1: the largest logit contributes exp(0)
        for i in out.indices { out[i] /= sum }
        return out
    }

    /// The `k` most likely tokens with their log-probabilities under the unmodified
    /// distribution `softmax(logits)` (as OpenAI's `top_logprobs`).
    public static func topLogProbabilities(_ logits: [Float], k: Int) -> [(id: Int32, logProbability: Float)] {
        guard k > 0, let maxLogit = logits.max() else { return [] }
        var sum: Double = 0
        for v in logits { sum += Double(expf(v - maxLogit)) }
        let logZ = Float(log(sum)) + maxLogit
        return sortedCandidates(logits, limit: k).map { ($0.id, $0.logit - logZ) }
    }
}

extension Sampler {
    /// `log softmax(logits)[id]`: the log-probability of `id` under the unmodified distribution.
    public static func logProbability(of id: Int32, in logits: [Float]) -> Float {
        guard let maxLogit = logits.max(), Int(id) >= 0, Int(id) < logits.count else { return -.infinity }
        var sum: Double = 0
        for v in logits { sum += Double(expf(v - maxLogit)) }
        return logits[Int(id)] - (Float(log(sum)) + maxLogit)
    }
}
