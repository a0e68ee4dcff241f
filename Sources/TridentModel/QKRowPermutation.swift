/// The row order llama.cpp's convert_hf_to_gguf.py gives Llama / Mistral q and k projections
/// (`LlamaModel.permute`): Hugging Face stores each head's rows for `rotate_half` (pairs
/// `(i, i + d/2)`), GGUF `llama` for adjacent pairs `(2i, 2i + 1)`. Per head of `d` rows,
/// GGUF row `2i + j` is Hugging Face row `j * d/2 + i` (`reshape(heads, 2, d/2).swapaxes(1, 2)`).
/// Qwen2 keeps the Hugging Face order (its GGUF uses halves pairing).
enum QKRowPermutation {
    /// The source row of each destination row, `[rows]`, for `heads` heads of `rows / heads` rows.
    /// - Precondition: `rows` splits into `heads` heads of an even row count.
    static func sourceRows(rows: Int, heads: Int) -> [Int] {
        let headRows = rows / heads, half = headRows / 2
        precondition(heads > 0 && headRows * heads == rows && half * 2 == headRows, "rows \(rows) / heads \(heads)")
        var source = [Int](repeating: 0, count: rows)
        for h in 0..<heads {
            for i in 0..<half {
                for j in 0..<2 { source[h * headRows + 2 * i + j] = h * headRows + j * half + i }
            }
        }
        return source
    }

    /// `bytes` (`rows` rows of `rowBytes` bytes each, row-major) with the rows permuted.
    static func apply(_ bytes: UnsafeRawBufferPointer, rows: Int, heads: Int) -> [UInt8] {
        let rowBytes = bytes.count / rows
        var out = [UInt8](repeating: 0, count: bytes.count)
        out.withUnsafeMutableBytes { destination in
            for (row, from) in sourceRows(rows: rows, heads: heads).enumerated() {
                destination.baseAddress!.advanced(by: row * rowBytes)
                    .copyMemory(from: bytes.baseAddress!.advanced(by: from * rowBytes), byteCount: rowBytes)
            }
        }
        return out
    }
}
