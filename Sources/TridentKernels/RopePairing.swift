/// Which two elements of a head vector RoPE rotates together.
///
/// The same model stored two ways needs both: llama.cpp's converter permutes a Llama's q/k
/// rows so that GGUF `llama` files rotate adjacent pairs, while Hugging Face checkpoints
/// (and GGUF `qwen2` files, which are not permuted) rotate element `i` with `i + headDim/2`.
public enum RopePairing: String, Codable, Sendable, CaseIterable {
    /// `(x[2i], x[2i+1])`: GGML's "normal" mode (GGUF llama, mistral, granite).
    case adjacent
    /// `(x[i], x[i + headDim/2])`: `rotate_half`, GGML's "neox" mode (Hugging Face, GGUF qwen2).
    case halves
}
