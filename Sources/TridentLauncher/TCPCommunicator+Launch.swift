import TridentCollectives

extension TCPCommunicator {
    /// Joins the job of a launched worker: world rank 0 serves the rendezvous store at
    /// MASTER_ADDR:MASTER_PORT and every rank connects to every other. Every worker must call it.
    public static func connect(_ environment: WorkerEnvironment,
                               options: CommunicatorOptions = CommunicatorOptions()) throws -> TCPCommunicator {
        var rendezvous = TCPRendezvous(rank: environment.rank, worldSize: environment.worldSize,
                                       masterAddress: environment.masterAddress, masterPort: environment.masterPort,
                                       secret: environment.secret, hostIdentity: environment.hostIdentity)
        rendezvous.formingTimeout = environment.rendezvousTimeout
        rendezvous.failureReportPath = environment.errorFile
        return try connect(rendezvous, options: options)
    }
}
