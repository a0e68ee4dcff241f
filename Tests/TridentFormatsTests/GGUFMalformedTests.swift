import Foundation
import Testing
import TridentFormats

/// Malformed files must throw the matching `GGUFError` case, never crash or over-allocate.
struct GGUFMalformedTests {
    /// A valid file with one F32 tensor `t` of `ne` (default 8 floats) at `offset`.
    static func oneTensor(ne: [UInt64] = [8], type: UInt32 = 0, offset: UInt64 = 0, dataBytes: Int = 32,
                          dims: UInt32? = nil) -> [UInt8] {
        var raw = RawGGUF.header(tensors: 1, keys: 1)
        raw.string("general.architecture"); raw.u32(8); raw.string("llama")
        raw.string("t"); raw.u32(dims ?? UInt32(ne.count)); for d in ne { raw.u64(d) }; raw.u32(type); raw.u64(offset)
        raw.data(count: dataBytes)
        return raw.bytes
    }

    @Test func minimalHandBuiltFileParses() throws {
        let directory = try TemporaryDirectory()
        let file = try GGUFFile(path: try directory.file("ok.gguf", Self.oneTensor()))
        #expect(file.tensors.count == 1 && file.tensors[0].byteCount == 32)
        #expect(try file.floats(named: "t").count == 8)
    }

    @Test func badMagicAndVersion() throws {
        let directory = try TemporaryDirectory()
        var bytes = Self.oneTensor()
        bytes[0] = UInt8(ascii: "X")
        guard case .badMagic(let found) = try ggufError(bytes, in: directory) else { Issue.record("magic"); return }
        #expect(found == Array("XGUF".utf8))
        guard case .badMagic = try ggufError([], in: directory) else { Issue.record("empty"); return }
        for version: UInt32 in [0, 1, 4, 0x0300_0000] {
            var raw = RawGGUF.header(version: version, tensors: 0, keys: 0)
            raw.data(count: 0)
            guard case .unsupportedVersion(version) = try ggufError(raw.bytes, in: directory) else {
                Issue.record("version \(version)"); return
            }
        }
        var v2 = RawGGUF.header(version: 2, tensors: 0, keys: 0)
        v2.data(count: 0)
        #expect(try GGUFFile(path: try directory.file("v2.gguf", v2.bytes)).version == 2)
    }

    @Test func truncatedAtManyOffsets() throws {
        let directory = try TemporaryDirectory()
        let full = Array(try Data(contentsOf: URL(fileURLWithPath: Fixtures.path("tiny-llama-q4_1.gguf"))))
        // gguf-py: the tensor table ends at 5569 (last tensor field's offset + size) and
        // r.data_offset is 5600. Cuts before 5569 break a field; later ones cut tensor data.
        let tableEnd = 5569, dataOffset = 5600
        for length in [1, 4, 6, 8, 16, 23, 24, 40, 61, 100, 500, 1000, 3000, 4000, 5000, tableEnd - 1] {
            let error = try ggufError(Array(full.prefix(length)), in: directory)
            switch error {
            case .truncated, .stringTooLong, .arrayTooLong, .countTooLarge, .badMagic: break
            default: Issue.record("length \(length): unexpected \(String(describing: error))")
            }
        }
        for length in [tableEnd, dataOffset - 1, dataOffset, dataOffset + 100, full.count - 1] {
            guard case .tensorOutOfBounds(_, _, let end, let size) = try ggufError(Array(full.prefix(length)), in: directory)
            else { Issue.record("length \(length)"); continue }
            #expect(size == length && end > UInt64(size))
        }
    }

    @Test func hugeLengthsAndCountsAreRejectedBeforeAllocating() throws {
        let directory = try TemporaryDirectory()
        var string = RawGGUF.header(tensors: 0, keys: 1)
        string.u64(UInt64.max - 3)
        string.bytes += [UInt8](repeating: 0x41, count: 16)  // so the key count itself is plausible
        guard case .stringTooLong(let field, 24, _, _) = try ggufError(string.bytes, in: directory) else {
            Issue.record("string"); return
        }
        #expect(field.contains("metadata key"))

        var array = RawGGUF.header(tensors: 0, keys: 1)
        array.string("big"); array.u32(9); array.u32(4); array.u64(1 << 60)
        guard case .arrayTooLong(let arrayField, _, 1 << 60, _) = try ggufError(array.bytes, in: directory) else {
            Issue.record("array"); return
        }
        #expect(arrayField.contains("big"))

        var nested = RawGGUF.header(tensors: 0, keys: 1)
        nested.string("nest"); nested.u32(9); nested.u32(9); nested.u64(1); nested.u32(8); nested.u64(UInt64.max)
        guard case .arrayTooLong = try ggufError(nested.bytes, in: directory) else { Issue.record("nested"); return }

        let tensors = RawGGUF.header(tensors: UInt64.max, keys: 0)
        guard case .countTooLarge(_, 8, .max, _) = try ggufError(tensors.bytes, in: directory) else {
            Issue.record("tensor count"); return
        }
        let keys = RawGGUF.header(tensors: 0, keys: 1 << 40)
        guard case .countTooLarge(_, 16, _, _) = try ggufError(keys.bytes, in: directory) else {
            Issue.record("key count"); return
        }
    }

