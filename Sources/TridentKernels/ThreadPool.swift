import Synchronization
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A persistent fork/join pool for data-parallel kernels.
///
/// `threadCount - 1` worker threads wait for work; the calling thread is the last worker,
/// so `ThreadPool(threadCount: 1)` runs everything inline. Idle workers spin briefly on an
/// atomic generation counter (sub-microsecond wake-up), then sleep on a condition variable
/// so an idle pool costs no CPU. Items are handed out dynamically (atomic counter), which
/// balances load when a core is shared with other processes, and the caller returns as
/// soon as every item is done: a worker that was descheduled and never joined in is not
/// waited for.
///
/// Protocol: an odd `generation` means a job is open, even means closed. A worker that
/// sees an open generation registers in `active`, re-checks the generation, and only then
/// reads `job`; the caller, after all items completed, closes the generation and waits
/// for `active` to drain before the job's closure goes out of scope.
///
/// `parallelFor` may be called from any thread; when the pool is already busy (a nested
/// call from inside a body, or a second thread) the call simply runs inline. The pool is
/// `@unchecked Sendable` because all shared state is either atomic or guarded by `mutex`,
/// and `job` is only read by registered workers between the open and close of its
/// generation (sequentially consistent atomics order those accesses).
///
/// Do not drop the last reference to a pool from inside one of its own bodies (its
/// `deinit` joins the workers).
public final class ThreadPool: @unchecked Sendable {
    /// Number of threads that execute work, including the caller.
    public let threadCount: Int

    private let generation = Atomic<UInt64>(0)
    private let nextItem = Atomic<Int>(0)
    private let completed = Atomic<Int>(0)
    private let active = Atomic<Int>(0)
    private let sleepers = Atomic<Int>(0)
    private let busy = Atomic<Bool>(false)
    private let shuttingDown = Atomic<Bool>(false)
    /// Heap-allocated so their addresses are stable for pthreads.
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private var threads: [pthread_t] = []
    /// The job being run; written by the caller while the generation is closed.
    private var job: Job? = nil

    private struct Job {
        let count: Int
        let body: (Int) -> Void
    }

    /// Spins on the generation counter before going to sleep.
    private static let spinIterations = 20_000

    /// Starts `threadCount - 1` workers (`threadCount >= 1`).
    public init(threadCount: Int) {
        precondition(threadCount >= 1, "threadCount must be at least 1, got \(threadCount)")
        self.threadCount = threadCount
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(condition, nil)
        for _ in 1..<threadCount {
            let context = Unmanaged.passUnretained(self).toOpaque()
            var thread = pthread_t()
            let rc = pthread_create(&thread, nil, { raw in
                #if canImport(Darwin)
                let pool = Unmanaged<ThreadPool>.fromOpaque(raw).takeUnretainedValue()
                #else
                let pool = Unmanaged<ThreadPool>.fromOpaque(raw!).takeUnretainedValue()
                #endif
                pool.workerLoop()
                return nil
            }, context)
            precondition(rc == 0, "pthread_create failed with \(rc)")
            threads.append(thread)
        }
    }

    deinit {
        shuttingDown.store(true, ordering: .sequentiallyConsistent)
        generation.add(2, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        pthread_cond_broadcast(condition)
        pthread_mutex_unlock(mutex)
        for thread in threads { pthread_join(thread, nil) }
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    /// Calls `body(i)` for every `i` in `0..<count`, spread over the pool's threads, and
    /// returns when all calls have finished. Calls run concurrently and in no fixed order;
    /// `body` must only write state that no other index writes.
    public func parallelFor(_ count: Int, _ body: (Int) -> Void) {
        if count <= 0 { return }
        if threadCount == 1 || count == 1
            || !busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged {
            for i in 0..<count { body(i) }
            return
        }
        withoutActuallyEscaping(body) { escapable in
            job = Job(count: count, body: escapable)
            nextItem.store(0, ordering: .relaxed)
            completed.store(0, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)  // open (odd)
            if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                pthread_mutex_lock(mutex)
                pthread_cond_broadcast(condition)
                pthread_mutex_unlock(mutex)
            }
            let mine = runItems(count, escapable)
            spinUntil { completed.load(ordering: .acquiring) + mine >= count }
            generation.add(1, ordering: .sequentiallyConsistent)  // closed (even)
            spinUntil { active.load(ordering: .sequentiallyConsistent) == 0 }
            job = nil
        }
        busy.store(false, ordering: .releasing)
    }

    /// Runs `body(chunk range)` over `0..<count` split into about `threadCount * 4`
    /// contiguous chunks, each a multiple of `granularity` long (except the last).
    public func parallelChunks(_ count: Int, granularity: Int = 1, _ body: (Range<Int>) -> Void) {
        if count <= 0 { return }
        let units = (count + granularity - 1) / granularity
        let chunks = min(units, threadCount == 1 ? 1 : threadCount * 4)
        let unitsPerChunk = (units + chunks - 1) / chunks
        let chunkLength = unitsPerChunk * granularity
        let chunkCount = (count + chunkLength - 1) / chunkLength
        parallelFor(chunkCount) { c in
            body((c * chunkLength)..<min(count, (c + 1) * chunkLength))
        }
    }

    /// Claims and runs items until none are left; returns how many this thread ran.
    @inline(__always)
    private func runItems(_ count: Int, _ body: (Int) -> Void) -> Int {
        var ran = 0
        while true {
            let i = nextItem.add(1, ordering: .relaxed).oldValue
            if i >= count { return ran }
            body(i)
            ran += 1
        }
    }

    /// Spins on `condition`, yielding the CPU after a while (cores may be oversubscribed).
    @inline(__always)
    private func spinUntil(_ condition: () -> Bool) {
        var spins = 0
        while !condition() {
            spins += 1
            if spins > 2_000 { sched_yield() }
        }
    }

    private func workerLoop() {
        // Generation 0 is "closed, no job yet"; reading the counter here instead could
        // miss a job published before this thread started.
        var seen: UInt64 = 0
        while true {
            seen = waitForGeneration(after: seen)
            if shuttingDown.load(ordering: .acquiring) { return }
            if seen & 1 == 0 { continue }  // the job closed before we saw it open
            active.add(1, ordering: .sequentiallyConsistent)
            if generation.load(ordering: .sequentiallyConsistent) == seen {
                let ran = runCurrentJob()
                if ran > 0 { completed.add(ran, ordering: .releasing) }
            }
            active.subtract(1, ordering: .sequentiallyConsistent)
        }
    }

    /// Runs items of `job`; kept out of line so the worker's reference to the closure
    /// ends before it leaves `active`.
    @inline(never)
    private func runCurrentJob() -> Int {
        guard let job else { return 0 }
        return runItems(job.count, job.body)
    }

    /// Spins, then sleeps, until `generation` differs from `seen`; returns the new value.
    private func waitForGeneration(after seen: UInt64) -> UInt64 {
        for _ in 0..<Self.spinIterations {
            let now = generation.load(ordering: .acquiring)
            if now != seen { return now }
        }
        sleepers.add(1, ordering: .sequentiallyConsistent)
        pthread_mutex_lock(mutex)
        var now = generation.load(ordering: .sequentiallyConsistent)
        while now == seen {
            pthread_cond_wait(condition, mutex)
            now = generation.load(ordering: .sequentiallyConsistent)
        }
        pthread_mutex_unlock(mutex)
        sleepers.subtract(1, ordering: .sequentiallyConsistent)
        return now
    }
}
