import TridentKernels

/// A buffer that is reused from step to step and grows to the largest size asked for.
/// Its contents are scratch: nothing survives from one `reserve` to the next user.
final class ScratchBuffer<Element> {
    private(set) var pointer: UnsafeMutablePointer<Element>
    private(set) var capacity = 0

    init() { pointer = UnsafeMutablePointer<Element>.allocate(capacity: 1) }

    /// At least `count` elements (uninitialised; `Element` must be a trivial type).
    @inline(__always)
    func reserve(_ count: Int) -> UnsafeMutablePointer<Element> {
        if count > capacity { grow(count) }
        return pointer
    }

    private func grow(_ count: Int) {
        pointer.deallocate()
        pointer = UnsafeMutablePointer<Element>.allocate(capacity: count)
        capacity = count
    }

    deinit { pointer.deallocate() }
}

extension ScratchBuffer where Element == Float {
    /// A contiguous `[rows, columns]` view of at least that many floats of this buffer.
    @inline(__always)
    func view(_ rows: Int, _ columns: Int) -> MatrixView {
        MatrixView(reserve(rows * columns), rows: rows, columns: columns)
    }
}
