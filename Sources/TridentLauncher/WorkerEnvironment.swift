import Foundation

/// What a launched worker process learns from its environment (set by `LocalLauncher`,
/// torchrun-compatible names, or by Slurm's `srun`: `SlurmEnvironment`). This module is the
/// only place that reads these variables.
public struct WorkerEnvironment: Sendable, Equatable {
    /// World rank of this process, `0..<worldSize`.
    public var rank: Int
    public var worldSize: Int
    /// Rank among the processes of this node.
    public var localRank: Int
    /// Host serving the rendezvous store (world rank 0's node).
    public var masterAddress: String
    public var masterPort: Int
    /// Per-job secret every connection must present.
    public var secret: String
    /// `TRIDENT_HOST_ID`: overrides the host identity that decides which ranks share memory
    /// (distinct values force TCP between ranks of one machine); nil: host name + boot id.
    public var hostIdentity: String?
    /// `TRIDENT_RDZV_TIMEOUT` (seconds): deadline for forming the job; nil: the backend's default.
    public var rendezvousTimeout: Duration?
    /// `TRIDENT_ERROR_FILE`: where this rank reports its first communication failure
    /// (`FailureReport`) for the launcher; nil: nowhere.
    public var errorFile: String?
    /// Who set the variables (not itself a variable).
    public var startedBy: Starter = .launcher

    /// Who started a worker.
    public enum Starter: Sendable, Equatable {
        /// `trident launch` or torchrun (RANK set); it prefixes the worker's output lines with its rank.
        case launcher
        /// A task of a multi-task `srun` step (SLURM_PROCID set, RANK not); output is not prefixed.
        case slurm
    }

    public init(rank: Int, worldSize: Int, localRank: Int, masterAddress: String, masterPort: Int, secret: String,
                hostIdentity: String? = nil) {
        self.rank = rank
        self.worldSize = worldSize
        self.localRank = localRank
        self.masterAddress = masterAddress
        self.masterPort = masterPort
        self.secret = secret
        self.hostIdentity = hostIdentity
    }

    /// Environment variable names.
    public enum Key {
        public static let rank = "RANK", worldSize = "WORLD_SIZE", localRank = "LOCAL_RANK"
        public static let masterAddress = "MASTER_ADDR", masterPort = "MASTER_PORT", secret = "TRIDENT_SECRET"
        public static let hostIdentity = "TRIDENT_HOST_ID"
        public static let rendezvousTimeout = "TRIDENT_RDZV_TIMEOUT", errorFile = "TRIDENT_ERROR_FILE"
    }

    /// The worker environment of this process; nil when neither `RANK` is set nor this is a task
    /// of a multi-task `srun` step (not a launched worker). Throws `LaunchError.badEnvironment`
    /// when a variable is missing or malformed.
    public static func current() throws(LaunchError) -> WorkerEnvironment? {
        try from(ProcessInfo.processInfo.environment)
    }

    /// Parses `variables` like `current()` does.
    public static func from(_ variables: [String: String]) throws(LaunchError) -> WorkerEnvironment? {
        guard variables[Key.rank] != nil else {
            guard var slurm = try SlurmEnvironment.worker(from: variables) else { return nil }
            slurm.rendezvousTimeout = try rendezvousTimeout(variables[Key.rendezvousTimeout])
            slurm.errorFile = variables[Key.errorFile].flatMap { $0.isEmpty ? nil : $0 }
            return slurm
        }
        func integer(_ key: String, default value: Int? = nil) throws(LaunchError) -> Int {
            guard let text = variables[key] else {
                if let value { return value }
                throw LaunchError.badEnvironment("\(key) is not set (RANK is, so all launcher variables must be)")
            }
            guard let number = Int(text) else { throw LaunchError.badEnvironment("\(key)='\(text)' is not an integer") }
            return number
        }
        let rank = try integer(Key.rank), worldSize = try integer(Key.worldSize)
        guard worldSize >= 1, (0..<worldSize).contains(rank) else {
            throw LaunchError.badEnvironment("RANK=\(rank) is outside WORLD_SIZE=\(worldSize)")
        }
        let port = try integer(Key.masterPort)
        guard (1...65_535).contains(port) else { throw LaunchError.badEnvironment("MASTER_PORT=\(port) is not a TCP port") }
        var result = WorkerEnvironment(rank: rank, worldSize: worldSize, localRank: try integer(Key.localRank, default: rank),
                                       masterAddress: variables[Key.masterAddress] ?? "127.0.0.1", masterPort: port,
                                       secret: variables[Key.secret] ?? "", hostIdentity: variables[Key.hostIdentity])
        result.rendezvousTimeout = try rendezvousTimeout(variables[Key.rendezvousTimeout])
        result.errorFile = variables[Key.errorFile].flatMap { $0.isEmpty ? nil : $0 }
        return result
    }

    /// Parses `TRIDENT_RDZV_TIMEOUT`: positive seconds, at most a week.
    static func rendezvousTimeout(_ text: String?) throws(LaunchError) -> Duration? {
        guard let text else { return nil }
        guard let seconds = Double(text), seconds.isFinite, seconds > 0, seconds <= 604_800 else {
            throw LaunchError.badEnvironment("\(Key.rendezvousTimeout)='\(text)' is not a number of seconds in (0, 604800]")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    /// The variables a worker with these values sees.
    public var variables: [String: String] {
        var result = [Key.rank: String(rank), Key.worldSize: String(worldSize), Key.localRank: String(localRank),
         Key.masterAddress: masterAddress, Key.masterPort: String(masterPort), Key.secret: secret]
        if let hostIdentity { result[Key.hostIdentity] = hostIdentity }
        if let rendezvousTimeout {
            result[Key.rendezvousTimeout] = String(Double(rendezvousTimeout.components.seconds)
                                                   + Double(rendezvousTimeout.components.attoseconds) * 1e-18)
        }
        if let errorFile { result[Key.errorFile] = errorFile }
        return result
    }
}
