import TridentKernels
import TridentModel

/// Accounts the KV cache in fixed-size blocks of positions under a memory budget
/// (`--kv-cache-memory`), over the whole model (every layer, every KV head, all ranks of one
/// replica together).
///
/// The cache itself keeps one contiguous region per slot (see `KVCache`); this budget decides
/// how many positions may be live at once. A sequence reserves the blocks for its prompt plus
/// its token limit when it is admitted and frees them when it finishes or is cancelled, so a
/// running sequence never runs out of room; a request that does not fit waits.
///
/// Example: SmolLM2-135M (30 layers, 3 KV heads of 64) holds `2 * 30 * 3 * 64 * 4` = 46,080
/// bytes per position in float32; 16-position blocks are 737,280 bytes, so 2 GB gives 2,912
/// blocks (5,825 with an f16 cache, 2 bytes an element).
public struct KVBlockBudget: Sendable, Equatable {
    /// Positions per block.
    public let blockSize: Int
    /// Blocks the budget holds.
    public let totalBlocks: Int
    public private(set) var usedBlocks = 0

    public init(blockSize: Int = 16, totalBlocks: Int) {
        precondition(blockSize >= 1 && totalBlocks >= 0)
        self.blockSize = blockSize
        self.totalBlocks = totalBlocks
    }

    /// A budget of `bytes` for `configuration` (keys and values of every layer, stored as `type`).
    public init(bytes: Int, configuration: ModelConfiguration, type: KVCacheType = .f32, blockSize: Int = 16) {
        let perBlock = Self.bytesPerPosition(configuration, type: type) * blockSize
        self.init(blockSize: blockSize, totalBlocks: bytes / max(1, perBlock))
    }

    /// Keys and values of one position over the whole model, stored as `type`.
    public static func bytesPerPosition(_ c: ModelConfiguration, type: KVCacheType = .f32) -> Int {
        2 * c.layerCount * c.kvHeadCount * c.headDimension * type.byteCount
    }

    /// Blocks holding `positions` positions.
    public func blocks(forPositions positions: Int) -> Int { (positions + blockSize - 1) / blockSize }

    public var freeBlocks: Int { totalBlocks - usedBlocks }

    /// Takes `blocks` blocks if that many are free. - Returns: whether they were taken.
    public mutating func reserve(_ blocks: Int) -> Bool {
        guard blocks <= freeBlocks else { return false }
        usedBlocks += blocks
        return true
    }

    /// Gives back `blocks` blocks taken by `reserve`.
    public mutating func release(_ blocks: Int) {
        precondition(blocks <= usedBlocks, "releasing \(blocks) blocks, \(usedBlocks) in use")
        usedBlocks -= blocks
    }
}
