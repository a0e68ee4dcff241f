import Foundation
import TridentCollectives
import TridentFormats
import TridentKernels
import TridentTraining

/// `--save DIR`: `DIR/model.gguf` (the source model's metadata and tokenizer, every parameter
/// gathered from its tensor shards, in the source file's tensor order) and `DIR/training/`
/// (each rank's master weights and AdamW moments, then the manifest), every file atomic.
struct TrainingCheckpoint {
    /// The GGUF the run started from (metadata, tokenizer, tensor order, tensors not trained).
    let source: GGUFFile
    let directory: String
    let type: SaveType

    /// Every rank of the run must call this after the same step.
    /// - Throws: `ExitMessage` when a file cannot be written, or a `CollectiveError`.
    func save(_ session: TrainingSession) throws {
        let groups = session.groups
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try TrainingState.writeRank(session, checkpoint: directory)
        } catch let error as TrainingError { throw error } catch {
            throw ExitMessage("--save: cannot write the training state in '\(directory)': \(error.localizedDescription)")
        }
        var full: [String: [Float]] = [:]
        if groups.coordinates.data == 0 {
            // Each stage assembles its tensors on its tensor rank 0; the stages' leaders send theirs to world rank 0.
            for views in ParameterGathering.byName(session.model.parameters) {
                if let values = try ParameterGathering.gather(views, tensorGroup: groups.tensor) { full[views[0].name] = values }
            }
            if groups.coordinates.tensor == 0 && groups.pipeline.size > 1 {
                full = try StageGathering.collect(full, pipelineGroup: groups.pipeline) ?? [:]
            }
        }
        try groups.world.barrier()      // every rank's state file is complete
        guard groups.world.rank == 0 else { return }
        var writer = GGUFWriter(alignment: source.alignment)
        for key in source.metadataKeys where key != "general.alignment" {
            writer.add(key, key == "general.file_type" ? .uint32(fileType) : source.metadata[key]!)
        }
        for tensor in source.tensors {
            if let values = full[tensor.name] {
                try add(values, like: tensor, to: &writer)
            } else {
                writer.addTensor(name: tensor.name, shape: tensor.shape, type: tensor.type,
                                 bytes: Array(source.bytes(of: tensor)))
            }
        }
        do {
            try writer.write(to: directory + "/model.gguf")
            try TrainingManifest(session: session).write(checkpoint: directory)
        } catch {
            throw ExitMessage("--save: cannot write '\(directory)/model.gguf': \(error)")
        }
    }

    /// llama.cpp's `general.file_type` of the saved tensors.
    private var fileType: UInt32 {
        switch type {
        case .f32: 0
        case .f16: 1
        case .q8_0: 7
        case .bf16: 32
        }
    }

    /// Appends one trained tensor, `[rows, columns]` row-major, in the requested type (vectors
    /// and rows that do not split into 32-element blocks stay f32 under q8_0).
    private func add(_ values: [Float], like tensor: GGUFTensorInfo, to writer: inout GGUFWriter) throws {
        guard values.count == tensor.elementCount else {
            throw ExitMessage("--save: parameter \(tensor.name) has \(values.count) values, the source tensor \(tensor.elementCount)")
        }
        let columns = tensor.shape.first ?? 1
        let rows = values.count / max(columns, 1)
        let dtype: DType
        switch type {
        case .f32: dtype = .f32
        case .f16: dtype = tensor.shape.count > 1 ? .f16 : .f32
        case .bf16: dtype = tensor.shape.count > 1 ? .bf16 : .f32
        case .q8_0: dtype = tensor.shape.count > 1 && columns % 32 == 0 ? .q8_0 : .f32
        }
        writer.addTensor(name: tensor.name, shape: tensor.shape, dtype: dtype,
                         bytes: Quantizer.quantize(values, rows: rows, columns: columns, to: dtype))
    }
}
