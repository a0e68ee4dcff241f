import TridentKernels

/// The final norm and the vocabulary-parallel output projection: this rank computes the logits
/// of its vocabulary rows, which are then gathered (`gatherFromRegion` on every rank, or
/// `gatherToFirstRank` on the driver only). With tied embeddings the projection's weight is
/// the embedding's tensor.
public final class LMHead: Sendable {
    public let norm: any Normalization
    /// `[localVocab, hidden]`.
    public let projection: ColumnParallelLinear
    /// Every rank's vocabulary rows, in rank order (uneven splits allowed).
    public let vocabularyWidths: [Int]

    public init(norm: any Normalization, projection: ColumnParallelLinear, vocabularyWidths: [Int]) {
        precondition(norm.dimension == projection.inputSize, "final norm and LM head differ in width")
        self.norm = norm
        self.projection = projection
        self.vocabularyWidths = vocabularyWidths
    }

    /// Rows of the whole LM head.
    public var vocabularySize: Int { vocabularyWidths.reduce(0, +) }

    /// Every rank of `context.group` must call this with the same rows and receivers, in order.
    /// - Parameters:
    ///   - x: `[T, hidden]` final activations (not normed).
    ///   - receivers: which ranks get the logits.
    /// - Returns: `[T, vocabulary]` on the receiving ranks (every rank of a one-rank group), `[]` elsewhere.
    /// - Throws: the group's collective errors.
    public func forward(_ x: MatrixView, receivers: LogitsReceivers, context: InferenceContext) throws -> [Float] {
        let group = context.group, rows = x.rows, vocabulary = vocabularySize
        let normed = norm.forward(x, into: context.normed.view(rows, norm.dimension))   // [T, hidden]
        if receivers == .everyRank && group.size > 1 {
            let local = projection.forward(normed, into: context.logits.view(rows, projection.outputSize),
                                           context: context)
            return try TensorParallelMappings.gatherFromRegion(UnsafeBufferPointer(local.buffer), rows: rows,
                                                               widths: vocabularyWidths, group: group)
        }
        guard group.rank == 0 else {
            let local = projection.forward(normed, into: context.logits.view(rows, projection.outputSize),
                                           context: context)
            try TensorParallelMappings.gatherToFirstRank(local, widths: vocabularyWidths, group: group)
            return []
        }
        // Rank 0 computes its columns straight into the full result, then receives the others'.
        var full = [Float](repeating: 0, count: rows * vocabulary)   // [T, vocabulary]
        try full.withUnsafeMutableBufferPointer { out in
            let all = MatrixView(out.baseAddress!, rows: rows, columns: vocabulary)
            projection.forward(normed, into: MatrixView(all.base, rows: rows, columns: projection.outputSize,
                                                        stride: vocabulary), context: context)
            try TensorParallelMappings.gatherToFirstRank(all, widths: vocabularyWidths, group: group)
        }
        return full
    }
}
