import ArgumentParser
import Foundation
import Logging
import TridentLauncher

extension Logger.Level: @retroactive ExpressibleByArgument {}

/// `--log-level` of the commands that run ranks (see `RunsRanks`).
struct LoggingOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Log records on stderr from this level up (default: $TRIDENT_LOG_LEVEL, else notice); "
            + "each record names its rank. info: each rank's shard; debug: load and shutdown; trace: every step.",
        valueName: "level"))
    var logLevel: Logger.Level?
}

/// A command that runs ranks and so takes `--log-level` (generate, perplexity, bench, plan).
protocol RunsRanks {
    var logging: LoggingOptions { get }
}

/// Sets up swift-log once per process, before a command runs.
enum LogSetup {
    static let environmentKey = "TRIDENT_LOG_LEVEL"

    /// The level: `option`, else `$TRIDENT_LOG_LEVEL`, else `.notice` (the engine's records are
    /// info and below, so a default run prints none). A level given as an
    /// option is exported in `TRIDENT_LOG_LEVEL` so that launched ranks inherit it.
    /// - Throws: `ExitMessage` for an unknown level in the environment.
    static func level(option: Logger.Level?) throws -> Logger.Level {
        if let option {
            setenv(environmentKey, option.rawValue, 1)
            return option
        }
        guard let text = ProcessInfo.processInfo.environment[environmentKey], !text.isEmpty else { return .notice }
        guard let level = Logger.Level(rawValue: text.lowercased()) else {
            let known = Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")
            throw ExitMessage("\(environmentKey)='\(text)' is not a log level (one of \(known))")
        }
        return level
    }

    /// Installs `RankLogHandler` at `level` for every logger of the process.
    static func bootstrap(level: Logger.Level) {
        // Trident's launcher prefixes its workers' lines with their rank; mpirun does not.
        let worker = (try? WorkerEnvironment.current()) ?? nil
        let rank = worker?.rank ?? ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"].flatMap(Int.init)
        LoggingSystem.bootstrap {
            RankLogHandler(label: $0, level: level, processRank: rank, launcherPrefixes: worker?.startedBy == .launcher)
        }
    }
}
