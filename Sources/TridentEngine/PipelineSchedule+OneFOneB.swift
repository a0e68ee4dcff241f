extension PipelineSchedule {
    /// 1F1B (PipeDream-Flush, as in Megatron-LM): stage `s` of `P` runs a warm-up of
    /// `min(P - s - 1, M)` forwards, then alternates one forward and one backward, then
    /// drains the remaining backwards.
    ///
    /// Same makespan and bubble as GPipe with uniform costs, but stage `s` holds at most
    /// `P - s` micro-batches' activations at once instead of `M`. The steady phase sends
    /// activations before receiving a gradient on both neighbours, so it needs sends that do
    /// not wait for the matching receive (buffered, like `LocalCommunicator`'s); under
    /// rendezvous sends it deadlocks, which `PipelineScheduleValidator` demonstrates.
    /// Stage 0 of 2 with 3 micro-batches: `F0 S0>1 F1 S1>1 r0<1 B0 F2 S2>1 r1<1 B1 r2<1 B2`.
    public static func oneFOneB(stages: Int, microBatches: Int) -> PipelineSchedule {
        precondition(stages >= 1 && microBatches >= 1, "1F1B needs at least one stage and one micro-batch")
        let actions = (0..<stages).map { s in
            let warmUp = min(stages - s - 1, microBatches)
            var list = (0..<warmUp).flatMap { forwardSteps($0, stage: s, stages: stages) }
            // Steady state: forward micro-batch warmUp + i, then backward micro-batch i.
            for i in 0 ..< microBatches - warmUp {
                list += forwardSteps(warmUp + i, stage: s, stages: stages)
                list += backwardSteps(i, stage: s, stages: stages)
            }
            // Cool-down: the backwards still owed for the warm-up forwards.
            for i in microBatches - warmUp ..< microBatches {
                list += backwardSteps(i, stage: s, stages: stages)
            }
            return list
        }
        return PipelineSchedule(stages: stages, microBatches: microBatches, actions: actions)
    }
}
