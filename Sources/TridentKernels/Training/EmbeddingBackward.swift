
/// Backward of embedding lookups: scatter-add of the output gradient into table rows.
public enum EmbeddingBackward {
    /// Vocabulary-parallel token embedding: this rank holds table rows `vocabulary`
    /// (global token ids) as `tableGradient` `[vocabulary.count, hidden]`; for every token
    /// `t` with `tokenIDs[t]` in `vocabulary`, `tableGradient[id − lower] += dy[t]`. Tokens
    /// outside the range are other ranks' rows (their forward contributed zeros).
    ///
    /// A token that repeats adds once per occurrence (tied embeddings: the LM head's weight
    /// gradient is added to the same buffer by `LinearBackward.weightGradient`).
    /// Split over the pool by hidden columns, so repeated ids never race.
    ///
    /// - Parameters: `tokenIDs` `[tokens]`, `outputGradient` `[tokens, hidden]`.
    public static func tokenEmbedding(tokenIDs: UnsafePointer<Int32>, outputGradient dy: UnsafePointer<Float>,
                                      tableGradient: UnsafeMutablePointer<Float>, vocabulary: Range<Int>,
                                      tokens: Int, hidden: Int, pool: ThreadPool) {
        pool.parallelChunks(hidden, granularity: 64) { columns in
            for t in 0..<tokens {
                let id = Int(tokenIDs[t])
                guard vocabulary.contains(id) else { continue }
                addInPlace(dy + t * hidden + columns.lowerBound,
                           tableGradient + (id - vocabulary.lowerBound) * hidden + columns.lowerBound, columns.count)
            }
        }
    }

    /// Learned absolute positions: `positionGradient[positions[t]] += dy[t]` for a table
    /// `[maxPositions, hidden]` (replicated on every tensor rank: each rank adds the same values).
    /// `positions` `[tokens]` must lie in `0 ..< maxPositions` (checked).
    public static func positionEmbedding(positions: UnsafePointer<Int>, outputGradient dy: UnsafePointer<Float>,
                                         positionGradient: UnsafeMutablePointer<Float>, maxPositions: Int,
                                         tokens: Int, hidden: Int, pool: ThreadPool) {
        for t in 0..<tokens {
            precondition((0..<maxPositions).contains(positions[t]),
                         "position \(positions[t]) of token \(t) outside 0..<\(maxPositions)")
        }
        pool.parallelChunks(hidden, granularity: 64) { columns in
            for t in 0..<tokens {
                addInPlace(dy + t * hidden + columns.lowerBound,
                           positionGradient + positions[t] * hidden + columns.lowerBound, columns.count)
            }
        }
    }
}
