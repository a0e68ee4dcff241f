extension PipelineSchedule {
    /// GPipe (Huang et al. 2019): every stage forwards all micro-batches in order, then (with
    /// `includeBackward`) runs their backward passes in the same order.
    ///
    /// With unit-time forwards and `b`-time backwards its makespan is `(M + P - 1) * (1 + b)`
    /// steps and every stage idles a fraction `(P - 1) / (M + P - 1)` of it (the bubble); a
    /// stage holds the activations of all `M` micro-batches at once.
    /// Stage 1 of 3 with 2 micro-batches: `R0<0 F0 S0>2 R1<0 F1 S1>2 r0<2 B0 s0>0 r1<2 B1 s1>0`.
    public static func gpipe(stages: Int, microBatches: Int, includeBackward: Bool) -> PipelineSchedule {
        precondition(stages >= 1 && microBatches >= 1, "GPipe needs at least one stage and one micro-batch")
        let actions = (0..<stages).map { s in
            var list = (0..<microBatches).flatMap { forwardSteps($0, stage: s, stages: stages) }
            if includeBackward {
                list += (0..<microBatches).flatMap { backwardSteps($0, stage: s, stages: stages) }
            }
            return list
        }
        return PipelineSchedule(stages: stages, microBatches: microBatches, actions: actions)
    }

    /// The fraction of a GPipe (or 1F1B) schedule each stage idles with uniform stage costs:
    /// `(P - 1) / (M + P - 1)`.
    public static func bubbleFraction(stages: Int, microBatches: Int) -> Double {
        precondition(stages >= 1 && microBatches >= 1)
        return Double(stages - 1) / Double(microBatches + stages - 1)
    }
}
