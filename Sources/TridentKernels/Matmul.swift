/// `output = input · weightᵀ` for a stored weight matrix and float32 activations.
///
/// - Parameters:
///   - weight: `[rows, columns]` in any `DType` (a row or column slice works too).
///   - input: `[tokens, columns]` f32; row `t` starts at `input + t * inputStride`
///     (`inputStride` defaults to `weight.columns`, so a column slice of wider
///     activations can be passed by offsetting `input` and giving the full width).
///   - output: `[tokens, rows]` f32; row `t` starts at `output + t * outputStride`
///     (defaults to `weight.rows`; pass the full width to fill a slice of a wider output).
///   - tokens: number of activation rows (1 = the decode matrix-vector path).
///   - pool: threads to split rows over; the caller's thread takes part.
///   - kernel: the prefill loops (tokens > 1; `PrefillKernel.current` is this CPU's fastest).
///   - activations: for Q8_0 weights, `int8` rounds each input row to 8 bits per block once
///     and uses integer dot products (`Q8DotPath.current`); `float32` keeps them exact.
///
/// Other weight types never quantize activations: q4/q8 blocks are expanded to float32
/// inside the dot products, so results match `matmulReference` to float32 rounding.
public func matmul(weight: WeightMatrix, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                   tokens: Int, pool: ThreadPool, inputStride: Int? = nil, outputStride: Int? = nil,
                   activations: ActivationPrecision = .current, kernel: PrefillKernel = .current) {
    let inStride = inputStride ?? weight.columns
    let outStride = outputStride ?? weight.rows
    precondition(tokens >= 0 && inStride >= weight.columns && outStride >= weight.rows,
                 "matmul: bad strides (in \(inStride), out \(outStride)) for \(weight.rows)x\(weight.columns)")
    if tokens == 0 || weight.rows == 0 { return }
    if weight.columns == 0 {
        for t in 0..<tokens { (output + t * outStride).update(repeating: 0, count: weight.rows) }
        return
    }
    if tokens == 1 {
        matvec(weight: weight, input: input, output: output, pool: pool, activations: activations)
    } else if weight.layout == .rowGroups && tokens < PrefillKernel.panelMinimumTokens {
        RowGroupMatmul.run(weight: weight, input: input, inputStride: inStride, output: output,
                           outputStride: outStride, tokens: tokens, pool: pool)
    } else if weight.dtype == .q8_0 && activations == .int8 && weight.layout == .rows {
        Q8Matmul.run(weight: weight, input: input, inputStride: inStride, output: output,
                     outputStride: outStride, tokens: tokens, pool: pool, path: .current)
    } else if kernel == .panels && tokens < PrefillKernel.panelMinimumTokens && MatmulFewTokens.supports(weight.dtype) {
        MatmulFewTokens.run(weight: weight, input: input, inputStride: inStride, output: output,
                            outputStride: outStride, tokens: tokens, pool: pool)
    } else if kernel == .panels && tokens >= PrefillKernel.panelMinimumTokens {
        MatmulPanels.run(weight: weight, input: input, inputStride: inStride, output: output,
                         outputStride: outStride, tokens: tokens, pool: pool)
    } else {
        MatmulTiled.run(weight: weight, input: input, inputStride: inStride, output: output,
                        outputStride: outStride, tokens: tokens, pool: pool)
    }
}

/// `output[r] = Σ_c weight[r, c] · input[c]` (`output` has `weight.rows` floats): the
/// decode hot path. Memory-bound; rows are split over the pool in contiguous chunks.
/// `kernel` picks the inner loops (default: the widest this CPU runs well); `activations`
/// as for `matmul` (Q8_0 weights only).
public func matvec(weight: WeightMatrix, input: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>,
                   pool: ThreadPool, kernel: MatvecKernel = .current, activations: ActivationPrecision = .current) {
    if weight.dtype == .q8_0 && activations == .int8 && weight.columns > 0 && weight.layout == .rows {
        matvecQ8(weight: weight, input: input, output: output, pool: pool)
        return
    }
    let blocks = weight.columns / 32
    let needsSums: Bool
    switch weight.dtype {
    case .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K: needsSums = true
    default: needsSums = false
    }
    withUnsafeTemporaryAllocation(of: Float.self, capacity: needsSums ? max(blocks, 1) : 1) { sums in
        let sumsBase = sums.baseAddress!
        if needsSums { RowDot.blockSums(input, blocks, into: sumsBase) }
        let granularity = weight.layout == .rowGroups ? RowGroups.rows : 8
        pool.parallelChunks(weight.rows, granularity: granularity) { range in
            matvecRange(weight, range, input, UnsafePointer(sumsBase), output, kernel: kernel)
        }
    }
}

