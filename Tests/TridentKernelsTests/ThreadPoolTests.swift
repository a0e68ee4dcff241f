#if canImport(Glibc)
import Glibc
#endif
import Testing
import Synchronization
@testable import TridentKernels

@Suite struct ThreadPoolTests {
    @Test(arguments: [1, 2, 4])
    func everyIndexRunsExactlyOnceAcrossManyForks(threads: Int) {
        let pool = ThreadPool(threadCount: threads)
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: 100)
        defer { slots.deallocate() }
        slots.initialize(repeating: 0, count: 100)
        for fork in 0..<3000 {
            let count = fork % 100 + 1
            pool.parallelFor(count) { i in slots[i] += 1 }
        }
        // Index i is in range for forks whose count > i.
        for i in 0..<100 {
            let expected = (0..<3000).filter { $0 % 100 + 1 > i }.count
            #expect(slots[i] == expected, "index \(i)")
        }
    }

    @Test func workersActuallyTakePart() {
        let pool = ThreadPool(threadCount: 2)
        let threadsSeen = Mutex<Set<pthread_t>>([])
        for _ in 0..<200 {
            pool.parallelFor(64) { _ in
                let me = pthread_self()
                threadsSeen.withLock { _ = $0.insert(me) }
                var x = 0.0
                for k in 0..<2000 { x += Double(k) }
                precondition(x > 0)
            }
        }
        #expect(threadsSeen.withLock { $0.count } == 2)
    }

    /// Workers go to sleep after spinning; each fork must wake them (a lost wake-up hangs).
    @Test(.timeLimit(.minutes(1)))
    func forksAfterWorkersFellAsleep() {
        let pool = ThreadPool(threadCount: 3)
        let total = Counter()
        for _ in 0..<20 {
            usleep(3_000)
            pool.parallelFor(6) { _ in total.value.add(1, ordering: .relaxed) }
        }
        #expect(total.value.load(ordering: .relaxed) == 120)
    }

    @Test func nestedAndConcurrentCallsRunInline() async {
        let pool = ThreadPool(threadCount: 2)
        let total = Counter()
        pool.parallelFor(4) { _ in
            pool.parallelFor(5) { _ in total.value.add(1, ordering: .relaxed) }
        }
        #expect(total.value.load(ordering: .relaxed) == 20)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    for _ in 0..<200 { pool.parallelFor(7) { _ in total.value.add(1, ordering: .relaxed) } }
                }
            }
        }
        #expect(total.value.load(ordering: .relaxed) == 20 + 4 * 200 * 7)
    }

    @Test func chunksCoverTheRangeOnceOnGranularityBoundaries() {
        let pool = ThreadPool(threadCount: 3)
        for count in [1, 7, 8, 97, 1000] {
            let hits = UnsafeMutablePointer<Int>.allocate(capacity: count)
            hits.initialize(repeating: 0, count: count)
            pool.parallelChunks(count, granularity: 8) { range in
                precondition(range.lowerBound % 8 == 0)
                for i in range { hits[i] += 1 }
            }
            #expect((0..<count).allSatisfy { hits[$0] == 1 }, "count \(count)")
            hits.deallocate()
        }
    }
}

/// A shareable atomic counter for the concurrency tests.
final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
