import Foundation

/// Copies a child's pipe to one of our output streams line by line, each line prefixed
/// (e.g. `[rank 2] `). Lines from different ranks never interleave mid-line.
final class OutputForwarder: @unchecked Sendable {
    private static let writeLock = NSLock()
    private let done = DispatchGroup()

    /// Starts forwarding `pipe` to `destination` (stdout or stderr file handle). `observe` sees
    /// every complete line (without prefix); nothing is written once `gate` is closed.
    init(pipe: Pipe, prefix: String, destination: FileHandle, gate: OutputGate,
         observe: (@Sendable (Data) -> Void)? = nil) {
        let reader = pipe.fileHandleForReading
        done.enter()
        Thread.detachNewThread { [done] in
            defer { done.leave() }
            var pending = Data()
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                pending.append(chunk)
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending[pending.startIndex...newline]
                    observe?(Data(line.dropLast()))
                    Self.write(Data(prefix.utf8) + line, to: destination, gate: gate)
                    pending.removeSubrange(pending.startIndex...newline)
                }
            }
            if !pending.isEmpty {
                observe?(pending)
                Self.write(Data(prefix.utf8) + pending + Data("\n".utf8), to: destination, gate: gate)
            }
        }
    }

    /// Waits until the child closed its end (all output forwarded), or `timeout` passed
    /// (a grandchild may keep the pipe open after the worker died).
    func wait(timeout: Duration? = nil) {
        guard let timeout else { done.wait(); return }
        let seconds = Double(timeout.components.seconds) + Double(timeout.components.attoseconds) * 1e-18
        _ = done.wait(timeout: .now() + seconds)
    }

    private static func write(_ data: Data, to destination: FileHandle, gate: OutputGate) {
        writeLock.lock()
        defer { writeLock.unlock() }
        guard gate.isOpen else { return }
        destination.write(data)
    }
}

/// Lets forwarded output through until closed (a job whose output reader went away ends
/// quietly, as `yes | head` does).
final class OutputGate: @unchecked Sendable {
    private let lock = NSLock()
    private var open = true
    var isOpen: Bool { lock.withLock { open } }
    func close() { lock.withLock { open = false } }
}
