import Foundation

/// The decoded JSON header of a safetensors file, before validation against the file.
struct SafetensorsHeader: Decodable {
    struct Entry: Decodable {
        let dtype: String
        let shape: [UInt64]
        let data_offsets: [UInt64]
    }

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    var metadata: [String: String] = [:]
    var entries: [(name: String, entry: Entry)] = []

    init(json: Data) throws(SafetensorsError) {
        do {
            self = try JSONDecoder().decode(SafetensorsHeader.self, from: json)
        } catch let error as SafetensorsError {
            throw error
        } catch {
            throw .invalidHeader(reason: "not a JSON object of tensor entries (\(error))")
        }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            if key.stringValue == "__metadata__" {
                do { metadata = try container.decode([String: String].self, forKey: key) } catch {
                    throw SafetensorsError.invalidHeader(reason: "__metadata__ is not an object of strings")
                }
                continue
            }
            do { entries.append((key.stringValue, try container.decode(Entry.self, forKey: key))) } catch {
                throw SafetensorsError.invalidEntry(
                    tensor: key.stringValue,
                    reason: "expected {dtype: string, shape: [uint], data_offsets: [begin, end]} (\(error))")
            }
        }
    }

    /// Checks every entry against the data section `[dataOffset, fileSize)`; returns the
    /// tensors ordered by offset.
    func validatedTensors(dataOffset: Int, fileSize: Int) throws(SafetensorsError) -> [SafetensorsTensorInfo] {
        let dataSize = fileSize - dataOffset
        var tensors: [SafetensorsTensorInfo] = []
        for (name, entry) in entries {
            guard let dtype = SafetensorsDType(rawValue: entry.dtype) else {
                throw .unknownDType(tensor: name, found: entry.dtype)
            }
            guard entry.data_offsets.count == 2 else {
                throw .invalidEntry(tensor: name, reason: "data_offsets has \(entry.data_offsets.count) values, expected 2")
            }
            let begin = entry.data_offsets[0], end = entry.data_offsets[1]
            guard begin <= end, end <= UInt64(dataSize) else {
                throw .tensorOutOfBounds(tensor: name, begin: Int(clamping: begin), end: Int(clamping: end),
                                         dataSize: dataSize)
            }
            let shape = try Self.checkedShape(entry.shape, tensor: name)
            let span = Int(end - begin)
            let (expected, overflow) = shape.reduce(1, *).multipliedReportingOverflow(by: dtype.size)
            guard !overflow, expected == span else {
                throw .sizeMismatch(tensor: name, shape: shape, dtype: dtype, expected: overflow ? .max : expected,
                                    found: span)
            }
            tensors.append(SafetensorsTensorInfo(name: name, dtype: dtype, shape: shape,
                                                 fileOffset: dataOffset + Int(begin), byteCount: span))
        }
        tensors.sort { ($0.fileOffset, $0.byteCount) < ($1.fileOffset, $1.byteCount) }
        let nonEmpty = tensors.filter { $0.byteCount > 0 }
        for (previous, next) in zip(nonEmpty, nonEmpty.dropFirst())
        where next.fileOffset < previous.fileRange.upperBound {
            throw .overlappingTensors(first: previous.name, second: next.name)
        }
        return tensors
    }

    /// The shape as `[Int]`, with an element count that does not overflow.
    private static func checkedShape(_ raw: [UInt64], tensor: String) throws(SafetensorsError) -> [Int] {
        var count = 1
        for dimension in raw {
            guard dimension <= UInt64(Int.max) else {
                throw .invalidEntry(tensor: tensor, reason: "dimension \(dimension) is too large")
            }
            let (product, overflow) = count.multipliedReportingOverflow(by: Int(dimension))
            guard !overflow else { throw .invalidEntry(tensor: tensor, reason: "shape \(raw) overflows") }
            count = product
        }
        return raw.map { Int($0) }
    }
}
