import Foundation

/// How an elastic job (`trident launch --nnodes MIN:MAX --max-restarts N`) forms, watches its
/// nodes and restarts.
public struct ElasticPolicy: Sendable, Equatable {
    public var nodes: NodeCountRange
    /// Re-formations allowed after a failure (torchrun's `--max-restarts`); 0: the first failure ends the job.
    public var maxRestarts: Int
    /// Once MIN nodes have registered, how long the master waits for more (up to MAX) before
    /// starting (torchrun's last call). `TRIDENT_ELASTIC_LAST_CALL` (seconds) overrides it.
    public var lastCall: Duration = .seconds(3)
    /// A node launcher whose heartbeat stops for this long is taken as dead.
    /// `TRIDENT_ELASTIC_HEARTBEAT_TIMEOUT` (seconds) overrides it.
    public var heartbeatTimeout: Duration = .seconds(5)
    /// How often every node launcher beats and polls the agent store.
    public var tick: Duration = .milliseconds(200)
    /// After the first failure report of a round, how long the master waits for the other
    /// nodes' reports before it decides whom to blame.
    public var settle: Duration = .seconds(2)
    /// How long a node's workers get between SIGTERM and SIGKILL when a round ends (the
    /// launch configuration's `terminationGrace`).
    public var stopGrace: Duration = .seconds(5)
    /// Deadline for MIN nodes to register (and for a node launcher to reach the agent store).
    public var formingTimeout: Duration = .seconds(300)

    public init(nodes: NodeCountRange, maxRestarts: Int = 0) {
        self.nodes = nodes
        self.maxRestarts = maxRestarts
    }

    /// Environment variable names of the overrides.
    public enum Key {
        public static let lastCall = "TRIDENT_ELASTIC_LAST_CALL"
        public static let heartbeatTimeout = "TRIDENT_ELASTIC_HEARTBEAT_TIMEOUT"
    }

    /// This policy with the overrides found in `environment`; throws `.badEnvironment` naming a
    /// variable that is not a number of seconds in (0, 3600].
    public func overridden(by environment: [String: String] = ProcessInfo.processInfo.environment) throws(LaunchError) -> ElasticPolicy {
        var result = self
        if let value = try Self.seconds(environment, Key.lastCall, allowZero: true) { result.lastCall = value }
        if let value = try Self.seconds(environment, Key.heartbeatTimeout, allowZero: false) { result.heartbeatTimeout = value }
        return result
    }

    private static func seconds(_ environment: [String: String], _ key: String, allowZero: Bool) throws(LaunchError) -> Duration? {
        guard let text = environment[key] else { return nil }
        guard let seconds = Double(text), seconds.isFinite, seconds <= 3600, allowZero ? seconds >= 0 : seconds > 0 else {
            throw .badEnvironment("\(key)='\(text)' is not a number of seconds in \(allowZero ? "[0" : "(0"), 3600]")
        }
        return .milliseconds(Int64(seconds * 1000))
    }

    /// Checks the numbers; throws `.invalidConfiguration` naming the flag.
    func validate() throws(LaunchError) {
        guard (0...1_000_000).contains(maxRestarts) else {
            throw .invalidConfiguration("--max-restarts must be in 0...1000000, got \(maxRestarts)")
        }
    }
}

/// Why an elastic job ended without success, as its node launchers report it.
public enum ElasticError: Error, CustomStringConvertible, Equatable, Sendable {
    /// Fewer than MIN nodes registered within the forming deadline.
    case formingTimedOut(registered: Int, minimum: Int, seconds: Int)
    /// The job failed (restarts exhausted, too few nodes left, ...); the master's reason.
    case jobFailed(String)
    /// This node left the job: its own workers failed (or it stopped heartbeating) and the job
    /// went on without it.
    case excluded(String)
    /// The agent store on the master could not be reached or stopped answering.
    case agentStoreLost(String)
    /// This launcher was sent a termination signal.
    case interrupted(signal: Int32)
    /// Starting the workers or the agent went wrong before any round ran.
    case launch(LaunchError)

    public var description: String {
        switch self {
        case .formingTimedOut(let registered, let minimum, let seconds):
            "elastic job: only \(registered) node(s) registered within \(seconds) s, --nnodes needs at least \(minimum)"
        case .jobFailed(let reason): "elastic job failed: \(reason)"
        case .excluded(let reason): "this node left the elastic job: \(reason)"
        case .agentStoreLost(let detail): "lost the elastic agent store: \(detail)"
        case .interrupted(let signal): "the launcher was interrupted by signal \(signal); its workers were stopped"
        case .launch(let error): error.description
        }
    }
}
