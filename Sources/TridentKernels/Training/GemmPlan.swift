/// One operand of `BlockedProduct` in the micro-kernels' panel layout: per depth chunk
/// (`BlockedProduct.depthBlock` steps, the last one shorter), `groups` panels of `width`
/// rows of A (or columns of B), each `[kc][width]`.
struct PackedPanels {
    let base: UnsafeMutablePointer<Float>
    let width: Int
    let groups: Int

    /// Floats for `groups` panels over `depth` steps.
    static func floats(width: Int, groups: Int, depth: Int) -> Int { max(width * groups * depth, 1) }

    /// Panel `group` of the depth chunk starting at `depth` (`kc` steps long).
    @inline(__always)
    func panel(depth: Int, group: Int, kc: Int) -> UnsafeMutablePointer<Float> {
        base + depth * width * groups + group * width * kc
    }
}

/// How `BlockedProduct` splits one product: which operands are packed whole before the tiles
/// run (each element copied once), and the tiles of C the threads take.
///
/// A row-major A is read in place (never packed whole). Otherwise an operand is packed whole
/// when it is small enough (`prepackLimit`). One that is not is
/// packed tile by tile; then the tiles span the other operand's whole dimension, so that
/// each of its elements is still packed once (unless neither fits, as for an LM head's
/// `dX = dLogits · E`: then the one whose packing is a transpose is packed once). Tiles are
/// at most `maxRowGroups` × `maxColumnGroups` panels (A's block L2-resident, one B panel in
/// L1), split evenly and in a multiple of the thread count where there are enough panels.
public struct GemmPlan {
    /// Floats an operand may take when packed whole (16 MiB).
    public static let prepackLimit = 4 << 20
    static let maxRowGroups = 12
    static let maxColumnGroups = 8

    let rowGroups: Int
    let columnGroups: Int
    let prepackA: Bool
    let prepackB: Bool
    let rowTiles: Int
    let columnTiles: Int

    init(m: Int, n: Int, k: Int, a: StridedMatrix, kernel: GemmKernel, threads: Int, prepackLimit: Int) {
        rowGroups = (m + kernel.rows - 1) / kernel.rows
        columnGroups = (n + kernel.columns - 1) / kernel.columns
        let inPlaceA = a.columnStride == 1 && a.rowStride != 1
        prepackA = !inPlaceA && rowGroups * kernel.rows * k <= prepackLimit
        prepackB = columnGroups * kernel.columns * k <= prepackLimit
        let readyA = prepackA || inPlaceA
        var spanRows = false, spanColumns = false
        if readyA && !prepackB {
            spanRows = true
        } else if prepackB && !readyA {
            spanColumns = true
        } else if !readyA && !prepackB {
            if a.rowStride != 1 { spanColumns = true } else { spanRows = true }
        }
        var rows = spanRows ? 1 : Self.split(rowGroups, atMost: Self.maxRowGroups, threads: threads)
        var columns = spanColumns ? 1 : Self.split(columnGroups, atMost: Self.maxColumnGroups,
                                                   threads: spanRows ? threads : 1)
        // With several threads, at least `tilesPerThread` tiles each where the panels allow: a
        // thread the OS descheduled mid-tile then holds up the others for a small tile only.
        let wanted = threads > 1 ? Self.tilesPerThread * threads : 1
        if rows * columns < wanted {
            if !spanRows { rows = min(rowGroups, max(rows, (wanted + columns - 1) / columns)) }
            if rows * columns < wanted && !spanColumns {
                columns = min(columnGroups, max(columns, (wanted + rows - 1) / rows))
            }
        }
        rowTiles = rows
        columnTiles = columns
    }

    /// Tiles per thread the split aims at, at least.
    static let tilesPerThread = 4

    /// Tiles for `groups` panels: at least enough for `atMost` panels each, rounded up to a
    /// multiple of `threads` (while there are panels for them).
    static func split(_ groups: Int, atMost: Int, threads: Int) -> Int {
        var tiles = (groups + atMost - 1) / atMost
        if threads > 1 { tiles = (tiles + threads - 1) / threads * threads }
        return max(1, min(tiles, groups))
    }

    var tileCount: Int { rowTiles * columnTiles }

    /// Panel groups of tile `index` along rows and columns.
    func groups(ofTile index: Int) -> (rows: Range<Int>, columns: Range<Int>) {
        let r = index / columnTiles, c = index % columnTiles
        return (r * rowGroups / rowTiles ..< (r + 1) * rowGroups / rowTiles,
                c * columnGroups / columnTiles ..< (c + 1) * columnGroups / columnTiles)
    }
}
