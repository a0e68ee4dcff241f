import ArgumentParser
import Foundation
import TridentCollectives
import TridentLauncher

/// Starts the ranks of a training run, as `ParallelSession` does for inference, and runs
/// `body` on each with its world communicator:
/// - world size 1: this process is the only rank;
/// - `local`: ranks are threads of this process;
/// - `tcp`: without RANK in the environment, this process launches the ranks as child processes
///   (re-executing the same command) and waits; each child connects and runs `body`;
/// - `mpi`: outside `mpirun`, the command is re-executed under `mpirun -np N`.
///
/// `body` returns a value only on world rank 0 (the one that prints).
struct TrainingRanks {
    let model: ModelOptions
    let parallel: ParallelOptions

    /// - Returns: world rank 0's result in the process that holds it; nil in other processes.
    func run<T>(_ body: @escaping (any Communicator, _ ranksHere: Int) throws -> T?) throws -> T? {
        TrainingAllocator.keepFreedMemoryForReuse()
        let world = parallel.worldSize
        if world == 1 { return try body(LocalCommunicator.makeGroup(size: 1)[0], 1) }
        let launcher = ParallelSession(model: model, parallel: parallel, capacity: 1)
        switch parallel.backend {
        case .local:
            let box = ResultBox<T>()
            let bodyBox = UncheckedBox(body)
            _ = try LocalCommunicator.run(size: world) { communicator in
                if let value = try bodyBox.value(communicator, world), communicator.rank == 0 { box.value = value }
                return 0
            }
            return box.value
        case .tcp:
            guard let environment = try WorkerEnvironment.current() else {
                try launcher.launchChildren(count: world)
                return nil
            }
            let communicator = try TCPCommunicator.connect(environment, options: CommunicatorOptions())
            defer { communicator.close() }
            return try body(communicator, world)
        case .mpi:
            guard MPISupport.isAvailable else { throw ValidationError(ParallelSession.noMPI) }
            if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] != nil {
                let communicator = try MPISupport.world()
                defer { MPISupport.finalize() }
                return try body(communicator, world)
            }
            try launcher.relaunchUnderMPI(count: world)
            return nil
        }
    }
}
