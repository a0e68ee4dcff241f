import Foundation
import TridentCollectives

/// Runs `body` on `size` threads, each a rank of a TCP world over loopback, and returns
/// the per-rank results (or rethrows the first error after all ranks finished).
public func withTCPWorld<T: Sendable>(_ size: Int, secret: String = "test-secret",
                                      options: CommunicatorOptions = CommunicatorOptions(),
                                      close: Bool = true, sharedMemory: Bool = true,
                                      _ body: @escaping @Sendable (TCPCommunicator) throws -> T) throws -> [T] {
    let store = try RendezvousStore(host: "127.0.0.1", port: 0, secret: secret)
    defer { store.stop() }
    let results = ResultBox<T>(count: size)
    let group = DispatchGroup()
    for rank in 0..<size {
        group.enter()
        Thread.detachNewThread {
            defer { group.leave() }
            do {
                let rendezvous = TCPRendezvous(rank: rank, worldSize: size, masterAddress: "127.0.0.1",
                                               masterPort: store.port, secret: secret, rankZeroServesStore: false,
                                               hostIdentity: sharedMemory ? nil : "test-host-\(rank)")
                let communicator = try TCPCommunicator.connect(rendezvous, options: options)
                let value = Result { try body(communicator) }
                if close { communicator.close() }
                results.set(rank, value)
            } catch {
                results.set(rank, .failure(error))
            }
        }
    }
    group.wait()
    return try results.values.map { try $0!.get() }
}

/// Per-rank results written from several threads.
public final class ResultBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var storage: [Result<T, any Error>?]
    public init(count: Int) { storage = Array(repeating: nil, count: count) }
    public func set(_ index: Int, _ value: Result<T, any Error>) { lock.withLock { storage[index] = value } }
    public var values: [Result<T, any Error>?] { lock.withLock { storage } }
}
