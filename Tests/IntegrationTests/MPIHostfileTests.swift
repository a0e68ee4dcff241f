import Foundation
import Testing
import TridentCollectives

/// `trident train --backend mpi` started by Open MPI's own `mpirun --hostfile F` (not the
/// re-execution `trident` does by itself): the ranks take their places from the hostfile's slots.
@Suite("trident train under mpirun --hostfile",
       .enabled(if: MPISupport.isAvailable && CLIPaths.mpirunAvailable && CLIPaths.binary != nil
                    && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs --traits MPI, mpirun, the trident binary and models/LICENSE.txt"))
struct MPIHostfileTests {
    @Test("DP 2 under mpirun --hostfile (localhost slots=2) equals the one-rank run (1e-5 relative)")
    func dataParallelEqualsOneRank() throws {
        try withTemporaryDirectory { directory in
            let hosts = directory.appendingPathComponent("hosts")
            try Data("# Open MPI hostfile\nlocalhost slots=2\n".utf8).write(to: hosts)
            let common = ["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license, "--seq-len", "32",
                          "--steps", "3", "--lr", "1e-3", "--json"]
            let single = try runChild(CLIPaths.binary!, common + ["--micro-batch", "2"], timeout: 300)
            // Root may run mpirun only with --allow-run-as-root; other users ignore it.
            let mpi = try runChild("/usr/bin/env", ["mpirun", "--allow-run-as-root", "--hostfile", hosts.path, "-np", "2",
                                                    CLIPaths.binary!] + common + ["--micro-batch", "1", "--dp", "2", "--backend", "mpi"],
                                   timeout: 300)
            #expect(single.status == 0, "\(single.output)")
            #expect(mpi.status == 0, "\(mpi.output)")
            let expected = SlurmProcessTests.steps(single.output), found = SlurmProcessTests.steps(mpi.output)
            #expect(expected.count == 3 && found.count == 3, "\(mpi.output)")
            for (a, b) in zip(expected, found) {
                for key in ["loss", "grad_norm"] {
                    let x = TrainCLITests.number(a, key), y = TrainCLITests.number(b, key)
                    #expect(abs(x - y) <= 1e-5 * abs(x), "step \(a["step"] ?? "?") \(key): one rank \(x), mpirun DP 2 \(y)")
                }
            }
        }
    }
}
