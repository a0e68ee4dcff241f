import TridentFormats

extension ShardingPlan {
    /// The alignment for `mlpColumns` cuts in `file`: the largest block size among the
    /// FFN down-projections (`blk.N.ffn_down.weight`, whose columns the cut splits), at
    /// least 32. Q4_K / Q6_K files thus cut at 256-element super-block boundaries and keep
    /// their slices quantized; only a cut that must fall inside a block (an MLP narrower
    /// than one block per rank) is read as f32 (`WeightLoader`).
    public static func mlpAlignment(in file: GGUFFile, layerCount: Int) -> Int {
        var alignment = 32
        for layer in 0..<layerCount {
            if let t = file.tensor(named: "blk.\(layer).ffn_down.weight") { alignment = max(alignment, t.type.blockSize) }
        }
        return alignment
    }
}
