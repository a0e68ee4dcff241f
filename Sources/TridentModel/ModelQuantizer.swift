import Foundation
import TridentFormats
import TridentKernels

/// What happened to one tensor in `ModelQuantizer.quantize`.
public struct TensorQuantizationReport: Sendable {
    public let name: String
    /// ggml `ne` order.
    public let shape: [Int]
    public let sourceType: GGMLType
    public let choice: QuantizationChoice
    /// `sqrt(Σ(x̂ − x)² / Σx²)` of the written tensor against the input's values (0 when copied).
    public let relativeRMSError: Double
    public let bytesIn: Int
    public let bytesOut: Int
}

/// Totals of one `ModelQuantizer.quantize` run.
public struct QuantizationSummary: Sendable {
    public let tensors: [TensorQuantizationReport]
    public var bytesIn: Int { tensors.reduce(0) { $0 + $1.bytesIn } }
    public var bytesOut: Int { tensors.reduce(0) { $0 + $1.bytesOut } }
    /// Tensor counts by written type name, e.g. `["Q4_K": 15, "Q5_0": 120]`.
    public var typeCounts: [String: Int] {
        tensors.reduce(into: [:]) { $0["\($1.choice.type)", default: 0] += 1 }
    }
}

/// Re-encodes a GGUF model under a `QuantizationScheme`: every tensor is decoded to float32
/// and encoded in the type `QuantizationMix` chooses (tensors kept as stored are copied
/// byte for byte); all metadata is kept (tokenizer, chat template, architecture keys), with
/// `general.file_type` set to the scheme's and `general.quantization_version` to 2, so both
/// llama.cpp and Trident read the result. The output is written atomically.
public enum ModelQuantizer {
    /// Quantizes `input` into `output`, calling `progress` after each tensor.
    /// - Throws: `QuantizationError`, `GGUFError` (unreadable input).
    public static func quantize(input: String, output: String, scheme: QuantizationScheme, threads: Int,
                                progress: (TensorQuantizationReport) -> Void = { _ in }) throws -> QuantizationSummary {
        if ModelFiles.isDirectory(input) {
            throw QuantizationError.unsupportedInput(
                path: input, reason: "a directory (Hugging Face input is not supported yet; give a GGUF file)")
        }
        let file = try GGUFFile(path: input)
        let plan = try self.plan(file, scheme: scheme)
        var writer = GGUFWriter(alignment: file.alignment)
        copyMetadata(of: file, into: &writer, fileType: scheme.fileType)
        let pool = ThreadPool(threadCount: max(1, threads))
        var reports: [TensorQuantizationReport] = []
        for (tensor, choice) in zip(file.tensors, plan) {
            let (bytes, error) = try convert(tensor, in: file, to: choice, pool: pool)
            writer.addTensor(name: tensor.name, shape: tensor.shape, type: choice.type, bytes: bytes)
            let report = TensorQuantizationReport(name: tensor.name, shape: tensor.shape, sourceType: tensor.type,
                                                  choice: choice, relativeRMSError: error,
                                                  bytesIn: tensor.byteCount, bytesOut: bytes.count)
            reports.append(report)
            progress(report)
        }
        do { try writer.write(to: output) } catch { throw QuantizationError.write(path: output, error) }
        return QuantizationSummary(tensors: reports)
    }

    /// The type choice for every tensor of `file`.
    public static func plan(_ file: GGUFFile, scheme: QuantizationScheme) throws -> [QuantizationChoice] {
        let inputs = file.tensors.map { QuantizationInput(name: $0.name, shape: $0.shape, type: $0.type) }
        let key = "\((try? file.architecture) ?? "llama").block_count"
        guard let layers = try? file.int(key) else {
            throw QuantizationError.missingMetadata(key: key, path: file.path)
        }
        return QuantizationMix.plan(inputs, scheme: scheme, layerCount: layers)
    }

    /// Every metadata pair in file order except the alignment (the writer sets it), with the
    /// file type replaced and the quantization version set.
    private static func copyMetadata(of file: GGUFFile, into writer: inout GGUFWriter, fileType: UInt32) {
        for key in file.metadataKeys where key != "general.alignment" && key != "general.quantization_version" {
            writer.add(key, key == "general.file_type" ? .uint32(fileType) : file.metadata[key]!)
        }
        if file.metadata["general.file_type"] == nil { writer.add("general.file_type", .uint32(fileType)) }
        writer.add("general.quantization_version", .uint32(2))
    }

    /// The tensor's bytes in the chosen type, and the relative RMS error of the conversion.
    private static func convert(_ tensor: GGUFTensorInfo, in file: GGUFFile, to choice: QuantizationChoice,
                                pool: ThreadPool) throws -> (bytes: [UInt8], error: Double) {
        let stored = file.bytes(of: tensor)
        if choice.keepsBytes { return (Array(stored), 0) }
        guard let from = tensor.type.dtype else {
            throw QuantizationError.cannotDecode(tensor: tensor.name, type: "\(tensor.type)")
        }
        guard let to = choice.type.dtype, Quantizer.canQuantize(to) else {
            throw QuantizationError.badShape(tensor: tensor.name, shape: tensor.shape, type: "\(choice.type)")
        }
        let columns = tensor.shape[0], rows = tensor.elementCount / max(columns, 1)
        guard columns % from.blockSize == 0, columns % to.blockSize == 0 else {
            throw QuantizationError.badShape(tensor: tensor.name, shape: tensor.shape, type: "\(choice.type)")
        }
        guard rows > 0, let base = stored.baseAddress else { return ([], 0) }
        let result = TensorRequantizer.convert(base, rows: rows, columns: columns, from: from, to: to, pool: pool)
        return (result.bytes, result.relativeRMSError)
    }
}
