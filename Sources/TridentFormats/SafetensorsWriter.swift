import Foundation

/// Builds a safetensors file: tensors are laid out contiguously in the order added, and the
/// JSON header is padded with spaces to a multiple of 8 bytes so data starts aligned.
/// Inputs are checked with preconditions (programmer errors).
public struct SafetensorsWriter {
    private var metadata: [(String, String)] = []
    private var tensors: [(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8])] = []

    public init() {}

    /// Adds a `__metadata__` string pair.
    public mutating func addMetadata(_ key: String, _ value: String) {
        precondition(!metadata.contains { $0.0 == key }, "metadata key '\(key)' added twice")
        metadata.append((key, value))
    }

    /// Adds a tensor; `shape` is row-major, outermost first; `bytes` must hold exactly
    /// `shape.product * dtype.size` bytes.
    public mutating func addTensor(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) {
        precondition(name != "__metadata__" && !tensors.contains { $0.name == name }, "bad or repeated tensor name '\(name)'")
        precondition(shape.allSatisfy { $0 >= 0 } && bytes.count == shape.reduce(1, *) * dtype.size,
                     "tensor '\(name)': \(bytes.count) bytes do not match shape \(shape) \(dtype.rawValue)")
        tensors.append((name, dtype, shape, bytes))
    }

    /// The complete file image.
    public func serialized() -> [UInt8] {
        var header = Array(headerJSON().utf8)
        header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - header.count % 8) % 8))
        var out: [UInt8] = []
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for tensor in tensors { out.append(contentsOf: tensor.bytes) }
        return out
    }

    /// Writes the file atomically (temporary file in the same directory, `fsync`, rename).
    public func write(to path: String) throws(FileWriteError) {
        var file = try AtomicFileWriter(path: path)
        let image = serialized()
        var failure: FileWriteError?
        image.withUnsafeBytes { bytes in
            do throws(FileWriteError) { try file.write(bytes) } catch { failure = error }
        }
        if let failure { throw failure }
        try file.commit()
    }

    /// The header through `JSONEncoder` (keys sorted; the tensors' order lives in their
    /// `data_offsets`).
    private func headerJSON() -> String {
        var entries: [String: SafetensorsHeaderEntry] = [:]
        if !metadata.isEmpty {
            entries["__metadata__"] = .metadata(Dictionary(uniqueKeysWithValues: metadata))
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + tensor.bytes.count
            entries[tensor.name] = .tensor(dtype: tensor.dtype.rawValue, shape: tensor.shape, offsets: [offset, end])
            offset = end
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // Strings, integers and string maps only: encoding cannot fail.
        return String(decoding: try! encoder.encode(entries), as: UTF8.self)
    }
}

/// One value of a safetensors header: the `__metadata__` string map or a tensor's entry.
enum SafetensorsHeaderEntry: Encodable {
    case metadata([String: String])
    case tensor(dtype: String, shape: [Int], offsets: [Int])

    private enum Keys: String, CodingKey { case dtype, shape, dataOffsets = "data_offsets" }

    func encode(to encoder: any Encoder) throws {
        switch self {
        case .metadata(let pairs):
            var container = encoder.singleValueContainer()
            try container.encode(pairs)
        case let .tensor(dtype, shape, offsets):
            var container = encoder.container(keyedBy: Keys.self)
            try container.encode(dtype, forKey: .dtype)
            try container.encode(shape, forKey: .shape)
            try container.encode(offsets, forKey: .dataOffsets)
        }
    }
}
