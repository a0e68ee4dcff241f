import Testing
@testable import TridentCollectives

@Suite struct CollectiveReductionTests {
    @Test(arguments: CollectiveDataType.allCases, ReduceOperation.allCases)
    func fastPathMatchesReference(type: CollectiveDataType, op: ReduceOperation) {
        for count in [0, 1, 15, 16, 17, 33, 1001] {
            let a = randomFloats(rank: 1, count: count), b = randomFloats(rank: 2, count: count)
            let (da, db) = (encode(a, type), encode(b, type))
            var fast = da, reference = da
            fast.withUnsafeMutableBytes { d in db.withUnsafeBytes { s in
                CollectiveReduction.reduce(into: d.baseAddress!, from: s.baseAddress!, count: count, type: type, op: op)
            } }
            reference.withUnsafeMutableBytes { d in db.withUnsafeBytes { s in
                CollectiveReduction.reduceReference(into: d.baseAddress!, from: s.baseAddress!, count: count, type: type, op: op)
            } }
            #expect(fast == reference, "type \(type) op \(op) count \(count)")
            // And the reference agrees with plain arithmetic on the decoded values.
            let decoded = decode(reference, type)
            let want = expected(op, [decode(da, type), decode(db, type)])
            let tolerance = type == .float32 || type == .int32 ? 1e-6 : (type == .float16 ? 2e-3 : 1.6e-2)
            #expect(maxError(decoded, want) <= tolerance, "type \(type) op \(op) count \(count)")
        }
    }

    @Test func bfloat16RoundsToNearestEven() {
        // 1 + 2^-8 is exactly halfway between bf16 1.0 and 1 + 2^-7: ties go to even (1.0).
        #expect(CollectiveReduction.floatToBFloat16(1 + 0x1p-8) == 0x3F80)
        // Slightly above the halfway point rounds up.
        #expect(CollectiveReduction.floatToBFloat16(1 + 0x1p-8 + 0x1p-12) == 0x3F81)
        #expect(CollectiveReduction.bfloat16ToFloat(0x4040) == 3)
        #expect(CollectiveReduction.bfloat16ToFloat(CollectiveReduction.floatToBFloat16(.nan)).isNaN)
    }

    @Test func int32SumWraps() {
        var a: [Int32] = [.max, 5], b: [Int32] = [1, -7]
        a.withUnsafeMutableBytes { d in b.withUnsafeMutableBytes { s in
            CollectiveReduction.reduce(into: d.baseAddress!, from: s.baseAddress!, count: 2, type: .int32, op: .sum)
        } }
        #expect(a == [.min, -2])
    }
}

/// Encodes floats as the raw bytes of `type` (ints are scaled by 1000 and truncated).
func encode(_ values: [Float], _ type: CollectiveDataType) -> [UInt8] {
    switch type {
    case .float32: values.withUnsafeBytes { Array($0) }
    case .int32: values.map { Int32($0 * 1000) }.withUnsafeBytes { Array($0) }
    case .float16: values.map { Float16($0) }.withUnsafeBytes { Array($0) }
    case .bfloat16: values.map { CollectiveReduction.floatToBFloat16($0) }.withUnsafeBytes { Array($0) }
    }
}

/// Decodes raw bytes of `type` to floats (ints unscaled, i.e. as integers).
func decode(_ bytes: [UInt8], _ type: CollectiveDataType) -> [Float] {
    bytes.withUnsafeBytes { raw in
        switch type {
        case .float32: Array(raw.bindMemory(to: Float.self))
        case .int32: raw.bindMemory(to: Int32.self).map { Float($0) }
        case .float16: raw.bindMemory(to: Float16.self).map { Float($0) }
        case .bfloat16: raw.bindMemory(to: UInt16.self).map { CollectiveReduction.bfloat16ToFloat($0) }
        }
    }
}
