import Foundation
import TridentFormats

/// Reads one checkpoint directory (`step-N/`) onto any layout: each tensor region a rank needs
/// is assembled from the intersections of that region with the slices the files hold, read
/// from the files' mappings (only the files that hold some of it are opened).
public final class ShardedCheckpointReader {
    public let directory: String
    public let manifest: CheckpointManifest
    /// Per tensor name: the distinct slices holding part of it, with their file.
    private let slicesByName: [String: [(file: CheckpointManifest.File, slice: CheckpointManifest.Slice)]]
    private var opened: [String: SafetensorsFile] = [:]
    /// Bytes copied out of the files so far (values and moments).
    public private(set) var bytesRead = 0

    /// Reads `directory/manifest.json`. - Throws: `CheckpointError` naming the file.
    public init(directory: String) throws {
        self.directory = directory
        manifest = try CheckpointManifest.read(directory: directory)
        var index: [String: [(file: CheckpointManifest.File, slice: CheckpointManifest.Slice)]] = [:]
        var seen = Set<String>()
        for file in manifest.files {
            for slice in file.slices where seen.insert(CheckpointShardFile.key(slice.name, slice.region)).inserted {
                index[slice.name, default: []].append((file: file, slice: slice))
            }
        }
        slicesByName = index
    }

    /// Checks every file of the manifest: present, of the recorded size, and of the recorded
    /// CRC-32C (reads every byte). - Throws: `CheckpointError.damagedFile` naming the first bad file.
    public func verify() throws {
        for file in manifest.files {
            let path = directory + "/" + file.path
            guard let (crc, bytes) = CRC32C.file(path) else { throw CheckpointError.damagedFile(path: path, reason: "missing or unreadable") }
            guard bytes == file.bytes else {
                throw CheckpointError.damagedFile(path: path, reason: "\(bytes) bytes, the manifest says \(file.bytes) (truncated?)")
            }
            guard CheckpointShardFile.hex(crc) == file.crc32c.lowercased() else {
                throw CheckpointError.damagedFile(path: path, reason: "CRC-32C \(CheckpointShardFile.hex(crc)), the manifest says \(file.crc32c)")
            }
        }
    }

    /// Fills `region` of tensor `name` `[region.count]` row-major into each destination: the
    /// values, the first and the second moment (a nil destination is skipped).
    /// - Throws: `CheckpointError.incomplete` when the slices do not cover `region`,
    ///   `.damagedFile` for a file that does not hold what the manifest says.
    public func read(_ name: String, region: TensorRegion, values: UnsafeMutablePointer<Float>?,
                     firstMoment: UnsafeMutablePointer<Float>? = nil, secondMoment: UnsafeMutablePointer<Float>? = nil) throws {
        var covered = 0
        for (file, slice) in slicesByName[name] ?? [] {
            guard let part = region.intersection(slice.region) else { continue }
            let data = try open(file)
            for (suffix, destination) in zip(CheckpointShardFile.suffixes, [values, firstMoment, secondMoment]) {
                guard let destination else { continue }
                let key = slice.key + suffix
                guard let tensor = data.tensor(named: key), tensor.dtype == .f32, tensor.elementCount == slice.region.count else {
                    throw CheckpointError.damagedFile(path: data.path, reason: "no F32 tensor '\(key)' of \(slice.region.count) elements")
                }
                region.copy(part, from: data.bytes(of: tensor).baseAddress!, laidOutAs: slice.region, into: destination)
                bytesRead += part.count * MemoryLayout<Float>.size
            }
            covered += part.count
        }
        guard covered == region.count else {
            throw CheckpointError.incomplete(path: directory, tensor: name,
                                             reason: "its slices cover \(covered) of the \(region.count) elements of \(region)")
        }
    }

    /// The full values of tensor `name` `[rows × columns]` (for a merge into one file).
    public func fullTensor(_ name: String) throws -> [Float] {
        guard let tensor = manifest.tensors.first(where: { $0.name == name }) else {
            throw CheckpointError.incomplete(path: directory, tensor: name, reason: "the manifest does not list it")
        }
        let region = TensorRegion(rows: 0 ..< tensor.shape[0], columns: 0 ..< (tensor.shape.count == 2 ? tensor.shape[1] : 1))
        var out = [Float](repeating: 0, count: region.count)
        try out.withUnsafeMutableBufferPointer { try read(name, region: region, values: $0.baseAddress) }
        return out
    }

    /// Replaces this rank's weights, AdamW moments and step count in `session` with the
    /// checkpoint's, resharded to the session's layout: each view's values, and the moments of
    /// the elements its optimizer holds (all of them, or under ZeRO-1 this replica's range,
    /// read as rectangles of the full tensor). Call `mismatch(with:)` first.
    public func load(into session: TrainingSession) throws {
        var states: [AdamWState] = []
        for (parameter, range) in zip(session.model.parameters, session.optimizerRanges) {
            var state = AdamWState(count: range.count)
            try state.firstMoment.withUnsafeMutableBufferPointer { m in
                try state.secondMoment.withUnsafeMutableBufferPointer { v in
                    guard range.count != parameter.values.count else {
                        return try read(parameter.name, region: parameter.region, values: parameter.values.baseAddress,
                                        firstMoment: m.baseAddress, secondMoment: v.baseAddress)
                    }
                    try read(parameter.name, region: parameter.region, values: parameter.values.baseAddress)
                    for piece in parameter.region.rectangles(ofElements: range) {
                        try read(parameter.name, region: piece.region, values: nil,
                                 firstMoment: m.baseAddress! + piece.offset, secondMoment: v.baseAddress! + piece.offset)
                    }
                }
            }
            state.step = manifest.optimizer.stepCount
            states.append(state)
        }
        try session.optimizer.restore(states)
        session.completedSteps = manifest.step
        opened = [:]
    }

    private func open(_ file: CheckpointManifest.File) throws -> SafetensorsFile {
        if let known = opened[file.path] { return known }
        let path = directory + "/" + file.path
        let attributes = try? FileManager.default.attributesOfItem(atPath: path)
        guard let size = (attributes?[.size] as? NSNumber)?.intValue else { throw CheckpointError.damagedFile(path: path, reason: "missing") }
        guard size == file.bytes else {
            throw CheckpointError.damagedFile(path: path, reason: "\(size) bytes, the manifest says \(file.bytes) (truncated?)")
        }
        do {
            let data = try SafetensorsFile(path: path)
            opened[file.path] = data
            return data
        } catch {
            throw CheckpointError.damagedFile(path: path, reason: "\(error)")
        }
    }
}
