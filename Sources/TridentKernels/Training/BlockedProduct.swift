/// A read-only f32 matrix with arbitrary strides: element `(i, j)` is at
/// `base[i * rowStride + j * columnStride]` (a transpose is the same memory with the strides swapped).
public struct StridedMatrix {
    public let base: UnsafePointer<Float>
    public let rowStride: Int
    public let columnStride: Int

    public init(base: UnsafePointer<Float>, rowStride: Int, columnStride: Int) {
        self.base = base
        self.rowStride = rowStride
        self.columnStride = columnStride
    }

    @inline(__always)
    subscript(i: Int, j: Int) -> Float { base[i * rowStride + j * columnStride] }
}

/// `C = (accumulate ? C : 0) + A · B` for f32 matrices of any strides: the training GEMM.
///
/// The operands are copied into the panel layouts of the register micro-kernels
/// (`GemmMicroKernels`: A as `[kc][mr]` row panels, B as `[kc][nr]` column panels), whole
/// before the tiles run when they are small, else tile by tile (`GemmPlan`). A row-major A
/// is not packed at all: the kernel broadcasts from its rows in place (only a last partial
/// row group is packed, zero-padded). Work items are
/// tiles of `C`, each owned by one thread of the pool (no races). Every element of C is
/// summed in the same order (depth chunks of `depthBlock`, then the depth steps) whatever
/// the tiling, so results do not depend on the thread count. Inside a tile, one B panel stays
/// in L1 while the tile's A panels (L2) stream past it. Panels are zero-padded; the kernel
/// writes only the live rows and columns.
public enum BlockedProduct {
    static let depthBlock = 256

    /// `b` `[k, n]` row-major with row stride `ldb`; see the strided overload.
    static func multiply(a: StridedMatrix, b: UnsafePointer<Float>, ldb: Int,
                         c: UnsafeMutablePointer<Float>, ldc: Int, m: Int, n: Int, k: Int,
                         accumulate: Bool, pool: ThreadPool) {
        multiply(a: a, b: StridedMatrix(base: b, rowStride: ldb, columnStride: 1), c: c, ldc: ldc,
                 m: m, n: n, k: k, accumulate: accumulate, pool: pool)
    }

    /// - Parameters:
    ///   - a: `[m, k]` (any strides).
    ///   - b: `[k, n]` (any strides).
    ///   - c: `[m, n]` row-major with row stride `ldc`; written (or accumulated into).
    ///   - kernel: the register layout (tests run each; callers take the CPU's).
    ///   - prepackLimit: floats an operand may take packed whole (tests lower it to exercise tile packing).
    public static func multiply(a: StridedMatrix, b: StridedMatrix, c: UnsafeMutablePointer<Float>, ldc: Int,
                                m: Int, n: Int, k: Int, accumulate: Bool, pool: ThreadPool,
                                kernel: GemmKernel = .preferred, prepackLimit: Int = GemmPlan.prepackLimit) {
        precondition(m >= 0 && n >= 0 && k >= 0, "matrix product: negative size \(m)x\(n)x\(k)")
        if m == 0 || n == 0 { return }
        if k == 0 {
            if !accumulate { for i in 0..<m { (c + i * ldc).update(repeating: 0, count: n) } }
            return
        }
        let plan = GemmPlan(m: m, n: n, k: k, a: a, kernel: kernel, threads: pool.threadCount, prepackLimit: prepackLimit)
        let mr = kernel.rows, nr = kernel.columns
        let aFloats = PackedPanels.floats(width: mr, groups: plan.rowGroups, depth: k)
        let bFloats = PackedPanels.floats(width: nr, groups: plan.columnGroups, depth: k)
        let wholeA = plan.prepackA ? PackedPanels(base: RecycledMemory.take(aFloats), width: mr, groups: plan.rowGroups) : nil
        let wholeB = plan.prepackB ? PackedPanels(base: RecycledMemory.take(bFloats), width: nr, groups: plan.columnGroups) : nil
        defer {
            if let wholeA { RecycledMemory.give(wholeA.base, aFloats) }
            if let wholeB { RecycledMemory.give(wholeB.base, bFloats) }
        }
        if let wholeA { packWhole(a, rows: true, extent: m, k: k, into: wholeA, pool: pool) }
        if let wholeB { packWhole(b, rows: false, extent: n, k: k, into: wholeB, pool: pool) }
        let operands = Operands(a: a, b: b, c: c, ldc: ldc, m: m, n: n, k: k, accumulate: accumulate, kernel: kernel)
        pool.parallelFor(plan.tileCount) { item in
            let (rowGroups, columnGroups) = plan.groups(ofTile: item)
            multiplyTile(operands, rowGroups: rowGroups, columnGroups: columnGroups, wholeA: wholeA, wholeB: wholeB)
        }
    }

