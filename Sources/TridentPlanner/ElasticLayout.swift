/// The layout of a training run whose world size is set by an elastic launcher
/// (`trident train --tp/--pp/--dp auto`): a pure function of the request, the world size and
/// the model, so that every rank of a restarted job picks the same one.
///
/// Rules, in order:
/// 1. Keep every explicit value when the layout still fits: the auto axes share what is left of
///    WORLD_SIZE, data parallelism first, then tensor, then pipeline
///    (`--tp 2 --dp auto` on 4 ranks: TP 2 x DP 2; on 2 ranks: TP 2 x DP 1).
/// 2. Otherwise data parallelism fills the world (dp = world / (tp x pp)) with the largest
///    explicit tp, then pp, that still divide it (no larger than asked), auto axes as small as
///    possible (`--tp 2 --dp auto` on 1 rank: TP 1; on 3 ranks: TP 1 x DP 3).
///
/// Always: tp at most the attention heads (any TP from 1 to the head count works), pp at most
/// the layers, and micro-batch x dp divides `--global-batch` when one is given.
public enum ElasticLayout {
    /// One axis of the request: a number, or nil for `auto`.
    public struct Request: Sendable, Equatable {
        public var tensor: Int?
        public var pipeline: Int?
        public var data: Int?
        public init(tensor: Int?, pipeline: Int?, data: Int?) {
            self.tensor = tensor
            self.pipeline = pipeline
            self.data = data
        }
    }

    /// The chosen layout and a one-line reason.
    public struct Choice: Sendable, Equatable {
        public var tensor: Int
        public var pipeline: Int
        public var data: Int
        public var reason: String
    }

    /// The model and batch limits a layout must respect.
    public struct Limits: Sendable, Equatable {
        public var heads: Int
        public var layers: Int
        public var microBatch: Int
        public var globalBatch: Int?
        public init(heads: Int, layers: Int, microBatch: Int, globalBatch: Int?) {
            self.heads = heads
            self.layers = layers
            self.microBatch = microBatch
            self.globalBatch = globalBatch
        }
    }

    /// No layout fits; `description` says what was asked and why.
    public struct Unfit: Error, CustomStringConvertible, Equatable {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// The layout for `world` ranks. Throws `Unfit` when no layout fits
    /// (a global batch that micro-batch x dp cannot divide for any allowed dp).
    public static func choose(_ request: Request, world: Int, limits: Limits) throws -> Choice {
        guard world >= 1, limits.heads >= 1, limits.layers >= 1, limits.microBatch >= 1 else {
            throw Unfit("elastic layout: world \(world), heads \(limits.heads), layers \(limits.layers), micro-batch \(limits.microBatch) must all be >= 1")
        }
        let all = candidates(world: world, limits: limits)
        let asked = describe(request)
        let kept = all.filter { c in
            request.tensor.map { $0 == c.t } ?? true && request.pipeline.map { $0 == c.p } ?? true
                && request.data.map { $0 == c.d } ?? true
        }
        if let best = kept.max(by: { ($0.d, $0.t) < ($1.d, $1.t) }) {
            return Choice(tensor: best.t, pipeline: best.p, data: best.d,
                          reason: "\(asked) on WORLD_SIZE \(world): the explicit values fit, auto axes take the rest")
        }
        let shrunk = all.filter { c in
            request.tensor.map { c.t <= $0 } ?? true && request.pipeline.map { c.p <= $0 } ?? true
        }
        let key = { (c: (t: Int, p: Int, d: Int)) in
            (request.tensor == nil ? -c.t : c.t, request.pipeline == nil ? -c.p : c.p)
        }
        guard let best = shrunk.max(by: { key($0) < key($1) }) else {
            let batch = limits.globalBatch.map { " with --global-batch \($0) and --micro-batch \(limits.microBatch)" } ?? ""
            throw Unfit("no layout of \(asked) fits WORLD_SIZE \(world)\(batch) (tp <= \(limits.heads) heads, pp <= \(limits.layers) layers)")
        }
        return Choice(tensor: best.t, pipeline: best.p, data: best.d,
                      reason: "\(asked) does not fit WORLD_SIZE \(world)\(whyNot(request, world: world, limits: limits)): data parallelism fills the world, tp/pp shrunk to what divides it")
    }

    /// Every (tp, pp, dp) with tp x pp x dp = world within the limits.
    static func candidates(world: Int, limits: Limits) -> [(t: Int, p: Int, d: Int)] {
        var result: [(t: Int, p: Int, d: Int)] = []
        for t in 1...min(world, limits.heads) where world % t == 0 {
            for p in 1...min(world / t, limits.layers) where (world / t) % p == 0 {
                let d = world / (t * p)
                if let g = limits.globalBatch, g % (limits.microBatch * d) != 0 { continue }
                result.append((t, p, d))
            }
        }
        return result
    }

    /// `--tp 2 --pp auto --dp auto`.
    static func describe(_ request: Request) -> String {
        func text(_ value: Int?) -> String { value.map(String.init) ?? "auto" }
        return "--tp \(text(request.tensor)) --pp \(text(request.pipeline)) --dp \(text(request.data))"
    }

    private static func whyNot(_ request: Request, world: Int, limits: Limits) -> String {
        let product = (request.tensor ?? 1) * (request.pipeline ?? 1) * (request.data ?? 1)
        if world % product != 0 { return " (explicit product \(product) does not divide it)" }
        if let t = request.tensor, t > limits.heads { return " (--tp \(t) is more than the \(limits.heads) heads)" }
        if let p = request.pipeline, p > limits.layers { return " (--pp \(p) is more than the \(limits.layers) layers)" }
        if let g = limits.globalBatch { return " (with --global-batch \(g), --micro-batch \(limits.microBatch))" }
        return ""
    }
}
