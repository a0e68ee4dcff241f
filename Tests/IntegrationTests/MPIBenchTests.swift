import Foundation
import Testing
import TridentCollectives

/// `mpirun` on the PATH, if any.
private let mpirunPath: String? = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin")
    .split(separator: ":").map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }

/// The MPI backend across real processes: `trident bench allreduce --backend mpi` re-executes
/// itself under `mpirun`. Enabled only in builds with `--traits MPI`, with mpirun and the CLI present.
@Suite(.enabled(if: MPISupport.isAvailable && mpirunPath != nil && tridentBinary != nil,
                "needs --traits MPI, mpirun and the trident binary"))
struct MPIBenchTests {
    @Test(arguments: [3, 5])
    func everyCollectiveIsCorrectUnderMpirun(ranks: Int) throws {
        let result = try runChild(tridentBinary!, ["bench", "allreduce", "--backend", "mpi", "--nproc", "\(ranks)",
                                                   "--self-test"], timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("self-test over \(ranks) ranks (mpi): passed"), "\(result.output)")
    }

    @Test func benchPrintsCheckedJSON() throws {
        let result = try runChild(tridentBinary!, ["bench", "allreduce", "--backend", "mpi", "--nproc", "2",
                                                   "--sizes", "4,4100,1000000", "--iterations", "3", "--json"], timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        let line = try #require(result.output.split(separator: "\n").first { $0.hasPrefix("{\"results\"") })
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        let results = try #require(object["results"] as? [[String: Any]])
        #expect(results.map { $0["bytes"] as? Int } == [4, 4100, 1_000_000])
        for entry in results {
            #expect(entry["correct"] as? Bool == true)
            #expect((entry["seconds"] as? Double ?? 0) > 0)
            #expect(entry["algorithm"] as? String == "mpi")
        }
    }
}

/// The same self-test over the TCP backend and the thread backend, through the CLI.
@Suite(.enabled(if: tridentBinary != nil, "needs the trident binary"))
struct BenchSelfTestTests {
    @Test(arguments: ["tcp", "local"])
    func selfTestPassesWithThreeRanks(backend: String) throws {
        let result = try runChild(tridentBinary!, ["bench", "allreduce", "--backend", backend, "--nproc", "3",
                                                   "--self-test"], timeout: 120)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("self-test over 3 ranks (\(backend)): passed"), "\(result.output)")
    }
}
