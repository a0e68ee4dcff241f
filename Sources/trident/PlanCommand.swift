import ArgumentParser

// Placeholder: replaced by the owner of this command.
struct PlanCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "plan")
}
