import TridentCollectives

extension Array where Element == CollectiveHandle {
    /// Waits for every handle (even after one fails), as the gradient buckets do at the end of
    /// a backward. - Returns: the time spent waiting. - Throws: the first handle's error.
    func waitAll() throws -> Duration {
        let clock = ContinuousClock()
        let began = clock.now
        var failure: (any Error)?
        for handle in self {
            do { try handle.wait() } catch { if failure == nil { failure = error } }
        }
        let waited = clock.now - began
        if let failure { throw failure }
        return waited
    }
}
