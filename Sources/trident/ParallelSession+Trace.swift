import ArgumentParser
import Foundation
import TridentCollectives
import TridentTraining

/// `--trace FILE` of `generate` and `bench model`: every rank records its timeline (load, each
/// prefill and decode step, its micro-batches and blocks, and every collective and
/// send/receive with its bytes, through a `TracingCommunicator` around the world and every
/// group split from it); at the end world rank 0 writes all ranks' spans as one Chrome
/// trace-event file (Perfetto, chrome://tracing, `trident trace FILE --out timeline.svg`).
/// Without the flag nothing is wrapped or recorded.
struct InferenceTrace {
    let path: String
    let recorder: TraceRecorder

    /// Starts recording this rank's timeline when `path` is set: after a barrier over `world`
    /// (the ranks share the origin within the barrier's skew). Every rank of `world` must call this.
    static func start(path: String?, world: any Communicator) throws -> InferenceTrace? {
        guard let path else { return nil }
        if world.size > 1 { try world.barrier() }
        return InferenceTrace(path: path, recorder: TraceRecorder(rank: world.rank))
    }

    /// `world` with every call recorded (and every group split from it).
    func traced(_ world: any Communicator) -> any Communicator { TracingCommunicator(world, recorder: recorder) }

    /// Fills the main row's gaps with idle spans, gathers every rank's spans over `world` (not
    /// traced) and writes the file on world rank 0. Every rank of `world` must call this.
    func finish(over world: any Communicator) throws {
        recorder.fillIdle(from: 0, to: recorder.now())
        try TraceGathering.write(recorder, over: world, to: path)
        if world.rank == 0 {
            FileHandle.standardError.write(Data("trace: \(path) (open in ui.perfetto.dev or chrome://tracing; trident trace \(path) --out timeline.svg)\n".utf8))
        }
    }

    /// Refuses a `--trace` path whose directory does not exist, before any rank starts.
    static func validate(_ path: String?) throws {
        guard let path else { return }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        var isDirectory: ObjCBool = false
        guard !path.isEmpty, FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory),
              isDirectory.boolValue else {
            throw ValidationError("--trace '\(path)': expected a file in an existing directory, found no directory '\(directory)'")
        }
    }
}
