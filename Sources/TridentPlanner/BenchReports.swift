import Foundation

/// Errors raised while reading the JSON a `trident bench` child process printed.
public enum BenchParseError: Error, Equatable, CustomStringConvertible {
    /// No line of the output was a JSON object; `outputTail` is the end of what was printed.
    case noJSONObject(command: String, outputTail: String)
    /// A JSON object was found but lacked a field or had one of the wrong type.
    case malformed(command: String, reason: String)
    /// The all-reduce benchmark reported a wrong result for a buffer of `bytes`.
    case incorrectResult(bytes: Int)
    /// Fewer distinct buffer sizes than needed to fit latency and bandwidth.
    case tooFewSizes(expected: Int, found: Int)

    public var description: String {
        switch self {
        case let .noJSONObject(command, tail):
            return "expected a JSON object from `\(command)`, found none in its output: \(tail)"
        case let .malformed(command, reason):
            return "unexpected JSON from `\(command)`: \(reason)"
        case let .incorrectResult(bytes):
            return "the all-reduce benchmark reported a wrong sum for \(bytes)-byte buffers"
        case let .tooFewSizes(expected, found):
            return "need all-reduce timings for at least \(expected) buffer sizes to fit latency and "
                + "bandwidth, found \(found)"
        }
    }
}

/// Finds and decodes the last line of `output` that is a JSON object.
func decodeLastJSONLine<T: Decodable>(_ type: T.Type, output: String, command: String) throws(BenchParseError) -> T {
    let lines = output.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }
    guard let line = lines.last(where: { $0.hasPrefix("{") && $0.hasSuffix("}") }) else {
        throw .noJSONObject(command: command, outputTail: String(output.suffix(300)))
    }
    do {
        return try JSONDecoder().decode(T.self, from: Data(line.utf8))
    } catch {
        throw .malformed(command: command, reason: "\(error)")
    }
}

/// What `trident bench model --json` prints (one object; extra fields are ignored).
public struct ModelBenchReport: Sendable, Equatable, Decodable {
    /// One rank's statistics.
    public struct Rank: Sendable, Equatable, Decodable {
        public var rank: Int
        public var peakRSSBytes: Double
        /// Share of the rank's time inside collectives.
        public var communicationShare: Double

        enum CodingKeys: String, CodingKey {
            case rank
            case peakRSSBytes = "peak_rss_bytes"
            case communicationShare = "communication_share"
        }
    }

    public var tp: Int
    /// Pipeline stages and data-parallel replicas (1 when the report predates them).
    public var pp: Int
    public var dp: Int
    /// Sequences in flight at once; the rates are aggregates over all of them.
    public var prompts: Int
    public var promptTokens: Int
    public var decodeTokens: Int
    public var prefillTokensPerSecond: Double
    public var decodeTokensPerSecond: Double
    /// Largest peak RSS over the ranks, bytes.
    public var peakRSSBytes: Double
    public var ranks: [Rank]

    enum CodingKeys: String, CodingKey {
        case tp, pp, dp, prompts, ranks
        case promptTokens = "prompt_tokens"
        case decodeTokens = "decode_tokens"
        case prefillTokensPerSecond = "prefill_tokens_per_second"
        case decodeTokensPerSecond = "decode_tokens_per_second"
        case peakRSSBytes = "peak_rss_bytes"
    }

    public init(tp: Int, pp: Int = 1, dp: Int = 1, prompts: Int = 1, promptTokens: Int, decodeTokens: Int,
                prefillTokensPerSecond: Double, decodeTokensPerSecond: Double, peakRSSBytes: Double, ranks: [Rank]) {
        self.tp = tp
        self.pp = pp
        self.dp = dp
        self.prompts = prompts
        self.promptTokens = promptTokens
        self.decodeTokens = decodeTokens
        self.prefillTokensPerSecond = prefillTokensPerSecond
        self.decodeTokensPerSecond = decodeTokensPerSecond
        self.peakRSSBytes = peakRSSBytes
        self.ranks = ranks
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(tp: try c.decode(Int.self, forKey: .tp), pp: try c.decodeIfPresent(Int.self, forKey: .pp) ?? 1,
                  dp: try c.decodeIfPresent(Int.self, forKey: .dp) ?? 1,
                  prompts: try c.decodeIfPresent(Int.self, forKey: .prompts) ?? 1,
                  promptTokens: try c.decode(Int.self, forKey: .promptTokens),
                  decodeTokens: try c.decode(Int.self, forKey: .decodeTokens),
                  prefillTokensPerSecond: try c.decode(Double.self, forKey: .prefillTokensPerSecond),
                  decodeTokensPerSecond: try c.decode(Double.self, forKey: .decodeTokensPerSecond),
                  peakRSSBytes: try c.decode(Double.self, forKey: .peakRSSBytes),
                  ranks: try c.decode([Rank].self, forKey: .ranks))
    }

