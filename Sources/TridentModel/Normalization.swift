import TridentKernels

/// A per-row normalisation layer (`RMSNorm`, `LayerNorm`), replicated on every tensor-parallel
/// rank: no communication.
public protocol Normalization: AnyObject, Sendable {
    /// Width of the rows it normalises.
    var dimension: Int { get }
    /// `out[t] = norm(x[t])` for every row.
    /// - Parameters: x, out: `[T, dimension]`, contiguous (`out` may be `x`).
    /// - Returns: `out`.
    @discardableResult
    func forward(_ x: MatrixView, into out: MatrixView) -> MatrixView
}
