import TridentKernels

/// One pre-norm transformer block on one tensor-parallel rank:
/// `h = x + attention(norm(x))`, then `x = h + mlp(norm(h))`.
/// Two all-reduces per block (after the attention output and the down projection).
public final class TransformerBlock: Sendable {
    public let attentionNorm: any Normalization
    public let attention: ParallelAttention
    public let mlpNorm: any Normalization
    public let mlp: ParallelMLP

    public init(attentionNorm: any Normalization, attention: ParallelAttention, mlpNorm: any Normalization,
                mlp: ParallelMLP) {
        self.attentionNorm = attentionNorm
        self.attention = attention
        self.mlpNorm = mlpNorm
        self.mlp = mlp
    }

    /// Width of the residual stream.
    public var hiddenSize: Int { attentionNorm.dimension }

    /// Updates the residual stream `x` in place. Every rank of `context.group` must call this
    /// with the same pass, in the same order.
    /// - Parameters:
    ///   - x: `[T, hidden]` contiguous, replicated on every rank.
    ///   - layer: this block's layer in `cache` (its index within the stage).
    public func forward(_ x: MatrixView, pass: PassLayout, cache: KVCache, layer: Int,
                        context: InferenceContext) throws {
        let normed = context.normed.view(x.rows, hiddenSize)    // [T, hidden]
        let sum = context.partial.view(x.rows, hiddenSize)      // [T, hidden]
        // h = x + attention(norm(x))        (x becomes h in place)
        x.add(try attention.forward(attentionNorm.forward(x, into: normed), into: sum, pass: pass, cache: cache,
                                    layer: layer, context: context))
        // x = h + mlp(norm(h))
        x.add(try mlp.forward(mlpNorm.forward(x, into: normed), into: sum, context: context))
    }
}
