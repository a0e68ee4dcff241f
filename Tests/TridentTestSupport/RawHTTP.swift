import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A minimal HTTP/1.1 client for the server tests over a POSIX socket, so tests can send exactly the bytes they
/// want (invalid UTF-8, lying headers) and read streamed (chunked) answers.
public struct HTTPReply: Sendable {
    public var status: Int
    public var headers: [String: String]  // lower-cased names
    public var body: [UInt8]

    public var text: String { String(decoding: body, as: UTF8.self) }
    /// The body as a JSON object (nil when it is not one).
    public var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any] }
    /// The `data:` payloads of a server-sent event stream.
    public var events: [String] {
        text.components(separatedBy: "\n\n").compactMap { block in
            block.hasPrefix("data: ") ? String(block.dropFirst(6)) : nil
        }
    }
}

public struct HTTPClientError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(description: String) { self.description = description }
}

/// A connected socket to 127.0.0.1:`port` with a receive timeout.
public final class RawConnection: @unchecked Sendable {
    public let fd: Int32

    public init(port: Int, timeout: Double = 60) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw HTTPClientError(description: "socket failed") }
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { close(fd); throw HTTPClientError(description: "connect to port \(port) failed") }
    }

    deinit { close(fd) }

    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw HTTPClientError(description: "send failed after \(sent) bytes") }
            sent += n
        }
    }

    /// Reads at most `count` bytes (empty at end of stream). - Throws: on timeout.
    public func read(_ count: Int = 65536) throws -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, count, 0) }
        guard n >= 0 else { throw HTTPClientError(description: "receive timed out or failed (errno \(errno))") }
        return Array(buffer.prefix(n))
    }

    /// Reads until the server closes the connection.
    public func readAll() throws -> [UInt8] {
        var all: [UInt8] = []
        while true {
            let chunk = try read()
            if chunk.isEmpty { return all }
            all += chunk
        }
    }
}

public enum RawHTTP {
    /// Sends `raw` as is and parses the answer (the request should say `Connection: close`).
    public static func exchange(port: Int, raw: [UInt8], timeout: Double = 120) throws -> HTTPReply {
        let connection = try RawConnection(port: port, timeout: timeout)
        try connection.send(raw)
        return try parse(connection.readAll())
    }

    public static func request(port: Int, method: String = "POST", path: String, body: [UInt8]? = nil,
                        headers: [String: String] = [:], timeout: Double = 120) throws -> HTTPReply {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let body { head += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        return try exchange(port: port, raw: Array((head + "\r\n").utf8) + (body ?? []), timeout: timeout)
    }

    /// POSTs `json` (a JSON-serializable dictionary).
    public static func post(port: Int, path: String, json: [String: Any], headers: [String: String] = [:]) throws -> HTTPReply {
        let body = try JSONSerialization.data(withJSONObject: json)
        return try request(port: port, path: path, body: Array(body), headers: headers)
    }

    public static func parse(_ bytes: [UInt8]) throws -> HTTPReply {
        guard let split = find([13, 10, 13, 10], in: bytes) else {
            throw HTTPClientError(description: "no complete response head in \(bytes.count) bytes")
        }
        let lines = String(decoding: bytes[..<split], as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else {
            throw HTTPClientError(description: "bad status line '\(lines[0])'")
        }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        var body = Array(bytes[(split + 4)...])
        if headers["transfer-encoding"]?.lowercased() == "chunked" { body = dechunk(body) }
        return HTTPReply(status: status, headers: headers, body: body)
    }

    private static func dechunk(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while let end = find([13, 10], in: bytes, from: i) {
            let sizeText = String(decoding: bytes[i..<end], as: UTF8.self).split(separator: ";").first ?? ""
            guard let size = Int(sizeText.trimmingCharacters(in: .whitespaces), radix: 16), size > 0 else { break }
            let start = end + 2
            guard start + size <= bytes.count else { out += bytes[start...]; break }
            out += bytes[start..<(start + size)]
            i = start + size + 2
        }
        return out
    }

    public static func find(_ pattern: [UInt8], in bytes: [UInt8], from start: Int = 0) -> Int? {
        guard bytes.count >= pattern.count, start <= bytes.count - pattern.count else { return nil }
        for i in start...(bytes.count - pattern.count) where bytes[i] == pattern[0] {
            if Array(bytes[i..<(i + pattern.count)]) == pattern { return i }
        }
        return nil
    }
}
