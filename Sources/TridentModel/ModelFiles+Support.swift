import TridentFormats

extension ModelFiles {
    /// Refuses a model holding a tensor type no kernel computes with, before any weight is
    /// read. Hugging Face directories hold F32/F16/BF16 only; their loader validates dtypes.
    /// - Throws: `ModelLoadingError.unsupportedTensorType` naming the tensor, its type and the
    ///   supported list.
    public func checkSupported() throws(ModelLoadingError) {
        guard case .gguf(let file) = source else { return }
        try ModelSupport(file: file).check()
    }

    /// The block size tensor-parallel cuts of the MLP must respect: the largest block of any
    /// layer's down projection (256 for K-quant files, 32 otherwise).
    public var mlpAlignment: Int {
        guard case .gguf(let file) = source else { return 32 }
        return ShardingPlan.mlpAlignment(in: file, layerCount: configuration.layerCount)
    }
}