    @Test func badMetadataValues() throws {
        let directory = try TemporaryDirectory()
        var unknown = RawGGUF.header(tensors: 0, keys: 1)
        unknown.string("k"); unknown.u32(13); unknown.u64(0)
        guard case .unknownValueType(_, _, 13) = try ggufError(unknown.bytes, in: directory) else { Issue.record("type"); return }

        var deep = RawGGUF.header(tensors: 0, keys: 1)
        deep.string("deep"); deep.u32(9)
        for _ in 0 ..< 20 { deep.u32(9); deep.u64(1) }
        deep.u32(0); deep.u64(0)
        guard case .nestingTooDeep = try ggufError(deep.bytes, in: directory) else { Issue.record("nesting"); return }

        var utf8 = RawGGUF.header(tensors: 0, keys: 1)
        utf8.u64(2); utf8.bytes += [0xC3, 0x28]; utf8.u32(7); utf8.bytes.append(1)
        guard case .invalidUTF8 = try ggufError(utf8.bytes, in: directory) else { Issue.record("utf8"); return }

        var duplicate = RawGGUF.header(tensors: 0, keys: 2)
        for _ in 0 ..< 2 { duplicate.string("k"); duplicate.u32(7); duplicate.bytes.append(1) }
        guard case .duplicateKey("k", _) = try ggufError(duplicate.bytes, in: directory) else { Issue.record("dup"); return }

        for (type, value): (UInt32, UInt32) in [(4, 0), (4, 48), (5, 32)] {
            var alignment = RawGGUF.header(tensors: 0, keys: 1)
            alignment.string("general.alignment"); alignment.u32(type); alignment.u32(value)
            guard case .badAlignment = try ggufError(alignment.bytes, in: directory) else {
                Issue.record("alignment \(type) \(value)"); return
            }
        }
    }

    @Test func badTensorEntries() throws {
        let directory = try TemporaryDirectory()
        guard case .badDimensionCount("t", _, 5) = try ggufError(Self.oneTensor(ne: [8, 1, 1, 1, 1]), in: directory)
        else { Issue.record("dims 5"); return }
        guard case .badDimensionCount("t", _, 0) = try ggufError(Self.oneTensor(ne: [], dims: 0), in: directory)
        else { Issue.record("dims 0"); return }
        guard case .unknownTensorType("t", _, 4) = try ggufError(Self.oneTensor(type: 4), in: directory)
        else { Issue.record("type 4"); return }
        guard case .unknownTensorType("t", _, 99) = try ggufError(Self.oneTensor(type: 99), in: directory)
        else { Issue.record("type 99"); return }
        guard case .invalidShape = try ggufError(Self.oneTensor(ne: [1 << 32, 1 << 32]), in: directory)
        else { Issue.record("overflow"); return }
        guard case .invalidShape = try ggufError(Self.oneTensor(ne: [UInt64.max]), in: directory)
        else { Issue.record("negative"); return }
        guard case .invalidShape = try ggufError(Self.oneTensor(ne: [48], type: 3), in: directory)
        else { Issue.record("partial block"); return }
        guard case .misalignedTensor("t", 4, 32) = try ggufError(Self.oneTensor(offset: 4), in: directory)
        else { Issue.record("misaligned"); return }
        guard case .tensorOutOfBounds("t", _, _, _) = try ggufError(Self.oneTensor(offset: 32), in: directory)
        else { Issue.record("out of range"); return }
        guard case .tensorOutOfBounds = try ggufError(Self.oneTensor(offset: UInt64.max - 31), in: directory)
        else { Issue.record("offset overflow"); return }
        let message = try ggufError(Self.oneTensor(ne: [16]), in: directory)?.description ?? ""
        #expect(message.contains("tensor 't'") && message.contains("runs past end of file"))
    }

    @Test func overlappingAndDuplicateTensors() throws {
        let directory = try TemporaryDirectory()
        func twoTensors(_ second: String, offset: UInt64) -> [UInt8] {
            var raw = RawGGUF.header(tensors: 2, keys: 0)
            raw.tensor("a", ne: [16], type: 0, offset: 0)
            raw.tensor(second, ne: [8], type: 0, offset: offset)
            raw.data(count: 128)
            return raw.bytes
        }
        guard case .overlappingTensors("a", "b", _, _) = try ggufError(twoTensors("b", offset: 32), in: directory)
        else { Issue.record("overlap"); return }
        guard case .overlappingTensors = try ggufError(twoTensors("b", offset: 0), in: directory)
        else { Issue.record("same start"); return }
        guard case .duplicateTensor("a", _) = try ggufError(twoTensors("a", offset: 64), in: directory)
        else { Issue.record("duplicate"); return }
        let file = try GGUFFile(path: try directory.file("ok.gguf", twoTensors("b", offset: 64)))
        #expect(file.tensors.map(\.offset) == [0, 64])
    }
}
