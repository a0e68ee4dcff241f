import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// IPv4 helpers of the launcher (the TCP backend speaks IPv4 only).
public enum HostAddress {
    /// Whether `text` is a dotted IPv4 address.
    public static func isIPv4(_ text: String) -> Bool {
        var address = in_addr()
        return inet_pton(AF_INET, text, &address) == 1
    }

    /// `host` itself when it is an IPv4 address, else its first IPv4 address from the resolver.
    /// Throws `LaunchError.invalidConfiguration` naming `what` when it has none.
    public static func ipv4(_ host: String, what: String) throws(LaunchError) -> String {
        if isIPv4(host) { return host }
        guard let first = ipv4Addresses(host).first else {
            throw .invalidConfiguration("\(what) '\(host)' does not resolve to an IPv4 address")
        }
        return first
    }

    /// The IPv4 addresses `host` resolves to, in the resolver's order, without repeats.
    public static func ipv4Addresses(_ host: String) -> [String] {
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0 else { return [] }
        defer { freeaddrinfo(result) }
        var found: [String] = []
        var next = result
        while let info = next {
            if let address = info.pointee.ai_addr, info.pointee.ai_family == AF_INET {
                let text = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { dotted($0.pointee.sin_addr) }
                if !found.contains(text) { found.append(text) }
            }
            next = info.pointee.ai_next
        }
        return found
    }

    /// IPv4 addresses of this machine's interfaces that are up (`getifaddrs`).
    public static func interfaceAddresses() -> Set<String> {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var found: Set<String> = []
        var next = list
        while let entry = next {
            if let address = entry.pointee.ifa_addr, Int32(address.pointee.sa_family) == AF_INET {
                found.insert(address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { dotted($0.pointee.sin_addr) })
            }
            next = entry.pointee.ifa_next
        }
        return found
    }

    private static func dotted(_ address: in_addr) -> String {
        var a = address
        var bytes = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
        _ = inet_ntop(AF_INET, &a, &bytes, socklen_t(INET_ADDRSTRLEN))
        return String(decoding: bytes.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
