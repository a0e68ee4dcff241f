import ArgumentParser
import TridentTraining

extension PipelineTrainingSchedule: ExpressibleByArgument {}

/// `--schedule` of `train` and `bench train`: the pipeline schedule of a training step's
/// micro-batches (`--accumulate` of them) over `--pp` stages.
struct PipelineTrainingOptions: ParsableArguments {
    @Option(help: "Pipeline schedule of the --accumulate micro-batches with --pp: 1f1b (one forward, one backward; a stage holds at most --pp micro-batches of activations) or gpipe (all forwards, then all backwards; a stage holds all of them).")
    var schedule: PipelineTrainingSchedule = .oneFOneB

    @Option(parsing: .unconditional, help: "Model chunks per pipeline rank with --schedule interleaved (V >= 2; the blocks are cut into --pp x V virtual stages, --pipeline-layers then lists that many sizes; --accumulate must be a multiple of --pp).")
    var virtualStages: Int = 1

    func validate() throws {
        try OptionCheck.integer(virtualStages, in: 1...64, "--virtual-stages")
        if schedule == .interleaved && virtualStages < 2 {
            throw ValidationError("--schedule interleaved needs --virtual-stages 2 or more")
        }
        if schedule != .interleaved && virtualStages != 1 {
            throw ValidationError("--virtual-stages \(virtualStages) needs --schedule interleaved")
        }
    }

    /// Checks the interleaved schedule against the grid: P >= 2, M a multiple of P.
    func check(pp: Int, accumulate: Int) throws {
        guard schedule == .interleaved else { return }
        guard pp >= 2 else { throw ValidationError("--schedule interleaved needs --pp 2 or more") }
        guard accumulate % pp == 0 else {
            throw ValidationError("--schedule interleaved needs --accumulate (\(accumulate)) to be a multiple of --pp (\(pp))")
        }
    }
}
