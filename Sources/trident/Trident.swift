import ArgumentParser
import Foundation
import Logging
import TridentLauncher

@main
struct Trident: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trident",
        abstract: "Distributed Llama inference in Swift.",
        version: TridentVersion.string,
        subcommands: [GenerateCommand.self, TrainCommand.self, PerplexityCommand.self, InfoCommand.self, TokenizeCommand.self,
                      QuantizeCommand.self,
                      PlanCommand.self, LaunchCommand.self, BenchCommand.self, CollectiveSelfTestCommand.self,
                      ServeCommand.self, ExportCommand.self, TraceCommand.self])

    /// Parses and runs a command. Help goes to stdout; any error becomes one line on stderr
    /// (`trident: error: ...`) and a non-zero exit status.
    static func main() {
        LauncherWatch.install()   // a launched worker dies with its launcher
        do {
            var command = try parseAsRoot()
            LogSetup.bootstrap(level: try LogSetup.level(option: (command as? any RunsRanks)?.logging.logLevel))
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            let message = Self.message(for: error)
                .split(whereSeparator: \.isNewline)
                .map { $0.trimmingCharacters(in: .whitespaces) }
                .joined(separator: " ")
            // An error without text (ExitCode) was already reported by whoever threw it.
            if !message.isEmpty { FileHandle.standardError.write(Data("trident: error: \(message)\n".utf8)) }
            Foundation.exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}
