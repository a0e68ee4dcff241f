import Foundation
import Synchronization
import TridentCollectives
import TridentFormats

/// What one save cost this rank.
public struct CheckpointSaveReport: Sendable {
    public var step: Int
    /// The finished `step-N` directory (the save may still be in flight when `asynchronous`).
    public var directory: String
    /// Bytes this rank wrote (or copies, for an asynchronous save).
    public var bytes: Int
    /// Seconds the training loop was held by this save on this rank.
    public var stallSeconds: Double
    public var asynchronous: Bool
}

/// Writes sharded checkpoints of a training session under `root`:
/// `root/step-N/{rank-XXXXX.safetensors…, manifest.json}` and `root/latest`.
///
/// A save: world rank 0 makes `step-N.partial/`; every rank writes the slices it owns
/// (`CheckpointOwnership`) with their AdamW moments into its own file, in parallel, and `fsync`s
/// it; rank 0 gathers the file entries, writes the manifest, `fsync`s the directory, renames it
/// to `step-N`, then points `latest` at it (atomically) and removes checkpoints beyond `keep`.
/// A save interrupted anywhere leaves at most a `.partial` directory, which readers ignore.
///
/// Asynchronous saves copy the buffers to memory and write the files on a background thread;
/// the collective end of the save (manifest, rename) runs at the next `save` or at `finish()`.
public final class ShardedCheckpointWriter {
    public let root: String
    /// Complete checkpoints to keep (nil: all).
    public let keep: Int?
    /// Called on world rank 0 with the partial directory and the names of every tensor saved,
    /// before the manifest is written; the files it returns (plain names) are checksummed and
    /// listed in the manifest.
    public var extraFiles: ((_ directory: String, _ tensors: Set<String>) throws -> [String])?
    let dataHash: String
    private var pending: PendingSave?

    public init(root: String, keep: Int? = nil, tokens: [Int32]) {
        self.root = root
        self.keep = keep
        dataHash = CheckpointManifest.hash(tokens)
    }

    deinit { pending?.waitForFile() }

    public static func directoryName(step: Int) -> String { "step-\(step)" }

    /// Saves `session` after its `completedSteps`. Every rank of the session's world must call
    /// this after the same step. `metrics`: the statistics of that step, if it ran here.
    /// - Throws: `CheckpointError.writeFailed` naming the path (on every rank, when any failed),
    ///   or a `CollectiveError`.
    @discardableResult
    public func save(_ session: TrainingSession, metrics: StepStatistics?, asynchronous: Bool = false) throws
        -> CheckpointSaveReport {
        let clock = ContinuousClock()
        let began = clock.now
        try finish()
        let world = session.groups.world
        let step = session.completedSteps
        let final = root + "/" + Self.directoryName(step: step), partial = final + ".partial"
        var failure: String? = nil
        if world.rank == 0 { failure = Self.makePartial(partial) }
        guard try CheckpointCollectives.agree(failure == nil, group: world) else {
            throw CheckpointError.writeFailed(path: partial, reason: failure ?? "world rank 0 could not create it")
        }
        let manifest = makeManifest(session, metrics: metrics)
        let identity = RankIdentity(session)
        let save = session.optimizer.withMoments { moments in
            let parts = Self.parts(session, moments: moments)
            if asynchronous {
                return PendingSave(snapshot: CheckpointSnapshot(copying: parts), step: step, rank: world.rank, partial: partial,
                                   final: final, manifest: manifest, identity: identity)
            }
            return PendingSave(parts: parts, step: step, rank: world.rank, partial: partial, final: final, manifest: manifest,
                               identity: identity)
        }
        pending = save
        if !asynchronous { try complete(world: world) }
        return CheckpointSaveReport(step: step, directory: final, bytes: save.bytes,
                                    stallSeconds: (clock.now - began).seconds, asynchronous: asynchronous)
    }

    /// Completes an asynchronous save still in flight: waits for this rank's file, then the
    /// manifest and rename. Every rank must call this (a no-op when nothing is pending).
    public func finish() throws {
        guard pending != nil else { return }
        try complete(world: pendingWorld!)
    }

    private var pendingWorld: (any Communicator)? { pending?.identity.world }

