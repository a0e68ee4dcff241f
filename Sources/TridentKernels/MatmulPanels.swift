import Foundation

/// Which loops the prefill product (`matmul` with more than one token) runs. Both compute
/// float32-activation products of dequantized weights; they differ in register layout and so
/// in speed (and in float32 summation order).
public enum PrefillKernel: String, Sendable, CaseIterable {
    /// `MatmulTiled`: 8-lane dot products, 4 weight rows × 2 tokens per pass (portable).
    case tiled
    /// `MatmulPanels`: 12 weight rows × 32 tokens of 16-lane accumulators (AVX-512's 32 registers);
    /// below `panelMinimumTokens` tokens, `MatmulFewTokens` for Q4_1, Q4_0 and Q8_0 weights
    /// (dequantized in registers, four tokens at a time) and `MatmulTiled` for the others.
    case panels

    /// `panels` on CPUs with AVX-512F, else `tiled`; `TRIDENT_PREFILL_KERNEL=tiled|panels`
    /// overrides it (to compare them on one machine).
    public static let current: PrefillKernel = {
        if let forced = ProcessInfo.processInfo.environment["TRIDENT_PREFILL_KERNEL"],
           let kernel = PrefillKernel(rawValue: forced) {
            return kernel
        }
        return CPUFeatures.hasAVX512 ? .panels : .tiled
    }()

    /// Fewest tokens `panels` is used for: below it most of a 16-token panel would be padding,
    /// and `tiled` is faster (measured with `trident bench kernels --tokens`).
    public static let panelMinimumTokens = 12
}

/// The AVX-512 prefill path of `matmul`: `output[t, r] = Σ_c weight[r, c] · input[t, c]`.
/// The tokens' inputs are packed once into panels of 32 (`[columns][32]`, the last one 16 wide
/// when at most 16 tokens are left), so that one 16-lane load carries 16 tokens. Each work item
/// dequantizes `itemRows` weight rows to float32 once and multiplies them with every panel in
/// 12-row register tiles (`PrefillMicroKernels`), which broadcast the weights from their rows.
enum MatmulPanels {
    /// Weight rows per work item (two register tiles; 48 for row-group matrices).
    static let itemRows = 24
    static let tileRows = 12

    /// One panel of packed tokens.
    struct Panel {
        let firstToken: Int
        /// 32 or 16 lanes.
        let width: Int
        /// Offset of its `[columns][width]` floats in the packed buffer.
        let offset: Int
    }

    /// Panels of 32 tokens, the last one 16 wide when at most 16 are left.
    static func panels(tokens: Int, columns: Int) -> [Panel] {
        var panels: [Panel] = []
        var first = 0, offset = 0
        while first < tokens {
            let width = tokens - first <= 16 ? 16 : 32
            panels.append(Panel(firstToken: first, width: width, offset: offset))
            first += width
            offset += width * columns
        }
        return panels
    }

