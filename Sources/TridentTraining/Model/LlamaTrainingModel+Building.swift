import TridentCollectives
import TridentKernels
import TridentModel

extension LlamaTrainingModel {
    /// Builds this rank's layers, creating each tensor through `make` (in forward order).
    /// Only `stage`'s blocks exist, with the embedding on the first stage and the head on the
    /// last; a tied LM head on a last stage that is not also the first gets its own copy of
    /// `token_embd.weight` (summed with the first stage's by `TiedEmbeddingGroup`).
    static func buildLayers(_ c: ModelConfiguration, plan: ShardingPlan, sharedKVHeads: SharedHeadRows?,
                            stage: TrainingStage,
                            make: (ParameterSpec) throws -> TrainingTensor) throws -> Layers {
        let hidden = c.hiddenSize, hd = c.headDimension
        let q = plan.queryHeads.lowerBound * hd ..< plan.queryHeads.upperBound * hd
        let kv = plan.kvHeads.lowerBound * hd ..< plan.kvHeads.upperBound * hd
        func matrix(_ name: String, _ shape: [Int], rows: Range<Int>? = nil, columns: Range<Int>? = nil,
                    output: Bool = false, perHead: Int? = nil) throws -> TrainingTensor {
            try make(ParameterSpec(name: name, globalShape: shape, rows: rows, columns: columns,
                                   role: .matrix(outputProjection: output), rowsPerKVHead: perHead))
        }
        func bias(_ name: String, _ n: Int, rows: Range<Int>? = nil, perHead: Int? = nil) throws -> TrainingTensor {
            try make(ParameterSpec(name: name, globalShape: [n], rows: rows, role: .bias, rowsPerKVHead: perHead))
        }
        func norm(_ prefix: String) throws -> any Normalization {
            let weight = try make(ParameterSpec(name: prefix + ".weight", globalShape: [hidden], role: .normWeight))
            if c.normalization == .rms { return RMSNorm(training: weight, epsilon: c.rmsNormEpsilon) }
            return LayerNorm(training: weight, bias: try bias(prefix + ".bias", hidden), epsilon: c.rmsNormEpsilon)
        }
        func column(_ name: String, _ out: Int, rows: Range<Int>, hasBias: Bool, perHead: Int? = nil) throws
            -> ColumnParallelLinear {
            let w = try matrix(name + ".weight", [out, hidden], rows: rows, perHead: perHead)
            return ColumnParallelLinear(training: w, bias: hasBias ? try bias(name + ".bias", out, rows: rows, perHead: perHead) : nil)
        }
        func row(_ name: String, _ inputs: Int, columns: Range<Int>, hasBias: Bool) throws -> RowParallelLinear {
            let w = try matrix(name + ".weight", [hidden, inputs], columns: columns, output: true)
            return RowParallelLinear(training: w, bias: hasBias ? try bias(name + ".bias", hidden) : nil)
        }
        let vocabularyRows = plan.vocabularyRows
        func table() throws -> TrainingTensor {
            try matrix("token_embd.weight", [c.vocabularySize, hidden], rows: vocabularyRows)
        }
        let firstTable = stage.isFirst ? try table() : nil
        let embedding = firstTable.map { VocabParallelEmbedding(training: $0, vocabularyRows: vocabularyRows) }
        let positions = c.positionEncoding == .learned && stage.isFirst
            ? PositionEmbedding(training: try matrix("position_embd.weight", [c.contextLength, hidden])) : nil
        var blocks: [TransformerBlock] = []
        for i in stage.blocks {
            let p = "blk.\(i)."
            let attentionNorm = try norm(p + "attn_norm")
            let attention = ParallelAttention(
                query: try column(p + "attn_q", c.queryDimension, rows: q, hasBias: c.attentionBias),
                key: try column(p + "attn_k", c.kvDimension, rows: kv, hasBias: c.attentionBias, perHead: hd),
                value: try column(p + "attn_v", c.kvDimension, rows: kv, hasBias: c.attentionBias, perHead: hd),
                output: try row(p + "attn_output", c.queryDimension, columns: q, hasBias: c.attentionOutputBias),
                layout: plan.attentionLayout(c), ropeTheta: c.positionEncoding == .rope ? c.ropeTheta : nil,
                ropePairing: c.ropePairing, ropeScaling: c.ropeScaling, sharedKVHeads: sharedKVHeads)
            let mlpNorm = try norm(p + "ffn_norm")
            let gate = c.gatedMLP ? try column(p + "ffn_gate", c.intermediateSize, rows: plan.mlpColumns, hasBias: c.mlpBias) : nil
            let mlp = ParallelMLP(gate: gate,
                                  up: try column(p + "ffn_up", c.intermediateSize, rows: plan.mlpColumns, hasBias: c.mlpBias),
                                  down: try row(p + "ffn_down", c.intermediateSize, columns: plan.mlpColumns,
                                                hasBias: c.mlpBias),
                                  activation: c.activation)
            blocks.append(TransformerBlock(attentionNorm: attentionNorm, attention: attention, mlpNorm: mlpNorm, mlp: mlp))
        }
        var head: LMHead? = nil
        if stage.isLast {
            let finalNorm = try norm("output_norm")
            let output = c.tiedEmbeddings ? try firstTable ?? table()
                : try matrix("output.weight", [c.vocabularySize, hidden], rows: vocabularyRows)
            head = LMHead(norm: finalNorm, projection: ColumnParallelLinear(training: output),
                          vocabularyWidths: ShardingPlan.vocabularyWidths(c, tensorParallelSize: plan.tensorParallelSize))
        }
        return Layers(embedding: embedding, positions: positions, blocks: blocks, head: head)
    }

    /// Every tensor rank's plan; whether some KV head is held by more than one rank.
    static func sharedKVHeads(_ c: ModelConfiguration, plan: ShardingPlan) throws -> (SharedHeadRows?, [Int: [Int]]) {
        var holders: [Int: [Int]] = [:]   // KV head -> tensor ranks holding it
        for rank in 0 ..< plan.tensorParallelSize {
            let other = try ShardingPlan(configuration: c, tensorParallelSize: plan.tensorParallelSize, rank: rank)
            for head in other.kvHeads { holders[head, default: []].append(rank) }
        }
        let shared = holders.values.contains { $0.count > 1 }
        let rows = shared ? SharedHeadRows(rowsPerHead: c.headDimension, globalHeads: Array(plan.kvHeads),
                                           totalHeads: c.kvHeadCount) : nil
        return (rows, holders)
    }
}
