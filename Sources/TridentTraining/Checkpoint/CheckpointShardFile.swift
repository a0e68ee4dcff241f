import Foundation
import TridentFormats

/// One rank's data file of a checkpoint: for each parameter view it writes, the view's values
/// and AdamW moments `[rows, columns]` F32 under `key.value`, `key.exp_avg`, `key.exp_avg_sq`.
struct CheckpointShardFile {
    /// One view's three buffers (`[region.count]` each), borrowed from the session or a snapshot.
    struct Part {
        var name: String
        var region: TensorRegion
        var vector: Bool
        var values: UnsafeBufferPointer<Float>
        var firstMoment: UnsafeBufferPointer<Float>
        var secondMoment: UnsafeBufferPointer<Float>
    }

    /// `rank-00003.safetensors`.
    static func name(rank: Int) -> String { "rank-" + String(repeating: "0", count: max(0, 5 - String(rank).count)) + "\(rank).safetensors" }

    /// The key of a slice: `name@r0:r1,c0:c1`.
    static func key(_ name: String, _ region: TensorRegion) -> String {
        "\(name)@\(region.rows.lowerBound):\(region.rows.upperBound),\(region.columns.lowerBound):\(region.columns.upperBound)"
    }

    static let suffixes = [".value", ".exp_avg", ".exp_avg_sq"]

    /// Writes `parts` to `directory/rank-r.safetensors` and returns its manifest entry (size,
    /// CRC-32C computed over the bytes as they are written, slices).
    static func write(_ parts: [Part], rank: Int, step: Int, directory: String) throws -> CheckpointManifest.File {
        let file = name(rank: rank)
        var entries: [SafetensorsStreamWriter.Entry] = []
        var slices: [CheckpointManifest.Slice] = []
        for part in parts {
            let key = key(part.name, part.region)
            let shape = part.vector ? [part.region.count] : [part.region.rows.count, part.region.columns.count]
            for (suffix, buffer) in zip(suffixes, [part.values, part.firstMoment, part.secondMoment]) {
                precondition(buffer.count == part.region.count, "\(part.name): \(buffer.count) values for \(part.region)")
                entries.append(.init(name: key + suffix, dtype: .f32, shape: shape, bytes: UnsafeRawBufferPointer(buffer)))
            }
            slices.append(.init(name: part.name, rows: [part.region.rows.lowerBound, part.region.rows.upperBound],
                                columns: [part.region.columns.lowerBound, part.region.columns.upperBound], key: key))
        }
        var crc = CRC32C()
        let path = directory + "/" + file
        let bytes: Int
        do {
            bytes = try SafetensorsStreamWriter.write(entries, metadata: ["format": CheckpointManifest.formatName,
                                                                          "step": "\(step)", "rank": "\(rank)"],
                                                      to: path) { crc.update($0) }
        } catch {
            throw CheckpointError.writeFailed(path: path, reason: "\(error)")
        }
        return .init(path: file, bytes: bytes, crc32c: hex(crc.value), rank: rank, slices: slices)
    }

    /// 8 lower-case hex digits.
    static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return String(repeating: "0", count: 8 - digits.count) + digits
    }
}

/// Owned copies of a rank's checkpoint buffers, for a save written in the background while
/// training goes on (`--save-async`).
final class CheckpointSnapshot: @unchecked Sendable {
    /// Three buffers per part (values, first moment, second moment), owned.
    private var storage: [UnsafeMutableBufferPointer<Float>] = []
    private var descriptions: [(name: String, region: TensorRegion, vector: Bool)] = []

    /// Copies `parts` (values and moments) into memory this object owns.
    init(copying parts: [CheckpointShardFile.Part]) {
        for part in parts {
            for source in [part.values, part.firstMoment, part.secondMoment] {
                let copy = UnsafeMutableBufferPointer<Float>.allocate(capacity: source.count)
                _ = copy.initialize(fromContentsOf: source)
                storage.append(copy)
            }
            descriptions.append((part.name, part.region, part.vector))
        }
    }

    deinit { for buffer in storage { buffer.deallocate() } }

    /// Bytes held.
    var byteCount: Int { storage.reduce(0) { $0 + $1.count * 4 } }

    /// Parts that point into the copies (valid while this object lives).
    var parts: [CheckpointShardFile.Part] {
        descriptions.enumerated().map { i, description in
            .init(name: description.name, region: description.region, vector: description.vector,
                  values: UnsafeBufferPointer(storage[3 * i]), firstMoment: UnsafeBufferPointer(storage[3 * i + 1]),
                  secondMoment: UnsafeBufferPointer(storage[3 * i + 2]))
        }
    }
}
