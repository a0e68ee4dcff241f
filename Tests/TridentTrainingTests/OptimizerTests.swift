import Foundation
import Testing
import TridentCollectives
import TridentKernels
@testable import TridentTraining

/// AdamW against an independent Double implementation of the textbook formulas,
/// the learning-rate schedule against arithmetic, and global-norm clipping at TP 2 against one rank.
@Suite struct OptimizerTests {
    /// Double AdamW: `p -= lr·wd·p; m, v; m̂ = m/(1−β1ᵗ); v̂ = v/(1−β2ᵗ); p -= lr·m̂/(sqrt(v̂)+eps)`.
    struct DoubleAdamW {
        var p: [Double], m: [Double], v: [Double], t = 0
        mutating func step(_ g: [Float], lr: Double, _ c: AdamWConfiguration, decay: Bool) {
            t += 1
            let (b1, b2, eps, wd) = (Double(c.beta1), Double(c.beta2), Double(c.eps), Double(c.weightDecay))
            for i in 0..<p.count {
                if decay { p[i] -= lr * wd * p[i] }
                m[i] = b1 * m[i] + (1 - b1) * Double(g[i])
                v[i] = b2 * v[i] + (1 - b2) * Double(g[i]) * Double(g[i])
                let mHat = m[i] / (1 - pow(b1, Double(t))), vHat = v[i] / (1 - pow(b2, Double(t)))
                p[i] -= lr * mHat / (vHat.squareRoot() + eps)
            }
        }
    }

    /// Six steps with changing learning rates and gradients (some tiny, where eps matters):
    /// parameters within 2e-6 × max(1, |p|), moments within 1e-6 relative-or-absolute.
    @Test(arguments: [true, false])
    func adamWMatchesDoubleFormulas(decay: Bool) {
        let count = 1037
        let configuration = AdamWConfiguration(beta1: 0.9, beta2: 0.95, eps: 1e-8, weightDecay: 0.1)
        var parameter = randomFloats(count, seed: 100)
        let initial = parameter
        var state = AdamWState(count: count)
        var reference = DoubleAdamW(p: parameter.map(Double.init), m: .init(repeating: 0, count: count),
                                    v: .init(repeating: 0, count: count))
        for s in 1...6 {
            let lr = 1e-3 * Double(s)
            var gradient = randomFloats(count, seed: 200 + UInt64(s))
            for i in stride(from: 0, to: count, by: 7) { gradient[i] *= 1e-7 }
            gradient.withUnsafeBufferPointer { g in
                parameter.withBase { p in
                    AdamW.step(parameter: p, gradient: g.baseAddress!, state: &state, count: count, learningRate: Float(lr),
                               configuration: configuration, decay: decay, pool: testPools[1])
                }
            }
            reference.step(gradient, lr: Double(Float(lr)), configuration, decay: decay)
            #expect(state.step == s)
            #expect(scaledError(parameter, reference.p) < 2e-6, "step \(s)")
            // The change since the start (about lr per step) to 1e-4 of its size: catches errors in the update itself.
            let moved = zip(parameter, initial).map { $0 - $1 }
            let movedReference = zip(reference.p, initial).map { $0 - Double($1) }
            let size = movedReference.map { abs($0) }.max()!
            #expect(scaledError(moved.map { $0 / Float(size) }, movedReference.map { $0 / size }) < 1e-4, "update step \(s)")
            #expect(scaledError(state.firstMoment, reference.m) < 1e-6, "m step \(s)")
            #expect(scaledError(state.secondMoment, reference.v) < 1e-6, "v step \(s)")
        }
    }

    @Test func invalidAdamWConfigurationsThrow() {
        #expect(throws: TrainingError.self) { try AdamWConfiguration(beta1: 1).validate() }
        #expect(throws: TrainingError.self) { try AdamWConfiguration(beta2: -0.1).validate() }
        #expect(throws: TrainingError.self) { try AdamWConfiguration(eps: -1).validate() }
        #expect(throws: TrainingError.self) { try AdamWConfiguration(weightDecay: .nan).validate() }
        #expect(throws: Never.self) { try AdamWConfiguration().validate() }
    }

    @Test func scheduleValues() throws {
        let constant = try LearningRateSchedule(kind: .constant, learningRate: 3e-4, totalSteps: 5)
        #expect((1...7).map { constant.rate(atStep: $0) } == [Double](repeating: 3e-4, count: 7))
        let cosine = try LearningRateSchedule(kind: .cosine, learningRate: 1e-3, minLearningRate: 1e-4, warmupSteps: 2, totalSteps: 6)
        let want = [5e-4, 1e-3,                                   // warm-up: lr · s / W
                    1e-4 + 9e-4 * (1 + cos(Double.pi / 4)) / 2,   // s = 3: progress 1/4
                    1e-4 + 9e-4 / 2,                              // s = 4: progress 1/2
                    1e-4 + 9e-4 * (1 + cos(3 * Double.pi / 4)) / 2,
                    1e-4, 1e-4]                                   // s = S and beyond: min
        for (s, value) in want.enumerated() {
            #expect(abs(cosine.rate(atStep: s + 1) - value) < 1e-15, "step \(s + 1)")
        }
        let noWarmup = try LearningRateSchedule(kind: .cosine, learningRate: 2, warmupSteps: 0, totalSteps: 4)
        #expect(abs(noWarmup.rate(atStep: 1) - (1 + cos(Double.pi / 4))) < 1e-15)
        let allWarmup = try LearningRateSchedule(kind: .cosine, learningRate: 2, minLearningRate: 1, warmupSteps: 4, totalSteps: 4)
        #expect(allWarmup.rate(atStep: 4) == 2 && allWarmup.rate(atStep: 5) == 1)
    }

