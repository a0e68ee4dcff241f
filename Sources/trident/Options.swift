import ArgumentParser
import Foundation
import TridentCollectives
import TridentEngine

/// The model to load and how many threads each rank computes with.
struct ModelOptions: ParsableArguments {
    @Option(help: "Path to a GGUF model file.")
    var model: String

    @Option(help: "Compute threads per rank (default: the machine's cores divided among the ranks on it).")
    var threads: Int?

    func validate() throws {
        guard FileManager.default.fileExists(atPath: model) else {
            throw ValidationError("no model file at '\(model)' (run scripts/fetch-model.sh for the default model)")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
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
    @Option(help: "Tensor-parallel ranks (attention heads and MLP split across them).")
    var tp: Int = 1

    @Option(help: "Pipeline-parallel stages (contiguous blocks per stage; activations passed stage to stage).")
    var pp: Int = 1

    @Option(help: "Data-parallel replicas (each a full tp x pp copy of the model serving its own sequences).")
    var dp: Int = 1

    @Option(help: "Blocks per pipeline stage, e.g. 10,10,10 (default: balanced by estimated cost).")
    var pipelineLayers: String?

    @Option(help: "Backend for more than one rank: local (threads), tcp (processes), mpi (mpirun).")
    var backend: Backend = .local

    /// Ranks in the run: `tp * pp * dp`.
    var worldSize: Int { tp * pp * dp }

    func validate() throws {
        guard tp >= 1 else { throw ValidationError("--tp must be at least 1") }
        guard pp >= 1 else { throw ValidationError("--pp must be at least 1") }
        guard dp >= 1 else { throw ValidationError("--dp must be at least 1") }
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
    @Option(help: "Most tokens to generate.")
    var maxTokens: Int = 128

    @Option(help: "Sampling temperature; 0 = greedy.")
    var temperature: Float = 0

    @Option(help: "Keep only the K most likely tokens (0 = off).")
    var topK: Int = 0

    @Option(help: "Nucleus sampling mass (1 = off).")
    var topP: Float = 1

    @Option(help: "Drop tokens below this fraction of the top token's probability (0 = off).")
    var minP: Float = 0

    @Option(help: "Repetition penalty (1 = off).")
    var repeatPenalty: Float = 1

    @Option(help: "Random seed for sampling.")
    var seed: UInt64 = 0

    @Option(help: "Stop when the text contains this string (repeatable).")
    var stop: [String] = []

    @Flag(help: "Keep generating past end-of-generation tokens.")
    var ignoreEos = false

    @Option(help: "Report the K most likely tokens with log-probabilities for each generated token.")
    var topLogprobs: Int = 0

    func validate() throws {
        guard maxTokens >= 0 && maxTokens <= 1 << 24 else { throw ValidationError("--max-tokens must be in 0...\(1 << 24)") }
        guard temperature >= 0 else { throw ValidationError("--temperature must be >= 0") }
        guard topK >= 0 else { throw ValidationError("--top-k must be >= 0") }
        guard topP > 0 && topP <= 1 else { throw ValidationError("--top-p must be in (0, 1]") }
        guard minP >= 0 && minP < 1 else { throw ValidationError("--min-p must be in [0, 1)") }
        guard repeatPenalty > 0 else { throw ValidationError("--repeat-penalty must be > 0") }
        guard topLogprobs >= 0 && topLogprobs <= 100 else { throw ValidationError("--top-logprobs must be in 0...100") }
    }

    var parameters: SamplingParameters {
        SamplingParameters(temperature: temperature, topK: topK, topP: topP, minP: minP,
                           repetitionPenalty: repeatPenalty, seed: seed)
    }
}
