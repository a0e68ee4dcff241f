#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a socket call failed, before it is turned into a `CollectiveError` with rank and group.
struct TCPSocketError: Error, CustomStringConvertible {
    enum Kind { case closed, timeout, system }
    var kind: Kind
    var detail: String
    var description: String { detail }

    static func system(_ call: String, _ code: Int32 = errno) -> TCPSocketError {
        TCPSocketError(kind: code == ECONNRESET || code == EPIPE ? .closed : .system,
                       detail: "\(call): \(String(cString: strerror(code)))")
    }
}

/// A monotonic deadline for poll() loops.
struct TCPDeadline {
    let instant: ContinuousClock.Instant
    init(after duration: Duration) { instant = .now + duration }
    /// Milliseconds left, at least 0, capped so poll() wakes up now and then.
    var pollMilliseconds: Int32 {
        let left = instant - .now
        if left <= .zero { return 0 }
        let ms = left.components.seconds * 1000 + left.components.attoseconds / 1_000_000_000_000_000
        return Int32(clamping: Swift.min(ms + 1, 1000))
    }
    var expired: Bool { ContinuousClock.now >= instant }
}

/// A TCP socket file descriptor with the few blocking-with-deadline operations the backend
/// needs. Non-blocking underneath; every wait goes through poll() with a deadline.
final class TCPSocket: @unchecked Sendable {
    let fd: Int32

    init(fd: Int32) { self.fd = fd }

    deinit { close(fd) }

    /// Creates a listening socket bound to `host:port` (`port` 0 picks a free one).
    static func listen(host: String, port: Int) throws -> TCPSocket {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TCPSocketError.system("socket") }
        let sock = TCPSocket(fd: fd)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var addr = try makeAddress(host: host, port: port)
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else { throw TCPSocketError.system("bind \(host):\(port)") }
        guard Glibc.listen(fd, 128) == 0 else { throw TCPSocketError.system("listen") }
        sock.setNonBlocking()
        return sock
    }

    /// Connects to `host:port`, retrying refused connections until `deadline`
    /// (the listener may not be up yet).
    static func connect(host: String, port: Int, deadline: TCPDeadline) throws -> TCPSocket {
        let addr = try makeAddress(host: host, port: port)
        while true {
            let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard fd >= 0 else { throw TCPSocketError.system("socket") }
            let sock = TCPSocket(fd: fd)
            var a = addr
            let rc = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if rc == 0 {
                sock.configureForData()
                return sock
            }
            let code = errno
            if (code == ECONNREFUSED || code == ETIMEDOUT || code == EHOSTUNREACH) && !deadline.expired {
                usleep(20_000)
                continue
            }
            throw TCPSocketError(kind: deadline.expired ? .timeout : .system,
                                 detail: "connect to \(host):\(port): \(String(cString: strerror(code)))")
        }
    }

    /// Waits for one incoming connection until `deadline`.
    func accept(deadline: TCPDeadline) throws -> (TCPSocket, String) {
        while true {
            var addr = sockaddr_in()
            var len = socklen_t(MemoryLayout<sockaddr_in>.size)
            let client = withUnsafeMutablePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.accept(fd, $0, &len) }
            }
            if client >= 0 {
                let sock = TCPSocket(fd: client)
                sock.configureForData()
                return (sock, Self.describe(addr))
            }
            guard errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR else {
                throw TCPSocketError.system("accept")
            }
            if deadline.expired { throw TCPSocketError(kind: .timeout, detail: "no incoming connection") }
            try waitFor(Int16(POLLIN), deadline: deadline)
        }
    }

    /// The local port this socket is bound to.
    var localPort: Int { Int(UInt16(bigEndian: localAddress().sin_port)) }

    /// The local IPv4 address as dotted text (for a connected socket: the interface used).
    var localHost: String {
        Self.text(localAddress().sin_addr)
    }

    /// Sends all of `bytes`, waiting with poll() until `deadline`.
    func sendAll(_ bytes: UnsafeRawBufferPointer, deadline: TCPDeadline) throws {
        var offset = 0
        while offset < bytes.count {
            let n = Glibc.send(fd, bytes.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            if n > 0 { offset += n; continue }
            if n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
                try waitFor(Int16(POLLOUT), deadline: deadline)
                continue
            }
            throw TCPSocketError.system("send")
        }
    }

    /// Receives exactly `bytes.count` bytes, waiting until `deadline`; `tick` runs on every
    /// poll() wake-up without data (liveness checks) and may throw.
    func receiveAll(_ bytes: UnsafeMutableRawBufferPointer, deadline: TCPDeadline,
                    tick: () throws -> Void = {}) throws {
        var offset = 0
        while offset < bytes.count {
            let n = recv(fd, bytes.baseAddress! + offset, bytes.count - offset, 0)
            if n > 0 { offset += n; continue }
            if n == 0 { throw TCPSocketError(kind: .closed, detail: "connection closed by peer") }
            if errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR {
                try tick()
                try waitFor(Int16(POLLIN), deadline: deadline)
                continue
            }
            throw TCPSocketError.system("recv")
        }
    }

    /// Wakes a thread blocked in poll() on this socket and makes later I/O fail.
    func shutdownBoth() { _ = shutdown(fd, Int32(SHUT_RDWR)) }

    private func waitFor(_ events: Int16, deadline: TCPDeadline) throws {
        var pfd = pollfd(fd: fd, events: events, revents: 0)
        let timeout = deadline.pollMilliseconds
        if timeout == 0 { throw TCPSocketError(kind: .timeout, detail: "deadline passed") }
        let rc = poll(&pfd, 1, timeout)
        if rc < 0 && errno != EINTR { throw TCPSocketError.system("poll") }
    }

    private func setNonBlocking() {
        let flags = fcntl(fd, F_GETFL)
        _ = fcntl(fd, F_SETFL, flags | O_NONBLOCK)
    }

    private func configureForData() {
        setNonBlocking()
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var size: Int32 = 4 << 20
        setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
    }

    private func localAddress() -> sockaddr_in {
        var addr = sockaddr_in()
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &len) }
        }
        return addr
    }

    private static func describe(_ addr: sockaddr_in) -> String {
        "\(text(addr.sin_addr)):\(UInt16(bigEndian: addr.sin_port))"
    }

    private static func text(_ address: in_addr) -> String {
        var a = address
        var bytes = [UInt8](repeating: 0, count: Int(INET_ADDRSTRLEN))
        bytes.withUnsafeMutableBufferPointer {
            $0.withMemoryRebound(to: CChar.self) { _ = inet_ntop(AF_INET, &a, $0.baseAddress, socklen_t(INET_ADDRSTRLEN)) }
        }
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func makeAddress(host: String, port: Int) throws -> sockaddr_in {
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(truncatingIfNeeded: port)).bigEndian
        if inet_pton(AF_INET, host, &addr.sin_addr) == 1 { return addr }
        // A host name: resolve it to its first IPv4 address.
        var hints = addrinfo()
        hints.ai_family = AF_INET
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let info = result else {
            throw TCPSocketError(kind: .system, detail: "cannot resolve host '\(host)'")
        }
        defer { freeaddrinfo(result) }
        info.pointee.ai_addr.withMemoryRebound(to: sockaddr_in.self, capacity: 1) {
            addr.sin_addr = $0.pointee.sin_addr
        }
        return addr
    }
}
