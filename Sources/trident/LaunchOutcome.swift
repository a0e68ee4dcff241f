import Foundation
import TridentLauncher
#if canImport(Glibc)
import Glibc
#endif

/// Runs a launcher and turns its failure into the CLI's one-line error. A job whose output
/// reader went away (`trident generate ... | head`) ends quietly, killed by SIGPIPE like the
/// writer of any pipeline (`yes | head`), with no message.
func runLauncher(_ configuration: LaunchConfiguration) throws {
    do {
        try LocalLauncher(configuration).run()
    } catch .outputClosed {
        signal(SIGPIPE, SIG_DFL)
        raise(SIGPIPE)
        exit(141)
    } catch {
        throw ExitMessage("\(error)")
    }
}

/// Runs this node's elastic agent and turns its failure into the CLI's one-line error.
func runElastic(_ configuration: LaunchConfiguration, policy: ElasticPolicy) throws {
    do {
        let tuned = try policy.overridden()
        try ElasticAgent(configuration, policy: tuned).run()
    } catch {
        throw ExitMessage("\(error)")
    }
}
