import ArgumentParser

@main
struct Trident: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trident",
        abstract: "Distributed Llama inference in Swift.",
        subcommands: [PlanCommand.self, LaunchCommand.self, BenchCommand.self, CollectiveSelfTestCommand.self])
}
