import ArgumentParser

/// `--recompute` of `train` and `bench train`: activation recomputation.
struct RecomputeOptions: ParsableArguments {
    @Flag(help: "Activation recomputation: a forward keeps only each block's input per micro-batch; the backward runs the block's forward again from it just before the block's backward. The same numbers, less activation memory, about one more forward of time.")
    var recompute = false
}
