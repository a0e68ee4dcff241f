import ArgumentParser

@main
struct Trident: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trident",
        abstract: "Distributed Llama inference in Swift.",
        subcommands: [GenerateCommand.self, PerplexityCommand.self, InfoCommand.self, TokenizeCommand.self,
                      PlanCommand.self, LaunchCommand.self, BenchCommand.self, CollectiveSelfTestCommand.self])
}
