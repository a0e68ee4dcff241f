import Foundation
import Testing
@testable import TridentKernels

/// The kernels added for the layer variants (LayerNorm, GELU/ReLU, biases) and `Tensor`,
/// against `VectorKernelsReference` (Double) on awkward sizes.
@Suite struct LayerKernelsTests {
    @Test(arguments: [1, 7, 31, 64, 97])
    func layerNormMatchesReference(dim: Int) {
        let tokens = 3
        // An offset of 4: the mean must be removed accurately.
        let x = randomFloats(tokens * dim, in: 1...7, seed: 5)
        let weight = randomFloats(dim, seed: 6), bias = randomFloats(dim, seed: 7)
        var out = [Float](repeating: 0, count: tokens * dim)
        VectorKernels.layerNorm(x, weight: weight, bias: bias, eps: 1e-5, out: &out, tokens: tokens, dim: dim)
        let expected = VectorKernelsReference.layerNorm(x, weight: weight, bias: bias, eps: 1e-5, tokens: tokens, dim: dim)
        #expect(maxAbsDifference(out, expected) < 1e-4)   // outputs are O(1); dim 1 gives the bias exactly
    }

    @Test(arguments: Activation.allCases, [1, 9, 33])
    func gatedActivationMatchesReference(activation: Activation, count: Int) {
        let gate = randomFloats(count, in: -6...6, seed: 8), up = randomFloats(count, in: -2...2, seed: 9)
        var out = [Float](repeating: 0, count: count)
        VectorKernels.gatedActivate(activation, gate: gate, up: up, out: &out, count: count)
        let expected = VectorKernelsReference.gatedActivate(activation, gate: gate, up: up)
        #expect(maxAbsDifference(out, expected) < 1e-5)
        var plain = gate
        VectorKernels.activate(activation, &plain, count: count)
        let ones = [Float](repeating: 1, count: count)
        #expect(maxAbsDifference(plain, VectorKernelsReference.gatedActivate(activation, gate: gate, up: ones)) < 1e-5)
    }

    @Test func activationValues() {
        let relu = Activation.relu, gelu = Activation.gelu, silu = Activation.silu
        #expect(relu(-2) == 0 && relu(3) == 3)
        #expect(abs(gelu(1) - 0.8413447) < 1e-6)      // 1 * Φ(1)
        #expect(abs(silu(1) - 0.7310586) < 1e-6)      // 1 / (1 + e^-1)
    }

    @Test func addBiasAddsToEveryRowOfAStridedMatrix() {
        var x = (0 ..< 12).map(Float.init)   // [3, 4] with the last column outside the view
        VectorKernels.addBias(&x, bias: [10, 20, 30], rows: 3, columns: 3, stride: 4)
        #expect(x == [10, 21, 32, 3, 14, 25, 36, 7, 18, 29, 40, 11])
    }

    @Test func tensorOwnsFloatsOrViewsPackedWeights() {
        let values = randomFloats(2 * 64, seed: 10)
        let owned = Tensor(shape: [2, 64], values: values)
        #expect(owned.shape == [2, 64] && owned.dtype == .f32 && owned.toArray() == values)
        #expect(Array(UnsafeBufferPointer(start: owned.floats, count: 128)) == values)
        let vector = Tensor(zeros: [5])
        #expect(vector.rows == 1 && vector.columns == 5 && vector.toArray() == [0, 0, 0, 0, 0])
        let packed = Tensor(OwnedWeights(values: values, rows: 2, columns: 64, dtype: .q8_0).matrix)
        #expect(packed.shape == [2, 64] && packed.dtype == .q8_0)
        #expect(maxAbsDifference(packed.toArray(), values) < 0.01)
    }
}
