import TridentCollectives
import TridentKernels

extension LlamaStage {
    /// Tag of the point-to-point messages carrying logit slices to tensor-group rank 0.
    static let logitsTag = 0x4C4F_4749

    /// The logits each chunk asks for, from the pass's final activations `x` (`[rows, hidden]`,
    /// chunks' rows in order): one LM-head pass over all the requested rows.
    /// - Returns: per chunk `[logitRows, vocabulary]`; every entry `[]` on a tensor rank that
    ///   receives no logits.
    func logits(_ x: [Float], for pass: PassLayout) throws -> [[Float]] {
        let d = configuration.hiddenSize, vocabulary = configuration.vocabularySize
        let chunks = pass.chunks
        var wanted: [Range<Int>] = []   // rows of x, per chunk
        for (chunk, first) in zip(chunks, pass.firstRows) {
            let end = first + chunk.tokens.count
            wanted.append(end - chunk.logitRows ..< end)
        }
        let total = wanted.reduce(0) { $0 + $1.count }
        guard total > 0 else { return chunks.map { _ in [] } }
        let all: [Float]
        if chunks.count == 1 {
            all = try logits(x, rows: wanted[0])
        } else {
            var selected = [Float]()
            selected.reserveCapacity(total * d)
            for range in wanted where !range.isEmpty { selected += x[range.lowerBound * d ..< range.upperBound * d] }
            all = try logits(selected, rows: 0 ..< total)
        }
        guard !all.isEmpty else { return chunks.map { _ in [] } }
        var offset = 0
        return wanted.map { range in
            defer { offset += range.count * vocabulary }
            return Array(all[offset ..< offset + range.count * vocabulary])
        }
    }

    /// Final norm and vocabulary-parallel LM head for `rows` of `x`, gathered across the
    /// tensor group as `logitsReceivers` says.
    /// - Parameter x: `[tokens, hidden]` final activations.
    /// - Returns: `[rows.count, vocabulary]`, or `[]` on a rank that receives no logits.
    func logits(_ x: [Float], rows: Range<Int>) throws -> [Float] {
        let d = configuration.hiddenSize
        let normed = workspace.normed.reserve(rows.count * d)   // [rows, hidden]
        measureCompute {
            x.withUnsafeBufferPointer { xp in
                weights.outputNorm!.withUnsafeBufferPointer { wp in
                    VectorKernels.rmsNorm(xp.baseAddress! + rows.lowerBound * d, weight: wp.baseAddress!,
                                          eps: configuration.rmsNormEpsilon, out: normed, tokens: rows.count, dim: d)
                }
            }
        }
        if tensorGroup.size == 1 || (logitsReceivers == .firstRank && tensorGroup.rank == 0) {
            return try gatherOnFirstRank(normed, rows: rows.count)
        }
        let head = weights.output!
        let local: [Float] = measureCompute {
            [Float](unsafeUninitializedCapacity: rows.count * head.rows) { out, initialized in  // [rows, localVocab]
                matmul(weight: head, input: normed, output: out.baseAddress!, tokens: rows.count, pool: pool)
                initialized = rows.count * head.rows
            }
        }
        return try measureCommunication {
            try local.withUnsafeBufferPointer { slice in
                if logitsReceivers == .firstRank {
                    try tensorGroup.send(UnsafeRawBufferPointer(slice), to: 0, tag: Self.logitsTag)
                    return []
                }
                return try TensorParallelMappings.gatherFromRegion(slice, rows: rows.count, widths: vocabularyWidths,
                                                                   group: tensorGroup)
            }
        }
    }

    /// Rank 0's side of `.firstRank` (and the whole of a one-rank group): computes its own
    /// columns straight into the full `[rows, vocabulary]` result, then receives every other
    /// rank's slice into its columns.
    private func gatherOnFirstRank(_ normed: UnsafePointer<Float>, rows: Int) throws -> [Float] {
        let vocabulary = configuration.vocabularySize
        let head = weights.output!
        var full = [Float](repeating: 0, count: rows * vocabulary)   // [rows, vocabulary]
        try full.withUnsafeMutableBufferPointer { out in
            let base = out.baseAddress!
            measureCompute {
                matmul(weight: head, input: normed, output: base, tokens: rows, pool: pool, outputStride: vocabulary)
            }
            var column = vocabularyWidths[0]
            for peer in 1 ..< tensorGroup.size {
                let width = vocabularyWidths[peer]
                let bytes = rows * width * MemoryLayout<Float>.stride
                try measureCommunication {
                    if rows == 1 {   // a decode step: straight into place
                        try tensorGroup.receive(into: UnsafeMutableRawBufferPointer(start: base + column, count: bytes),
                                                from: peer, tag: Self.logitsTag)
                        return
                    }
                    let slice = UnsafeMutableBufferPointer<Float>.allocate(capacity: rows * width)   // [rows, width]
                    defer { slice.deallocate() }
                    try tensorGroup.receive(into: UnsafeMutableRawBufferPointer(slice), from: peer, tag: Self.logitsTag)
                    for r in 0 ..< rows {
                        (base + r * vocabulary + column).update(from: slice.baseAddress! + r * width, count: width)
                    }
                }
                column += width
            }
        }
        return full
    }
}
