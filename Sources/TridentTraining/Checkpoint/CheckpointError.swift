/// Why a sharded checkpoint cannot be written, found or used; each case names the file or
/// directory at fault.
public enum CheckpointError: Error, Equatable, Sendable, CustomStringConvertible {
    /// `path` is no checkpoint: neither `manifest.json` nor a `latest` pointer (`found` says what is there).
    case notACheckpoint(path: String, found: String)
    /// `manifest.json` at `path` is not a readable Trident checkpoint manifest.
    case badManifest(path: String, reason: String)
    /// A data file is missing, truncated, unreadable or fails its checksum.
    case damagedFile(path: String, reason: String)
    /// The checkpoint does not continue this run (another model, data, batch or settings).
    case mismatch(path: String, reason: String)
    /// The checkpoint's slices do not cover a tensor this rank needs.
    case incomplete(path: String, tensor: String, reason: String)
    /// A file or directory could not be written.
    case writeFailed(path: String, reason: String)
    /// `--resume` found nothing it may use (`reason` names the checkpoint and the fault).
    case resumeRefused(reason: String)

    public var description: String {
        switch self {
        case .notACheckpoint(let path, let found):
            return "'\(path)' is not a Trident checkpoint (no manifest.json and no 'latest' pointer): \(found)"
        case .badManifest(let path, let reason): return "checkpoint manifest '\(path)' is unusable: \(reason)"
        case .damagedFile(let path, let reason): return "checkpoint file '\(path)' is damaged: \(reason)"
        case .mismatch(let path, let reason): return "checkpoint '\(path)' does not continue this run: \(reason)"
        case .incomplete(let path, let tensor, let reason): return "checkpoint '\(path)' lacks part of \(tensor): \(reason)"
        case .writeFailed(let path, let reason): return "cannot write checkpoint '\(path)': \(reason)"
        case .resumeRefused(let reason): return "--resume: \(reason)"
        }
    }
}
