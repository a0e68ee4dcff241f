import Foundation
import TridentCollectives

/// `--resume`: which checkpoint a run continues from, agreed by every rank, and the load.
public enum CheckpointResume {
    /// What to resume from.
    public enum Request: Sendable, Equatable {
        /// A checkpoint root (its `latest`) or one `step-N` directory; a bad one is an error.
        case directory(String)
        /// The newest valid checkpoint under `root`; damaged or foreign ones are reported and
        /// skipped; none: a fresh start.
        case auto(root: String)
    }

    /// Rank 0's decision, broadcast to every rank.
    private struct Decision: Codable {
        var directory: String?
        var error: String?
    }

    /// Chooses the checkpoint (world rank 0 reads and checksums every file of each candidate),
    /// then every rank loads its slices, resharded to its layout. Every rank of the session's
    /// world must call this before the first step.
    /// - Parameter log: lines for the user (skipped checkpoints, the resume), called on world rank 0.
    /// - Returns: the checkpoint directory resumed from, or nil for a fresh start (`auto` only).
    /// - Throws: `CheckpointError` (the same on every rank) for a bad or foreign checkpoint
    ///   asked for explicitly, or a `CollectiveError`.
    @discardableResult
    public static func resume(_ session: TrainingSession, _ request: Request, log: (String) -> Void = { _ in }) throws -> String? {
        let world = session.groups.world
        var decision = Decision()
        if world.rank == 0 { decision = choose(session, request, log: log) }
        let agreed = try JSONDecoder().decode(
            Decision.self, from: Data(try CheckpointCollectives.broadcast(Array(try JSONEncoder().encode(decision)), group: world)))
        if let error = agreed.error { throw CheckpointError.resumeRefused(reason: error) }
        guard let directory = agreed.directory else { return nil }
        let reader = try ShardedCheckpointReader(directory: directory)
        if let reason = reader.mismatch(with: session) { throw CheckpointError.mismatch(path: directory, reason: reason) }
        var failure: String? = nil
        let clock = ContinuousClock()
        let began = clock.now
        do { try reader.load(into: session) } catch { failure = "\(error)" }
        let seconds = (clock.now - began).seconds
        guard try CheckpointCollectives.agree(failure == nil, group: world) else {
            throw CheckpointError.damagedFile(path: directory, reason: failure ?? "another rank could not read its slices")
        }
        if world.rank == 0 {
            let saved = reader.manifest.layout, now = session.groups.layout
            log("resumed from \(directory) at step \(reader.manifest.step): saved on --tp \(saved.tensorParallel) --pp \(saved.pipelineParallel) --dp \(saved.dataParallel) --zero \(saved.zeroStage ?? 0), now --tp \(now.tensor) --pp \(now.pipeline) --dp \(now.data) --zero \(session.shardsOptimizerState ? 1 : 0); rank 0 read \(reader.bytesRead / 1_000_000) MB in \(String(format: "%.3f", seconds)) s")
        }
        return directory
    }

    private static func choose(_ session: TrainingSession, _ request: Request, log: (String) -> Void) -> Decision {
        func check(_ directory: String) throws {
            let reader = try ShardedCheckpointReader(directory: directory)
            if let reason = reader.mismatch(with: session) { throw CheckpointError.mismatch(path: directory, reason: reason) }
            let clock = ContinuousClock()
            let began = clock.now
            try reader.verify()
            let bytes = reader.manifest.files.reduce(0) { $0 + $1.bytes }
            log("checked \(reader.manifest.files.count) files of \(directory) (\(bytes / 1_000_000) MB, CRC-32C) in \(String(format: "%.3f", (clock.now - began).seconds)) s")
        }
        switch request {
        case .directory(let path):
            do {
                let directory = try CheckpointDirectory.resolve(path)
                try check(directory)
                return Decision(directory: directory)
            } catch {
                return Decision(error: "\(error)")
            }
        case .auto(let root):
            for (_, directory) in CheckpointDirectory.complete(root: root) {
                do {
                    try check(directory)
                    return Decision(directory: directory)
                } catch {
                    log("--resume auto: skipping \(directory): \(error)")
                }
            }
            log("--resume auto: no usable checkpoint under \(root); starting fresh")
            return Decision()
        }
    }
}

extension ShardedCheckpointReader {
    /// Why `session` cannot continue from this checkpoint, or nil when it can: the same tensors
    /// (names, shapes), the same data, the same global batch and settings, steps left to do.
    /// The layout (TP, PP, DP) may differ, and so may micro-batch and accumulation when the
    /// global batch is the same.
    public func mismatch(with session: TrainingSession) -> String? {
        var shapes: [String: [Int]] = [:]
        for tensor in manifest.tensors { shapes[tensor.name] = tensor.shape }
        for parameter in session.model.parameters where shapes[parameter.name] != parameter.globalShape {
            let found = shapes[parameter.name].map { "shape \($0)" } ?? "no such tensor"
            return "it belongs to another model (\(parameter.name): this model has shape \(parameter.globalShape), the checkpoint \(found))"
        }
        if manifest.data.tokens != session.tokens.count || manifest.data.hash != CheckpointManifest.hash(session.tokens) {
            return "it was trained on other data (\(manifest.data.tokens) tokens, now \(session.tokens.count))"
        }
        if manifest.globalBatch != session.batching.globalBatch {
            return "it was saved with a global batch of \(manifest.globalBatch) sequences, this run has \(session.batching.globalBatch) (--global-batch must stay the same)"
        }
        var saved = manifest.configuration
        saved.microBatch = session.configuration.microBatch
        saved.accumulation = session.configuration.accumulation
        if let flag = session.configuration.difference(from: saved) { return "\(flag) differs from the saved run" }
        if manifest.step >= session.configuration.steps {
            return "it has already done \(manifest.step) steps; --steps \(session.configuration.steps) leaves none to do"
        }
        return nil
    }
}
