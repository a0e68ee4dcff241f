import ArgumentParser
import Foundation
import TridentCollectives
import TridentEngine

/// The model to load and how many threads each rank computes with.
struct ModelOptions: ParsableArguments {
    @Option(name: [.long, .customShort("m")], help: "A GGUF model file, or a Hugging Face directory (config.json + safetensors).")
    var model: String

    @Option(name: [.long, .customShort("t")], parsing: .unconditional,
            help: "Compute threads per rank (default: the machine's cores divided among the ranks on it).")
    var threads: Int?

    /// Most threads a rank may start.
    static let maxThreads = 1024

    func validate() throws {
        try OptionCheck.modelFile(model)
        if let threads { try OptionCheck.integer(threads, in: 1...Self.maxThreads, "--threads") }
    }

    /// Threads per rank when `ranksOnThisMachine` ranks share the cores.
    func threadsPerRank(ranksOnThisMachine: Int) -> Int {
        threads ?? max(1, ProcessInfo.processInfo.activeProcessorCount / max(1, ranksOnThisMachine))
    }
}

/// Communication backend for multi-rank runs.
enum Backend: String, ExpressibleByArgument, CaseIterable {
    /// Ranks are threads of this process.
    case local
    /// Ranks are processes started by the built-in launcher, talking over TCP / shared memory.
    case tcp
    /// Ranks are processes started by `mpirun` (needs a build with `--traits MPI`).
    case mpi
}

/// How the model is split across ranks: a `--tp x --pp x --dp` grid.
struct ParallelOptions: ParsableArguments {
    @Option(name: [.long, .customLong("tensor-parallel-size"), .customLong("tp", withSingleDash: true)],
            parsing: .unconditional, help: "Tensor-parallel ranks (attention heads and MLP split across them).")
    var tp: Int = 1

    @Option(name: [.long, .customLong("pipeline-parallel-size"), .customLong("pp", withSingleDash: true)],
            parsing: .unconditional,
            help: "Pipeline-parallel stages (contiguous blocks per stage; activations passed stage to stage).")
    var pp: Int = 1

    @Option(parsing: .unconditional,
            help: "Data-parallel replicas (each a full tp x pp copy of the model serving its own sequences).")
    var dp: Int = 1

    @Option(parsing: .unconditional, help: "Blocks per pipeline stage, e.g. 10,10,10 (default: balanced by estimated cost).")
    var pipelineLayers: String?

    @Option(help: "Backend for more than one rank: local (threads), tcp (processes), mpi (mpirun).")
    var backend: Backend = .local

    /// Ranks in the run: `tp * pp * dp`.
    var worldSize: Int { tp * pp * dp }

    func validate() throws {
        try OptionCheck.integer(tp, in: 1...4096, "--tp")
        try OptionCheck.integer(pp, in: 1...4096, "--pp")
        try OptionCheck.integer(dp, in: 1...4096, "--dp")
        guard tp <= 4096, pp <= 4096, dp <= 4096, worldSize <= 4096 else { throw ValidationError("--tp x --pp x --dp = \(worldSize) ranks is too many (at most 4096)") }
        if pipelineLayers != nil && pp == 1 {
            throw ValidationError("--pipeline-layers needs --pp 2 or more")
        }
    }

    /// The grid (`tp x pp x dp`).
    func layout() throws -> ParallelLayout { try ParallelLayout(tensor: tp, pipeline: pp, data: dp) }
}

/// Sampling flags shared by generation commands.
struct SamplingOptions: ParsableArguments {
    @Option(name: [.long, .customShort("n")], parsing: .unconditional, help: "Most tokens to generate.")
    var maxTokens: Int = 128

    @Option(name: [.long, .customLong("temp")], parsing: .unconditional, help: "Sampling temperature; 0 = greedy.")
    var temperature: Float = 0

    @Option(parsing: .unconditional, help: "Keep only the K most likely tokens (0 = off).")
    var topK: Int = 0

    @Option(parsing: .unconditional, help: "Nucleus sampling mass (1 = off).")
    var topP: Float = 1

    @Option(parsing: .unconditional, help: "Drop tokens below this fraction of the top token's probability (0 = off).")
    var minP: Float = 0

    @Option(parsing: .unconditional, help: "Repetition penalty (1 = off).")
    var repeatPenalty: Float = 1

    @Option(parsing: .unconditional, help: "Random seed for sampling (0...2^64-1).")
    var seed: UInt64 = 0

    @Option(parsing: .unconditionalSingleValue, help: "Stop when the text contains this string (repeatable).")
    var stop: [String] = []

    @Flag(help: "Keep generating past end-of-generation tokens.")
    var ignoreEos = false

    @Option(parsing: .unconditional, help: "Report the K most likely tokens with log-probabilities for each generated token.")
    var topLogprobs: Int = 0

    func validate() throws {
        try OptionCheck.integer(maxTokens, in: 0...(1 << 24), "--max-tokens")
        try OptionCheck.real(temperature, "--temperature", "a finite number >= 0") { $0 >= 0 }
        try OptionCheck.integer(topK, in: 0...(1 << 24), "--top-k")
        try OptionCheck.real(topP, "--top-p", "in (0, 1]") { $0 > 0 && $0 <= 1 }
        try OptionCheck.real(minP, "--min-p", "in [0, 1)") { $0 >= 0 && $0 < 1 }
        try OptionCheck.real(repeatPenalty, "--repeat-penalty", "in [0.001, 1000]") { $0 >= 0.001 && $0 <= 1000 }
        try OptionCheck.integer(topLogprobs, in: 0...100, "--top-logprobs")
    }

    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                           repetitionPenalty: repeatPenalty, seed: seed)
    }
}