    /// Waits for this rank's file, gathers the entries on rank 0, which finishes the directory.
    private func complete(world: any Communicator) throws {
        guard let save = pending else { return }
        pending = nil
        let result = save.waitForFile()
        var report: [UInt8] = []
        var failure: String? = nil
        switch result {
        case .success(let file): report = Array((try? JSONEncoder().encode(RankReport(file: file, identity: save.identity))) ?? Data())
        case .failure(let error): failure = "\(error)"
        }
        guard try CheckpointCollectives.agree(failure == nil, group: world) else {
            throw CheckpointError.writeFailed(path: save.partial, reason: failure ?? "another rank could not write its file")
        }
        let reports = try CheckpointCollectives.gather(report, group: world)
        if let reports {
            do { try publish(save, reports: reports) } catch { failure = "\(error)" }
        }
        guard try CheckpointCollectives.agree(failure == nil, group: world) else {
            throw CheckpointError.writeFailed(path: save.final, reason: failure ?? "world rank 0 could not finish the checkpoint")
        }
    }

    /// Rank 0: manifest, `fsync`, rename to `step-N`, `latest`, pruning.
    private func publish(_ save: PendingSave, reports: [[UInt8]]) throws {
        var manifest = save.manifest
        let decoded = try reports.map { try JSONDecoder().decode(RankReport.self, from: Data($0)) }
        manifest.files = decoded.compactMap(\.file)
        var seen = Set<String>()
        for report in decoded { for tensor in report.tensors where seen.insert(tensor.name).inserted { manifest.tensors.append(tensor) } }
        if manifest.layout.pipelineParallel > 1 {
            manifest.layout.stageTensors = (0 ..< manifest.layout.pipelineParallel).map { stage in
                Array(Set(decoded.filter { $0.stage == stage }.flatMap { $0.tensors.map(\.name) })).sorted()
            }
        }
        for name in try extraFiles?(save.partial, Set(manifest.tensors.map(\.name))) ?? [] {
            guard let (crc, bytes) = CRC32C.file(save.partial + "/" + name) else {
                throw CheckpointError.writeFailed(path: save.partial + "/" + name, reason: "cannot read it back")
            }
            manifest.files.append(.init(path: name, bytes: bytes, crc32c: CheckpointShardFile.hex(crc), rank: 0, slices: []))
        }
        try Self.durably(save.partial + "/" + CheckpointManifest.fileName) {
            try DurableFiles.write(Array(try manifest.encoded()), to: save.partial + "/" + CheckpointManifest.fileName)
            try DurableFiles.syncDirectory(save.partial)
            if FileManager.default.fileExists(atPath: save.final) { try? FileManager.default.removeItem(atPath: save.final) }
            try DurableFiles.rename(save.partial, to: save.final)
            try DurableFiles.syncDirectory(root)
            try DurableFiles.write(Array((Self.directoryName(step: save.step) + "\n").utf8), to: root + "/" + CheckpointDirectory.latestFile)
        }
        prune(keeping: save.step)
    }

    private static func durably(_ path: String, _ body: () throws -> Void) throws {
        do { try body() } catch let error as FileWriteError {
            throw CheckpointError.writeFailed(path: path, reason: error.description)
        }
    }

    /// Removes complete checkpoints beyond the newest `keep`, and partial ones older than `step`.
    private func prune(keeping step: Int) {
        let manager = FileManager.default
        for (old, _) in CheckpointDirectory.partials(root: root) where old < step {
            try? manager.removeItem(atPath: root + "/" + Self.directoryName(step: old) + ".partial")
        }
        guard let keep else { return }
        for (old, path) in CheckpointDirectory.complete(root: root).dropFirst(keep) where old != step {
            try? manager.removeItem(atPath: path)
        }
    }

    /// Creates `partial` afresh (a leftover of an interrupted save is removed); nil or the reason it failed.
    private static func makePartial(_ partial: String) -> String? {
        let manager = FileManager.default
        do {
            if manager.fileExists(atPath: partial) { try manager.removeItem(atPath: partial) }
            try manager.createDirectory(atPath: partial, withIntermediateDirectories: true)
            return nil
        } catch {
            return error.localizedDescription
        }
    }