    /// - Parameters: `input` `[tokens, weight.columns]` (row stride `inputStride`), `output`
    ///   `[tokens, weight.rows]` (row stride `outputStride`).
    static func run(weight: WeightMatrix, input: UnsafePointer<Float>, inputStride: Int,
                    output: UnsafeMutablePointer<Float>, outputStride: Int, tokens: Int, pool: ThreadPool) {
        let columns = weight.columns
        let panels = panels(tokens: tokens, columns: columns)
        let packedFloats = panels.reduce(0) { $0 + $1.width * columns }
        let packed = RecycledMemory.take(packedFloats)
        defer { RecycledMemory.give(packed, packedFloats) }
        pool.parallelFor(panels.count) { index in
            pack(panels[index], input: input, inputStride: inputStride, tokens: tokens, columns: columns,
                 into: packed + panels[index].offset)
        }
        // Row-group matrices: items of three whole groups (four register tiles).
        let itemRows = weight.layout == .rowGroups ? 3 * RowGroups.rows : Self.itemRows
        let items = (weight.rows + itemRows - 1) / itemRows
        pool.parallelFor(items) { item in
            let firstRow = item * itemRows
            let liveRows = min(itemRows, weight.rows - firstRow)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: itemRows * columns) { buffer in
                let w = buffer.baseAddress!
                if weight.layout == .rowGroups {
                    // Dequantized straight into 12-row packed panels.
                    RowGroupDequantize.panels(weight, first: firstRow, count: liveRows, into: w)
                    for panel in panels {
                        for tile in stride(from: 0, to: liveRows, by: tileRows) {
                            multiply(PackedRows(base: w + tile * columns), columns: columns, panel: panel,
                                     packed: packed, tokens: tokens, output: output + firstRow + tile,
                                     outputStride: outputStride, liveRows: min(tileRows, liveRows - tile))
                        }
                    }
                    return
                }
                for i in 0..<liveRows { weight.dequantizeRow(firstRow + i, into: w + i * columns) }
                let paddedRows = (liveRows + tileRows - 1) / tileRows * tileRows
                if paddedRows > liveRows { (w + liveRows * columns).update(repeating: 0, count: (paddedRows - liveRows) * columns) }
                for panel in panels {
                    for tile in stride(from: 0, to: liveRows, by: tileRows) {
                        multiply(InPlaceRows(base: w + tile * columns, rowStride: columns), columns: columns, panel: panel,
                                 packed: packed, tokens: tokens, output: output + firstRow + tile,
                                 outputStride: outputStride, liveRows: min(tileRows, liveRows - tile))
                    }
                }
            }
        }
    }

    /// One 12-row register tile of weights (`rows`) times one panel of tokens, into
    /// `output[t * outputStride + r]` for the panel's live tokens and the tile's live rows.
    @inline(__always)
    static func multiply<A: GemmRowSource>(_ rows: A, columns: Int, panel: Panel, packed: UnsafeMutablePointer<Float>,
                                           tokens: Int, output: UnsafeMutablePointer<Float>, outputStride: Int,
                                           liveRows: Int) {
        let target = PrefillMicroKernels.Target(
            out: output + panel.firstToken * outputStride, stride: outputStride,
            liveRows: liveRows, liveTokens: min(panel.width, tokens - panel.firstToken))
        let x = UnsafePointer(packed + panel.offset)
        if panel.width == 32 {
            GemmMicroKernels.wide(columns, rows, x, target)
        } else {
            PrefillMicroKernels.tile12x16(columns, rows, x, target)
        }
    }

    /// Writes `panel`'s tokens side by side: `out[c * width + j]` = input of token
    /// `firstToken + j` at column `c`, zero for lanes past the last token.
    static func pack(_ panel: Panel, input: UnsafePointer<Float>, inputStride: Int, tokens: Int, columns: Int,
                     into out: UnsafeMutablePointer<Float>) {
        let live = min(panel.width, tokens - panel.firstToken)
        if live < panel.width { out.update(repeating: 0, count: panel.width * columns) }
        let first = input + panel.firstToken * inputStride
        // 16 × 16 blocks: 16 loads of 16 columns, transposed in registers, 16 stores.
        var c = 0
        while c + 16 <= columns {
            var j = 0
            while j + 16 <= live {
                transpose16(first + j * inputStride + c, inputStride, out + c * panel.width + j, panel.width)
                j += 16
            }
            for jj in j..<live {
                let source = first + jj * inputStride + c
                for k in 0..<16 { out[(c + k) * panel.width + jj] = source[k] }
            }
            c += 16
        }
        for jj in 0..<live {
            for k in c..<columns { out[k * panel.width + jj] = first[jj * inputStride + k] }
        }
    }

    /// Writes the 16 × 16 block at `source` (row stride `sourceStride`) transposed to `target`
    /// (row stride `targetStride`): `target[k * targetStride + j] = source[j * sourceStride + k]`.
    @inline(__always)
    static func transpose16(_ source: UnsafePointer<Float>, _ sourceStride: Int,
                            _ target: UnsafeMutablePointer<Float>, _ targetStride: Int) {
        withUnsafeTemporaryAllocation(of: V16.self, capacity: 16) { block in
            for j in 0..<16 { block[j] = load16(source + j * sourceStride) }
            for k in 0..<16 {
                var column = V16()
                for j in 0..<16 { column[j] = block[j][k] }
                store16(column, target + k * targetStride)
            }
        }
    }
}
