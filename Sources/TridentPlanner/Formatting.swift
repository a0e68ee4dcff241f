import Foundation

/// Human-readable numbers for tables and reasons (decimal units: 1 GB = 1e9 bytes).
public enum Formatting {
    /// `13.48 GB`, `512.0 MB`, `20 B`.
    public static func bytes(_ value: Double) -> String {
        let units: [(Double, String)] = [(1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")]
        for (scale, name) in units where abs(value) >= scale {
            return String(format: "%.2f %@", value / scale, name)
        }
        return String(format: "%.0f B", value)
    }

    /// `300 GB/s`.
    public static func rate(_ bytesPerSecond: Double) -> String {
        bytes(bytesPerSecond).replacingOccurrences(of: ".00 ", with: " ") + "/s"
    }

    /// `312 TFLOP/s`, `31.0 GFLOP/s`.
    public static func flops(_ perSecond: Double) -> String {
        perSecond >= 1e12 ? String(format: "%.0f TFLOP/s", perSecond / 1e12) : String(format: "%.1f GFLOP/s", perSecond / 1e9)
    }

    /// `12.3%`.
    public static func percent(_ share: Double) -> String { String(format: "%.1f%%", share * 100) }

    /// Tokens per second with sensible precision: `1234`, `12.3`, `0.123`.
    public static func tokensPerSecond(_ value: Double) -> String {
        value >= 100 ? String(format: "%.0f", value) : value >= 1 ? String(format: "%.1f", value)
            : String(format: "%.3g", value)
    }

    /// `TP=4 x PP=2 x DP=1`.
    public static func configuration(_ c: ParallelConfiguration) -> String {
        "TP=\(c.tensor) x PP=\(c.pipeline) x DP=\(c.data)"
    }
}
