import Foundation

/// The nodes of a job as `trident launch --hostfile F` reads them (the format of Open MPI and
/// DeepSpeed hostfiles):
///
/// ```
/// # comment
/// node0 slots=4      # the first host is the master (node rank 0)
/// node1 slots=2
/// 10.0.0.7           # no slots=: 1 slot
/// ```
///
/// One host per line, optionally followed by `slots=N` (worker processes on that node, default
/// 1; Open MPI's `max_slots=M` is accepted and ignored). Everything after `#` is a comment;
/// blank lines are skipped. Ranks are handed out in file order: node `k`'s first world rank is
/// the sum of the slots of the hosts above it (`firstRank(ofNode:)`).
public struct Hostfile: Sendable, Equatable {
    /// One host line.
    public struct Host: Sendable, Equatable {
        /// Host name or IPv4 address, as written.
        public var name: String
        /// Worker processes on this node, >= 1.
        public var slots: Int
        /// 1-based line number in the file (for messages).
        public var line: Int

        public init(name: String, slots: Int, line: Int) {
            self.name = name
            self.slots = slots
            self.line = line
        }
    }

    /// The file's path (for messages).
    public var path: String
    /// The hosts in file order; never empty. `hosts[0]` is the master.
    public var hosts: [Host]

    /// Most slots one host may have.
    public static let maximumSlots = 4096

    /// Reads and checks `path`. Throws `LaunchError.invalidConfiguration` naming the file
    /// (and the line) when it cannot be read, has no host, repeats a host or has a bad field.
    public init(contentsOf path: String) throws(LaunchError) {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let data = FileManager.default.contents(atPath: path) else {
            throw .invalidConfiguration("cannot read hostfile \(path): no such file, a directory, or not readable")
        }
        try self.init(text: String(decoding: data, as: UTF8.self), path: path)
    }

    /// Parses the text of a hostfile; `path` only names it in messages.
    public init(text: String, path: String) throws(LaunchError) {
        self.path = path
        var hosts: [Host] = []
        for (index, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let content = raw.prefix { $0 != "#" }.trimmingCharacters(in: .whitespacesAndNewlines)
            if content.isEmpty { continue }
            let host = try Self.host(content, line: index + 1, path: path)
            if let first = hosts.first(where: { $0.name.lowercased() == host.name.lowercased() }) {
                throw .invalidConfiguration("hostfile \(path) line \(host.line): duplicate host '\(host.name)' (first on line \(first.line))")
            }
            hosts.append(host)
        }
        guard !hosts.isEmpty else {
            throw .invalidConfiguration("hostfile \(path) line 1: no hosts (every line is blank or a comment); expected lines 'host slots=N'")
        }
        self.hosts = hosts
    }

    /// Worker processes of every node, by node rank.
    public var slots: [Int] { hosts.map(\.slots) }

    /// World rank of node `node`'s first worker: the slots of the hosts above it.
    public func firstRank(ofNode node: Int) -> Int { hosts.prefix(node).reduce(0) { $0 + $1.slots } }

    /// Parses one non-blank line without its comment: `host [slots=N] [max_slots=M]`.
    private static func host(_ content: String, line: Int, path: String) throws(LaunchError) -> Host {
        let place = "hostfile \(path) line \(line)"
        let fields = content.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let name = fields[0]
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-._".contains($0)) }) else {
            throw .invalidConfiguration("\(place): '\(name)' is not a host name or address")
        }
        var slots: Int?
        for field in fields.dropFirst() {
            let parts = field.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            guard parts.count == 2, ["slots", "max_slots"].contains(parts[0]) else {
                throw .invalidConfiguration("\(place): expected 'slots=N' after the host, found '\(field)'")
            }
            guard let value = Int(parts[1]), (1...maximumSlots).contains(value) else {
                throw .invalidConfiguration("\(place): \(parts[0]) must be an integer in 1...\(maximumSlots), found '\(parts[1])'")
            }
            if parts[0] == "slots" {
                guard slots == nil else { throw .invalidConfiguration("\(place): slots= is given twice") }
                slots = value
            }
        }
        return Host(name: name, slots: slots ?? 1, line: line)
    }
}
