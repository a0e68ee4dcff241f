#if TRIDENT_MPI
import CMPI

/// A communicator over Open MPI (build with `--traits MPI`; processes started by `mpirun`).
///
/// `world()` initialises MPI once per process (`MPI_Init_thread`, `MPI_THREAD_MULTIPLE`) and
/// returns `MPI_COMM_WORLD`; `split` wraps `MPI_Comm_split`. MPI errors are returned, not fatal
/// (`MPI_ERRORS_RETURN`), and mapped to `CollectiveError(.backend)` naming the MPI error string.
/// Deadlines: MPI calls cannot be interrupted. A dead process is detected by `mpirun`, which
/// stops the whole job; an operation that exceeds `operationTimeout` (a hung peer) makes a
/// watchdog print the error and call `MPI_Abort`. `livenessTimeout` is not used by this backend.
///
/// Every rank of the group must call each collective, in the same order.
/// Call `MPICommunicator.finalize()` before the process exits.
public final class MPICommunicator: Communicator, CollectiveAlgorithmReporting, @unchecked Sendable {
    public let rank: Int
    public let size: Int
    public let groupName: String
    /// Always `"mpi"`: Open MPI picks its own algorithm per size.
    public var lastAlgorithm: String { "mpi" }
    /// `MPI_Send` of a large message waits for the matching receive (rendezvous).
    public var sendsAreBuffered: Bool { false }

    let communicator: MPI_Comm
    let operations: MPIReductionOperations
    let poison = CollectivePoison()
    let options: CommunicatorOptions
    let watchdog: MPIWatchdog

    init(communicator: MPI_Comm, name: String, operations: MPIReductionOperations,
         options: CommunicatorOptions) throws {
        var rank: Int32 = 0, size: Int32 = 0
        try Self.check(MPI_Comm_rank(communicator, &rank), "MPI_Comm_rank", rank: -1, group: name)
        try Self.check(MPI_Comm_size(communicator, &size), "MPI_Comm_size", rank: Int(rank), group: name)
        try Self.check(MPI_Comm_set_errhandler(communicator, trident_mpi_errors_return()),
                       "MPI_Comm_set_errhandler", rank: Int(rank), group: name)
        self.rank = Int(rank)
        self.size = Int(size)
        self.groupName = name
        self.communicator = communicator
        self.operations = operations
        self.options = options
        self.watchdog = MPIWatchdog(timeout: options.operationTimeout, rank: Int(rank), group: name,
                                    communicator: communicator)
    }

    deinit { watchdog.stop() }

    /// Initialises MPI if needed and returns the world communicator.
    /// Throws `.backend` if MPI cannot provide `MPI_THREAD_MULTIPLE`.
    public static func world(options: CommunicatorOptions = CommunicatorOptions()) throws -> MPICommunicator {
        var initialized: Int32 = 0
        MPI_Initialized(&initialized)
        if initialized == 0 {
            var provided: Int32 = 0
            try check(MPI_Init_thread(nil, nil, trident_mpi_thread_multiple(), &provided), "MPI_Init_thread",
                      rank: -1, group: "world")
            guard provided >= trident_mpi_thread_multiple() else {
                throw CollectiveError(.backend, operation: "MPI_Init_thread", rank: -1, group: "world",
                                      detail: "expected MPI_THREAD_MULTIPLE, MPI provides level \(provided)")
            }
        }
        return try MPICommunicator(communicator: trident_mpi_comm_world(), name: "world",
                                   operations: MPIReductionOperations(), options: options)
    }

    /// Finalises MPI (once; later calls do nothing). No communicator may be used afterwards.
    public static func finalize() {
        var initialized: Int32 = 0, finalized: Int32 = 0
        MPI_Initialized(&initialized)
        MPI_Finalized(&finalized)
        if initialized != 0 && finalized == 0 { MPI_Finalize() }
    }

    /// Runs `body` unless poisoned; errors poison this communicator.
    func perform(_ operation: String, _ body: () throws -> Void) throws {
        try poison.run(operation: operation, rank: rank, group: groupName) {
            try watchdog.watch(operation, body)
        }
    }

    /// Throws `.backend` with MPI's error string if `code` is not `MPI_SUCCESS`.
    static func check(_ code: Int32, _ operation: String, rank: Int, group: String, peer: Int? = nil) throws {
        guard code != trident_mpi_success() else { return }
        var text = [CChar](repeating: 0, count: Int(trident_mpi_max_error_string()) + 1)
        var length: Int32 = 0
        MPI_Error_string(code, &text, &length)
        let message = String(decoding: text.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw CollectiveError(.backend, operation: operation, rank: rank, peer: peer, group: group,
                              detail: "MPI error \(code): \(message)")
    }

    func check(_ code: Int32, _ operation: String, peer: Int? = nil) throws {
        try Self.check(code, operation, rank: rank, group: groupName, peer: peer)
    }

    func elements(_ bytes: Int, _ type: CollectiveDataType, _ operation: String) throws -> Int32 {
        guard bytes % type.byteWidth == 0, bytes / type.byteWidth <= Int(Int32.max) else {
            throw CollectiveError(.invalidArgument, operation: operation, rank: rank, group: groupName,
                                  detail: "\(bytes) bytes is not a multiple of \(type.byteWidth)-byte \(type) or exceeds Int32 elements")
        }
        return Int32(bytes / type.byteWidth)
    }

    static func byteCount(_ bytes: Int) -> Int32 {
        precondition(bytes <= Int(Int32.max), "MPI backend: message of \(bytes) bytes exceeds Int32")
        return Int32(bytes)
    }
}
#endif
