import TridentKernels

extension StageModules {
    /// The layers of a Llama stage over weights loaded from a GGUF file (`LlamaWeights.load`).
    /// The layers share the loaded storage (views of the mapping or owned slices; nothing is
    /// converted or copied); tied embeddings give the head the embedding's tensor.
    /// - Precondition: `configuration` is Llama's architecture (RMSNorm, gated SiLU MLP, RoPE,
    ///   no biases), as `ModelConfiguration(gguf:)` makes it.
    public init(llama weights: LlamaWeights, configuration c: ModelConfiguration, plan: ShardingPlan) {
        precondition(c.normalization == .rms && c.gatedMLP && c.activation == .silu && c.positionEncoding == .rope
                     && !c.attentionBias && !c.mlpBias, "GGUF weights hold a Llama architecture only")
        func norm(_ values: [Float]) -> RMSNorm {
            RMSNorm(weight: Tensor(shape: [values.count], values: values), epsilon: c.rmsNormEpsilon)
        }
        let layout = plan.attentionLayout(c)
        let blocks = weights.layers.map { w in
            TransformerBlock(
                attentionNorm: norm(w.attentionNorm),
                attention: ParallelAttention(query: ColumnParallelLinear(weight: Tensor(w.query)),
                                             key: ColumnParallelLinear(weight: Tensor(w.key)),
                                             value: ColumnParallelLinear(weight: Tensor(w.value)),
                                             output: RowParallelLinear(weight: Tensor(w.attentionOutput)),
                                             layout: layout, ropeTheta: c.ropeTheta),
                mlpNorm: norm(w.mlpNorm),
                mlp: ParallelMLP(gate: ColumnParallelLinear(weight: Tensor(w.gate)),
                                 up: ColumnParallelLinear(weight: Tensor(w.up)),
                                 down: RowParallelLinear(weight: Tensor(w.down)), activation: .silu))
        }
        var head: LMHead?
        if let output = weights.output, let outputNorm = weights.outputNorm {
            head = LMHead(norm: norm(outputNorm), projection: ColumnParallelLinear(weight: Tensor(output)),
                          vocabularyWidths: ShardingPlan.vocabularyWidths(c, tensorParallelSize: plan.tensorParallelSize))
        }
        self.init(embedding: weights.embedding.map {
                      VocabParallelEmbedding(weight: Tensor($0), vocabularyRows: plan.vocabularyRows)
                  },
                  blocks: blocks, head: head)
    }
}
