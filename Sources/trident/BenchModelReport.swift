import Foundation
import TridentEngine
import TridentKernels

/// The output of `trident bench model` (JSON field names are a contract; `plan --measure`
/// reads `tp`, the two rates, `peak_rss_bytes` and `ranks[].communication_share`).
struct BenchModelReport {
    let parallel: ParallelOptions
    let placement: ModelPlacement
    let threads: Int
    let parameters: BenchParameters
    let measured: BenchParameters.Measured
    /// How the KV cache stored keys and values.
    var kvType: KVCacheType = .f32

    /// Aggregate prompt tokens per second over all sequences.
    var prefillRate: Double { Double(parameters.prompts * parameters.promptTokens) / measured.prefillSeconds }
    /// Aggregate generated tokens per second over all sequences.
    var decodeRate: Double { Double(parameters.prompts * parameters.decodeTokens) / measured.decodeSeconds }
    /// The schedule that actually ran: overlapping needs more than one group in flight.
    var schedule: DecodeSchedule { groupsInFlight > 1 ? .overlapped : .gpipe }
    /// Groups of sequences with a decode step in flight at once (1 for `gpipe`).
    let groupsInFlight: Int
    /// Micro-batches each replica's pipeline holds per decode round: with `gpipe` its sequences
    /// fused into one per stage; overlapped, one per group.
    var microBatchesPerStep: Int {
        schedule == .overlapped ? groupsInFlight
            : min(parameters.prompts, placement.slotsPerReplica, placement.layout.pipeline)
    }
    /// The idle share each stage should see: GPipe fills and drains the pipeline every step,
    /// `(P-1)/(M+P-1)`; overlapped groups keep stages busy once `M >= P`, `1 - M/max(M, P)`.
    var predictedBubble: Double {
        let p = Double(placement.layout.pipeline), m = Double(microBatchesPerStep)
        return schedule == .gpipe ? (p - 1) / (m + p - 1) : 1 - m / max(m, p)
    }
    var meanIdleFraction: Double {
        measured.ranks.map { 1 - $0.busyFraction }.reduce(0, +) / Double(max(measured.ranks.count, 1))
    }

    private func communicationShare(_ r: RankStatistics) -> Double {
        r.communicationSeconds / max(r.computeSeconds + r.communicationSeconds, 1e-9)
    }

    func jsonLine() throws -> String {
        let object: [String: Any] = [
            "tp": parallel.tp, "pp": parallel.pp, "dp": parallel.dp, "world_size": parallel.worldSize,
            "pipeline_layers": placement.partition.description, "threads_per_rank": threads,
            "prompts": parameters.prompts, "prompt_tokens": parameters.promptTokens,
            "decode_tokens": parameters.decodeTokens, "kv_type": kvType.rawValue,
            "prefill_tokens_per_second": prefillRate, "decode_tokens_per_second": decodeRate,
            "micro_batches_per_step": microBatchesPerStep, "predicted_bubble": predictedBubble,
            "schedule": schedule.rawValue,
            "mean_idle_fraction": meanIdleFraction,
            "peak_rss_bytes": measured.ranks.map(\.peakRSSBytes).max() ?? 0,
            "ranks": measured.ranks.map { r in
                ["rank": r.rank, "tp": r.tensor, "pp": r.pipeline, "dp": r.data, "peak_rss_bytes": r.peakRSSBytes,
                 "compute_seconds": r.computeSeconds, "communication_seconds": r.communicationSeconds,
                 "communication_share": communicationShare(r), "busy_fraction": r.busyFraction,
                 "idle_fraction": 1 - r.busyFraction] as [String: Any]
            },
        ]
        return try JSONLine.render(object)
    }

    func text(model: String) -> String {
        var lines = [
            "model: \(model)",
            "ranks: tp=\(parallel.tp) pp=\(parallel.pp) dp=\(parallel.dp), stage blocks \(placement.partition), "
                + "\(threads) thread(s) per rank, \(kvType) KV cache",
            String(format: "prefill: %.1f tokens/s (%d x %d-token prompts)", prefillRate, parameters.prompts,
                   parameters.promptTokens),
            String(format: "decode:  %.1f tokens/s (%d sequences x %d tokens)", decodeRate, parameters.prompts,
                   parameters.decodeTokens),
        ]
        if placement.layout.pipeline > 1 {
            lines.append(String(format: "bubble:  predicted %.1f%% (%@ schedule, P=%d, M=%d), measured mean idle %.1f%%",
                                predictedBubble * 100, schedule.rawValue, placement.layout.pipeline,
                                microBatchesPerStep, meanIdleFraction * 100))
        }
        for r in measured.ranks {
            lines.append(String(format: "rank %d (tp %d, pp %d, dp %d): peak RSS %.1f MiB, busy %.1f%%, idle %.1f%%, "
                                + "communication %.1f%% of busy time",
                                r.rank, r.tensor, r.pipeline, r.data, Double(r.peakRSSBytes) / 1048576,
                                r.busyFraction * 100, (1 - r.busyFraction) * 100, communicationShare(r) * 100))
        }
        return lines.joined(separator: "\n")
    }
}
