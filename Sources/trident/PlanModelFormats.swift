import TridentFormats
import TridentPlanner

/// Reads how a GGUF file stores its weights, so `trident plan` prices the bytes the file
/// really has: the blocks' matrices (e.g. q4_1) and the embedding / LM head (often q8_0).
enum PlanModelFormats {
    /// `model` with `fileWeightFormat` and `vocabularyFormat` taken from the GGUF at `path`;
    /// unchanged for other files or formats the planner does not know.
    static func applying(to model: PlannerModel, path: String) throws -> PlannerModel {
        guard path.lowercased().hasSuffix(".gguf") else { return model }
        let file = try GGUFFile(path: path)
        var bytesByType: [GGMLType: Int] = [:]
        for tensor in file.tensors where tensor.name.hasPrefix("blk.") && tensor.shape.count == 2 {
            bytesByType[tensor.type, default: 0] += tensor.byteCount
        }
        var result = model
        if let dominant = bytesByType.max(by: { $0.value < $1.value })?.key {
            result.fileWeightFormat = numericFormat(dominant)
        }
        // The LM head is what decoding reads in full; a tied model reads the embedding.
        if let head = file.tensor(named: "output.weight") ?? file.tensor(named: "token_embd.weight"),
           let format = numericFormat(head.type), format != result.fileWeightFormat {
            result.vocabularyFormat = format
        }
        return result
    }

    /// The planner's name for a ggml storage type, or nil when it has none.
    static func numericFormat(_ type: GGMLType) -> NumericFormat? {
        type.dtype.flatMap { NumericFormat(rawValue: $0.rawValue) }
    }
}
