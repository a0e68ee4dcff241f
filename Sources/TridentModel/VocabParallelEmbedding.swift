import TridentKernels

/// Token embedding with the vocabulary split across the tensor-parallel group: this rank holds
/// rows `vocabularyRows` of the `[vocabulary, hidden]` table, fills the rows of the tokens in its
/// slice (zeros elsewhere), and one all-reduce (`reduceFromRegion`) gives every rank the full
/// lookup. Megatron's `VocabParallelEmbedding`. Token ids outside the vocabulary embed as zeros.
public final class VocabParallelEmbedding: Sendable {
    /// `[localVocab, hidden]`, any dtype (shared with a tied LM head).
    public let weight: Tensor
    /// Global token ids of `weight`'s rows.
    public let vocabularyRows: Range<Int>

    public init(weight: Tensor, vocabularyRows: Range<Int>) {
        precondition(weight.rows == vocabularyRows.count,
                     "embedding of \(weight.rows) rows for vocabulary slice \(vocabularyRows)")
        self.weight = weight
        self.vocabularyRows = vocabularyRows
        weightParameter = nil
    }

    /// The trainable master copy behind `weight` (nil for inference); shared with a tied LM head.
    public let weightParameter: TrainingTensor?

    /// A trainable embedding over this rank's `[localVocab, hidden]` master rows.
    public init(training weight: TrainingTensor, vocabularyRows: Range<Int>) {
        precondition(weight.rows == vocabularyRows.count,
                     "embedding of \(weight.rows) rows for vocabulary slice \(vocabularyRows)")
        self.weight = weight.tensor
        self.vocabularyRows = vocabularyRows
        weightParameter = weight
    }

    /// Width of an embedding row.
    public var hiddenSize: Int { weight.columns }

    /// Every rank of `context.group` must call this with the same tokens, in the same order.
    /// - Parameters:
    ///   - tokens: `[T]` token ids.
    ///   - x: `[T, hidden]` contiguous, receives the embeddings.
    /// - Throws: the group's collective errors.
    @discardableResult
    public func forward(_ tokens: [Int32], into x: MatrixView, context: InferenceContext) throws -> MatrixView {
        precondition(x.rows == tokens.count && x.columns == hiddenSize && x.isContiguous)
        x.base.update(repeating: 0, count: x.count)
        for (t, id) in tokens.enumerated() where vocabularyRows.contains(Int(id)) {
            weight.matrix.dequantizeRow(Int(id) - vocabularyRows.lowerBound, into: x.row(t))
        }
        try TensorParallelMappings.reduceFromRegion(x.buffer, group: context.group)
        return x
    }
}
