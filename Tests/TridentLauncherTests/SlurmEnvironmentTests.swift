import Testing
@testable import TridentLauncher

@Suite("Slurm: node lists and srun variables")
struct SlurmEnvironmentTests {
    @Test("compressed node lists expand in order, zero padding kept",
          arguments: [
              ("node[01-03,07],gpu5", ["node01", "node02", "node03", "node07", "gpu5"]),
              ("node1", ["node1"]),
              ("a,b.example.com,c", ["a", "b.example.com", "c"]),
              ("n[8-10]", ["n8", "n9", "n10"]),
              ("n[098-100]", ["n098", "n099", "n100"]),
              ("rack[1-2]-n[8-9]", ["rack1-n8", "rack1-n9", "rack2-n8", "rack2-n9"]),
              ("x[1,3]y,z[0]", ["x1y", "x3y", "z0"]),
              ("gpu-[0007-0008]", ["gpu-0007", "gpu-0008"]),
          ])
    func expands(list: String, hosts: [String]) throws {
        #expect(try SlurmNodeList.expand(list) == hosts)
    }

    @Test("a limit stops the expansion early (the first host of a huge list is cheap)")
    func limited() throws {
        #expect(try SlurmNodeList.expand("n[000001-999999],m[1-2]", limit: 2) == ["n000001", "n000002"])
        #expect(try SlurmNodeList.expand("rack[1-900]-n[1-900]", limit: 1) == ["rack1-n1"])
        #expect(try SlurmNodeList.expand("a,b[1-3]", limit: 3) == ["a", "b1", "b2"])
    }

    @Test("malformed lists are refused naming the variable",
          arguments: ["node[01-03", "node[3-1]", "node[a-b]", "node[]", "", ",", "node[1-2]]", "no de", "n[[1]]", "n[1-2-3]",
                      "n[-1]", "n[1,]"])
    func refused(list: String) {
        do {
            let hosts = try SlurmNodeList.expand(list, variable: "SLURM_STEP_NODELIST")
            Issue.record("'\(list)' expanded to \(hosts)")
        } catch {
            #expect(error.description.contains("SLURM_STEP_NODELIST"), "\(error)")
        }
    }

    /// The variables of task 3 of a 4-task srun step on node[01-02].
    static let task3: [String: String] = [
        "SLURM_PROCID": "3", "SLURM_NTASKS": "4", "SLURM_LOCALID": "1", "SLURM_STEP_ID": "0", "SLURM_JOB_ID": "777",
        "SLURM_JOB_NODELIST": "node[01-02]",
    ]

    @Test("srun's variables give rank, world size, local rank, master (first node), port 29500 and a secret from the job id")
    func mapping() throws {
        let worker = try #require(try WorkerEnvironment.from(Self.task3))
        var expected = WorkerEnvironment(rank: 3, worldSize: 4, localRank: 1, masterAddress: "node01", masterPort: 29_500,
                                         secret: "slurm-job-777-step-0")
        expected.startedBy = .slurm
        #expect(worker == expected)
        // The step's node list wins over the job's; MASTER_ADDR, MASTER_PORT and TRIDENT_SECRET win over both.
        var step = Self.task3
        step["SLURM_STEP_NODELIST"] = "node02"
        #expect(try WorkerEnvironment.from(step)?.masterAddress == "node02")
        var explicit = step
        explicit.merge(["MASTER_ADDR": "10.0.0.5", "MASTER_PORT": "31000", "TRIDENT_SECRET": "s3", "TRIDENT_RDZV_TIMEOUT": "12",
                        "SLURM_NPROCS": "4"]) { $1 }
        explicit["SLURM_NTASKS"] = nil  // older Slurm: SLURM_NPROCS
        let overridden = try #require(try WorkerEnvironment.from(explicit))
        #expect(overridden.masterAddress == "10.0.0.5" && overridden.masterPort == 31_000 && overridden.secret == "s3")
        #expect(overridden.rendezvousTimeout == .seconds(12) && overridden.worldSize == 4)
        // Another step of the same job gets another secret.
        var other = Self.task3
        other["SLURM_STEP_ID"] = "1"
        #expect(try WorkerEnvironment.from(other)?.secret != worker.secret)
    }

    @Test("the launcher's RANK wins; a batch script (no step id) and a one-task step are not srun workers")
    func notSlurm() throws {
        var launched = Self.task3
        launched.merge(["RANK": "1", "WORLD_SIZE": "2", "MASTER_PORT": "4000"]) { $1 }
        let worker = try #require(try WorkerEnvironment.from(launched))
        #expect(worker.rank == 1 && worker.worldSize == 2 && worker.startedBy == .launcher)
        var batch = Self.task3
        batch["SLURM_STEP_ID"] = nil
        #expect(try WorkerEnvironment.from(batch) == nil)
        var single = Self.task3
        single.merge(["SLURM_NTASKS": "1", "SLURM_PROCID": "0", "SLURM_LOCALID": "0"]) { $1 }
        #expect(try WorkerEnvironment.from(single) == nil)
        #expect(try WorkerEnvironment.from([:]) == nil)
    }

    @Test("missing or malformed srun variables are refused naming the variable",
          arguments: [
              (["SLURM_PROCID": "4"], "SLURM_PROCID=4 is outside SLURM_NTASKS=4"),
              (["SLURM_PROCID": "x"], "SLURM_PROCID='x' is not an integer"),
              (["SLURM_NTASKS": "0"], "SLURM_NTASKS='0' is not a positive task count"),
              (["SLURM_LOCALID": nil], "SLURM_LOCALID is not set"),
              (["SLURM_JOB_NODELIST": "node[1-"], "SLURM_JOB_NODELIST='node[1-'"),
              (["SLURM_JOB_NODELIST": nil], "neither MASTER_ADDR nor SLURM_JOB_NODELIST is set"),
              (["SLURM_JOB_ID": nil], "neither TRIDENT_SECRET nor SLURM_JOB_ID is set"),
              (["MASTER_PORT": "70000"], "MASTER_PORT='70000' is not a TCP port"),
              (["TRIDENT_RDZV_TIMEOUT": "-1"], "TRIDENT_RDZV_TIMEOUT='-1'"),
          ] as [([String: String?], String)])
    func refused(change: [String: String?], expected: String) {
        var variables = Self.task3
        for (key, value) in change { variables[key] = value }
        do {
            let worker = try WorkerEnvironment.from(variables)
            Issue.record("accepted: \(String(describing: worker))")
        } catch {
            #expect(error.description.contains(expected), "\(error)")
        }
    }
}
