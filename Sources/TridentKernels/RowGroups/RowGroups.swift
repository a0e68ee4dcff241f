import Foundation

/// The row-group layout (`WeightLayout.rowGroups`) of Q4_0, Q4_1 and Q8_0 matrices, made for
/// the 16-lane decode loops: one 512-bit lane per row, so a product needs no horizontal sums,
/// loads 16 rows' scales with one instruction, and broadcasts each activation straight from
/// memory into the multiply-add.
///
/// Rows are taken 16 at a time. For block column `b` (32 columns) of a group, the 16 rows'
/// blocks are stored as one tile of `16 * bytesPerBlock` bytes (the same size as before):
/// - each 2-byte header field (`d`; `d` then `m` for Q4_1), 16 halves, lane `l` = row `l`;
/// - then the blocks' quant bytes as `[byte k][row l]`: 16 bytes per `k`, so one
///   `vpmovzxbd`/`vpmovsxbd` loads byte `k` of all 16 rows. For Q4_0/Q4_1 byte `k` holds
///   element `k` (low nibble) and `k + 16` (high); for Q8_0 it is element `k`.
///
/// Column slices at block boundaries stay views (tile `b` is at `b * tileBytes`); row slices
/// must fall on group boundaries.
public enum RowGroups {
    /// Rows per group: one per float lane of a 512-bit register.
    public static let rows = 16

    /// Whether matrices of `dtype` can be repacked.
    public static func supports(_ dtype: DType) -> Bool {
        switch dtype {
        case .q4_0, .q4_1, .q8_0: return true
        default: return false
        }
    }

    /// Bytes of the 2-byte scale fields at the start of each GGUF block of `dtype`.
    static func headerBytes(_ dtype: DType) -> Int { dtype == .q4_1 ? 4 : 2 }

    /// Whether this process repacks weights it loads: on CPUs where the 16-lane decode loops
    /// run (`MatvecKernel.current == .wide`) with float32 activations. `TRIDENT_ROW_GROUPS=0`
    /// keeps GGUF's layout (to compare on one machine), `=1` packs on any CPU.
    public static let enabledByDefault: Bool = {
        switch ProcessInfo.processInfo.environment["TRIDENT_ROW_GROUPS"] {
        case "0": return false
        case "1": return true
        default: return MatvecKernel.current == .wide && ActivationPrecision.current == .float32
        }
    }()
}

/// Owns a row-group copy of a matrix (64-byte aligned).
final class RowGroupStorage: WeightStorageOwner, @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    init(byteCount: Int) { bytes = .allocate(byteCount: max(byteCount, 1), alignment: 64) }
    deinit { bytes.deallocate() }
}

extension WeightMatrix {
    /// Whether `packedInRowGroups()` applies: a supported type in GGUF order with a whole
    /// number of row groups.
    public var canPackInRowGroups: Bool {
        layout == .rows && RowGroups.supports(dtype) && rows > 0 && rows % RowGroups.rows == 0 && columns > 0
    }

    /// A copy of this matrix in the row-group layout (owned memory of the same size), or
    /// `self` when `canPackInRowGroups` is false. Every product and `dequantizeRow` give the
    /// same values up to float32 summation order.
    public func packedInRowGroups() -> WeightMatrix {
        guard canPackInRowGroups else { return self }
        let groups = rows / RowGroups.rows, blocks = columns / 32
        let block = dtype.bytesPerBlock, tile = block * RowGroups.rows
        let header = RowGroups.headerBytes(dtype), quantBytes = block - header
        let storage = RowGroupStorage(byteCount: groups * blocks * tile)
        for g in 0..<groups {
            for b in 0..<blocks {
                let out = storage.bytes + (g * blocks + b) * tile
                for l in 0..<RowGroups.rows {
                    let source = rowPointer(g * RowGroups.rows + l) + b * block
                    for field in 0..<(header / 2) {
                        (out + field * 32 + 2 * l).copyMemory(from: source + 2 * field, byteCount: 2)
                    }
                    let quants = source.assumingMemoryBound(to: UInt8.self) + header
                    let target = (out + header * RowGroups.rows).assumingMemoryBound(to: UInt8.self) + l
                    for k in 0..<quantBytes { target[k * RowGroups.rows] = quants[k] }
                }
            }
        }
        return WeightMatrix(base: UnsafeRawPointer(storage.bytes), rows: rows, columns: columns, dtype: dtype,
                            layout: .rowGroups, owner: storage)
    }

    /// Writes row `row` of a row-group matrix in GGUF block order (`dtype.rowBytes(columns)`
    /// bytes) into `destination`.
    public func copyRowFromGroups(_ row: Int, into destination: UnsafeMutableRawPointer) {
        let blocks = columns / 32, block = dtype.bytesPerBlock, tile = block * RowGroups.rows
        let header = RowGroups.headerBytes(dtype), quantBytes = block - header
        let group = base + row / RowGroups.rows * rowStride, l = row % RowGroups.rows
        for b in 0..<blocks {
            let source = group + b * tile, out = destination + b * block
            for field in 0..<(header / 2) {
                (out + 2 * field).copyMemory(from: source + field * 32 + 2 * l, byteCount: 2)
            }
            let quants = (source + header * RowGroups.rows).assumingMemoryBound(to: UInt8.self) + l
            let target = (out + header).assumingMemoryBound(to: UInt8.self)
            for k in 0..<quantBytes { target[k] = quants[k * RowGroups.rows] }
        }
    }
}
