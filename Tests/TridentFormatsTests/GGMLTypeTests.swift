import Testing
import TridentKernels
import TridentFormats

struct GGMLTypeTests {
    /// (raw value, name, block size, type size) from gguf-py 0.19.0:
    /// `for t, (b, s) in gguf.GGML_QUANT_SIZES.items(): print(t.value, t.name, b, s)`.
    /// Q8_1 is omitted: gguf-py lists 40 bytes, a stale value; ggml's block_q8_1 is 36 bytes.
    static let ggufPy: [(UInt32, String, Int, Int)] = [
        (0, "F32", 1, 4), (1, "F16", 1, 2), (2, "Q4_0", 32, 18), (3, "Q4_1", 32, 20),
        (6, "Q5_0", 32, 22), (7, "Q5_1", 32, 24), (8, "Q8_0", 32, 34),
        (10, "Q2_K", 256, 84), (11, "Q3_K", 256, 110), (12, "Q4_K", 256, 144), (13, "Q5_K", 256, 176),
        (14, "Q6_K", 256, 210), (15, "Q8_K", 256, 292), (16, "IQ2_XXS", 256, 66), (17, "IQ2_XS", 256, 74),
        (18, "IQ3_XXS", 256, 98), (19, "IQ1_S", 256, 50), (20, "IQ4_NL", 32, 18), (21, "IQ3_S", 256, 110),
        (22, "IQ2_S", 256, 82), (23, "IQ4_XS", 256, 136), (24, "I8", 1, 1), (25, "I16", 1, 2),
        (26, "I32", 1, 4), (27, "I64", 1, 8), (28, "F64", 1, 8), (29, "IQ1_M", 256, 56), (30, "BF16", 1, 2),
        (34, "TQ1_0", 256, 54), (35, "TQ2_0", 256, 66), (39, "MXFP4", 32, 17), (40, "NVFP4", 64, 36),
        (41, "Q1_0", 128, 18),
    ]

    @Test func sizesMatchGGUFPy() throws {
        for (raw, name, block, size) in Self.ggufPy {
            let type = try #require(GGMLType(rawValue: raw), "\(name)")
            #expect(type.description == name)
            #expect(type.blockSize == block, "\(name)")
            #expect(type.bytesPerBlock == size, "\(name)")
        }
        #expect(GGMLType.q8_1.bytesPerBlock == 36)
        #expect(GGMLType.allCases.count == Self.ggufPy.count + 1)
        for removed: UInt32 in [4, 5, 31, 32, 33, 36, 37, 38, 42, 1000] { #expect(GGMLType(rawValue: removed) == nil) }
    }

    @Test func kernelTypesAgreeWithDType() {
        for dtype in DType.allCases {
            let type = GGMLType(dtype)
            #expect(type.dtype == dtype)
            #expect(type.blockSize == dtype.blockSize && type.bytesPerBlock == dtype.bytesPerBlock)
        }
        #expect(GGMLType.q4_K.dtype == .q4_K && GGMLType.iq4_XS.dtype == .iq4_xs)
        #expect(GGMLType.iq2_XXS.dtype == nil && GGMLType.i32.dtype == nil && GGMLType.q8_K.dtype == nil)
    }

    @Test func byteCountRejectsPartialBlocksAndOverflow() {
        #expect(GGMLType.q4_1.byteCount(elements: 64) == 40)
        #expect(GGMLType.q4_1.byteCount(elements: 48) == nil)
        #expect(GGMLType.f64.byteCount(elements: Int.max / 4) == nil)
        #expect(GGMLType.q6_K.byteCount(elements: 512) == 420)
    }
}