    /// This rank's views to write, borrowing the session's buffers.
    private static func parts(_ session: TrainingSession,
                              moments: [(UnsafeBufferPointer<Float>, UnsafeBufferPointer<Float>)]) -> [CheckpointShardFile.Part] {
        if session.shardsOptimizerState { return shardedParts(session, moments: moments) }
        let parameters = session.model.parameters
        let owned = CheckpointOwnership.views(parameters, tensorRank: session.groups.tensor.rank,
                                              dataRank: session.groups.data.rank, dataSize: session.groups.data.size)
        return owned.map { i in
            CheckpointShardFile.Part(name: parameters[i].name, region: parameters[i].region,
                                     vector: parameters[i].globalShape.count == 1, values: UnsafeBufferPointer(parameters[i].values),
                                     firstMoment: moments[i].0, secondMoment: moments[i].1)
        }
    }
}

/// What a rank tells world rank 0 after writing its file.
struct RankReport: Codable {
    var file: CheckpointManifest.File?
    var stage: Int
    var tensors: [CheckpointManifest.Tensor]

    init(file: CheckpointManifest.File?, identity: RankIdentity) {
        self.file = file
        stage = identity.stage
        tensors = identity.tensors
    }
}

/// The rank's place and tensors, taken when the save starts.
struct RankIdentity: @unchecked Sendable {
    let world: any Communicator
    let stage: Int
    let tensors: [CheckpointManifest.Tensor]

    init(_ session: TrainingSession) {
        world = session.groups.world
        stage = session.groups.pipeline.rank
        var seen = Set<String>()
        tensors = session.model.parameters.filter { seen.insert($0.name).inserted }
            .map { CheckpointManifest.Tensor(name: $0.name, shape: $0.globalShape) }
    }
}

/// One rank's file of one save: written at once, or by a background thread from a snapshot.
final class PendingSave: @unchecked Sendable {
    let step: Int, partial: String, final: String
    let manifest: CheckpointManifest
    let identity: RankIdentity
    let bytes: Int
    private let result = Mutex<Result<CheckpointManifest.File?, CheckpointError>?>(nil)
    private let done = DispatchSemaphore(value: 0)
    private var snapshot: CheckpointSnapshot?

    /// Writes `parts` now (nothing when they are empty).
    init(parts: [CheckpointShardFile.Part], step: Int, rank: Int, partial: String, final: String, manifest: CheckpointManifest,
         identity: RankIdentity) {
        self.step = step
        self.partial = partial
        self.final = final
        self.manifest = manifest
        self.identity = identity
        bytes = parts.reduce(0) { $0 + $1.region.count * 12 }
        let written = Self.write(parts, rank: rank, step: step, partial: partial)
        result.withLock { $0 = written }
        done.signal()
    }

    /// Writes `snapshot` on a background thread.
    init(snapshot: CheckpointSnapshot, step: Int, rank: Int, partial: String, final: String, manifest: CheckpointManifest,
         identity: RankIdentity) {
        self.step = step
        self.partial = partial
        self.final = final
        self.manifest = manifest
        self.identity = identity
        bytes = snapshot.byteCount
        self.snapshot = snapshot
        let thread = Thread { [self] in
            let written = Self.write(snapshot.parts, rank: rank, step: step, partial: partial)
            result.withLock { $0 = written }
            done.signal()
        }
        thread.name = "checkpoint-writer"
        thread.start()
    }

    private static func write(_ parts: [CheckpointShardFile.Part], rank: Int, step: Int, partial: String)
        -> Result<CheckpointManifest.File?, CheckpointError> {
        guard !parts.isEmpty else { return .success(nil) }
        do { return .success(try CheckpointShardFile.write(parts, rank: rank, step: step, directory: partial)) } catch let error as CheckpointError {
            return .failure(error)
        } catch {
            return .failure(.writeFailed(path: partial, reason: "\(error)"))
        }
    }

    /// Waits until the file is written (once; later calls return the same result).
    @discardableResult
    func waitForFile() -> Result<CheckpointManifest.File?, CheckpointError> {
        if let known = result.withLock({ $0 }), snapshot == nil { return known }
        done.wait()
        done.signal()
        snapshot = nil
        return result.withLock { $0! }
    }
}
