import ArgumentParser

// Placeholder: replaced by the owner of this command.
struct LaunchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "launch")
}
