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

    private func headerJSON() -> String {
        var fields: [String] = []
        if !metadata.isEmpty {
            let pairs = metadata.map { "\(Self.quoted($0.0)):\(Self.quoted($0.1))" }
            fields.append("\"__metadata__\":{\(pairs.joined(separator: ","))}")
        }
        var offset = 0
        for tensor in tensors {
            let end = offset + tensor.bytes.count
            let shape = tensor.shape.map(String.init).joined(separator: ",")
            fields.append("\(Self.quoted(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(end)]}")
            offset = end
        }
        return "{\(fields.joined(separator: ","))}"
    }

    /// A JSON string literal.
    private static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}
