/// A `[rows, columns]` weight matrix as held by one rank.
public struct MatrixShape: Sendable, Equatable {
    public var rows: Int
    public var columns: Int
    public var elements: Int { rows * columns }
}

extension ShardGeometry {
    /// Matrices of one transformer block held by tensor rank `rank`: column-parallel Q, K, V
    /// (and gate/up) split output rows, row-parallel O and down split input columns.
    public func layerMatrices(rank: Int, model: PlannerModel) -> [MatrixShape] {
        let c = model.configuration
        let h = c.hiddenSize, hd = c.headDimension
        let q = queryHeads[rank] * hd, kv = kvHeads[rank] * hd, ffn = mlpColumns[rank]
        var matrices = [
            MatrixShape(rows: q, columns: h), MatrixShape(rows: kv, columns: h),
            MatrixShape(rows: kv, columns: h), MatrixShape(rows: h, columns: q),
        ]
        for _ in 0..<(model.mlp.matrixCount - 1) { matrices.append(MatrixShape(rows: ffn, columns: h)) }
        matrices.append(MatrixShape(rows: h, columns: ffn))
        return matrices
    }

    /// Vector weights of one block (two norms), replicated on every tensor rank; elements.
    public func layerVectorElements(model: PlannerModel) -> Int { 2 * model.configuration.hiddenSize }

    /// Embedding/LM-head rows `[vocabularyRows[rank], hidden]` matrices held by `rank` of
    /// pipeline stage `stage`: the embedding on the first stage, the LM head on the last
    /// (a tied head shares the embedding only when both sit on the same stage).
    public func vocabularyMatrices(rank: Int, stage: Int, model: PlannerModel) -> [MatrixShape] {
        let shape = MatrixShape(rows: vocabularyRows[rank], columns: model.configuration.hiddenSize)
        let last = stageLayers.count - 1
        var matrices: [MatrixShape] = []
        if stage == 0 { matrices.append(shape) }
        if stage == last && !(model.configuration.tiedEmbeddings && last == 0) { matrices.append(shape) }
        return matrices
    }

    /// Parameter elements held by tensor rank `rank` of stage `stage`.
    public func parameterElements(rank: Int, stage: Int, model: PlannerModel) -> Int {
        let layer = layerMatrices(rank: rank, model: model).reduce(0) { $0 + $1.elements }
            + layerVectorElements(model: model)
        let vocabulary = vocabularyMatrices(rank: rank, stage: stage, model: model).reduce(0) { $0 + $1.elements }
        let finalNorm = stage == stageLayers.count - 1 ? model.configuration.hiddenSize : 0
        return stageLayers[stage] * layer + vocabulary + finalNorm
    }

    /// Weight bytes held by tensor rank `rank` of stage `stage` with matrices stored as
    /// `format` (quantized rows rounded up to whole blocks; the embedding and LM head in the
    /// model's `vocabularyFormat` when it has one) and norm vectors in f32.
    public func weightBytes(rank: Int, stage: Int, model: PlannerModel, format: NumericFormat) -> Double {
        let matrices = layerMatrices(rank: rank, model: model)
        let layer = matrices.reduce(0.0) { $0 + format.matrixBytes(rows: $1.rows, columns: $1.columns) }
            + 4 * Double(layerVectorElements(model: model))
        let vocabularyFormat = model.vocabularyFormat ?? format
        let vocabulary = vocabularyMatrices(rank: rank, stage: stage, model: model)
            .reduce(0.0) { $0 + vocabularyFormat.matrixBytes(rows: $1.rows, columns: $1.columns) }
        let finalNorm = stage == stageLayers.count - 1 ? 4 * Double(model.configuration.hiddenSize) : 0
        return Double(stageLayers[stage]) * layer + vocabulary + finalNorm
    }
}
