import Synchronization

/// Remembers the first error a communicator hit; afterwards every operation fails at once.
///
/// Backends call `run(operation:rank:group:_:)` around each public operation: it throws
/// `.poisoned` (naming the first error) if an earlier operation failed, and records any
/// error the body throws. Errors that are not `CollectiveError` are wrapped as `.backend`.
public final class CollectivePoison: Sendable {
    private let first = Mutex<CollectiveError?>(nil)

    public init() {}

    /// The first error recorded, if any.
    public var firstError: CollectiveError? { first.withLock { $0 } }

    /// Records `error` unless an earlier error is already recorded.
    public func record(_ error: CollectiveError) {
        first.withLock { if $0 == nil { $0 = error } }
    }

    /// Throws `.poisoned` if an error was recorded before.
    public func check(operation: String, rank: Int, group: String) throws {
        if let earlier = firstError {
            throw CollectiveError(.poisoned, operation: operation, rank: rank, peer: earlier.peer,
                                  group: group, detail: "first error: \(earlier)")
        }
    }

    /// Runs `body` unless poisoned; records (and rethrows) any error it throws.
    public func run<T>(operation: String, rank: Int, group: String, _ body: () throws -> T) throws -> T {
        try check(operation: operation, rank: rank, group: group)
        do {
            return try body()
        } catch let error as CollectiveError {
            record(error)
            throw error
        } catch {
            let wrapped = CollectiveError(.backend, operation: operation, rank: rank, group: group,
                                          detail: String(describing: error))
            record(wrapped)
            throw wrapped
        }
    }
}
