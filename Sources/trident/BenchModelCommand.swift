import ArgumentParser
import Foundation
import TridentEngine
import TridentModel

/// `trident bench model`: prefill and decode speed, memory and communication share.
struct BenchModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Prefill tokens/s (one --prompt-tokens prompt), decode tokens/s (--decode-tokens steps), peak RSS per rank.")

    @OptionGroup var model: ModelOptions
    @OptionGroup var parallel: ParallelOptions

    @Option(help: "Prompt length for the prefill measurement.")
    var promptTokens: Int = 128

    @Option(help: "Tokens decoded one at a time for the decode measurement.")
    var decodeTokens: Int = 128

    @Option(help: "Repetitions; the best is reported.")
    var repetitions: Int = 2

    @Flag(help: "Print one JSON object.")
    var json = false

    func run() throws {
        let session = ParallelSession(model: model, parallel: parallel, capacity: promptTokens + decodeTokens + 1)
        let promptTokens = self.promptTokens, decodeTokens = self.decodeTokens
        let repetitions = max(1, self.repetitions)
        let json = self.json
        let tp = parallel.tp
        let threads = model.threadsPerRank(ranksOnThisMachine: parallel.worldSize)
        try session.run { runner in
            let vocabulary = Int32(runner.configuration.vocabularySize)
            // A deterministic prompt of ordinary tokens (ids past the special ones).
            let prompt = (0..<promptTokens).map { Int32(100 + ($0 * 7919) % Int(vocabulary - 100)) }
            var bestPrefill = Double.infinity, bestDecode = Double.infinity
            for _ in 0..<repetitions {
                let t0 = DispatchTime.now().uptimeNanoseconds
                var logits = try runner.forward(tokens: prompt, slot: 0, start: 0, logits: .last)
                let t1 = DispatchTime.now().uptimeNanoseconds
                for step in 0..<decodeTokens {
                    let next = Sampler.argmax(logits)
                    logits = try runner.forward(tokens: [next], slot: 0, start: promptTokens + step, logits: .last)
                }
                let t2 = DispatchTime.now().uptimeNanoseconds
                bestPrefill = min(bestPrefill, Double(t1 - t0) / 1e9)
                bestDecode = min(bestDecode, Double(t2 - t1) / 1e9)
            }
            let ranks = try runner.rankStatistics()
            let prefillRate = Double(promptTokens) / bestPrefill
            let decodeRate = Double(decodeTokens) / bestDecode
            let commShare = ranks.map { $0.communicationSeconds / max($0.computeSeconds + $0.communicationSeconds, 1e-9) }
            if json {
                let object: [String: Any] = [
                    "tp": tp, "threads_per_rank": threads,
                    "prompt_tokens": promptTokens, "decode_tokens": decodeTokens,
                    "prefill_tokens_per_second": prefillRate, "decode_tokens_per_second": decodeRate,
                    "peak_rss_bytes": ranks.map(\.peakRSSBytes).max() ?? 0,
                    "ranks": ranks.enumerated().map { i, r in
                        ["rank": r.rank, "peak_rss_bytes": r.peakRSSBytes, "compute_seconds": r.computeSeconds,
                         "communication_seconds": r.communicationSeconds, "communication_share": commShare[i]] as [String: Any]
                    },
                ]
                let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
                print(String(decoding: data, as: UTF8.self))
            } else {
                print("model: \(model.model)")
                print("ranks: tp=\(tp), \(threads) thread(s) per rank")
                print(String(format: "prefill: %.1f tokens/s (%d-token prompt)", prefillRate, promptTokens))
                print(String(format: "decode:  %.1f tokens/s (%d tokens)", decodeRate, decodeTokens))
                for (i, r) in ranks.enumerated() {
                    print(String(format: "rank %d: peak RSS %.1f MiB, communication %.1f%% of step time",
                                 r.rank, Double(r.peakRSSBytes) / 1048576, commShare[i] * 100))
                }
            }
        }
    }
}
