import Testing
import TridentKernels
import TridentModel

/// `ParallelMLP` (gated and plain, SiLU / GELU / ReLU, with and without biases) against
/// `Reference.mlp` (Double), on one rank and split over 2 and 3 (37 inner columns: 19 + 18, 13 + 12 + 12).
@Suite("Parallel MLP layer")
struct MLPLayerTests {
    static func check(_ c: ModelConfiguration, sizes: [Int] = [1, 2, 3]) throws {
        let model = RandomTransformer(c, seed: 31)
        let d = c.hiddenSize, rows = 5
        let h = randomActivations(rows: rows, width: d, seed: 32)
        let want = Reference.mlp(h.map(Double.init), model.blocks[0], c)
        for size in sizes {
            let results = try onTensorRanks(c, size: size) { plan, context -> [Float] in
                let layer = model.mlp(model.blocks[0], plan: plan)
                var input = h
                return try input.withUnsafeMutableBufferPointer { hb in
                    try output(rows: rows, columns: d) { out in
                        try layer.forward(MatrixView(hb.baseAddress!, rows: rows, columns: d), into: out, context: context)
                    }
                }
            }
            for (rank, got) in results.enumerated() {
                #expect(relativeError(got, want) < 1e-5, "\(c.activation) gated \(c.gatedMLP) rank \(rank) of \(size)")
            }
        }
    }

    @Test("gated MLP (SwiGLU, GeGLU, ReGLU) equals the reference", arguments: Activation.allCases, [false, true])
    func gated(activation: Activation, biases: Bool) throws {
        try Self.check(awkwardConfiguration(activation: activation, gated: true, biases: biases))
    }

    @Test("plain two-layer MLP equals the reference", arguments: Activation.allCases, [false, true])
    func plain(activation: Activation, biases: Bool) throws {
        try Self.check(awkwardConfiguration(activation: activation, gated: false, biases: biases))
    }
}
