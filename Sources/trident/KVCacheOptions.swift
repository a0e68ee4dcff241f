import ArgumentParser
import TridentKernels

/// How the KV cache stores keys and values (`--kv-type`).
struct KVCacheOptions: ParsableArguments {
    @Option(help: "KV-cache element type: f32 (exact, the default) or f16 (half the memory and traffic, as llama.cpp's default).")
    var kvType: KVCacheType = .f32
}

extension KVCacheType: ExpressibleByArgument {}
