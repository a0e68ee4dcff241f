import ArgumentParser

struct BenchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Benchmarks that print numbers.",
        subcommands: [BenchModelCommand.self, BenchAllReduceCommand.self, BenchTrainCommand.self, BenchKernelsCommand.self])
}
