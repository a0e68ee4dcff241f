import Foundation

/// A communicator whose ranks are threads of one process, exchanging data through shared memory.
///
/// Each rank publishes its buffer pointers; after a barrier, ranks read each other's buffers
/// directly. Large all-reduces are a reduce-scatter plus all-gather in shared memory (rank `r`
/// reduces slice `r` of everyone's buffers, then each rank copies the other slices): every byte
/// is reduced once and copied once. Barriers spin briefly, then sleep, and have deadlines:
/// a rank that never arrives makes the others throw `.timeout` naming it and the operation.
///
/// Every rank of the group must call each collective, in the same order, from its own thread.
/// One communicator must not be used by two threads at once.
public final class LocalCommunicator: Communicator, CollectiveAlgorithmReporting, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public var groupName: String { group.name }
    /// `"none"` (size 1), `"shared-memory-direct"` (small) or `"shared-memory-reduce-scatter"` (large).
    public private(set) var lastAlgorithm = "none"

    let group: LocalGroup
    /// Number of barriers this rank has entered (all ranks agree between operations).
    var epoch = 0
    let poison = CollectivePoison()
    /// All-reduces up to this many bytes are reduced by every rank in full (two barriers instead of three).
    static let directReduceLimit = 64 * 1024

    init(rank: Int, group: LocalGroup) {
        self.rank = rank
        self.size = group.size
        self.group = group
    }

    /// Creates the `size` communicators of one group; hand each to its own thread.
    public static func makeGroup(size: Int, options: CommunicatorOptions = CommunicatorOptions(),
                                 name: String = "world") -> [LocalCommunicator] {
        let group = LocalGroup(size: size, name: name, options: options)
        return (0..<size).map { LocalCommunicator(rank: $0, group: group) }
    }

    /// Runs `body` on `size` threads, one per rank of a new group, and returns the results in
    /// rank order; rethrows the first error by rank after all threads have finished.
    public static func run<T: Sendable>(size: Int, options: CommunicatorOptions = CommunicatorOptions(),
                                        _ body: @escaping @Sendable (LocalCommunicator) throws -> T) throws -> [T] {
        let communicators = makeGroup(size: size, options: options)
        let results = UnsafeTransfer(UnsafeMutablePointer<Result<T, any Error>?>.allocate(capacity: size))
        results.value.initialize(repeating: nil, count: size)
        defer { results.value.deinitialize(count: size); results.value.deallocate() }
        let finished = DispatchGroup()
        for communicator in communicators {
            finished.enter()
            let thread = Thread {
                results.value[communicator.rank] = Result { try body(communicator) }
                finished.leave()
            }
            thread.stackSize = 8 << 20
            thread.start()
        }
        finished.wait()
        return try (0..<size).map { try results.value[$0]!.get() }
    }

    // MARK: - Plumbing shared by the operations

    /// Runs one public operation: poison check, then `body`; any error poisons this rank and fails the group.
    func perform(_ operation: String, _ body: () throws -> Void) throws {
        try poison.run(operation: operation, rank: rank, group: group.name) {
            if let error = group.peerFailure(operation: operation, rank: rank) { throw error }
            do { try body() } catch let error as CollectiveError {
                group.fail(error)
                throw error
            }
        }
    }

    func invalid(_ operation: String, _ detail: String) -> CollectiveError {
        CollectiveError(.invalidArgument, operation: operation, rank: rank, group: group.name, detail: detail)
    }

    /// Publishes this rank's slot and waits for every rank; then checks that all ranks called
    /// the same operation with the same byte count and argument.
    func publishAndSync(_ operation: LocalOperation, input: UnsafeRawPointer?, byteCount: Int,
                        argument: Int = 0, key: Int = 0, started: ContinuousClock.Instant) throws {
        group.slots[rank] = LocalSlot(operation: operation, input: input, byteCount: byteCount,
                                      argument: argument, key: key, newGroup: nil)
        try sync(operation.name, started: started)
        for peer in 0..<size {
            let slot = group.slots[peer]
            let agrees = slot.operation == operation && slot.byteCount == byteCount
                && (operation == .split || slot.argument == argument)
            guard agrees else {
                throw CollectiveError(
                    .protocolViolation, operation: operation.name, rank: rank, peer: peer, group: group.name,
                    detail: "expected \(operation.name) of \(byteCount) bytes (argument \(argument)), "
                        + "peer called \(slot.operation.name) of \(slot.byteCount) bytes (argument \(slot.argument))")
            }
        }
    }

    /// Enters the next barrier of the group.
    func sync(_ operation: String, started: ContinuousClock.Instant) throws {
        epoch += 1
        try group.arriveAndWait(rank: rank, epoch: epoch, operation: operation, started: started)
    }

    // MARK: - Collectives

    public func allReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType,
                          op: ReduceOperation) throws {
        try perform("allReduce") {
            guard buffer.count % type.byteWidth == 0 else {
                throw invalid("allReduce", "buffer of \(buffer.count) bytes is not a multiple of \(type.byteWidth)-byte \(type)")
            }
            guard size > 1 else { lastAlgorithm = "none"; return }
            let started = ContinuousClock.now
            let argument = Self.code(type, op)
            try publishAndSync(.allReduce, input: buffer.baseAddress, byteCount: buffer.count,
                               argument: argument, started: started)
            if buffer.count <= Self.directReduceLimit {
                try directAllReduce(buffer, type: type, op: op, started: started)
            } else {
                try slicedAllReduce(buffer, type: type, op: op, started: started)
            }
        }
    }

    /// Small buffers: every rank reduces everything (in rank order) into a private copy.
    private func directAllReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType,
                                 op: ReduceOperation, started: ContinuousClock.Instant) throws {
        lastAlgorithm = "shared-memory-direct"
        let count = buffer.count / type.byteWidth
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: max(buffer.count, 1), alignment: 64)
        defer { scratch.deallocate() }
        if let first = group.slots[0].input, let base = scratch.baseAddress {
            base.copyMemory(from: first, byteCount: buffer.count)
            for peer in 1..<size {
                CollectiveReduction.reduce(into: base, from: group.slots[peer].input!, count: count, type: type, op: op)
            }
        }
        try sync("allReduce", started: started)
        if buffer.count > 0 { buffer.baseAddress!.copyMemory(from: scratch.baseAddress!, byteCount: buffer.count) }
    }

    /// Large buffers: rank r reduces slice r in place in its own buffer, then copies the others' slices.
    private func slicedAllReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType,
                                 op: ReduceOperation, started: ContinuousClock.Instant) throws {
        lastAlgorithm = "shared-memory-reduce-scatter"
        let width = type.byteWidth
        let count = buffer.count / width
        let mine = buffer.baseAddress!
        let (start, end) = Self.slice(rank, count: count, parts: size)
        for peer in 0..<size where peer != rank {
            CollectiveReduction.reduce(into: mine + start * width, from: group.slots[peer].input! + start * width,
                                       count: end - start, type: type, op: op)
        }
        try sync("allReduce", started: started)
        for peer in 0..<size where peer != rank {
            let (s, e) = Self.slice(peer, count: count, parts: size)
            (mine + s * width).copyMemory(from: group.slots[peer].input! + s * width, byteCount: (e - s) * width)
        }
        try sync("allReduce", started: started)
    }

    public func allGather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        try perform("allGather") {
            guard output.count == size * input.count else {
                throw invalid("allGather", "output has \(output.count) bytes, expected \(size) x \(input.count)")
            }
            guard input.count > 0 else { return }
            guard size > 1 else { output.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: input.count); return }
            let started = ContinuousClock.now
            try publishAndSync(.allGather, input: input.baseAddress, byteCount: input.count, started: started)
            for peer in 0..<size {
                (output.baseAddress! + peer * input.count).copyMemory(from: group.slots[peer].input!, byteCount: input.count)
            }
            try sync("allGather", started: started)
        }
    }

    public func reduceScatter(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                              type: CollectiveDataType, op: ReduceOperation) throws {
        try perform("reduceScatter") {
            guard input.count == size * output.count, output.count % type.byteWidth == 0 else {
                throw invalid("reduceScatter", "input has \(input.count) bytes, expected \(size) x \(output.count) "
                              + "(output a multiple of \(type.byteWidth) bytes)")
            }
            guard output.count > 0 else { return }
            let chunk = output.count
            guard size > 1 else { output.baseAddress!.copyMemory(from: input.baseAddress!, byteCount: chunk); return }
            let started = ContinuousClock.now
            try publishAndSync(.reduceScatter, input: input.baseAddress, byteCount: input.count,
                               argument: Self.code(type, op), started: started)
            let out = output.baseAddress!
            out.copyMemory(from: group.slots[0].input! + rank * chunk, byteCount: chunk)
            for peer in 1..<size {
                CollectiveReduction.reduce(into: out, from: group.slots[peer].input! + rank * chunk,
                                           count: chunk / type.byteWidth, type: type, op: op)
            }
            try sync("reduceScatter", started: started)
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try perform("broadcast") {
            guard (0..<size).contains(root) else { throw invalid("broadcast", "root \(root) not in 0..<\(size)") }
            guard size > 1, buffer.count > 0 else { return }
            let started = ContinuousClock.now
            try publishAndSync(.broadcast, input: buffer.baseAddress, byteCount: buffer.count,
                               argument: root, started: started)
            if rank != root { buffer.baseAddress!.copyMemory(from: group.slots[root].input!, byteCount: buffer.count) }
            try sync("broadcast", started: started)
        }
    }

    public func barrier() throws {
        try perform("barrier") {
            guard size > 1 else { return }
            let started = ContinuousClock.now
            group.slots[rank].operation = .barrier
            try sync("barrier", started: started)
        }
    }

    /// Slice `index` of `count` elements split into `parts` nearly equal parts: `[start, end)`.
    static func slice(_ index: Int, count: Int, parts: Int) -> (Int, Int) {
        (count * index / parts, count * (index + 1) / parts)
    }

    static func code(_ type: CollectiveDataType, _ op: ReduceOperation) -> Int {
        let t = CollectiveDataType.allCases.firstIndex(of: type)!
        let o = ReduceOperation.allCases.firstIndex(of: op)!
        return t * 8 + o
    }
}
