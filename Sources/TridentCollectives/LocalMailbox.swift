import Foundation

/// Eager point-to-point messages between the threads of a local group: `post` copies the
/// bytes and returns at once; `take` waits (with a deadline) for the oldest message with a tag.
final class LocalMailbox: @unchecked Sendable {
    private struct Key: Hashable { let source: Int, destination: Int, tag: Int }
    private var queues: [Key: [[UInt8]]] = [:]   // guarded by `lock`
    private let lock = NSCondition()
    private let size: Int

    init(size: Int) { self.size = size }

    /// Queues a copy of `bytes` from `source` for `destination`.
    func post(_ bytes: UnsafeRawBufferPointer, from source: Int, to destination: Int, tag: Int) {
        let message = [UInt8](bytes)
        lock.lock()
        queues[Key(source: source, destination: destination, tag: tag), default: []].append(message)
        lock.broadcast()
        lock.unlock()
    }

    /// Removes and returns the oldest message from `source` to `destination` with `tag`,
    /// waiting until `deadline`; returns nil on timeout or when `abandon()` says to stop.
    func take(from source: Int, to destination: Int, tag: Int, deadline: ContinuousClock.Instant,
              abandon: () -> Bool) -> [UInt8]? {
        let key = Key(source: source, destination: destination, tag: tag)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if var queue = queues[key], !queue.isEmpty {
                let message = queue.removeFirst()
                queues[key] = queue.isEmpty ? nil : queue
                return message
            }
            if abandon() { return nil }
            let now = ContinuousClock.now
            if now >= deadline { return nil }
            let remaining = min(deadline - now, .milliseconds(100))
            _ = lock.wait(until: Date(timeIntervalSinceNow: remaining.seconds))
        }
    }

    /// Wakes every waiting `take` so it can re-check `abandon`.
    func wakeAll() {
        lock.lock(); lock.broadcast(); lock.unlock()
    }
}
