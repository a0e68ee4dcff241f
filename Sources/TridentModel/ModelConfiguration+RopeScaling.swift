import Foundation
import TridentFormats
import TridentKernels

extension ModelConfiguration {
    /// The GGUF tensor of per-pair RoPE divisors llama.cpp's converter writes for Llama 3.1+.
    public static let ropeFrequencyFactorsTensor = "rope_freqs.weight"

    /// GGUF `<arch>.rope.scaling.type` values Trident applies.
    public static let supportedGGUFRopeScalingTypes = ["none", "linear"]

    /// Hugging Face `rope_type` values Trident applies.
    public static let supportedHuggingFaceRopeTypes = ["default", "linear", "llama3"]

    /// RoPE scaling as llama.cpp reads it from a GGUF file: `rope_freqs.weight` (`[headDim / 2]`
    /// per-pair divisors, each finite and > 0) and `<arch>.rope.scaling.factor` (or the older
    /// `<arch>.rope.scale_linear`; 0 or absent: none) dividing positions, under scaling type
    /// `none`, `linear` or no type (llama.cpp applies the factor under each). Any other type
    /// (yarn, longrope, ...) and an attention factor other than 1 are refused.
    /// - Throws: `ModelLoadingError.unsupportedFeature` or `.inconsistentConfiguration` naming the
    ///   key or tensor and what was found.
    static func ropeScaling(gguf file: GGUFFile, architecture arch: String, headDimension: Int,
                            positionEncoding: PositionEncoding) throws -> RopeScaling {
        let typeKey = "\(arch).rope.scaling.type"
        if let value = file.metadata[typeKey] {
            guard let type = value.string else {
                throw ModelLoadingError.inconsistentConfiguration("\(typeKey) must be a string, found \(value)")
            }
            guard supportedGGUFRopeScalingTypes.contains(type) else {
                throw ModelLoadingError.unsupportedFeature(
                    "\(typeKey) '\(type)' is not supported (supported: \(supportedGGUFRopeScalingTypes.joined(separator: ", ")))")
            }
        }
        if let attention = file.metadata["\(arch).rope.scaling.attn_factor"], attention.double != 1 {
            throw ModelLoadingError.unsupportedFeature("\(arch).rope.scaling.attn_factor \(attention): only 1 is supported")
        }
        var scaling = RopeScaling()
        for key in ["\(arch).rope.scaling.factor", "\(arch).rope.scale_linear"] {
            guard let value = file.metadata[key] else { continue }
            guard let factor = value.double, factor.isFinite, factor >= 0 else {
                throw ModelLoadingError.inconsistentConfiguration("\(key) must be a finite number >= 0, found \(value)")
            }
            if factor != 0 { scaling.linearFactor = Float(factor) }
            break
        }
        if let info = file.tensor(named: ropeFrequencyFactorsTensor) {
            scaling.frequencyFactors = try frequencyFactors(file, info, headDimension: headDimension)
        }
        if !scaling.isNone && positionEncoding != .rope {
            throw ModelLoadingError.unsupportedFeature("RoPE scaling in a model with learned positions (\(arch))")
        }
        return scaling
    }

    /// `rope_freqs.weight`'s values, checked: shape `[headDim / 2]`, each finite and > 0.
    private static func frequencyFactors(_ file: GGUFFile, _ info: GGUFTensorInfo, headDimension: Int) throws -> [Float] {
        let name = ropeFrequencyFactorsTensor, half = headDimension / 2
        guard info.shape.count == 1 || info.shape.dropFirst().allSatisfy({ $0 == 1 }), info.elementCount == half else {
            throw ModelLoadingError.inconsistentConfiguration(
                "\(name): expected shape [\(half)] (head dimension \(headDimension) / 2), found \(info.shape)")
        }
        let factors: [Float]
        do { factors = try file.floats(named: name) } catch {
            throw ModelLoadingError.inconsistentConfiguration("\(name): \(error)")
        }
        if let problem = RopeScaling(frequencyFactors: factors).problem(headDim: headDimension) {
            throw ModelLoadingError.inconsistentConfiguration("\(name): \(problem)")
        }
        return factors
    }
}

extension HuggingFaceKeys {
    /// The RoPE parameters of a `config.json`: `rope_scaling` (transformers 4, as Llama 3.1
    /// ships it; it wins when both are set, as in transformers) or `rope_parameters`
    /// (transformers 5), nil when neither is an object.
    func ropeParameters() throws -> (parameters: [String: Any], key: String)? {
        for key in ["rope_scaling", "rope_parameters"] where !isNull(key) {
            guard let parameters = object[key] as? [String: Any] else {
                throw ModelLoadingError.inconsistentConfiguration("\(file): '\(key)' must be an object, found \(object[key]!)")
            }
            if parameters["rope_type"] == nil && parameters["type"] == nil && parameters.values.contains(where: { $0 is [String: Any] }) {
                throw ModelLoadingError.unsupportedFeature("\(file): per-layer-type '\(key)' is not supported")
            }
            return (parameters, key)
        }
        return nil
    }

    /// RoPE scaling of a `config.json` (`rope_type`, or the older `type`): `default` (or none)
    /// is plain RoPE; `linear` divides positions by `factor`; `llama3` gives per-pair divisors
    /// from `factor`, `low_freq_factor`, `high_freq_factor` and `original_max_position_embeddings`
    /// (default: the top-level one, else `max_position_embeddings`), as transformers computes
    /// them. Anything else (yarn, dynamic, longrope, ...) is refused.
    func ropeScaling(base: Float, headDimension: Int) throws -> RopeScaling {
        guard let (parameters, key) = try ropeParameters() else { return .none }
        let nested = HuggingFaceKeys(object: parameters, file: "\(file) \(key)")
        let type = (parameters["rope_type"] ?? parameters["type"]) as? String ?? "default"
        switch type {
        case "default":
            return .none
        case "linear":
            return RopeScaling(linearFactor: Float(try nested.double("factor")))
        case "llama3":
            let low = try nested.double("low_freq_factor"), high = try nested.double("high_freq_factor")
            guard high > low else {
                throw ModelLoadingError.inconsistentConfiguration(
                    "\(file) \(key): high_freq_factor \(high) must be greater than low_freq_factor \(low)")
            }
            let original = try nested.optionalDouble("original_max_position_embeddings")
                ?? optionalDouble("original_max_position_embeddings") ?? Double(try int("max_position_embeddings"))
            return RopeScaling(frequencyFactors: RopeScaling.llama3Factors(
                base: base, headDim: headDimension, factor: try nested.double("factor"), lowFrequencyFactor: low,
                highFrequencyFactor: high, originalContext: original))
        default:
            throw ModelLoadingError.unsupportedFeature(
                "\(file): \(key) rope_type '\(type)' is not supported (supported: \(ModelConfiguration.supportedHuggingFaceRopeTypes.joined(separator: ", ")))")
        }
    }

    /// A required positive finite number.
    func double(_ key: String) throws -> Double {
        guard let value = try optionalDouble(key) else {
            throw ModelLoadingError.inconsistentConfiguration("\(file): '\(key)' must be a positive number, found nothing")
        }
        return value
    }
}
