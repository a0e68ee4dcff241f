import Foundation

/// One measured training run: the summary line `trident train --json` and `trident bench
/// train --json` print last (extra fields are ignored), in the planner's terms.
public struct TrainingMeasurement: Sendable, Equatable, Decodable {
    /// One rank of the run.
    public struct Rank: Sendable, Equatable, Decodable {
        public var rank: Int
        public var peakRSSBytes: Double
        /// Seconds this rank waited for communication (tensor collectives, unhidden buckets).
        public var exposedCommunicationSeconds: Double?
        /// The rank's measured window (the timed steps).
        public var windowSeconds: Double?
        /// The most saved activations the rank held at once (absent in old lines).
        public var peakActivationBytes: Double?
        public var peakActivationMicroBatches: Int?

        enum CodingKeys: String, CodingKey {
            case rank
            case peakRSSBytes = "peak_rss_bytes"
            case exposedCommunicationSeconds = "exposed_communication_seconds"
            case windowSeconds = "window_seconds"
            case peakActivationBytes = "peak_activation_bytes"
            case peakActivationMicroBatches = "peak_activation_micro_batches"
        }
    }

    public var tp: Int
    public var pp: Int
    public var dp: Int
    public var seqLen: Int
    public var microBatch: Int
    public var accumulate: Int
    public var recompute: Bool
    /// ZeRO stage (0 when the line has none).
    public var zero: Int
    /// The pipeline schedule (`gpipe`, `1f1b`, `interleaved`; nil without --pp).
    public var schedule: String?
    public var steps: Int
    public var tokens: Int
    public var seconds: Double
    public var tokensPerSecond: Double
    public var ranks: [Rank]

    enum CodingKeys: String, CodingKey {
        case tp, pp, dp, accumulate, recompute, zero, schedule, steps, tokens, seconds, ranks
        case seqLen = "seq_len"
        case microBatch = "micro_batch"
        case tokensPerSecond = "tokens_per_second"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tp = try c.decode(Int.self, forKey: .tp)
        pp = try c.decode(Int.self, forKey: .pp)
        dp = try c.decode(Int.self, forKey: .dp)
        seqLen = try c.decode(Int.self, forKey: .seqLen)
        microBatch = try c.decode(Int.self, forKey: .microBatch)
        accumulate = try c.decode(Int.self, forKey: .accumulate)
        recompute = try c.decodeIfPresent(Bool.self, forKey: .recompute) ?? false
        zero = try c.decodeIfPresent(Int.self, forKey: .zero) ?? 0
        schedule = try c.decodeIfPresent(String.self, forKey: .schedule)
        steps = try c.decode(Int.self, forKey: .steps)
        tokens = try c.decode(Int.self, forKey: .tokens)
        seconds = try c.decode(Double.self, forKey: .seconds)
        tokensPerSecond = try c.decode(Double.self, forKey: .tokensPerSecond)
        ranks = try c.decode([Rank].self, forKey: .ranks)
    }

    /// Every summary line of `text` (the output of one or more `trident train --json` or
    /// `bench train --json` runs, one JSON object per line). Lines that are not JSON objects
    /// with `"ranks"` (a train run's per-step lines, log text) are skipped.
    /// - Throws: `BenchParseError.noJSONObject` when there is no summary line,
    ///   `.malformed` when one lacks the layout fields or holds values out of range.
    public static func parse(_ text: String, source: String) throws(BenchParseError) -> [TrainingMeasurement] {
        let command = "trident bench train --json (\(source))"
        var found: [TrainingMeasurement] = []
        for line in text.split(whereSeparator: \.isNewline) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed.hasPrefix("{"), trimmed.hasSuffix("}"),
                  let object = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [String: Any],
                  object["ranks"] != nil else { continue }
            let measurement: TrainingMeasurement
            do {
                measurement = try JSONDecoder().decode(TrainingMeasurement.self, from: Data(trimmed.utf8))
            } catch {
                throw .malformed(command: command, reason: "a summary line without the layout fields of a current "
                    + "`bench train --json` (tp, pp, dp, seq_len, micro_batch, accumulate): \(error)")
            }
            if let reason = measurement.invalidReason { throw .malformed(command: command, reason: reason) }
            found.append(measurement)
        }
        guard !found.isEmpty else { throw .noJSONObject(command: command, outputTail: String(text.suffix(300))) }
        return found
    }

    /// Why the values cannot describe a run, or nil.
    var invalidReason: String? {
        for (name, value) in [("tp", tp), ("pp", pp), ("dp", dp), ("seq_len", seqLen), ("micro_batch", microBatch),
                              ("accumulate", accumulate), ("steps", steps)] where value < 1 || value > 1 << 24 {
            return "\(name) must be in 1...\(1 << 24), got \(value)"
        }
        guard zero == 0 || zero == 1 else { return "zero must be 0 or 1, got \(zero)" }
        guard tokensPerSecond.isFinite, tokensPerSecond > 0, seconds.isFinite, seconds > 0 else {
            return "tokens_per_second and seconds must be positive, got \(tokensPerSecond) and \(seconds)"
        }
        guard ranks.count == tp * pp * dp else { return "\(ranks.count) ranks for tp \(tp) x pp \(pp) x dp \(dp)" }
        return nil
    }

    /// The measured grid.
    public var configuration: ParallelConfiguration {
        ParallelConfiguration(tensor: tp, pipeline: pp, data: dp)
    }

    /// The measured workload as trident runs it (float32 weights, gradients and moments).
    public var workload: TrainingWorkload {
        .trident(globalBatchSize: microBatch * accumulate * dp, microBatchSize: microBatch, sequenceLength: seqLen,
                 shardOptimizerStates: zero == 1, recomputeActivations: recompute)
    }

    /// The most saved activation bytes any rank held (nil when the line predates them).
    public var peakActivationBytes: Double? { ranks.compactMap(\.peakActivationBytes).max() }

    /// The run as `MeasuredRun`: training tokens/s, seconds per step, the heaviest rank's peak
    /// RSS, and the largest share of a rank's window spent waiting for communication.
    public var measuredRun: MeasuredRun {
        let shares = ranks.compactMap { r -> Double? in
            guard let exposed = r.exposedCommunicationSeconds, let window = r.windowSeconds, window > 0 else { return nil }
            return exposed / window
        }
        return MeasuredRun(tokensPerSecond: tokensPerSecond, seconds: seconds / Double(max(steps, 1)),
                           peakMemoryBytes: ranks.map(\.peakRSSBytes).max(), communicationShare: shares.max())
    }
}
