import Foundation
import Logging

/// Writes log records to stderr, one line each, prefixed with the rank that wrote them:
/// `[rank 1] 2026-12-01T14:43:37.123Z info trident.engine: loaded shard layers=0..<15`.
///
/// The rank comes from the record's `rank` metadata (set by the engine on each rank's logger,
/// so threads of the local backend are told apart), else from the process's own rank. A
/// worker started by trident's launcher, which prefixes its ranks' lines itself, leaves its
/// own rank out (no `[rank 1] [rank 1]`); records of a process with no rank have no prefix.
struct RankLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata: Logger.Metadata = [:]
    /// This process's world rank when it was launched as one.
    let processRank: Int?
    /// Whether the launcher prefixes this process's lines with `[rank processRank]` itself.
    let launcherPrefixes: Bool

    init(label: String, level: Logger.Level, processRank: Int?, launcherPrefixes: Bool) {
        self.label = label
        self.logLevel = level
        self.processRank = processRank
        self.launcherPrefixes = launcherPrefixes
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var all = metadata
        if let explicit = event.metadata { all.merge(explicit) { $1 } }
        let line = Self.format(level: event.level, label: label, message: "\(event.message)", metadata: all,
                               processRank: processRank, omitProcessRank: launcherPrefixes, date: Date())
        // One write per record, so records of concurrent ranks never interleave within a line.
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }

    /// The record as one line ending in a newline (newlines inside the message become spaces).
    /// - Parameter omitProcessRank: leave the prefix out when it would name `processRank`.
    static func format(level: Logger.Level, label: String, message: String, metadata: Logger.Metadata,
                       processRank: Int?, omitProcessRank: Bool = false, date: Date) -> String {
        var fields = metadata
        let rank = fields.removeValue(forKey: "rank").map { "\($0)" } ?? processRank.map(String.init)
        let omit = omitProcessRank && rank != nil && rank == processRank.map(String.init)
        let prefix = omit ? "" : rank.map { "[rank \($0)] " } ?? ""
        let pairs = fields.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
        let text = message.split(whereSeparator: \.isNewline).joined(separator: " ")
        return "\(prefix)\(timestamp(date)) \(level) \(label): \(text)\(pairs)\n"
    }

    /// ISO 8601 in UTC with milliseconds.
    static func timestamp(_ date: Date) -> String {
        let seconds = date.timeIntervalSince1970
        var time = time_t(seconds.rounded(.down))
        var parts = tm()
        gmtime_r(&time, &parts)
        let millis = Int((seconds - seconds.rounded(.down)) * 1000)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
                      Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), millis)
    }
}
