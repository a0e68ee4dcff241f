import Foundation
import Testing
import TridentModel

/// SmolLM2 re-quantized by llama.cpp into K-quant / 5-bit / IQ4 mixes (files too large to
/// commit). Set `TRIDENT_KQUANT_MODELS` to a comma-separated list of such files, made with
/// e.g. `llama-quantize --allow-requantize models/SmolLM2-135M-Instruct.Q4_1.gguf
/// /tmp/smol-q4km.gguf Q4_K_M` (also Q3_K_M, Q5_K_M, Q6_K, Q5_0, IQ4_XS, ...).
let kquantSmolLM2Paths = (ProcessInfo.processInfo.environment["TRIDENT_KQUANT_MODELS"] ?? "")
    .split(separator: ",").map(String.init)

@Suite("SmolLM2 K-quant files: TP 2 equals one rank", .serialized,
       .enabled(if: !kquantSmolLM2Paths.isEmpty, "set TRIDENT_KQUANT_MODELS to K-quant SmolLM2 files"))
struct KQuantSmolLM2Tests {
    @Test("last prompt logits within 1e-4 relative and 16 greedy ids identical at TP 2", arguments: kquantSmolLM2Paths)
    func tensorParallelMatchesOneRank(path: String) throws {
        let prompt = try OracleFixture.load("smollm2-q4_1.capital").tokens
        func run(_ size: Int) throws -> [Float] {
            try withTensorParallel(path, size: size, capacity: 64) { runner in
                let (logits, ids) = try greedyDecode(runner, prompt: prompt, steps: 16)
                return logits + ids.map { Float($0) }
            }
        }
        let one = try run(1), two = try run(2)
        #expect(maxRelativeDifference(Array(two.dropLast(16)), Array(one.dropLast(16))) < 1e-4, "\(path)")
        #expect(two.suffix(16) == one.suffix(16), "\(path): greedy ids differ")
    }
}
