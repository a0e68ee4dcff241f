import ArgumentParser
import Foundation
import TridentFormats
import TridentModel

struct QuantizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Re-encode a model's weights as a smaller GGUF file (llama.cpp's types and Q4_K_M / Q5_K_M mixes).",
        discussion: """
        IN is a GGUF file of any type Trident reads, a Hugging Face directory (llama, mistral or
        qwen2: config.json, safetensors, tokenizer.json; converted as convert_hf_to_gguf.py
        does) or a training checkpoint (a --save directory or one of its step-N directories),
        merged first. Every weight matrix is decoded to f32 and
        encoded in the --type (the _m mixes give the output and some attn_v / ffn_down matrices
        Q6_K, as llama.cpp does; rows that do not split into 256-element super-blocks fall
        back to Q5_0 / Q5_1 / Q8_0). Norms stay as stored; all metadata is kept.
        Prints each tensor's chosen type and relative RMS error.
        """)

    @Argument(help: "The model to read (GGUF file, Hugging Face directory or training checkpoint directory).")
    var input: String

    @Argument(help: "The GGUF file to write (atomically).")
    var output: String

    @Option(help: "One of \(QuantizationScheme.names).")
    var type: String

    @Option(name: [.long, .customShort("t")], parsing: .unconditional, help: "Threads (default: all cores).")
    var threads: Int?

    @Flag(help: "Print only the totals, not a line per tensor.")
    var quiet = false

    func validate() throws {
        guard QuantizationScheme(rawValue: type.lowercased()) != nil else {
            throw ValidationError("--type must be one of \(QuantizationScheme.names), got '\(type)'")
        }
        if let threads { try OptionCheck.integer(threads, in: 1...ModelOptions.maxThreads, "--threads") }
        try OptionCheck.modelFile(input, option: "IN")
        try Self.checkWritable(output)
    }

    func run() throws {
        let scheme = QuantizationScheme(rawValue: type.lowercased())!
        let start = Date()
        let merged = try HuggingFaceExport.exportIfHuggingFace(input, beside: output)
            ?? CheckpointModel.exportIfCheckpoint(input)
        defer { if let merged { try? FileManager.default.removeItem(atPath: merged) } }
        let summary = try ModelQuantizer.quantize(
            input: merged ?? input, output: output, scheme: scheme,
            threads: threads ?? ProcessInfo.processInfo.activeProcessorCount
        ) { report in
            if !quiet { print(Self.line(report)) }
        }
        let seconds = Date().timeIntervalSince(start)
        let types = summary.typeCounts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        print("tensors:  \(summary.tensors.count) (\(types))")
        print(String(format: "size:     %.2f MiB -> %.2f MiB (%.2fx) in %.1f s", Double(summary.bytesIn) / 1_048_576,
                     Double(summary.bytesOut) / 1_048_576, Double(summary.bytesIn) / Double(max(summary.bytesOut, 1)), seconds))
        let quantized = summary.tensors.filter { !$0.choice.keepsBytes }
        if let worst = quantized.max(by: { $0.relativeRMSError < $1.relativeRMSError }) {
            let weighted = quantized.reduce(0.0) { $0 + $1.relativeRMSError * Double($1.shape.reduce(1, *)) }
                / Double(quantized.reduce(0) { $0 + $1.shape.reduce(1, *) })
            print(String(format: "error:    relative RMS %.4f mean (by elements), %.4f worst (%@)", weighted,
                         worst.relativeRMSError, worst.name))
        }
        print("wrote:    \(output) (\(scheme.rawValue), general.file_type \(scheme.fileType))")
    }

    /// `[columns x rows] FROM -> TO  rel.rms E  (rule, fallback)` for one tensor.
    private static func line(_ r: TensorQuantizationReport) -> String {
        let shape = r.shape.map(String.init).joined(separator: " x ")
        var notes: [String] = []
        if let rule = r.choice.rule { notes.append(rule) }
        if let from = r.choice.fallbackFrom { notes.append("fallback from \(from)") }
        if r.choice.keepsBytes { notes.append("copied") }
        let error = r.choice.keepsBytes ? "       -" : String(format: "%.5f", r.relativeRMSError)
        return "\(r.name.padding(toLength: 28, withPad: " ", startingAt: 0)) \(shape.padding(toLength: 14, withPad: " ", startingAt: 0)) "
            + "\("\(r.sourceType)".padding(toLength: 5, withPad: " ", startingAt: 0)) -> \("\(r.choice.type)".padding(toLength: 5, withPad: " ", startingAt: 0)) "
            + "rel.rms \(error)\(notes.isEmpty ? "" : "  (\(notes.joined(separator: ", ")))")"
    }

    /// OUT must not be a directory and its directory must exist and be writable.
    private static func checkWritable(_ path: String) throws {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
            throw ValidationError("OUT: '\(path)' is a directory, expected a file path")
        }
        let directory = (path as NSString).deletingLastPathComponent
        let parent = directory.isEmpty ? "." : directory
        guard FileManager.default.fileExists(atPath: parent, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ValidationError("OUT: directory '\(parent)' does not exist")
        }
        guard FileManager.default.isWritableFile(atPath: parent) else {
            throw ValidationError("OUT: directory '\(parent)' is not writable")
        }
    }
}