/// Rows `range` of a matrix-vector product with `kernel`'s loops (`sums`: block sums of `x`
/// for the q4/q5 types).
@inline(__always)
func matvecRange(_ w: WeightMatrix, _ range: Range<Int>, _ x: UnsafePointer<Float>,
                 _ sums: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, kernel: MatvecKernel) {
    if w.layout == .rowGroups {
        RowGroupMatmul.rows(w, range, x, sums, out)
        return
    }
    if kernel == .wide, matvecRowsWide(w, range, x, sums, out) { return }
    matvecRows(w, range, x, sums, out)
}

/// Rows `range` of a matrix-vector product, one dtype loop per call (no per-row dispatch).
private func matvecRows(_ w: WeightMatrix, _ range: Range<Int>, _ x: UnsafePointer<Float>,
                        _ sums: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
    let columns = w.columns
    let blocks = columns / 32
    switch w.dtype {
    case .f32:
        for r in range { out[r] = RowDot.f32(w.rowPointer(r).assumingMemoryBound(to: Float.self), x, columns) }
    case .f16:
        for r in range { out[r] = RowDot.f16(w.rowPointer(r).assumingMemoryBound(to: UInt16.self), x, columns) }
    case .bf16:
        for r in range { out[r] = RowDot.bf16(w.rowPointer(r).assumingMemoryBound(to: UInt16.self), x, columns) }
    case .q8_0:
        for r in range { out[r] = RowDot.q8_0(w.rowPointer(r), x, blocks) }
    case .q4_0:
        for r in range { out[r] = RowDot.q4_0(w.rowPointer(r), x, sums, blocks) }
    case .q4_1:
        for r in range { out[r] = RowDot.q4_1(w.rowPointer(r), x, sums, blocks) }
    case .q5_0:
        for r in range { out[r] = RowDot.q5_0(w.rowPointer(r), x, sums, blocks) }
    case .q5_1:
        for r in range { out[r] = RowDot.q5_1(w.rowPointer(r), x, sums, blocks) }
    case .iq4_nl:
        for r in range { out[r] = RowDot.iq4_nl(w.rowPointer(r), x, blocks) }
    default:
        matvecSuperBlockRows(w, range, x, sums, out)
    }
}

/// `matvecRows` for the 256-element super-block types.
private func matvecSuperBlockRows(_ w: WeightMatrix, _ range: Range<Int>, _ x: UnsafePointer<Float>,
                                  _ sums: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
    let superBlocks = w.columns / 256
    switch w.dtype {
    case .q2_K:
        for r in range { out[r] = RowDot.q2_K(w.rowPointer(r), x, superBlocks) }
    case .q3_K:
        for r in range { out[r] = RowDot.q3_K(w.rowPointer(r), x, superBlocks) }
    case .q4_K:
        for r in range { out[r] = RowDot.q4_K(w.rowPointer(r), x, sums, superBlocks) }
    case .q5_K:
        for r in range { out[r] = RowDot.q5_K(w.rowPointer(r), x, sums, superBlocks) }
    case .q6_K:
        for r in range { out[r] = RowDot.q6_K(w.rowPointer(r), x, superBlocks) }
    case .iq4_xs:
        for r in range { out[r] = RowDot.iq4_xs(w.rowPointer(r), x, superBlocks) }
    default:
        preconditionFailure("\(w.dtype) is not a super-block type")
    }
}

/// Naive reference for `matmul`: dequantizes each row and accumulates in Double.
/// Same shapes and strides as `matmul`; single-threaded and slow.
public func matmulReference(weight: WeightMatrix, input: UnsafePointer<Float>,
                            output: UnsafeMutablePointer<Float>, tokens: Int,
                            inputStride: Int? = nil, outputStride: Int? = nil) {
    let inStride = inputStride ?? weight.columns
    let outStride = outputStride ?? weight.rows
    let row = UnsafeMutablePointer<Float>.allocate(capacity: max(weight.columns, 1))
    defer { row.deallocate() }
    for r in 0..<weight.rows {
        weight.dequantizeRow(r, into: row)
        for t in 0..<tokens {
            let x = input + t * inStride
            var sum: Double = 0
            for c in 0..<weight.columns { sum += Double(row[c]) * Double(x[c]) }
            output[t * outStride + r] = Float(sum)
        }
    }
}
