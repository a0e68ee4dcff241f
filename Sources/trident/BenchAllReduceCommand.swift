import ArgumentParser

// Placeholder: replaced by the owner of this command.
struct BenchAllReduceCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "allreduce")
}
