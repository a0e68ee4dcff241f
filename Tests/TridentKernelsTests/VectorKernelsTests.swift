import Testing
@testable import TridentKernels

@Suite struct VectorKernelsTests {
    @Test(arguments: [1, 31, 64, 97])
    func rmsNormMatchesReference(dim: Int) {
        let tokens = 3
        let x = randomFloats(tokens * dim, in: -3...3, seed: 1)
        let weight = randomFloats(dim, seed: 2)
        var out = [Float](repeating: 0, count: tokens * dim)
        VectorKernels.rmsNorm(x, weight: weight, eps: 1e-5, out: &out, tokens: tokens, dim: dim)
        let expected = VectorKernelsReference.rmsNorm(x, weight: weight, eps: 1e-5, tokens: tokens, dim: dim)
        #expect(maxAbsDifference(out, expected) < 1e-5)  // outputs are O(1)
    }

    @Test func ropeMatchesReferenceAndRotatesAdjacentPairs() {
        let tokens = 7, heads = 3, headDim = 64
        let x = randomFloats(tokens * heads * headDim, seed: 3)
        let positions = [0, 1, 2, 5, 100, 1000, 8191]
        var y = x
        VectorKernels.rope(&y, tokens: tokens, heads: heads, headDim: headDim, positions: positions, base: 10000)
        let expected = VectorKernelsReference.rope(x, tokens: tokens, heads: heads, headDim: headDim,
                                                   positions: positions, base: 10000)
        #expect(maxAbsDifference(y, expected) < 1e-5)
        #expect(Array(y[0..<(heads * headDim)]) == Array(x[0..<(heads * headDim)]), "position 0 is identity")
        // Pair 0 at position 1 rotates by exactly 1 radian: (1, 0) -> (cos 1, sin 1).
        var unit = [Float](repeating: 0, count: 4)
        unit[0] = 1
        VectorKernels.rope(&unit, tokens: 1, heads: 1, headDim: 4, positions: [1], base: 10000)
        #expect(abs(unit[0] - 0.5403023) < 1e-6 && abs(unit[1] - 0.84147098) < 1e-6)
    }

    /// Halves pairing `(i, i + d/2)` matches its reference, and equals adjacent pairing on rows
    /// permuted as llama.cpp's converter permutes Hugging Face q/k rows (`2i <- i`, `2i+1 <- i + d/2`).
    @Test func ropeHalvesMatchesReferenceAndAdjacentOnPermutedRows() {
        let tokens = 5, heads = 2, headDim = 16, half = headDim / 2
        let x = randomFloats(tokens * heads * headDim, seed: 7)
        let positions = [0, 3, 17, 400, 9000]
        func rotated(_ input: [Float], _ pairing: RopePairing) -> [Float] {
            var y = input
            y.withUnsafeMutableBufferPointer { buffer in
                positions.withUnsafeBufferPointer {
                    VectorKernels.rope(buffer.baseAddress!, tokens: tokens, heads: heads, headDim: headDim,
                                       positions: $0.baseAddress!, base: 10000, pairing: pairing)
                }
            }
            return y
        }
        func permuted(_ v: [Float]) -> [Float] {
            var out = v
            for row in stride(from: 0, to: v.count, by: headDim) {
                for i in 0 ..< half {
                    out[row + 2 * i] = v[row + i]
                    out[row + 2 * i + 1] = v[row + i + half]
                }
            }
            return out
        }
        let halves = rotated(x, .halves)
        let expected = VectorKernelsReference.rope(x, tokens: tokens, heads: heads, headDim: headDim,
                                                   positions: positions, base: 10000, pairing: .halves)
        #expect(maxAbsDifference(halves, expected) < 1e-5)
        #expect(maxAbsDifference(permuted(halves), rotated(permuted(x), .adjacent)) < 1e-6)
        #expect(maxAbsDifference(halves, rotated(x, .adjacent)) > 0.1, "the pairings differ")
    }

    @Test(arguments: [1, 2, 31, 100])
    func softmaxMatchesReference(count: Int) {
        var x = randomFloats(count, in: -20...20, seed: 4)
        let expected = VectorKernelsReference.softmax(x)
        VectorKernels.softmax(&x, count: count)
        #expect(maxAbsDifference(x, expected) < 1e-6)
        #expect(abs(x.reduce(0, +) - 1) < 1e-5)
        var masked: [Float] = [0, -.infinity, 0]
        VectorKernels.softmax(&masked, count: 3)
        #expect(masked == [0.5, 0, 0.5])
    }

    @Test func siluMultiplyAddAxpyDotScale() {
        let n = 37
        let a = randomFloats(n, in: -6...6, seed: 5), b = randomFloats(n, seed: 6)
        var out = [Float](repeating: 0, count: n)
        VectorKernels.siluMultiply(gate: a, up: b, out: &out, count: n)
        #expect(maxAbsDifference(out, VectorKernelsReference.siluMultiply(gate: a, up: b)) < 1e-5)
        VectorKernels.add(a, b, out: &out, count: n)
        #expect(out == zip(a, b).map { $0 + $1 })
        var y = b
        VectorKernels.axpy(0.5, a, &y, count: n)
        #expect(maxAbsDifference(y, zip(a, b).map { 0.5 * $0 + $1 }) < 1e-6)
        let dot = VectorKernels.dot(a, b, count: n)
        let expectedDot = zip(a, b).reduce(0.0) { $0 + Double($1.0) * Double($1.1) }
        #expect(abs(Double(dot) - expectedDot) < 1e-4)
        var s = a
        VectorKernels.scale(&s, by: -2, count: n)
        #expect(s == a.map { $0 * -2 })
    }
}
