import TridentKernels
import TridentModel

/// SplitMix64: a small seeded generator, so random weights are the same on every rank and run.
struct SeededRandom {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// `count` floats uniform in `-scale ..< scale`.
    mutating func floats(_ count: Int, scale: Float = 0.5) -> [Float] {
        (0 ..< count).map { _ in (Float(next() >> 40) / Float(1 << 24) * 2 - 1) * scale }
    }
}

/// A norm's full weights (bias only for LayerNorm).
struct NormWeights {
    var weight: [Float]
    var bias: [Float]?
}

/// One block's full (unsharded) float32 weights, row-major `[out, in]`.
struct BlockWeights {
    var attentionNorm: NormWeights, mlpNorm: NormWeights
    var query: [Float], key: [Float], value: [Float], output: [Float]   // [qDim|kvDim, hidden], [hidden, qDim]
    var queryBias: [Float]?, keyBias: [Float]?, valueBias: [Float]?, outputBias: [Float]?
    var gate: [Float]?, up: [Float], down: [Float]                     // [ffn, hidden], [hidden, ffn]
    var gateBias: [Float]?, upBias: [Float]?, downBias: [Float]?
}

/// A whole small model with random float32 weights for any architecture `ModelConfiguration`
/// allows, which builds the layers of any tensor-parallel rank (slicing the full weights as the
/// GGUF loader slices files) and computes reference results in Double (`Reference`).
struct RandomTransformer {
    let c: ModelConfiguration
    var embedding: [Float]       // [vocab, hidden]
    var positions: [Float]?      // [context, hidden] for learned positions
    var blocks: [BlockWeights]
    var finalNorm: NormWeights
    var output: [Float]?         // [vocab, hidden]; nil when tied

    init(_ c: ModelConfiguration, seed: UInt64 = 7) {
        self.c = c
        var random = SeededRandom(seed: seed)
        let h = c.hiddenSize, q = c.queryDimension, kv = c.kvDimension, f = c.intermediateSize
        func norm() -> NormWeights {
            NormWeights(weight: random.floats(h, scale: 0.5).map { 1 + $0 },
                        bias: c.normalization == .layer ? random.floats(h, scale: 0.2) : nil)
        }
        func bias(_ n: Int, _ on: Bool) -> [Float]? { on ? random.floats(n, scale: 0.2) : nil }
        embedding = random.floats(c.vocabularySize * h, scale: 1)
        positions = c.positionEncoding == .learned ? random.floats(c.contextLength * h, scale: 0.5) : nil
        blocks = (0 ..< c.layerCount).map { _ in
            BlockWeights(attentionNorm: norm(), mlpNorm: norm(),
                         query: random.floats(q * h), key: random.floats(kv * h), value: random.floats(kv * h),
                         output: random.floats(h * q),
                         queryBias: bias(q, c.attentionBias), keyBias: bias(kv, c.attentionBias),
                         valueBias: bias(kv, c.attentionBias), outputBias: bias(h, c.attentionBias),
                         gate: c.gatedMLP ? random.floats(f * h) : nil, up: random.floats(f * h), down: random.floats(h * f),
                         gateBias: bias(f, c.mlpBias && c.gatedMLP), upBias: bias(f, c.mlpBias), downBias: bias(h, c.mlpBias))
        }
        finalNorm = norm()
        output = c.tiedEmbeddings ? nil : random.floats(c.vocabularySize * h)
    }

    // MARK: - Slicing (as the loader does)

    /// Rows `range` of a row-major `[rows, columns]` matrix.
    static func rows(_ m: [Float], columns: Int, _ range: Range<Int>) -> [Float] {
        Array(m[range.lowerBound * columns ..< range.upperBound * columns])
    }

    /// Columns `range` of a row-major `[rows, columns]` matrix.
    static func columns(_ m: [Float], columns: Int, _ range: Range<Int>) -> [Float] {
        stride(from: 0, to: m.count, by: columns).flatMap { m[$0 + range.lowerBound ..< $0 + range.upperBound] }
    }

    static func matrix(_ values: [Float], rows: Int, dtype: DType = .f32) -> Tensor {
        let columns = values.count / max(rows, 1)
        return Tensor(OwnedWeights(values: values, rows: rows, columns: columns, dtype: dtype).matrix)
    }