    /// What every tile reads.
    private struct Operands {
        let a: StridedMatrix, b: StridedMatrix
        let c: UnsafeMutablePointer<Float>, ldc: Int
        let m: Int, n: Int, k: Int
        let accumulate: Bool
        let kernel: GemmKernel
        /// A is row-major: its whole row groups are read in place, not packed.
        var inPlaceA: Bool { a.columnStride == 1 && a.rowStride != 1 }
    }

    /// Packs every panel of A (`rows`) or B into `packed`, one panel per work item.
    private static func packWhole(_ x: StridedMatrix, rows: Bool, extent: Int, k: Int, into packed: PackedPanels,
                                  pool: ThreadPool) {
        let chunks = (k + depthBlock - 1) / depthBlock
        pool.parallelFor(chunks * packed.groups) { item in
            let depth = item / packed.groups * depthBlock, group = item % packed.groups
            let kc = min(depthBlock, k - depth), first = group * packed.width
            let out = packed.panel(depth: depth, group: group, kc: kc)
            let live = min(packed.width, extent - first)
            if rows {
                GemmPacking.packRowPanel(x, first: first, live: live, depth: depth, kc: kc, mr: packed.width, into: out)
            } else {
                GemmPacking.packColumnPanel(x, first: first, live: live, depth: depth, kc: kc, nr: packed.width, into: out)
            }
        }
    }

    /// The C tile of panel groups `rowGroups × columnGroups` over the whole depth, packing
    /// here whichever operand was not packed whole.
    private static func multiplyTile(_ o: Operands, rowGroups: Range<Int>, columnGroups: Range<Int>,
                                     wholeA: PackedPanels?, wholeB: PackedPanels?) {
        let mr = o.kernel.rows, nr = o.kernel.columns
        let chunkDepth = min(depthBlock, o.k)
        let localAFloats = wholeA == nil ? PackedPanels.floats(width: mr, groups: rowGroups.count, depth: chunkDepth) : 0
        let localBFloats = wholeB == nil ? PackedPanels.floats(width: nr, groups: columnGroups.count, depth: chunkDepth) : 0
        let localA = localAFloats > 0 ? RecycledMemory.take(localAFloats) : nil
        let localB = localBFloats > 0 ? RecycledMemory.take(localBFloats) : nil
        defer {
            if let localA { RecycledMemory.give(localA, localAFloats) }
            if let localB { RecycledMemory.give(localB, localBFloats) }
        }
        var depth = 0
        while depth < o.k {
            let kc = min(depthBlock, o.k - depth)
            if let localA {
                for (index, group) in rowGroups.enumerated() where !(o.inPlaceA && group * mr + mr <= o.m) {
                    let first = group * mr
                    GemmPacking.packRowPanel(o.a, first: first, live: min(mr, o.m - first), depth: depth, kc: kc, mr: mr,
                                             into: localA + index * mr * kc)
                }
            }
            if let localB {
                for (index, group) in columnGroups.enumerated() {
                    let first = group * nr
                    GemmPacking.packColumnPanel(o.b, first: first, live: min(nr, o.n - first), depth: depth, kc: kc, nr: nr,
                                                into: localB + index * nr * kc)
                }
            }
            let add = o.accumulate || depth > 0
            for (jIndex, jg) in columnGroups.enumerated() {
                let j0 = jg * nr
                let panelB = UnsafePointer(wholeB?.panel(depth: depth, group: jg, kc: kc) ?? localB! + jIndex * nr * kc)
                for (iIndex, ig) in rowGroups.enumerated() {
                    let i0 = ig * mr
                    let target = GemmTileTarget(c: o.c + i0 * o.ldc + j0, ldc: o.ldc, rows: min(mr, o.m - i0),
                                                columns: min(nr, o.n - j0), add: add)
                    if o.inPlaceA && i0 + mr <= o.m {
                        let rowsA = InPlaceRows(base: o.a.base + i0 * o.a.rowStride + depth, rowStride: o.a.rowStride)
                        switch o.kernel {
                        case .wide: GemmMicroKernels.wide(kc, rowsA, panelB, target)
                        case .narrow: GemmMicroKernels.narrow(kc, rowsA, panelB, target)
                        }
                    } else {
                        let rowsA = PackedRows(base: wholeA?.panel(depth: depth, group: ig, kc: kc) ?? localA! + iIndex * mr * kc)
                        switch o.kernel {
                        case .wide: GemmMicroKernels.wide(kc, rowsA, panelB, target)
                        case .narrow: GemmMicroKernels.narrow(kc, rowsA, panelB, target)
                        }
                    }
                }
            }
            depth += kc
        }
    }
}