    /// Decodes the last JSON line of a `bench model --json` run's standard output.
    public static func parse(_ output: String) throws(BenchParseError) -> ModelBenchReport {
        let command = "trident bench model --json"
        let report = try decodeLastJSONLine(ModelBenchReport.self, output: output, command: command)
        guard report.prefillTokensPerSecond > 0, report.decodeTokensPerSecond > 0,
              report.promptTokens > 0, report.decodeTokens > 0, report.prompts > 0 else {
            throw .malformed(command: command, reason: "token counts and rates must be positive, got prefill "
                + "\(report.prefillTokensPerSecond) tok/s, decode \(report.decodeTokensPerSecond) tok/s")
        }
        return report
    }

    /// Seconds of the whole batch: every prompt's prefill then every decode step (the rates
    /// are aggregates over the `prompts` sequences).
    public var requestSeconds: Double {
        Double(prompts * promptTokens) / prefillTokensPerSecond + Double(prompts * decodeTokens) / decodeTokensPerSecond
    }

    /// The run in the planner's terms: headline tokens/s is generated tokens over the whole
    /// batch of requests, prefill included (as `CostEstimate.tokensPerSecond`).
    public var measuredRun: MeasuredRun {
        MeasuredRun(tokensPerSecond: Double(prompts * decodeTokens) / requestSeconds, seconds: requestSeconds,
                    decodeTokensPerSecond: decodeTokensPerSecond, prefillTokensPerSecond: prefillTokensPerSecond,
                    peakMemoryBytes: peakRSSBytes, communicationShare: ranks.map(\.communicationShare).max())
    }
}

/// What `trident bench allreduce --json` prints: `{"results":[{"bytes":..,"seconds":..,...}]}`.
public struct AllReduceBenchReport: Sendable, Equatable, Decodable {
    /// One buffer size's median all-reduce time.
    public struct Result: Sendable, Equatable, Decodable {
        public var bytes: Int
        public var seconds: Double
        public var algorithm: String
        public var correct: Bool

        public init(bytes: Int, seconds: Double, algorithm: String = "unknown", correct: Bool = true) {
            self.bytes = bytes
            self.seconds = seconds
            self.algorithm = algorithm
            self.correct = correct
        }
    }

    public var results: [Result]

    public init(results: [Result]) { self.results = results }

    /// Decodes the last JSON line of a `bench allreduce --json` run's standard output and
    /// checks that every result was correct.
    public static func parse(_ output: String) throws(BenchParseError) -> AllReduceBenchReport {
        let report = try decodeLastJSONLine(AllReduceBenchReport.self, output: output,
                                            command: "trident bench allreduce --json")
        if let wrong = report.results.first(where: { !$0.correct }) { throw .incorrectResult(bytes: wrong.bytes) }
        return report
    }

    /// The alpha-beta link that explains these two-rank timings: a least-squares line
    /// `seconds = latency + bytes / bandwidth` (with two ranks the planner's all-reduce is one
    /// exchange of the whole buffer, recursive doubling's single step, so the line is the
    /// link). A negative intercept (noise) is clamped to zero latency with the line refitted
    /// through the origin; a non-positive slope (noise) keeps the smallest time as latency
    /// and the largest buffer over its time as bandwidth.
    public func fittedLink() throws(BenchParseError) -> Link {
        let points = results.map { (x: Double($0.bytes), y: $0.seconds) }
        let distinct = Set(results.map(\.bytes)).count
        guard distinct >= 2 else { throw .tooFewSizes(expected: 2, found: distinct) }
        let n = Double(points.count)
        let meanX = points.reduce(0) { $0 + $1.x } / n
        let meanY = points.reduce(0) { $0 + $1.y } / n
        let sxx = points.reduce(0) { $0 + ($1.x - meanX) * ($1.x - meanX) }
        let sxy = points.reduce(0) { $0 + ($1.x - meanX) * ($1.y - meanY) }
        let slope = sxy / sxx
        let largest = points.max { $0.x < $1.x }!
        guard slope > 0 else {
            return Link(bandwidth: largest.x / largest.y, latency: points.map(\.y).min()!)
        }
        let intercept = meanY - slope * meanX
        if intercept < 0 {
            let throughOrigin = points.reduce(0) { $0 + $1.x * $1.y } / points.reduce(0) { $0 + $1.x * $1.x }
            return Link(bandwidth: 1 / throughOrigin, latency: 0)
        }
        return Link(bandwidth: 1 / slope, latency: intercept)
    }
}

/// What `trident plan --probe-collectives` prints: the cost of one all-reduce of `bytes`
/// between two ranks that compute for `gapSeconds` between collectives.
public struct CollectiveProbeReport: Sendable, Equatable, Decodable {
    public var secondsPerCollective: Double
    public var gapSeconds: Double
    public var bytes: Int
    public var iterations: Int

    public init(secondsPerCollective: Double, gapSeconds: Double, bytes: Int, iterations: Int) {
        self.secondsPerCollective = secondsPerCollective
        self.gapSeconds = gapSeconds
        self.bytes = bytes
        self.iterations = iterations
    }

    enum CodingKeys: String, CodingKey {
        case bytes, iterations
        case secondsPerCollective = "seconds_per_collective"
        case gapSeconds = "gap_seconds"
    }

    /// Decodes the last JSON line of the probe's output.
    public static func parse(_ output: String) throws(BenchParseError) -> CollectiveProbeReport {
        try decodeLastJSONLine(CollectiveProbeReport.self, output: output, command: "trident plan --probe-collectives")
    }
}
