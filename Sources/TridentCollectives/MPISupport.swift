/// Entry points to the Open MPI backend that exist whether or not the package was built with
/// the `MPI` trait, so that callers (the CLI) need no conditional compilation.
public enum MPISupport {
    /// True when this build contains `MPICommunicator` (`swift build --traits MPI`).
    public static var isAvailable: Bool {
        #if TRIDENT_MPI
        true
        #else
        false
        #endif
    }

    /// Initialises MPI and returns the world communicator; throws `.backend` in builds without MPI.
    public static func world(options: CommunicatorOptions = CommunicatorOptions()) throws -> any Communicator {
        #if TRIDENT_MPI
        return try MPICommunicator.world(options: options)
        #else
        throw CollectiveError(.backend, operation: "MPI_Init", rank: -1, group: "world",
                              detail: "this build has no MPI backend; rebuild with `--traits MPI`")
        #endif
    }

    /// Finalises MPI if it was initialised (no-op in builds without MPI).
    public static func finalize() {
        #if TRIDENT_MPI
        MPICommunicator.finalize()
        #endif
    }
}
