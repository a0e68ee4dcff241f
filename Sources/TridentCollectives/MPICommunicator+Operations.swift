#if TRIDENT_MPI
import CMPI

/// The collectives of `MPICommunicator`, each a direct MPI call.
extension MPICommunicator {
    public func allReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType, op: ReduceOperation) throws {
        try perform("allReduce") {
            let count = try elements(buffer.count, type, "allReduce")
            guard count > 0 else { return }
            let (datatype, mpiOp) = operations.mpi(type, op)
            try check(MPI_Allreduce(trident_mpi_in_place(), buffer.baseAddress, count, datatype, mpiOp, communicator),
                      "allReduce")
        }
    }

    public func allGather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        try perform("allGather") {
            guard output.count == size * input.count else {
                throw CollectiveError(.invalidArgument, operation: "allGather", rank: rank, group: groupName,
                                      detail: "output has \(output.count) bytes, expected \(size) x \(input.count)")
            }
            guard input.count > 0 else { return }
            let n = Self.byteCount(input.count)
            try check(MPI_Allgather(input.baseAddress, n, trident_mpi_byte(), output.baseAddress, n, trident_mpi_byte(),
                                    communicator), "allGather")
        }
    }

    public func reduceScatter(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                              type: CollectiveDataType, op: ReduceOperation) throws {
        try perform("reduceScatter") {
            guard input.count == size * output.count else {
                throw CollectiveError(.invalidArgument, operation: "reduceScatter", rank: rank, group: groupName,
                                      detail: "input has \(input.count) bytes, expected \(size) x \(output.count)")
            }
            let count = try elements(output.count, type, "reduceScatter")
            guard count > 0 else { return }
            let (datatype, mpiOp) = operations.mpi(type, op)
            try check(MPI_Reduce_scatter_block(input.baseAddress, output.baseAddress, count, datatype, mpiOp, communicator),
                      "reduceScatter")
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        try perform("broadcast") {
            guard (0..<size).contains(root) else {
                throw CollectiveError(.invalidArgument, operation: "broadcast", rank: rank, group: groupName,
                                      detail: "root \(root) not in 0..<\(size)")
            }
            guard buffer.count > 0 else { return }
            try check(MPI_Bcast(buffer.baseAddress, Self.byteCount(buffer.count), trident_mpi_byte(), Int32(root),
                                communicator), "broadcast", peer: root)
        }
    }

    public func send(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws {
        try perform("send") {
            try check(MPI_Send(buffer.baseAddress, Self.byteCount(buffer.count), trident_mpi_byte(), Int32(peer),
                               Int32(tag), communicator), "send", peer: peer)
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws {
        try perform("receive") {
            var status = MPI_Status()
            try check(MPI_Probe(Int32(peer), Int32(tag), communicator, &status), "receive", peer: peer)
            var incoming: Int32 = 0
            try check(MPI_Get_count(&status, trident_mpi_byte(), &incoming), "receive", peer: peer)
            guard Int(incoming) == buffer.count else {
                throw CollectiveError(.protocolViolation, operation: "receive", rank: rank, peer: peer, group: groupName,
                                      detail: "expected \(buffer.count) bytes with tag \(tag), peer sent \(incoming)")
            }
            try check(MPI_Recv(buffer.baseAddress, incoming, trident_mpi_byte(), Int32(peer), Int32(tag), communicator,
                               trident_mpi_status_ignore()), "receive", peer: peer)
        }
    }

    public func barrier() throws {
        try perform("barrier") { try check(MPI_Barrier(communicator), "barrier") }
    }

    /// Collective: `MPI_Comm_split`; the new group is named after this one and its members'
    /// ranks here, e.g. `world[0,2]`.
    public func split(color: Int, key: Int) throws -> any Communicator {
        var result: MPICommunicator?
        try perform("split") {
            var newComm: MPI_Comm? = nil
            try check(MPI_Comm_split(communicator, Int32(color), Int32(key), &newComm), "split")
            guard let newComm else {
                throw CollectiveError(.backend, operation: "split", rank: rank, group: groupName, detail: "MPI returned no communicator")
            }
            var newSize: Int32 = 0
            try check(MPI_Comm_size(newComm, &newSize), "split")
            var me = Int32(rank)
            var members = [Int32](repeating: 0, count: Int(newSize))
            try check(MPI_Allgather(&me, 1, trident_mpi_int32(), &members, 1, trident_mpi_int32(), newComm), "split")
            let name = "\(groupName)[\(members.map { String($0) }.joined(separator: ","))]"
            result = try MPICommunicator(communicator: newComm, name: name, operations: operations, options: options)
        }
        return result!
    }
}

/// MPI datatypes and reduction ops per (type, op); Float16/BFloat16 use user-defined ops
/// that call `CollectiveReduction`.
final class MPIReductionOperations: @unchecked Sendable {
    private var custom: [CollectiveDataType: [ReduceOperation: MPI_Op?]] = [:]

    init() {
        // MPI user functions cannot capture context, hence one literal per (type, op).
        custom[.float16] = [
            .sum: Self.create { a, b, n, _ in MPIReductionOperations.apply(a, b, n, .float16, .sum) },
            .max: Self.create { a, b, n, _ in MPIReductionOperations.apply(a, b, n, .float16, .max) },
            .min: Self.create { a, b, n, _ in MPIReductionOperations.apply(a, b, n, .float16, .min) },
        ]
        custom[.bfloat16] = [
            .sum: Self.create { a, b, n, _ in MPIReductionOperations.apply(a, b, n, .bfloat16, .sum) },
            .max: Self.create { a, b, n, _ in MPIReductionOperations.apply(a, b, n, .bfloat16, .max) },
            .min: Self.create { a, b, n, _ in MPIReductionOperations.apply(a, b, n, .bfloat16, .min) },
        ]
    }

    deinit {
        var finalized: Int32 = 0
        MPI_Finalized(&finalized)
        guard finalized == 0 else { return }   // MPI frees everything at MPI_Finalize
        for ops in custom.values { for var op in ops.values { MPI_Op_free(&op) } }
    }

    /// `inout[i] = op(in[i], inout[i])` for the `*count` elements MPI hands to a user op.
    static func apply(_ input: UnsafeMutableRawPointer?, _ output: UnsafeMutableRawPointer?,
                      _ count: UnsafeMutablePointer<Int32>?, _ type: CollectiveDataType, _ op: ReduceOperation) {
        guard let input, let output, let count else { return }
        CollectiveReduction.reduce(into: output, from: input, count: Int(count.pointee), type: type, op: op)
    }

    private typealias UserFunction = @convention(c) (UnsafeMutableRawPointer?, UnsafeMutableRawPointer?,
                                                     UnsafeMutablePointer<Int32>?, UnsafeMutablePointer<MPI_Datatype?>?) -> Void

    private static func create(_ function: UserFunction) -> MPI_Op? {
        var op: MPI_Op? = nil
        let code = MPI_Op_create(function, 1, &op)
        precondition(code == trident_mpi_success(), "MPI_Op_create failed with code \(code)")
        return op
    }

    /// The MPI datatype and op for reducing `type` with `op`.
    func mpi(_ type: CollectiveDataType, _ op: ReduceOperation) -> (MPI_Datatype?, MPI_Op?) {
        switch type {
        case .float32, .int32:
            let datatype = type == .float32 ? trident_mpi_float() : trident_mpi_int32()
            let mpiOp = op == .sum ? trident_mpi_sum() : (op == .max ? trident_mpi_max() : trident_mpi_min())
            return (datatype, mpiOp)
        case .float16, .bfloat16:
            return (trident_mpi_uint16(), custom[type]![op]!)
        }
    }

}
#endif
