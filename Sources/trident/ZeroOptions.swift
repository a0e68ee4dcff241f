import ArgumentParser
import TridentTraining

extension ZeroStage: ExpressibleByArgument {}

/// `--zero` of `train` and `bench train`: whether the data-parallel replicas shard the AdamW moments.
struct ZeroOptions: ParsableArguments {
    @Option(help: ArgumentHelp("ZeRO stage: 0 (every --dp replica holds all AdamW moments) or 1 (each holds about 1/--dp of them: gradients reduce-scattered, each replica updates its slice, parameters all-gathered; the same numbers, less memory).",
                               valueName: "0|1"))
    var zero: ZeroStage = .off
}
