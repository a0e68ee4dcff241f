import Logging
import TridentCollectives

extension RankRuntime {
    /// A logger for world rank `rank`: its records carry `rank` metadata, so a handler can
    /// prefix them (`[rank 1] ...`) even when several ranks are threads of one process.
    public static func logger(rank: Int) -> Logger {
        var logger = Logger(label: "trident.engine")
        logger[metadataKey: "rank"] = "\(rank)"
        return logger
    }

    /// This rank's logger.
    public var logger: Logger { Self.logger(rank: world.rank) }
}
