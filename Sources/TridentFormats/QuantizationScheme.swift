import TridentKernels

/// The `--type` of `trident quantize`: one storage type for every weight matrix (`q8_0` ...
/// `q6_k`), or llama.cpp's mixes `q4_k_m` / `q5_k_m` (see `QuantizationMix`). The raw
/// values are the command-line names (a contract).
public enum QuantizationScheme: String, CaseIterable, Sendable {
    case q8_0, q4_0, q4_1, q5_0, q5_1, q4_k, q5_k, q6_k, q4_k_m, q5_k_m

    /// The type most matrices get.
    public var baseType: DType {
        switch self {
        case .q8_0: .q8_0
        case .q4_0: .q4_0
        case .q4_1: .q4_1
        case .q5_0: .q5_0
        case .q5_1: .q5_1
        case .q4_k, .q4_k_m: .q4_K
        case .q5_k, .q5_k_m: .q5_K
        case .q6_k: .q6_K
        }
    }

    /// Whether some tensors get other types by role and layer (llama.cpp's `_M` mixes).
    public var isMix: Bool { self == .q4_k_m || self == .q5_k_m }

    /// llama.cpp's `general.file_type` (`llama_ftype`) for files of this scheme. A single
    /// K-quant type is labelled as llama.cpp's `_S` mix of that type (the nearest it has).
    public var fileType: UInt32 {
        switch self {
        case .q4_0: 2
        case .q4_1: 3
        case .q8_0: 7
        case .q5_0: 8
        case .q5_1: 9
        case .q4_k: 14
        case .q4_k_m: 15
        case .q5_k: 16
        case .q5_k_m: 17
        case .q6_k: 18
        }
    }

    /// The names, comma-separated, for messages.
    public static var names: String { allCases.map(\.rawValue).joined(separator: ", ") }
}
