import Testing
import TridentKernels
import TridentModel

/// RMSNorm and LayerNorm (with bias) against `Reference.norm` (Double) on awkward widths.
@Suite("Normalization layers")
struct NormalizationLayerTests {
    static func check(_ kind: NormalizationKind, width: Int, rows: Int, inPlace: Bool) {
        var random = SeededRandom(seed: UInt64(width * 31 + rows))
        let weights = NormWeights(weight: random.floats(width).map { 1 + $0 },
                                  bias: kind == .layer ? random.floats(width, scale: 0.3) : nil)
        // Rows with a large common offset: LayerNorm must subtract the mean accurately.
        var x = random.floats(rows * width, scale: 2).map { $0 + 3 }
        let want = Reference.norm(x.map(Double.init), weights, eps: 1e-5)
        var c = awkwardConfiguration(normalization: kind)
        c.rmsNormEpsilon = 1e-5
        let layer = RandomTransformer(c).norm(weights)
        #expect(layer.dimension == width)
        let got: [Float]
        if inPlace {
            got = withView(&x, columns: width) { view in layer.forward(view, into: view) }
        } else {
            got = x.withUnsafeMutableBufferPointer { xb in
                output(rows: rows, columns: width) { out in
                    layer.forward(MatrixView(xb.baseAddress!, rows: rows, columns: width), into: out)
                }
            }
        }
        #expect(relativeError(got, want) < 1e-5, "\(kind) width \(width) rows \(rows)")
    }

    @Test("RMSNorm rows match the reference within 1e-5 relative", arguments: [1, 7, 22, 33], [1, 4])
    func rms(width: Int, rows: Int) { Self.check(.rms, width: width, rows: rows, inPlace: false) }

    @Test("LayerNorm with bias rows match the reference within 1e-5 relative", arguments: [2, 7, 22, 33], [1, 4])
    func layer(width: Int, rows: Int) { Self.check(.layer, width: width, rows: rows, inPlace: false) }

    @Test("both norms may write over their input", arguments: NormalizationKind.allCases)
    func inPlace(kind: NormalizationKind) { Self.check(kind, width: 22, rows: 3, inPlace: true) }

    @Test("LayerNorm of a constant row is its bias")
    func constantRow() {
        let layer = LayerNorm(weight: Tensor(shape: [5], values: [1, 2, 3, 4, 5]),
                              bias: Tensor(shape: [5], values: [0.5, -1, 0, 2, 3]), epsilon: 1e-5)
        var x: [Float] = [4, 4, 4, 4, 4]
        #expect(withView(&x, columns: 5) { layer.forward($0, into: $0) } == [0.5, -1, 0, 2, 3])
    }
}
