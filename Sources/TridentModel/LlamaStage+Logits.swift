import TridentKernels

extension LlamaStage {
    /// The logits each chunk asks for, from the pass's final activations `x` (`[rows, hidden]`,
    /// chunks' rows in order): one LM-head pass over all the requested rows.
    /// - Returns: per chunk `[logitRows, vocabulary]`; every entry `[]` on a tensor rank that
    ///   receives no logits.
    func logits(_ x: inout [Float], for pass: PassLayout, head: LMHead) throws -> [[Float]] {
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
        if chunks.count == 1 {   // the rows are already contiguous in x
            all = try x.withUnsafeMutableBufferPointer {
                let stream = MatrixView($0.baseAddress!, rows: pass.rows, columns: d)
                return try head.forward(stream.rows(wanted[0]), receivers: logitsReceivers, context: context)
            }
        } else {
            var selected: [Float] = []   // [total, hidden]: the requested rows, in chunk order
            selected.reserveCapacity(total * d)
            for range in wanted where !range.isEmpty { selected += x[range.lowerBound * d ..< range.upperBound * d] }
            all = try selected.withUnsafeMutableBufferPointer {
                try head.forward(MatrixView($0.baseAddress!, rows: total, columns: d), receivers: logitsReceivers,
                                 context: context)
            }
        }
        guard !all.isEmpty else { return chunks.map { _ in [] } }
        var offset = 0
        return wanted.map { range in
            defer { offset += range.count * vocabulary }
            return Array(all[offset ..< offset + range.count * vocabulary])
        }
    }
}
