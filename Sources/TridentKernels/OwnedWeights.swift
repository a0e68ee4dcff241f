/// An owned, 64-byte aligned allocation holding one weight matrix; the storage owner for
/// matrices made in memory (tests, synthetic models, checkpoints being written).
///
/// `@unchecked Sendable`: the allocation is written only in `init` and is read-only after,
/// so sharing it between threads is safe.
public final class OwnedWeights: WeightStorageOwner, @unchecked Sendable {
    private let storage: UnsafeMutableRawPointer
    public let rows: Int
    public let columns: Int
    public let dtype: DType

    /// Quantizes row-major `[rows, columns]` `values` into `dtype`.
    public convenience init(values: [Float], rows: Int, columns: Int, dtype: DType) {
        let bytes = Quantizer.quantize(values, rows: rows, columns: columns, to: dtype)
        self.init(bytes: bytes, rows: rows, columns: columns, dtype: dtype)
    }

    /// Copies packed rows (`rows * dtype.rowBytes(columns)` bytes) already in `dtype` layout.
    public init(bytes: [UInt8], rows: Int, columns: Int, dtype: DType) {
        let rowBytes = dtype.rowBytes(columns)
        precondition(bytes.count == rows * rowBytes, "expected \(rows * rowBytes) bytes, got \(bytes.count)")
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        bytes.withUnsafeBytes { source in
            if let address = source.baseAddress { storage.copyMemory(from: address, byteCount: source.count) }
        }
        self.storage = storage
        self.rows = rows
        self.columns = columns
        self.dtype = dtype
    }

    /// Allocates `rows * dtype.rowBytes(columns)` bytes (64-byte aligned) and lets `fill`
    /// write the packed rows straight into them: no intermediate array, so loading a slice
    /// costs its own size once. `fill` must initialise every byte of the buffer it is given.
    /// - Throws: whatever `fill` throws (the allocation is freed).
    public init<E: Error>(rows: Int, columns: Int, dtype: DType,
                          fill: (UnsafeMutableRawBufferPointer) throws(E) -> Void) throws(E) {
        let byteCount = rows * dtype.rowBytes(columns)
        let storage = UnsafeMutableRawPointer.allocate(byteCount: max(byteCount, 1), alignment: 64)
        do {
            try fill(UnsafeMutableRawBufferPointer(start: storage, count: byteCount))
        } catch {
            storage.deallocate()
            throw error
        }
        self.storage = storage
        self.rows = rows
        self.columns = columns
        self.dtype = dtype
    }

    /// A view of the whole matrix; it keeps `self` alive.
    public var matrix: WeightMatrix {
        WeightMatrix(base: UnsafeRawPointer(storage), rows: rows, columns: columns, dtype: dtype, owner: self)
    }

    deinit { storage.deallocate() }
}
