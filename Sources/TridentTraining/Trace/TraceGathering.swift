import Foundation
import TridentCollectives

/// Brings every rank's spans to every rank of a group, so world rank 0 can write one file.
public enum TraceGathering {
    /// Every rank's spans, indexed by rank in `world`. Every rank of `world` must call this
    /// (two all-gathers: the byte counts, then the padded JSON of each rank's spans).
    /// - Throws: `CollectiveError`, or `TraceFileError` for a peer's undecodable spans.
    public static func gather(_ recorder: TraceRecorder, over world: any Communicator) throws -> [[TraceSpan]] {
        let mine = [UInt8](try JSONEncoder().encode(recorder.spans))
        let counts = try world.allGather([Int64(mine.count)])
        let width = Int(counts.max() ?? 0)
        guard width > 0 else { return Array(repeating: [], count: world.size) }
        var padded = mine
        padded.append(contentsOf: [UInt8](repeating: 0, count: width - mine.count))
        let all = try world.allGather(padded)
        return try (0..<world.size).map { rank in
            let bytes = all[(rank * width)..<(rank * width + Int(counts[rank]))]
            do { return try JSONDecoder().decode([TraceSpan].self, from: Data(bytes)) } catch {
                throw TraceFileError(path: "<rank \(rank)>", reason: "its spans do not decode: \(error)")
            }
        }
    }

    /// Gathers every rank's spans and, on rank 0 of `world`, writes them to `path` as Chrome
    /// trace-event JSON (atomically). Every rank of `world` must call this.
    public static func write(_ recorder: TraceRecorder, over world: any Communicator, to path: String) throws {
        let spans = try gather(recorder, over: world)
        if world.rank == 0 { try ChromeTrace(ranks: spans).write(to: path) }
        try world.barrier()
    }
}
