import TridentKernels

/// One trainable tensor of this rank: float32 master values and the gradient accumulated into
/// them, owned together. Layers built for training read their weights through `tensor` (a view
/// of `values`, so an optimizer step is seen by the next forward) and add into `gradient`.
/// Inference layers have none: gradient memory exists only in a model built for training.
///
/// `@unchecked Sendable`: the buffers are written by the one thread running this rank's
/// forward/backward, or by the optimizer between steps, never both at once.
public final class TrainingTensor: WeightStorageOwner, @unchecked Sendable {
    /// This rank's shape: `[rows, columns]` for a matrix, `[count]` for a vector.
    public let shape: [Int]
    /// `[local elements]` master weights.
    public let values: UnsafeMutableBufferPointer<Float>
    /// `[local elements]` accumulated gradient, same layout as `values`.
    public let gradient: UnsafeMutableBufferPointer<Float>

    /// - Parameter values: row-major, `shape.reduce(1, *)` of them.
    public init(shape: [Int], values: [Float]) {
        precondition(!shape.isEmpty && values.count == shape.reduce(1, *), "\(values.count) values for shape \(shape)")
        self.shape = shape
        self.values = .allocate(capacity: max(values.count, 1))
        self.gradient = .allocate(capacity: max(values.count, 1))
        self.values.initialize(repeating: 0)
        if !values.isEmpty { _ = self.values.initialize(from: values) }
        self.gradient.initialize(repeating: 0)
    }

    /// A tensor of `shape` filled with `value` (norm weights 1, biases 0).
    public convenience init(shape: [Int], repeating value: Float) {
        self.init(shape: shape, values: [Float](repeating: value, count: shape.reduce(1, *)))
    }

    deinit {
        values.deallocate()
        gradient.deallocate()
    }

    /// Number of elements.
    public var count: Int { shape.reduce(1, *) }
    /// `shape[0]` (1 for a vector).
    public var rows: Int { shape.count == 1 ? 1 : shape[0] }
    /// Elements per row (the length of a vector).
    public var columns: Int { shape.count == 1 ? shape[0] : count / max(shape[0], 1) }

    /// The values as a float32 `Tensor` view (no copy), as inference layers read weights.
    public var tensor: Tensor {
        Tensor(WeightMatrix(base: UnsafeRawPointer(values.baseAddress!), rows: rows, columns: columns, dtype: .f32,
                            owner: self))
    }

    /// `values` as a read-only pointer.
    public var floats: UnsafePointer<Float> { UnsafePointer(values.baseAddress!) }
    /// `gradient`'s first element.
    public var gradientBase: UnsafeMutablePointer<Float> { gradient.baseAddress! }
}
