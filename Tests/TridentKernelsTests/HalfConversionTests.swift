import Testing
@testable import TridentKernels

@Suite struct HalfConversionTests {
    @Test func f16ToF32MatchesBitwiseReferenceForAllPatterns() {
        for bits in 0...UInt16.max {
            let fast = HalfConversion.f16ToF32(bits)
            let reference = HalfConversion.f16ToF32Reference(bits)
            if reference.isNaN {
                #expect(fast.isNaN, "bits \(bits)")
            } else {
                #expect(fast.bitPattern == reference.bitPattern, "bits \(bits)")
            }
        }
    }

    @Test func knownF16Values() {
        #expect(HalfConversion.f16ToF32(0x3C00) == 1)
        #expect(HalfConversion.f16ToF32(0xC000) == -2)
        #expect(HalfConversion.f16ToF32(0x7BFF) == 65504)
        #expect(HalfConversion.f16ToF32(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(HalfConversion.f16ToF32(0x7C00) == .infinity)
        #expect(HalfConversion.f16ToF32Reference(0x03FF) == 1023 * Float(sign: .plus, exponent: -24, significand: 1))
        #expect(HalfConversion.f16ToF32Reference(0xFC00) == -.infinity)
        #expect(HalfConversion.f16ToF32Reference(0x7E00).isNaN)
        #expect(HalfConversion.f32ToF16Reference(65520) == 0x7C00)  // rounds up to inf
        #expect(HalfConversion.f32ToF16Reference(65519) == 0x7BFF)
        #expect(HalfConversion.f32ToF16Reference(1 + 1.0 / 2048) == 0x3C00)  // tie to even
        #expect(HalfConversion.f32ToF16Reference(1 + 3.0 / 2048) == 0x3C02)  // tie to even (up)
        #expect(HalfConversion.f32ToF16Reference(Float(sign: .plus, exponent: -25, significand: 1)) == 0)  // tie -> 0
        #expect(HalfConversion.f32ToF16Reference(Float(sign: .plus, exponent: -25, significand: 1.5)) == 1)
    }

    @Test func f32ToF16MatchesBitwiseReference() {
        var rng = SeededGenerator(seed: 7)
        var patterns: [UInt32] = [0, 0x8000_0000, 0x7F80_0000, 0xFF80_0000, 0x7FC0_0000, 0x3380_0000, 0x3880_0000]
        for _ in 0..<300_000 { patterns.append(UInt32(truncatingIfNeeded: rng.next())) }
        // Concentrate on the half range, including subnormals and the overflow edge.
        for _ in 0..<300_000 {
            let exponent = UInt32.random(in: 100...143, using: &rng)
            patterns.append(UInt32.random(in: 0...1, using: &rng) << 31 | exponent << 23
                            | UInt32.random(in: 0..<(1 << 23), using: &rng))
        }
        for bits in patterns {
            let value = Float(bitPattern: bits)
            let fast = HalfConversion.f32ToF16(value)
            let reference = HalfConversion.f32ToF16Reference(value)
            if value.isNaN {
                #expect(HalfConversion.f16ToF32(fast).isNaN && HalfConversion.f16ToF32(reference).isNaN)
            } else if fast != reference {
                Issue.record("f32 bits \(bits): fast \(fast) reference \(reference)")
                return
            }
        }
    }

    @Test func bf16RoundTripAndRounding() {
        #expect(HalfConversion.bf16ToF32(0x3F80) == 1)
        #expect(HalfConversion.f32ToBF16(1) == 0x3F80)
        #expect(HalfConversion.f32ToBF16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie -> even
        #expect(HalfConversion.f32ToBF16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie -> even (up)
        #expect(HalfConversion.f32ToBF16(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(HalfConversion.f32ToBF16(.infinity) == 0x7F80)
        #expect(HalfConversion.bf16ToF32(HalfConversion.f32ToBF16(.nan)).isNaN)
        #expect(HalfConversion.bf16ToF32(HalfConversion.f32ToBF16(Float(bitPattern: 0x7F80_0001))).isNaN)
        let subnormal = Float(bitPattern: 0x0001_0000)
        #expect(HalfConversion.bf16ToF32(HalfConversion.f32ToBF16(subnormal)) == subnormal)
        for bits in stride(from: UInt32(0), to: 0x7F80_0000, by: 0x0001_0000 * 37) {
            let value = Float(bitPattern: bits)
            #expect(HalfConversion.bf16ToF32(HalfConversion.f32ToBF16(value)) == value)
        }
    }
}
