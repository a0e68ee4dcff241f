import TridentKernels

extension StageModules {
    /// The layers of a stage over weights loaded from a model file (`LlamaWeights.load`), for
    /// any architecture `ModelConfiguration` describes: RMSNorm or LayerNorm, gated or plain
    /// MLP, biases, RoPE (either pairing) or learned positions. The layers share the loaded
    /// storage (views of the mapping or owned slices; nothing is converted or copied); tied
    /// embeddings give the head the embedding's tensor.
    public init(llama weights: LlamaWeights, configuration c: ModelConfiguration, plan: ShardingPlan) {
        func vector(_ values: [Float]) -> Tensor { Tensor(shape: [values.count], values: values) }
        func norm(_ weight: [Float], _ bias: [Float]?) -> any Normalization {
            if c.normalization == .layer, let bias {
                return LayerNorm(weight: vector(weight), bias: vector(bias), epsilon: c.rmsNormEpsilon)
            }
            precondition(c.normalization == .rms, "LayerNorm without its bias")
            return RMSNorm(weight: vector(weight), epsilon: c.rmsNormEpsilon)
        }
        let layout = plan.attentionLayout(c)
        let blocks = weights.layers.map { w in
            TransformerBlock(
                attentionNorm: norm(w.attentionNorm, w.attentionNormBias),
                attention: ParallelAttention(
                    query: ColumnParallelLinear(weight: Tensor(w.query), bias: w.queryBias.map(vector)),
                    key: ColumnParallelLinear(weight: Tensor(w.key), bias: w.keyBias.map(vector)),
                    value: ColumnParallelLinear(weight: Tensor(w.value), bias: w.valueBias.map(vector)),
                    output: RowParallelLinear(weight: Tensor(w.attentionOutput), bias: w.attentionOutputBias.map(vector)),
                    layout: layout, ropeTheta: c.positionEncoding == .rope ? c.ropeTheta : nil,
                    ropePairing: c.ropePairing, ropeScaling: c.ropeScaling),
                mlpNorm: norm(w.mlpNorm, w.mlpNormBias),
                mlp: ParallelMLP(gate: w.gate.map { ColumnParallelLinear(weight: Tensor($0), bias: w.gateBias.map(vector)) },
                                 up: ColumnParallelLinear(weight: Tensor(w.up), bias: w.upBias.map(vector)),
                                 down: RowParallelLinear(weight: Tensor(w.down), bias: w.downBias.map(vector)),
                                 activation: c.activation))
        }
        var head: LMHead?
        if let output = weights.output, let outputNorm = weights.outputNorm {
            head = LMHead(norm: norm(outputNorm, weights.outputNormBias),
                          projection: ColumnParallelLinear(weight: Tensor(output)),
                          vocabularyWidths: ShardingPlan.vocabularyWidths(c, tensorParallelSize: plan.tensorParallelSize))
        }
        let positions = weights.embedding == nil ? nil : weights.positionEmbedding.map {
            PositionEmbedding(weight: Tensor(shape: [c.contextLength, c.hiddenSize], values: $0))
        }
        self.init(embedding: weights.embedding.map {
                      VocabParallelEmbedding(weight: Tensor($0), vocabularyRows: plan.vocabularyRows)
                  },
                  positionEmbedding: positions, blocks: blocks, head: head)
    }
}
