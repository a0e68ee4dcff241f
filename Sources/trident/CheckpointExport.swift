import Foundation
import TridentFormats
import TridentKernels
import TridentTraining

/// A sharded checkpoint as one GGUF file: the source model's metadata and tokenizer (kept in
/// the checkpoint as `model-meta.gguf`, with the tensors training did not touch) and every
/// trained tensor merged from its slices, in the source file's tensor order.
enum CheckpointExport {
    /// The source model's metadata, untrained tensors and tensor order, in each checkpoint.
    static let metadataFile = "model-meta.gguf"
    static let orderKey = "trident.checkpoint.tensor_order"

    /// Writes `directory/model-meta.gguf` from `source` without the `trained` tensors (world rank 0).
    /// - Returns: the file names written, for the manifest.
    static func writeMetadata(source: GGUFFile, trained: Set<String>, into directory: String) throws -> [String] {
        var writer = GGUFWriter(alignment: source.alignment)
        for key in source.metadataKeys where key != "general.alignment" && key != orderKey { writer.add(key, source.metadata[key]!) }
        writer.add(orderKey, .array(source.tensors.map { .string($0.name) }))
        for tensor in source.tensors where !trained.contains(tensor.name) {
            writer.addTensor(name: tensor.name, shape: tensor.shape, type: tensor.type, bytes: Array(source.bytes(of: tensor)))
        }
        do { try writer.write(to: directory + "/" + metadataFile) } catch {
            throw ExitMessage("--save: cannot write '\(directory)/\(metadataFile)': \(error)")
        }
        return [metadataFile]
    }

    /// Merges the checkpoint at `checkpoint` (a root or one `step-N`) into the GGUF `output`, trained
    /// tensors in `type` (vectors stay f32; q8_0 only for rows of whole 32-element blocks).
    /// - Throws: `CheckpointError` or `ExitMessage` naming the file at fault.
    static func merge(checkpoint: String, type: SaveType, to output: String) throws {
        let directory = try CheckpointDirectory.resolve(checkpoint)
        let reader = try ShardedCheckpointReader(directory: directory)
        try reader.verify()
        let metaPath = directory + "/" + metadataFile
        let meta: GGUFFile
        do { meta = try GGUFFile(path: metaPath) } catch {
            throw ExitMessage("checkpoint '\(directory)': cannot read \(metaPath): \(error)")
        }
        let order = meta.metadata[orderKey]?.array?.compactMap(\.string) ?? []
        var writer = GGUFWriter(alignment: meta.alignment)
        for key in meta.metadataKeys where key != "general.alignment" && key != orderKey {
            writer.add(key, key == "general.file_type" ? .uint32(fileType(type)) : meta.metadata[key]!)
        }
        let trained = Dictionary(uniqueKeysWithValues: reader.manifest.tensors.map { ($0.name, $0.shape) })
        for name in order {
            if let shape = trained[name] {
                try add(try reader.fullTensor(name), shape: shape, name: name, type: type, to: &writer)
            } else if let tensor = meta.tensor(named: name) {
                writer.addTensor(name: name, shape: tensor.shape, type: tensor.type, bytes: Array(meta.bytes(of: tensor)))
            } else {
                throw ExitMessage("checkpoint '\(directory)': tensor \(name) of the source model is neither trained nor in \(metaPath)")
            }
        }
        do { try writer.write(to: output) } catch { throw ExitMessage("cannot write '\(output)': \(error)") }
    }

    /// llama.cpp's `general.file_type` of the saved tensors.
    private static func fileType(_ type: SaveType) -> UInt32 {
        switch type {
        case .f32: 0
        case .f16: 1
        case .q8_0: 7
        case .bf16: 32
        }
    }

    /// Appends one trained tensor `[rows, columns]` row-major (GGUF shape `[columns, rows]`).
    private static func add(_ values: [Float], shape: [Int], name: String, type: SaveType, to writer: inout GGUFWriter) throws {
        let columns = shape.count == 2 ? shape[1] : shape[0]
        let rows = shape.count == 2 ? shape[0] : 1
        let matrix = shape.count == 2
        let dtype: DType
        switch type {
        case .f32: dtype = .f32
        case .f16: dtype = matrix ? .f16 : .f32
        case .bf16: dtype = matrix ? .bf16 : .f32
        case .q8_0: dtype = matrix && columns % 32 == 0 ? .q8_0 : .f32
        }
        writer.addTensor(name: name, shape: matrix ? [columns, rows] : [columns], dtype: dtype,
                         bytes: Quantizer.quantize(values, rows: rows, columns: columns, to: dtype))
    }
}
