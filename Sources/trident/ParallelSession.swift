import ArgumentParser
import Foundation
import TridentCollectives
import TridentEngine
import TridentKernels
import TridentLauncher
import TridentModel

/// Starts the ranks of a run and gives the driver (world rank 0) a `ModelRunner`.
///
/// The placement (`--tp/--pp/--dp/--pipeline-layers` against the model's heads and blocks) is
/// checked in the launching process before any rank starts (launched ranks skip it), and
/// again by every rank before it reads a weight.
///
/// - world size 1: this process is the only rank.
/// - `local`: ranks are threads of this process.
/// - `tcp`: run without RANK in the environment, this process launches the ranks as child
///   processes (torchrun-style, re-executing the same command) and waits for them; each child
///   sees RANK, connects, loads its shard, and rank 0 drives while the others serve.
/// - `mpi`: run outside `mpirun`, re-executes the command under `mpirun -np N`.
struct ParallelSession {
    let model: ModelOptions
    let parallel: ParallelOptions
    /// KV-cache positions per sequence (clipped to the model's context length). The cache is
    /// reserved, not touched, so unused positions cost address space only.
    let capacity: Int
    static let defaultCapacity = 8192
    /// Sequences each data-parallel replica holds at once.
    var slotsPerReplica = 1
    /// How the KV cache stores keys and values.
    var kvType: KVCacheType = .f32
    /// `--trace FILE`: record every rank's timeline and write it here (`InferenceTrace`).
    var tracePath: String?

    /// Runs `drive` with the driver's runner. - Returns: its result in the process holding world
    /// rank 0 (nil in worker processes and in a launching parent process).
    func run<T>(_ drive: @escaping (DistributedRunner) throws -> T) throws -> T? {
        let world = parallel.worldSize
        if world == 1 {
            try checkPlacement()
            return try serve(world: LocalCommunicator.makeGroup(size: 1)[0], ranksHere: 1, drive)
        }
        switch parallel.backend {
        case .local:
            try checkPlacement()
            let box = ResultBox<T>()
            let driveBox = UncheckedBox(drive)
            let me = self
            _ = try LocalCommunicator.run(size: world) { communicator in
                _ = try me.serve(world: communicator, ranksHere: world) { runner in
                    box.value = try driveBox.value(runner)
                }
                return 0
            }
            return box.value
        case .tcp:
            guard let environment = try WorkerEnvironment.current() else {
                try checkPlacement()
                try launchChildren(count: world)
                return nil
            }
            let communicator = try TCPCommunicator.connect(environment, options: CommunicatorOptions())
            // Goodbyes before exit, so that no peer mistakes this rank's exit for a crash
            // while it still relays the last broadcast.
            defer { communicator.close() }
            return try serve(world: communicator, ranksHere: world, drive)
        case .mpi:
            if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] != nil {
                guard MPISupport.isAvailable else { throw ValidationError(Self.noMPI) }
                let communicator = try MPISupport.world()
                defer { MPISupport.finalize() }
                return try serve(world: communicator, ranksHere: world, drive)
            }
            guard MPISupport.isAvailable else { throw ValidationError(Self.noMPI) }
            try checkPlacement()
            try relaunchUnderMPI(count: world)
            return nil
        }
    }

    /// Refuses a grid that does not fit the model (reads only the file's metadata).
    func checkPlacement() throws {
        let configuration = try ModelConfiguration.load(path: model.model)
        do {
            _ = try ModelPlacement(configuration: configuration, layout: parallel.layout(),
                                   pipelineLayers: parallel.pipelineLayers, slotsPerReplica: slotsPerReplica)
        } catch {
            throw ExitMessage("cannot place the model on --tp \(parallel.tp) --pp \(parallel.pp) --dp \(parallel.dp): \(error)")
        }
    }

    static let noMPI = "this trident was built without MPI; rebuild with `swift build -c release --traits MPI`"

    /// Loads this rank's part; rank 0 drives, the others execute its commands.
    private func serve<T>(world: any Communicator, ranksHere: Int,
                          _ drive: (DistributedRunner) throws -> T) throws -> T? {
        let trace = try InferenceTrace.start(path: tracePath, world: world)
        let runtime = try RankRuntime.load(path: model.model, world: trace?.traced(world) ?? world, layout: parallel.layout(),
                                           pipelineLayers: parallel.pipelineLayers,
                                           threads: model.threadsPerRank(ranksOnThisMachine: ranksHere),
                                           capacity: capacity, slotsPerReplica: slotsPerReplica, kvType: kvType)
        runtime.trace = trace?.recorder
        guard world.rank == 0 else {
            let limit = Self.testKillSteps(rank: world.rank) ?? .max
            if try !WorkerLoop.run(runtime, forwardStepLimit: limit) { _exit(9) }
            try trace?.finish(over: world)
            return nil
        }
        let result = Result { try DistributedRunner.drive(runtime, drive) }
        if case .success = result { try trace?.finish(over: world) } else { try? trace?.finish(over: world) }
        return try result.get()
    }

    /// Hidden test hook for the dead-rank integration tests: with `TRIDENT_TEST_KILL_RANK=r` and
    /// `TRIDENT_TEST_KILL_AFTER_STEPS=n` in the environment, worker rank `r` serves `n` forward
    /// steps, then dies at once with `_exit(9)`, as a crashed rank would (it exits normally if
    /// the driver shuts down first).
    /// - Returns: the step count for this rank, or nil when the hook is off (always, for users).
    static func testKillSteps(rank: Int) -> Int? {
        let environment = ProcessInfo.processInfo.environment
        guard let victim = environment["TRIDENT_TEST_KILL_RANK"].flatMap(Int.init), victim == rank,
              let steps = environment["TRIDENT_TEST_KILL_AFTER_STEPS"].flatMap(Int.init), steps >= 0 else { return nil }
        return steps
    }

    func launchChildren(count: Int) throws {
        var configuration = LaunchConfiguration(executable: "/proc/self/exe",
                                                arguments: Array(CommandLine.arguments.dropFirst()),
                                                processCount: count)
        configuration.directOutputRank = 0
        // Forming gets torchrun's join timeout unless the user set TRIDENT_RDZV_TIMEOUT (inherited).
        if ProcessInfo.processInfo.environment[WorkerEnvironment.Key.rendezvousTimeout] == nil {
            configuration.rendezvousTimeout = .seconds(300)
        }
        try runLauncher(configuration)
    }

    func relaunchUnderMPI(count: Int) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let me = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        process.arguments = ["mpirun", "--allow-run-as-root", "--oversubscribe", "-np", String(count), me]
            + Array(CommandLine.arguments.dropFirst())
        try process.run()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            throw ExitMessage("mpirun exited with status \(process.terminationStatus)")
        }
    }
}

/// An error whose text is printed as is (one line on stderr, exit status 1).
struct ExitMessage: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Carries a value across the `@Sendable` boundary of rank threads; only rank 0's thread
/// writes it, and the caller reads it after every thread finished.
final class ResultBox<T>: @unchecked Sendable { var value: T? }
final class UncheckedBox<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
