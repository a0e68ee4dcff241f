import CTridentQ8
import Foundation

/// Whether Q8_0 weight products round the activations to 8 bits per block of 32 and use
/// integer dot products (`int8`), or keep them float32 and widen the weights (`float32`, exact
/// up to float32 rounding). Other weight types always keep float32 activations.
public enum ActivationPrecision: String, Sendable, CaseIterable {
    case float32
    case int8

    /// The choice for this process: `float32` unless `TRIDENT_Q8_ACTIVATIONS=1` selects `int8`
    /// (`0` selects `float32`). `int8` is faster (decode matvec about 1.4x, prefill about 1.5x on
    /// AVX-512 VNNI) but misses the accuracy contract (perplexity within 0.1% of float32
    /// activations): SmolLM2-135M Q8_0 on the LICENSE text at context 128 reads 16.593 against
    /// 16.494 (+0.60%), so it is opt-in.
    public static let current: ActivationPrecision = {
        switch ProcessInfo.processInfo.environment["TRIDENT_Q8_ACTIVATIONS"] {
        case "1": return .int8
        default: return .float32
        }
    }()
}

/// The instruction set of the Q8_0 × Q8 integer dot products. Every path computes the same
/// exact integer block sums; they differ only in float32 summation order of the scaled sums.
public enum Q8DotPath: String, Sendable, CaseIterable {
    /// Swift SIMD lane loops (any CPU).
    case portable
    /// `vpmaddubsw` / `vpmaddwd` on |w| and sign-adjusted x (256-bit).
    case avx2
    /// `vpdpbusd`, 256-bit VEX encoding (AVX-VNNI).
    case avxVNNI = "avxvnni"
    /// `vpdpbusd`, 512-bit (AVX-512 VNNI), and a packed 4-row prefill micro-kernel.
    case avx512VNNI = "avx512vnni"

    /// Whether this CPU (and this build) can run the path.
    public var isSupported: Bool {
        let x86 = trident_q8_x86_available() != 0
        let flags = CPUFeatures.flags
        let avx2 = x86 && flags.contains("avx2") && flags.contains("fma") && flags.contains("f16c")
        switch self {
        case .portable: return true
        case .avx2: return avx2
        case .avxVNNI: return avx2 && flags.contains("avx_vnni")
        case .avx512VNNI:
            return avx2 && ["avx512f", "avx512bw", "avx512vl", "avx512_vnni"].allSatisfy { flags.contains($0) }
        }
    }

    /// The fastest supported path: AVX-512 VNNI, then AVX-VNNI, then AVX2, then portable.
    /// `TRIDENT_Q8_DOT=portable|avx2|avxvnni|avx512vnni` overrides it when the CPU supports it.
    public static let current: Q8DotPath = {
        if let forced = ProcessInfo.processInfo.environment["TRIDENT_Q8_DOT"],
           let path = Q8DotPath(rawValue: forced), path.isSupported {
            return path
        }
        return [.avx512VNNI, .avxVNNI, .avx2].first(where: \.isSupported) ?? .portable
    }()
}
