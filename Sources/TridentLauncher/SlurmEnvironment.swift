/// The worker environment of a process started by Slurm's `srun` (no Trident launcher, no RANK):
///
/// | worker field  | from |
/// |---|---|
/// | rank          | `SLURM_PROCID` |
/// | world size    | `SLURM_NTASKS` (or `SLURM_NPROCS`) |
/// | local rank    | `SLURM_LOCALID` |
/// | master        | `MASTER_ADDR`, else the first host of `SLURM_STEP_NODELIST`, else of `SLURM_JOB_NODELIST` |
/// | port          | `MASTER_PORT`, else 29500 |
/// | secret        | `TRIDENT_SECRET`, else derived from `SLURM_JOB_ID` and `SLURM_STEP_ID` |
///
/// It applies only to a task of an `srun` step (`SLURM_STEP_ID` set) of more than one task: the
/// batch script itself (which Slurm also gives `SLURM_PROCID=0`) and a one-task step keep
/// launching their own ranks as usual.
///
/// The derived secret keeps two jobs (or two steps) that share a node and a port apart, but it
/// is no secret: any user who can see the job id (`squeue`) can compute it. On a cluster
/// shared with people you do not trust, export a random `TRIDENT_SECRET` in the batch script
/// (`srun` passes it to every task).
public enum SlurmEnvironment {
    /// Variable names.
    public enum Key {
        public static let procID = "SLURM_PROCID", tasks = "SLURM_NTASKS", legacyTasks = "SLURM_NPROCS"
        public static let localID = "SLURM_LOCALID", stepID = "SLURM_STEP_ID", jobID = "SLURM_JOB_ID"
        public static let stepNodeList = "SLURM_STEP_NODELIST", jobNodeList = "SLURM_JOB_NODELIST"
    }

    /// The default rendezvous port under Slurm.
    public static let defaultPort = 29_500

    /// The worker environment `variables` describe; nil when they are not those of a task of a
    /// multi-task `srun` step. Throws `LaunchError.badEnvironment` naming the variable that is
    /// missing or malformed.
    public static func worker(from variables: [String: String]) throws(LaunchError) -> WorkerEnvironment? {
        guard variables[Key.procID] != nil, variables[Key.stepID] != nil,
              let tasksText = variables[Key.tasks] ?? variables[Key.legacyTasks] else { return nil }
        guard let tasks = Int(tasksText), tasks >= 1 else {
            throw .badEnvironment("\(Key.tasks)='\(tasksText)' is not a positive task count")
        }
        guard tasks > 1 else { return nil }
        let rank = try integer(Key.procID, variables)
        guard (0..<tasks).contains(rank) else {
            throw .badEnvironment("\(Key.procID)=\(rank) is outside \(Key.tasks)=\(tasks)")
        }
        let local = try integer(Key.localID, variables)
        guard (0..<tasks).contains(local) else { throw .badEnvironment("\(Key.localID)=\(local) is outside 0..<\(tasks)") }
        let portText = variables[WorkerEnvironment.Key.masterPort] ?? String(defaultPort)
        guard let port = Int(portText), (1...65_535).contains(port) else {
            throw .badEnvironment("MASTER_PORT='\(portText)' is not a TCP port")
        }
        var result = WorkerEnvironment(rank: rank, worldSize: tasks, localRank: local,
                                       masterAddress: try masterAddress(variables), masterPort: port,
                                       secret: try secret(variables),
                                       hostIdentity: variables[WorkerEnvironment.Key.hostIdentity])
        result.startedBy = .slurm
        return result
    }

    /// `MASTER_ADDR`, else the first host of the step's (or the job's) node list.
    static func masterAddress(_ variables: [String: String]) throws(LaunchError) -> String {
        if let address = variables[WorkerEnvironment.Key.masterAddress], !address.isEmpty { return address }
        for key in [Key.stepNodeList, Key.jobNodeList] {
            if let list = variables[key] { return try SlurmNodeList.expand(list, variable: key, limit: 1)[0] }
        }
        throw .badEnvironment("neither MASTER_ADDR nor \(Key.jobNodeList) is set (\(Key.procID) is: started by srun?)")
    }

    /// `TRIDENT_SECRET`, else one derived from the job and step ids (see the type's comment).
    static func secret(_ variables: [String: String]) throws(LaunchError) -> String {
        if let secret = variables[WorkerEnvironment.Key.secret], !secret.isEmpty { return secret }
        guard let job = variables[Key.jobID], !job.isEmpty else {
            throw .badEnvironment("neither TRIDENT_SECRET nor \(Key.jobID) is set to derive the job's secret from")
        }
        return "slurm-job-\(job)-step-\(variables[Key.stepID] ?? "")"
    }

    private static func integer(_ key: String, _ variables: [String: String]) throws(LaunchError) -> Int {
        guard let text = variables[key] else {
            throw .badEnvironment("\(key) is not set (\(Key.procID) is, so all srun variables must be)")
        }
        guard let number = Int(text) else { throw .badEnvironment("\(key)='\(text)' is not an integer") }
        return number
    }
}