    static func vector(_ values: [Float]?) -> Tensor? { values.map { Tensor(shape: [$0.count], values: $0) } }

    // MARK: - Layers of one rank

    func norm(_ n: NormWeights) -> any Normalization {
        guard let bias = n.bias else { return RMSNorm(weight: Self.vector(n.weight)!, epsilon: c.rmsNormEpsilon) }
        return LayerNorm(weight: Self.vector(n.weight)!, bias: Self.vector(bias)!, epsilon: c.rmsNormEpsilon)
    }

    /// Column-parallel rows `range` of `[outputs, hidden]` weights (and bias).
    static func column(_ w: [Float], _ b: [Float]?, inputs: Int, _ range: Range<Int>) -> ColumnParallelLinear {
        ColumnParallelLinear(weight: matrix(rows(w, columns: inputs, range), rows: range.count),
                             bias: vector(b.map { Array($0[range]) }))
    }

    /// Row-parallel columns `range` of `[outputs, inputs]` weights; the bias is whole.
    static func row(_ w: [Float], _ b: [Float]?, outputs: Int, inputs: Int, _ range: Range<Int>) -> RowParallelLinear {
        RowParallelLinear(weight: matrix(columns(w, columns: inputs, range), rows: outputs), bias: vector(b))
    }

    func attention(_ b: BlockWeights, plan: ShardingPlan) -> ParallelAttention {
        let hd = c.headDimension, h = c.hiddenSize
        let q = plan.queryHeads.lowerBound * hd ..< plan.queryHeads.upperBound * hd
        let kv = plan.kvHeads.lowerBound * hd ..< plan.kvHeads.upperBound * hd
        return ParallelAttention(query: Self.column(b.query, b.queryBias, inputs: h, q),
                                 key: Self.column(b.key, b.keyBias, inputs: h, kv),
                                 value: Self.column(b.value, b.valueBias, inputs: h, kv),
                                 output: Self.row(b.output, b.outputBias, outputs: h, inputs: c.queryDimension, q),
                                 layout: plan.attentionLayout(c),
                                 ropeTheta: c.positionEncoding == .rope ? c.ropeTheta : nil)
    }

    func mlp(_ b: BlockWeights, plan: ShardingPlan) -> ParallelMLP {
        let h = c.hiddenSize, f = plan.mlpColumns
        return ParallelMLP(gate: b.gate.map { Self.column($0, b.gateBias, inputs: h, f) },
                           up: Self.column(b.up, b.upBias, inputs: h, f),
                           down: Self.row(b.down, b.downBias, outputs: h, inputs: c.intermediateSize, f),
                           activation: c.activation)
    }

    func block(_ i: Int, plan: ShardingPlan) -> TransformerBlock {
        TransformerBlock(attentionNorm: norm(blocks[i].attentionNorm), attention: attention(blocks[i], plan: plan),
                         mlpNorm: norm(blocks[i].mlpNorm), mlp: mlp(blocks[i], plan: plan))
    }

    /// The layers of `plan`'s rank for blocks `layers`, with the embedding and head as asked.
    func modules(plan: ShardingPlan, layers: Range<Int>? = nil, first: Bool = true, last: Bool = true) -> StageModules {
        let h = c.hiddenSize, vocab = plan.vocabularyRows
        let table = Self.matrix(Self.rows(embedding, columns: h, vocab), rows: vocab.count)
        let headWeight = output.map { Self.matrix(Self.rows($0, columns: h, vocab), rows: vocab.count) } ?? table
        return StageModules(
            embedding: first ? VocabParallelEmbedding(weight: table, vocabularyRows: vocab) : nil,
            positionEmbedding: first ? positions.map { PositionEmbedding(weight: Self.matrix($0, rows: c.contextLength)) } : nil,
            blocks: (layers ?? 0 ..< c.layerCount).map { block($0, plan: plan) },
            head: last ? LMHead(norm: norm(finalNorm), projection: ColumnParallelLinear(weight: headWeight),
                                vocabularyWidths: ShardingPlan.vocabularyWidths(c, tensorParallelSize: plan.tensorParallelSize))
                       : nil)
    }
}
