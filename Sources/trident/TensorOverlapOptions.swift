import ArgumentParser

/// `--tp-comm-overlap` of `train` and `bench train`: Megatron-style overlap inside tensor parallelism.
struct TensorOverlapOptions: ParsableArguments {
    @Flag(name: .customLong("tp-comm-overlap"),
          help: "With --tp > 1: run each column-parallel layer's input-gradient all-reduce while its weight gradient is computed, and cut each row-parallel forward into two halves of rows so that the first half's all-reduce runs while the second is multiplied. The JSON ranks report hidden_tensor_communication_seconds.")
    var overlap = false
}
