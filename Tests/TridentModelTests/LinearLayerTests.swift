import Testing
import TridentKernels
import TridentModel

/// Column- and row-parallel linear layers against `Reference.linear` (Double), one rank and split.
@Suite("Parallel linear layers")
struct LinearLayerTests {
    static let inputs = 70, outputs = 13, rows = 3

    static func weights(seed: UInt64) -> (w: [Float], b: [Float], x: [Float]) {
        var random = SeededRandom(seed: seed)
        return (random.floats(outputs * inputs), random.floats(outputs), random.floats(rows * inputs, scale: 1.5))
    }

    @Test("column-parallel: each rank's outputs are its rows of x Wᵀ + b (f32, 1e-5 relative)",
          arguments: [1, 2, 3], [false, true])
    func columnParallel(size: Int, bias: Bool) throws {
        let (w, b, x) = Self.weights(seed: 11)
        let want = Reference.linear(x.map(Double.init), w, bias ? b : nil, inputs: Self.inputs)
        let c = awkwardConfiguration()
        let results = try onTensorRanks(c, size: size) { _, context -> (Range<Int>, [Float]) in
            let range = ShardingPlan.evenSplit(Self.outputs, parts: size, index: context.group.rank)
            let layer = RandomTransformer.column(w, bias ? b : nil, inputs: Self.inputs, range)
            var input = x
            let got = input.withUnsafeMutableBufferPointer { buffer in
                output(rows: Self.rows, columns: range.count) { out in
                    layer.forward(MatrixView(buffer.baseAddress!, rows: Self.rows, columns: Self.inputs), into: out,
                                  context: context)
                }
            }
            return (range, got)
        }
        for (range, got) in results {
            let slice = (0 ..< Self.rows).flatMap { t in range.map { want[t * Self.outputs + $0] } }
            #expect(relativeError(got, slice) < 1e-5, "rows \(range) of \(size)")
        }
    }

    @Test("column-parallel writes into a strided view (a slice of a wider result)")
    func columnStrided() throws {
        let (w, b, x) = Self.weights(seed: 12)
        let want = Reference.linear(x.map(Double.init), w, b, inputs: Self.inputs)
        let layer = RandomTransformer.column(w, b, inputs: Self.inputs, 0 ..< Self.outputs)
        let results = try onTensorRanks(awkwardConfiguration(), size: 1) { _, context -> [Float] in
            var input = x, wide = [Float](repeating: -9, count: Self.rows * (Self.outputs + 5))
            input.withUnsafeMutableBufferPointer { xb in
                _ = wide.withUnsafeMutableBufferPointer { yb in
                    layer.forward(MatrixView(xb.baseAddress!, rows: Self.rows, columns: Self.inputs),
                                  into: MatrixView(yb.baseAddress! + 2, rows: Self.rows, columns: Self.outputs,
                                                   stride: Self.outputs + 5), context: context)
                }
            }
            return wide
        }
        let wide = results[0], width = Self.outputs + 5
        for t in 0 ..< Self.rows {
            let got = Array(wide[t * width + 2 ..< t * width + 2 + Self.outputs])
            #expect(relativeError(got, Array(want[t * Self.outputs ..< (t + 1) * Self.outputs])) < 1e-5)
            #expect(wide[t * width] == -9 && wide[t * width + 1] == -9 && wide[t * width + 2 + Self.outputs] == -9)
        }
    }

    @Test("row-parallel: the all-reduced sum plus the bias once equals x Wᵀ + b on every rank",
          arguments: [1, 2, 3], [false, true])
    func rowParallel(size: Int, bias: Bool) throws {
        let (w, b, x) = Self.weights(seed: 13)
        let want = Reference.linear(x.map(Double.init), w, bias ? b : nil, inputs: Self.inputs)
        let results = try onTensorRanks(awkwardConfiguration(), size: size) { _, context -> [Float] in
            let range = ShardingPlan.evenSplit(Self.inputs, parts: size, index: context.group.rank)
            let layer = RandomTransformer.row(w, bias ? b : nil, outputs: Self.outputs, inputs: Self.inputs, range)
            var slice = RandomTransformer.columns(x, columns: Self.inputs, range)
            return try slice.withUnsafeMutableBufferPointer { buffer in
                try output(rows: Self.rows, columns: Self.outputs) { out in
                    try layer.forward(MatrixView(buffer.baseAddress!, rows: Self.rows, columns: range.count),
                                      into: out, context: context)
                }
            }
        }
        for (rank, got) in results.enumerated() { #expect(relativeError(got, want) < 1e-5, "rank \(rank) of \(size)") }
    }

    @Test("row-parallel on q8_0 weights split at 32-column blocks equals one rank (1e-5 relative)")
    func rowParallelQuantized() throws {
        var random = SeededRandom(seed: 14)
        let inputs = 96, outputs = 9, rows = 2
        let w = random.floats(outputs * inputs), x = random.floats(rows * inputs, scale: 1.5)
        func run(_ size: Int) throws -> [[Float]] {
            try onTensorRanks(awkwardConfiguration(), size: size) { _, context -> [Float] in
                let range = ShardingPlan.blockSplit(inputs, parts: size, index: context.group.rank, block: 32)
                let full = OwnedWeights(values: w, rows: outputs, columns: inputs, dtype: .q8_0).matrix
                let layer = RowParallelLinear(weight: Tensor(full.columns(range)))
                var slice = RandomTransformer.columns(x, columns: inputs, range)
                return try slice.withUnsafeMutableBufferPointer { buffer in
                    try output(rows: rows, columns: outputs) { out in
                        try layer.forward(MatrixView(buffer.baseAddress!, rows: rows, columns: range.count), into: out,
                                          context: context)
                    }
                }
            }
        }
        let one = try run(1)[0]
        // The quantized product is itself close to the f32 reference (q8_0 rounding, 2e-2 relative).
        #expect(relativeError(one, Reference.linear(x.map(Double.init), w, nil, inputs: inputs)) < 2e-2)
        for (rank, got) in try run(3).enumerated() { #expect(maxRelativeDifference(got, one) < 1e-5, "rank \(rank)") }
    }
}