    @Test func invalidSchedulesThrow() {
        #expect(throws: TrainingError.invalidValue(name: "--warmup", expected: "in 0 ... 3 (--steps)", found: "4")) {
            try LearningRateSchedule(kind: .cosine, learningRate: 1, warmupSteps: 4, totalSteps: 3)
        }
        #expect(throws: TrainingError.self) { try LearningRateSchedule(kind: .cosine, learningRate: 1, minLearningRate: 2, totalSteps: 3) }
        #expect(throws: TrainingError.self) { try LearningRateSchedule(kind: .constant, learningRate: -1, totalSteps: 3) }
        #expect(throws: TrainingError.self) { try LearningRateSchedule(kind: .constant, learningRate: 1, totalSteps: 0) }
    }

    /// A "model" of two sharded buffers (split unevenly over TP 2) and two replicated ones (same
    /// values on both ranks): the TP-2 global norm equals the one-rank norm within 1e-6 relative,
    /// and clipping scales every buffer by maxNorm / (norm + 1e-6).
    @Test func globalNormAtTP2EqualsOneRank() throws {
        let sharded = [randomFloats(101, seed: 300), randomFloats(64, seed: 301)]
        let replicated = [randomFloats(17, seed: 302), randomFloats(3, seed: 303)]
        let cuts = [60, 10]
        let oneRank = (sharded + replicated).flatMap { $0 }.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        let norms = try LocalCommunicator.run(size: 2) { comm in
            var buffers = sharded.enumerated().map { i, full in comm.rank == 0 ? Array(full[..<cuts[i]]) : Array(full[cuts[i]...]) }
            buffers += replicated
            let sharings: [GradientSharing] = [.sharded, .sharded, .replicated, .replicated]
            let pointers = buffers.map { b in
                let p = UnsafeMutableBufferPointer<Float>.allocate(capacity: b.count)
                _ = p.initialize(from: b)
                return p
            }
            let tagged = zip(pointers, sharings).map { TaggedGradient($0, sharing: $1) }
            let norm = try GradientClipping.globalNorm(tagged, tensorGroup: comm)
            let factor = GradientClipping.clip(tagged, norm: norm, maxNorm: 1)
            let clipped = try GradientClipping.globalNorm(tagged, tensorGroup: comm)
            let values = tagged.map { Array($0.values) }
            pointers.forEach { $0.deallocate() }
            return (norm, factor, clipped, values)
        }
        for (norm, factor, clipped, values) in norms {
            #expect(abs(norm - oneRank) <= 1e-6 * oneRank)
            #expect(abs(Double(factor) - 1 / (oneRank + 1e-6)) <= 1e-6)
            #expect(abs(clipped - 1) <= 1e-5)
            #expect(values[2] == replicated[0].map { $0 * factor })
        }
    }

    /// The multi-buffer optimizer equals `AdamW.step` per buffer with its decay flag, and restores state.
    @Test func optimizerStepsEveryBufferWithItsDecay() throws {
        let configuration = AdamWConfiguration(weightDecay: 0.1)
        let optimizer = try AdamWOptimizer(configuration: configuration)
        #expect(AdamWOptimizer.decaysByDefault(dimensions: 2) && !AdamWOptimizer.decaysByDefault(dimensions: 1))
        optimizer.register(count: 40, decay: true)
        optimizer.register(count: 3, decay: false)
        var expected = [randomFloats(40, seed: 800), randomFloats(3, seed: 801)]
        let buffers = expected.map { values in
            let buffer = UnsafeMutableBufferPointer<Float>.allocate(capacity: values.count)
            _ = buffer.initialize(from: values)
            return buffer
        }
        defer { buffers.forEach { $0.deallocate() } }
        var states = [AdamWState(count: 40), AdamWState(count: 3)]
        for s in 1...3 {
            let gradients = [randomFloats(40, seed: 810 + UInt64(s)), randomFloats(3, seed: 820 + UInt64(s))]
            gradients[0].withUnsafeBufferPointer { g0 in gradients[1].withUnsafeBufferPointer { g1 in
                optimizer.step(parameters: buffers, gradients: [g0, g1], learningRate: 0.01, pool: testPools[0])
            } }
            for i in 0..<2 {
                gradients[i].withUnsafeBufferPointer { g in expected[i].withBase { p in
                    AdamW.step(parameter: p, gradient: g.baseAddress!, state: &states[i], count: gradients[i].count,
                               learningRate: 0.01, configuration: configuration, decay: i == 0, pool: testPools[0])
                } }
            }
        }
        #expect(buffers.map { Array($0) } == expected)
        #expect(optimizer.states == states && optimizer.stepCount == 3)
        try optimizer.restore([AdamWState(count: 40), AdamWState(count: 3)])
        #expect(optimizer.stepCount == 0)
        #expect(throws: TrainingError.self) { try optimizer.restore([AdamWState(count: 41), AdamWState(count: 3)]) }
    }
}
