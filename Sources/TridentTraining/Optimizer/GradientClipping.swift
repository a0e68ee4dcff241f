import TridentCollectives
import TridentKernels

/// How a gradient buffer is held across the tensor group.
public enum GradientSharing: Sendable, Equatable {
    /// Each rank holds its own slice (column/row-parallel weights, vocabulary shards): counted on every rank.
    case sharded
    /// Every rank of the tensor group holds the same values (norm weights, row-parallel
    /// biases, duplicated KV heads after their all-reduce): counted once, on tensor rank 0.
    case replicated
    /// Held by several but not all tensor ranks (the projection rows of a KV head that
    /// straddles two ranks, after `SharedKVHeadGradients.sum`): counted only where `owner` is
    /// true; pass true on the lowest tensor rank that holds it.
    case duplicated(owner: Bool)

    /// Whether this rank adds the buffer to the global sum of squares.
    func counted(tensorRank: Int) -> Bool {
        switch self {
        case .sharded: return true
        case .replicated: return tensorRank == 0
        case .duplicated(let owner): return owner
        }
    }
}

/// One gradient buffer for the global norm: `[count]` f32.
public struct TaggedGradient: @unchecked Sendable {
    public var values: UnsafeMutableBufferPointer<Float>
    public var sharing: GradientSharing

    public init(_ values: UnsafeMutableBufferPointer<Float>, sharing: GradientSharing) {
        self.values = values
        self.sharing = sharing
    }
}

/// Global gradient-norm clipping as `torch.nn.utils.clip_grad_norm_` over the whole model,
/// with Megatron's rule for model-parallel ranks: every parameter element counted exactly once.
public enum GradientClipping {
    /// `sqrt(Σ g²)` over the whole model. Every rank of `tensorGroup` and of each of
    /// `otherGroups` (the pipeline group; not the data group, whose replicas hold equal
    /// gradients after their all-reduce) must call this, in the same order.
    ///
    /// Replicated buffers count only where `tensorGroup.rank == 0`, duplicated ones on their owner. The sum of squares is
    /// accumulated in Double and crosses the groups as Doubles (gathered, then added in rank order
    /// on every rank), so the norm hardly depends on how the gradients are cut among ranks.
    public static func globalNorm(_ gradients: [TaggedGradient], tensorGroup: any Communicator,
                                  otherGroups: [any Communicator] = []) throws -> Double {
        var local: Double = 0
        for gradient in gradients where gradient.sharing.counted(tensorRank: tensorGroup.rank) {
            local += sumOfSquares(UnsafeBufferPointer(gradient.values))
        }
        var total = local
        for group in [tensorGroup] + otherGroups where group.size > 1 {
            // Every rank adds the same Doubles in rank order (a float all-reduce would round the sum to 24 bits).
            total = try group.allGather([total]).reduce(0, +)
        }
        return total.squareRoot()
    }

    /// Scales every buffer by `maxNorm / (norm + 1e-6)` when that is below 1 (PyTorch's
    /// `clip_coef`, clamped); returns the factor applied (1 when nothing changed).
    /// `maxNorm <= 0` disables clipping.
    @discardableResult
    public static func clip(_ gradients: [TaggedGradient], norm: Double, maxNorm: Double) -> Float {
        guard maxNorm > 0 else { return 1 }
        let coefficient = maxNorm / (norm + 1e-6)
        guard coefficient < 1 else { return 1 }
        let factor = Float(coefficient)
        for gradient in gradients {
            for i in gradient.values.indices { gradient.values[i] *= factor }
        }
        return factor
    }

    /// Σ v² in Double: each square is exact in Double (a float has 24 significant bits), and
    /// 8 Double lanes accumulate them, so the sum of a buffer hardly depends on how it is cut
    /// (a whole gradient, or the ZeRO-1 slices of it on several replicas: the global norm then
    /// agrees to about 1e-15, and the clipping factor, a Float, is the same).
    static func sumOfSquares(_ values: UnsafeBufferPointer<Float>) -> Double {
        guard let base = values.baseAddress else { return 0 }
        var lanes = SIMD8<Double>(repeating: 0)
        var i = 0
        while i + 8 <= values.count {
            let x = SIMD8<Double>(UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self))
            lanes += x * x
            i += 8
        }
        var total = lanes.sum()
        while i < values.count {
            let x = Double(base[i])
            total += x * x
            i += 1
        }
        return total
    }
}
