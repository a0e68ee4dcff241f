import Foundation

/// How RoPE's rotation angles are scaled beyond `position · base^(-2i/headDim)`, as llama.cpp's
/// `ggml_rope_ext` applies it (for its "none"/"linear" types, whose `ext_factor` is 0): pair `i`
/// of a token at `position` is rotated by
///
///     position / linearFactor · base^(-2i/headDim) / frequencyFactors[i]
///
/// - `frequencyFactors`: per-pair divisors (GGUF `rope_freqs.weight`, `[headDim / 2]` F32),
///   which is how Llama 3.1+'s `rope_type: llama3` is stored (`RopeScaling.llama3`).
/// - `linearFactor`: position interpolation (GGUF `rope.scaling.type = linear` with
///   `rope.scaling.factor`; Hugging Face `rope_type: linear`).
///
/// The same scaling applies to every head and every rank: tensor-parallel ranks each hold the
/// whole vector (it is per dimension pair, not per head).
public struct RopeScaling: Codable, Sendable, Equatable {
    /// Per-pair angle divisors, `[headDim / 2]`, each finite and > 0; nil: all 1.
    public var frequencyFactors: [Float]?
    /// Positions are divided by this (finite, > 0); 1: no linear scaling.
    public var linearFactor: Float

    /// No scaling: plain RoPE.
    public static let none = RopeScaling()

    public init(frequencyFactors: [Float]? = nil, linearFactor: Float = 1) {
        self.frequencyFactors = frequencyFactors
        self.linearFactor = linearFactor
    }

    enum CodingKeys: String, CodingKey {
        case frequencyFactors = "frequency_factors"
        case linearFactor = "linear_factor"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        frequencyFactors = try c.decodeIfPresent([Float].self, forKey: .frequencyFactors)
        linearFactor = try c.decodeIfPresent(Float.self, forKey: .linearFactor) ?? 1
    }

    /// Whether the angles are those of plain RoPE.
    public var isNone: Bool { frequencyFactors == nil && linearFactor == 1 }

    /// Pair `i`'s angle per unit of position, in Double: `base^(-2i/headDim) / factors[i] / linearFactor`.
    /// With no scaling this is exactly `pow(base, -2i/headDim)`. Returns `[headDim / 2]`.
    /// - Precondition: `frequencyFactors`, when given, has `headDim / 2` entries (`problem` checks it).
    public func inverseFrequencies(base: Float, headDim: Int) -> [Double] {
        let half = headDim / 2
        precondition(frequencyFactors == nil || frequencyFactors!.count == half,
                     "\(frequencyFactors?.count ?? 0) RoPE frequency factors for \(half) pairs")
        return (0 ..< half).map { i in
            var frequency = pow(Double(base), -2 * Double(i) / Double(headDim))
            if let factors = frequencyFactors { frequency /= Double(factors[i]) }
            if linearFactor != 1 { frequency /= Double(linearFactor) }
            return frequency
        }
    }

    /// Why this scaling does not fit a head of `headDim`, or nil when it does: the factor count
    /// must be `headDim / 2`, every factor and the linear factor finite and > 0.
    public func problem(headDim: Int) -> String? {
        if !(linearFactor.isFinite && linearFactor > 0) {
            return "RoPE linear scaling factor must be finite and > 0, found \(linearFactor)"
        }
        guard let factors = frequencyFactors else { return nil }
        if factors.count != headDim / 2 {
            return "RoPE frequency factors: expected \(headDim / 2) (head dimension \(headDim) / 2), found \(factors.count)"
        }
        if let i = factors.firstIndex(where: { !($0.isFinite && $0 > 0) }) {
            return "RoPE frequency factor \(i) must be finite and > 0, found \(factors[i])"
        }
        return nil
    }
}

extension RopeScaling {
    /// Llama 3.1's per-frequency divisors (`rope_type: llama3`), from its four parameters, as
    /// Hugging Face's `_compute_llama3_parameters` scales the inverse frequencies: a pair whose
    /// wavelength `2π / freq` is shorter than `originalContext / highFrequencyFactor` keeps its
    /// frequency (divisor 1); longer than `originalContext / lowFrequencyFactor` is divided by
    /// `factor`; in between, the frequency is `freq · ((1 - s) / factor + s)` with
    /// `s = (originalContext / wavelength - low) / (high - low)`, i.e. divisor `1 / ((1 - s) / factor + s)`.
    /// Returns `[headDim / 2]` divisors (what llama.cpp's converter stores as `rope_freqs.weight`).
    /// - Precondition: `highFrequencyFactor != lowFrequencyFactor` (the caller validates).
    public static func llama3Factors(base: Float, headDim: Int, factor: Double, lowFrequencyFactor: Double,
                                     highFrequencyFactor: Double, originalContext: Double) -> [Float] {
        precondition(highFrequencyFactor != lowFrequencyFactor, "llama3 RoPE: equal low and high frequency factors")
        let lowWavelength = originalContext / lowFrequencyFactor
        let highWavelength = originalContext / highFrequencyFactor
        return (0 ..< headDim / 2).map { i in
            let frequency = pow(Double(base), -2 * Double(i) / Double(headDim))
            let wavelength = 2 * Double.pi / frequency
            if wavelength < highWavelength { return 1 }
            if wavelength > lowWavelength { return Float(factor) }
            let smooth = (originalContext / wavelength - lowFrequencyFactor) / (highFrequencyFactor - lowFrequencyFactor)
            return Float(1 / ((1 - smooth) / factor + smooth))
        }
    }
}

extension RopeScaling: CustomStringConvertible {
    /// `none`, `per-pair divisors 1...8 (64 pairs)`, `positions / 4`, or both joined by `, `.
    public var description: String {
        var parts: [String] = []
        if let f = frequencyFactors, let low = f.min(), let high = f.max() {
            parts.append("per-pair divisors \(low)...\(high) (\(f.count) pairs)")
        }
        if linearFactor != 1 { parts.append("positions / \(linearFactor)") }
        return parts.isEmpty ? "none" : parts.joined(separator: ", ")
    }
}
