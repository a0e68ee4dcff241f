import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// The names and addresses of this machine, to find its line in a hostfile.
///
/// A hostfile host is this node when it is one of its host names (as `gethostname` gives it,
/// full or short: `node1` and `node1.cluster` match either), or an IPv4 address of one of its
/// interfaces (`getifaddrs`, loopback included), or, failing both for every host, a name that
/// resolves to such an address (`localhost`).
public struct NodeIdentity: Sendable, Equatable {
    /// Host names, lower-cased: the full name and its first label.
    public var names: Set<String>
    /// IPv4 addresses of the interfaces, dotted.
    public var addresses: Set<String>
    /// Resolves a host name to its IPv4 addresses (injected by tests); the default asks the resolver.
    public var resolve: @Sendable (String) -> [String] = HostAddress.ipv4Addresses

    public init(names: Set<String>, addresses: Set<String>) {
        self.names = Set(names.flatMap { [$0.lowercased(), Self.shortName($0.lowercased())] })
        self.addresses = addresses
    }

    public static func == (a: NodeIdentity, b: NodeIdentity) -> Bool { a.names == b.names && a.addresses == b.addresses }

    /// This machine's identity.
    public static func current() -> NodeIdentity {
        var buffer = [CChar](repeating: 0, count: 256)
        let name = gethostname(&buffer, buffer.count) == 0
            ? String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : ""
        return NodeIdentity(names: name.isEmpty ? [] : [name], addresses: HostAddress.interfaceAddresses())
    }

    /// This node's rank in `file`: the one host that is this node (see the type's comment).
    /// Throws when none is, or when several are (then `--node-rank` must say which).
    public func nodeRank(in file: Hostfile) throws(LaunchError) -> Int {
        var matches = file.hosts.indices.filter { isNamedOrAddressed(file.hosts[$0].name) }
        if matches.isEmpty {
            matches = file.hosts.indices.filter { index in
                !HostAddress.isIPv4(file.hosts[index].name) && !addresses.isDisjoint(with: resolve(file.hosts[index].name))
            }
        }
        guard matches.count == 1 else {
            let me = "this node (\(names.sorted().joined(separator: ", ")); \(addresses.sorted().joined(separator: ", ")))"
            if matches.isEmpty {
                throw .invalidConfiguration("hostfile \(file.path): \(me) is none of its \(file.hosts.count) hosts; give --node-rank")
            }
            let lines = matches.map { "\(file.hosts[$0].name) (line \(file.hosts[$0].line))" }.joined(separator: ", ")
            throw .invalidConfiguration("hostfile \(file.path): \(me) matches several hosts, \(lines); give --node-rank")
        }
        return matches[0]
    }

    /// Whether `host` is one of this node's names or interface addresses (no resolver).
    func isNamedOrAddressed(_ host: String) -> Bool {
        if HostAddress.isIPv4(host) { return addresses.contains(host) }
        let name = host.lowercased()
        return names.contains(name) || names.contains(Self.shortName(name))
    }

    static func shortName(_ name: String) -> String {
        String(name.prefix { $0 != "." })
    }
}
