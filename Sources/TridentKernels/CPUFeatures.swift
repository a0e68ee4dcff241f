import Foundation

/// What the CPU running this process can do, read once (Linux: the `flags` line of
/// `/proc/cpuinfo`; elsewhere nothing is assumed). Kernels with several register layouts pick
/// theirs from it; every layout stays correct on any CPU the binary runs on.
public enum CPUFeatures {
    /// The CPU has AVX-512F (32 vector registers of 16 floats).
    /// `TRIDENT_GEMM_KERNEL=narrow` (or `wide`) overrides it, to compare kernels on one machine.
    public static let hasAVX512: Bool = {
        switch ProcessInfo.processInfo.environment["TRIDENT_GEMM_KERNEL"] {
        case "narrow": return false
        case "wide": return true
        default: return flags.contains("avx512f")
        }
    }()

    /// The words of the first `flags` line of `/proc/cpuinfo` (empty when unreadable).
    static let flags: Set<Substring> = {
        guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
              let line = text.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return [] }
        return Set(line.split(separator: " "))
    }()
}
