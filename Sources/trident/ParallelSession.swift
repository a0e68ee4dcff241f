import ArgumentParser
import Foundation
import TridentCollectives
import TridentEngine
import TridentLauncher

/// Starts the ranks of a run and gives the driver (world rank 0) a `ModelRunner`.
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
    var slots = 1

    /// Runs `drive` with the driver's runner. - Returns: its result in the process holding world
    /// rank 0 (nil in worker processes and in a launching parent process).
    func run<T>(_ drive: @escaping (DistributedRunner) throws -> T) throws -> T? {
        let world = parallel.worldSize
        if world == 1 {
            return try serve(world: LocalCommunicator.makeGroup(size: 1)[0], ranksHere: 1, drive)
        }
        switch parallel.backend {
        case .local:
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
                try launchChildren(count: world)
                return nil
            }
            let communicator = try TCPCommunicator.connect(environment, options: CommunicatorOptions())
            return try serve(world: communicator, ranksHere: world, drive)
        case .mpi:
            if ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"] != nil {
                guard MPISupport.isAvailable else { throw ValidationError(Self.noMPI) }
                let communicator = try MPISupport.world()
                defer { MPISupport.finalize() }
                return try serve(world: communicator, ranksHere: world, drive)
            }
            guard MPISupport.isAvailable else { throw ValidationError(Self.noMPI) }
            try relaunchUnderMPI(count: world)
            return nil
        }
    }

    static let noMPI = "this trident was built without MPI; rebuild with `swift build -c release --traits MPI`"

    /// Loads this rank's shard; rank 0 drives, the others execute its commands.
    private func serve<T>(world: any Communicator, ranksHere: Int,
                          _ drive: (DistributedRunner) throws -> T) throws -> T? {
        let runtime = try RankRuntime.loadOnEveryRank(path: model.model, world: world,
                                                      threads: model.threadsPerRank(ranksOnThisMachine: ranksHere),
                                                      capacity: capacity, slots: slots)
        guard world.rank == 0 else {
            if let steps = Self.testKillSteps(rank: world.rank) {
                guard try Self.serveThenDie(runtime, steps: steps) else { return nil }
            }
            try WorkerLoop.run(runtime)
            return nil
        }
        return try DistributedRunner.drive(runtime, drive)
    }

    /// Hidden test hook for the dead-rank integration test: with `TRIDENT_TEST_KILL_RANK=r` and
    /// `TRIDENT_TEST_KILL_AFTER_STEPS=n` in the environment, worker rank `r` serves `n` forward
    /// steps (fewer if another command comes first), then dies at once with `_exit(9)`, as a
    /// crashed rank would.
    /// - Returns: the step count for this rank, or nil when the hook is off (always, for users).
    static func testKillSteps(rank: Int) -> Int? {
        let environment = ProcessInfo.processInfo.environment
        guard let victim = environment["TRIDENT_TEST_KILL_RANK"].flatMap(Int.init), victim == rank,
              let steps = environment["TRIDENT_TEST_KILL_AFTER_STEPS"].flatMap(Int.init), steps >= 0 else { return nil }
        return steps
    }

    /// The test hook's worker loop (see `testKillSteps`). - Returns: false when the driver shut
    /// down before the rank was due to die.
    private static func serveThenDie(_ runtime: RankRuntime, steps: Int) throws -> Bool {
        for _ in 0..<steps {
            let command = try StepCommand.receive(over: runtime.world,
                                                  vocabularySize: runtime.configuration.vocabularySize)
            if command.opcode == .shutdown { return false }
            guard command.opcode == .forward else { break }
            _ = try runtime.stage.forward(tokens: command.tokens, slot: command.slot, start: command.start,
                                          logits: command.logits)
        }
        _exit(9)
    }

    private func launchChildren(count: Int) throws {
        var configuration = LaunchConfiguration(executable: "/proc/self/exe",
                                                arguments: Array(CommandLine.arguments.dropFirst()),
                                                processCount: count)
        configuration.directOutputRank = 0
        do {
            try LocalLauncher(configuration).run()
        } catch {
            throw ExitMessage("\(error)")
        }
    }

    private func relaunchUnderMPI(count: Int) throws {
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
