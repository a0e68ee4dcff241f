import TridentKernels

extension LlamaWeights {
    /// Reads blocks `layers` (sliced by `plan`), and the embedding and head when asked, by
    /// role through `loader`; shapes come from `c` and are checked against the file.
    static func load(_ loader: WeightLoader, configuration c: ModelConfiguration, plan: ShardingPlan,
                     layers: Range<Int>, includeEmbedding: Bool, includeHead: Bool) throws -> LlamaWeights {
        let blocks = try layers.map { try layer($0, loader: loader, configuration: c, plan: plan) }
        let d = c.hiddenSize, vocab = plan.vocabularyRows
        var embedding: WeightMatrix?
        if includeEmbedding || (includeHead && c.tiedEmbeddings) {
            embedding = try loader.matrix(.tokenEmbedding, shape: (c.vocabularySize, d), rows: vocab)
        }
        var weights = LlamaWeights(embedding: includeEmbedding ? embedding : nil, layers: blocks,
                                   outputNorm: nil, output: nil)
        if includeEmbedding && c.positionEncoding == .learned {
            let table = try loader.matrix(.positionEmbedding, shape: (c.contextLength, d))   // [positions, hidden]
            weights.positionEmbedding = [Float](unsafeUninitializedCapacity: table.rows * d) { out, count in
                for r in 0 ..< table.rows { table.dequantizeRow(r, into: out.baseAddress! + r * d) }
                count = table.rows * d
            }
        }
        if includeHead {
            weights.outputNorm = try loader.vector(.outputNorm, count: d)
            if c.normalization == .layer { weights.outputNormBias = try loader.vector(.outputNormBias, count: d) }
            weights.output = c.tiedEmbeddings ? embedding
                : try loader.matrix(.output, shape: (c.vocabularySize, d), rows: vocab)
        }
        return weights
    }

    /// This rank's slices of block `i`: its query heads, the KV heads they read, its MLP columns.
    private static func layer(_ i: Int, loader: WeightLoader, configuration c: ModelConfiguration,
                              plan: ShardingPlan) throws -> LlamaLayerWeights {
        func t(_ part: LayerTensor) -> ModelTensor { .layer(i, part) }
        let d = c.hiddenSize, hd = c.headDimension, ffn = plan.mlpColumns
        let q = plan.queryHeads.lowerBound * hd ..< plan.queryHeads.upperBound * hd
        let kv = plan.kvHeads.lowerBound * hd ..< plan.kvHeads.upperBound * hd
        let layerNorm = c.normalization == .layer
        let p = try projections(i, loader: loader, configuration: c, query: q, kv: kv)
        var w = LlamaLayerWeights(
            attentionNorm: try loader.vector(t(.attentionNorm), count: d),
            query: p.query, key: p.key, value: p.value,
            attentionOutput: try loader.matrix(t(.attentionOutput), shape: (d, c.queryDimension), columns: q),
            mlpNorm: try loader.vector(t(.mlpNorm), count: d),
            gate: c.gatedMLP ? try loader.matrix(t(.gate), shape: (c.intermediateSize, d), rows: ffn) : nil,
            up: try loader.matrix(t(.up), shape: (c.intermediateSize, d), rows: ffn),
            down: try loader.matrix(t(.down), shape: (d, c.intermediateSize), columns: ffn))
        (w.queryBias, w.keyBias, w.valueBias) = (p.queryBias, p.keyBias, p.valueBias)
        if layerNorm {
            w.attentionNormBias = try loader.vector(t(.attentionNormBias), count: d)
            w.mlpNormBias = try loader.vector(t(.mlpNormBias), count: d)
        }
        if c.attentionOutputBias { w.attentionOutputBias = try loader.vector(t(.attentionOutputBias), count: d) }
        if c.mlpBias {
            if c.gatedMLP { w.gateBias = try loader.vector(t(.gateBias), count: c.intermediateSize, range: ffn) }
            w.upBias = try loader.vector(t(.upBias), count: c.intermediateSize, range: ffn)
            w.downBias = try loader.vector(t(.downBias), count: d)
        }
        return w
    }

    /// Block `i`'s q, k and v slices (rows `query` of q, `kv` of k and v) and their biases, from
    /// separate matrices or from one fused `[q | k | v]` matrix (GPT-2), whose parts are row ranges.
    private static func projections(_ i: Int, loader: WeightLoader, configuration c: ModelConfiguration,
                                    query q: Range<Int>, kv: Range<Int>) throws
        -> (query: WeightMatrix, key: WeightMatrix, value: WeightMatrix,
            queryBias: [Float]?, keyBias: [Float]?, valueBias: [Float]?) {
        func t(_ part: LayerTensor) -> ModelTensor { .layer(i, part) }
        let d = c.hiddenSize
        guard loader.contains(t(.fusedQKV)) else {
            let biases = c.attentionBias
            return (try loader.matrix(t(.query), shape: (c.queryDimension, d), rows: q),
                    try loader.matrix(t(.key), shape: (c.kvDimension, d), rows: kv),
                    try loader.matrix(t(.value), shape: (c.kvDimension, d), rows: kv),
                    biases ? try loader.vector(t(.queryBias), count: c.queryDimension, range: q) : nil,
                    biases ? try loader.vector(t(.keyBias), count: c.kvDimension, range: kv) : nil,
                    biases ? try loader.vector(t(.valueBias), count: c.kvDimension, range: kv) : nil)
        }
        let shape = (c.queryDimension + 2 * c.kvDimension, d)
        let k = shifted(kv, by: c.queryDimension), v = shifted(kv, by: c.queryDimension + c.kvDimension)
        let all = c.attentionBias ? try loader.vector(t(.fusedQKVBias), count: shape.0) : nil
        return (try loader.matrix(t(.fusedQKV), shape: shape, rows: q),
                try loader.matrix(t(.fusedQKV), shape: shape, rows: k),
                try loader.matrix(t(.fusedQKV), shape: shape, rows: v),
                all.map { Array($0[q]) }, all.map { Array($0[k]) }, all.map { Array($0[v]) })
    }

    private static func shifted(_ range: Range<Int>, by offset: Int) -> Range<Int> {
        range.lowerBound + offset ..< range.upperBound + offset
    }
}
