import ArgumentParser
import Foundation
import TridentFormats

/// One-line checks of numeric options, so that no user value reaches a precondition. Every
/// message names the option, the accepted range and the value given.
enum OptionCheck {
    /// `value` must lie in `range`.
    static func integer<T: FixedWidthInteger>(_ value: T, in range: ClosedRange<T>, _ option: String) throws {
        guard range.contains(value) else {
            let wanted = range.upperBound == T.max ? ">= \(range.lowerBound)" : "in \(range.lowerBound)...\(range.upperBound)"
            throw ValidationError("\(option) must be \(wanted), got \(value)")
        }
    }

    /// `value` must be finite and satisfy `accept`, described by `wanted` (e.g. "in (0, 1]").
    static func real<T: BinaryFloatingPoint>(_ value: T, _ option: String, _ wanted: String,
                                             _ accept: (T) -> Bool) throws {
        guard value.isFinite, accept(value) else { throw ValidationError("\(option) must be \(wanted), got \(value)") }
    }

    /// `path` must be an existing GGUF file (not a directory).
    static func modelFile(_ path: String, option: String = "--model") throws {
        var isDirectory: ObjCBool = false
        guard !path.isEmpty, FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ValidationError("\(option): no model file at '\(path)' (run scripts/fetch-model.sh for the default model)")
        }
        guard !isDirectory.boolValue || HuggingFaceDirectory.isModelDirectory(path) || CheckpointModel.isCheckpoint(path) else {
            throw ValidationError("\(option): '\(path)' is a directory with neither config.json nor manifest.json: expected a .gguf file, a Hugging Face directory (config.json and model.safetensors or model.safetensors.index.json) or a Trident checkpoint (manifest.json, or a --save directory with 'latest')")
        }
    }
}
