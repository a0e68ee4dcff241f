import Foundation

/// The part of a checkpoint that `--resume` needs beyond `model.gguf`, in `DIR/training/`:
/// - `manifest.json` (`TrainingManifest`, written by world rank 0 after every rank's file);
/// - `rank-<r>.state` per world rank: its f32 master weights and AdamW moments, so that a
///   resumed run continues bit for bit whatever `--save-type` the GGUF was written in.
///
/// Every file is written atomically (temporary file, rename). A save interrupted between the
/// rank files and the manifest is detected on resume: each rank file records its step.
public enum TrainingState {
    static let magic = Array("TRSTATE1".utf8)

    public static func directory(_ checkpoint: String) -> String { checkpoint + "/training" }
    public static func manifestPath(_ checkpoint: String) -> String { directory(checkpoint) + "/manifest.json" }
    public static func rankPath(_ checkpoint: String, rank: Int) -> String { directory(checkpoint) + "/rank-\(rank).state" }

    /// This rank's weights and moments after `session.completedSteps` steps, written atomically.
    public static func writeRank(_ session: TrainingSession, checkpoint: String) throws {
        try FileManager.default.createDirectory(atPath: directory(checkpoint), withIntermediateDirectories: true)
        var data = Data(magic)
        append(UInt64(session.completedSteps), to: &data)
        let parameters = session.model.parameters
        append(UInt64(parameters.count), to: &data)
        for (parameter, state) in zip(parameters, session.optimizer.states) {
            append(UInt64(parameter.values.count), to: &data)
            data.append(UnsafeBufferPointer(parameter.values))
            state.firstMoment.withUnsafeBufferPointer { data.append($0) }
            state.secondMoment.withUnsafeBufferPointer { data.append($0) }
        }
        try data.write(to: URL(fileURLWithPath: rankPath(checkpoint, rank: session.groups.world.rank)), options: .atomic)
    }

    /// Restores this rank's weights, moments and step from `checkpoint`.
    /// - Throws: `TrainingError.invalidValue` for a missing, truncated or mismatched file
    ///   (another model, another layout, another step than the manifest's).
    public static func readRank(into session: TrainingSession, checkpoint: String, step: Int) throws {
        let path = rankPath(checkpoint, rank: session.groups.world.rank)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw TrainingError.invalidValue(name: "--resume", expected: "a readable \(path)", found: "no such file")
        }
        var reader = StateReader(data: data, path: path)
        guard try reader.bytes(magic.count) == magic else { throw reader.failure("a Trident training state", "another file") }
        let saved = Int(try reader.integer())
        guard saved == step else { throw reader.failure("step \(step) (the manifest's)", "step \(saved): an interrupted save") }
        let parameters = session.model.parameters
        let count = Int(try reader.integer())
        guard count == parameters.count else { throw reader.failure("\(parameters.count) parameters", "\(count)") }
        var states: [AdamWState] = []
        for parameter in parameters {
            let size = Int(try reader.integer())
            guard size == parameter.values.count else {
                throw reader.failure("\(parameter.values.count) values of \(parameter.name)", "\(size)")
            }
            let values = try reader.floats(size)
            var state = AdamWState(count: size)
            state.firstMoment = try reader.floats(size)
            state.secondMoment = try reader.floats(size)
            state.step = step
            _ = parameter.values.update(fromContentsOf: values)
            states.append(state)
        }
        guard reader.offset == data.count else { throw reader.failure("\(reader.offset) bytes", "\(data.count)") }
        try session.optimizer.restore(states)
        session.completedSteps = step
    }

    private static func append(_ value: UInt64, to data: inout Data) {
        withUnsafeBytes(of: value.littleEndian) { data.append(contentsOf: $0) }
    }
}

/// Reads a rank state file front to back, every length checked.
private struct StateReader {
    let data: Data
    let path: String
    var offset = 0

    mutating func bytes(_ count: Int) throws -> [UInt8] {
        guard count >= 0, data.count - offset >= count else { throw failure("\(count) more bytes at offset \(offset)", "end of file") }
        defer { offset += count }
        return Array(data[data.startIndex + offset ..< data.startIndex + offset + count])
    }

    mutating func integer() throws -> UInt64 {
        let raw = try bytes(8)
        return raw.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
    }

    mutating func floats(_ count: Int) throws -> [Float] {
        guard count <= (data.count - offset) / 4 else { throw failure("\(count) floats at offset \(offset)", "end of file") }
        let raw = try bytes(count * 4)
        return raw.withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    func failure(_ expected: String, _ found: String) -> TrainingError {
        .invalidValue(name: "--resume state \(path)", expected: expected, found: found)
    }
}
