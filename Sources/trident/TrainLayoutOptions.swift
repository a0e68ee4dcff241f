import ArgumentParser
import Foundation
import TridentFormats
import TridentLauncher
import TridentModel
import TridentPlanner

/// A `--tp/--pp/--dp` value of `trident train`: a number, or `auto`.
enum LayoutDegree: Equatable, ExpressibleByArgument, CustomStringConvertible {
    case auto
    case fixed(Int)

    init?(argument: String) {
        if argument == "auto" { self = .auto; return }
        guard let value = Int(argument) else { return nil }
        self = .fixed(value)
    }

    var value: Int? { if case .fixed(let n) = self { n } else { nil } }
    var description: String { value.map(String.init) ?? "auto" }
    var defaultValueDescription: String { description }
}

/// The parallel flags of `trident train`: those of `ParallelOptions`, where `--tp`, `--pp` and
/// `--dp` also take `auto` (chosen for the launcher's WORLD_SIZE by `ElasticLayout`, so a job
/// restarted on fewer or more nodes re-plans its layout and resumes with `--resume auto`).
struct TrainParallelOptions: ParsableArguments {
    @Option(name: [.long, .customLong("tensor-parallel-size"), .customLong("tp", withSingleDash: true)],
            parsing: .unconditional,
            help: "Tensor-parallel ranks (attention heads and MLP split across them), or auto.")
    var tp: LayoutDegree = .fixed(1)

    @Option(name: [.long, .customLong("pipeline-parallel-size"), .customLong("pp", withSingleDash: true)],
            parsing: .unconditional,
            help: "Pipeline-parallel stages (contiguous blocks per stage), or auto.")
    var pp: LayoutDegree = .fixed(1)

    @Option(parsing: .unconditional,
            help: "Data-parallel replicas, or auto: WORLD_SIZE / (tp x pp) under a launcher (trident launch, torchrun); with auto anywhere, explicit values are kept when they fit WORLD_SIZE, else shrunk.")
    var dp: LayoutDegree = .fixed(1)

    @Option(parsing: .unconditional, help: "Blocks per pipeline stage, e.g. 10,10,10 (default: balanced by estimated cost).")
    var pipelineLayers: String?

    @Option(help: "Backend for more than one rank: local (threads), tcp (processes), mpi (mpirun). Default: tcp under a launcher (RANK set), else local.")
    var backend: Backend?

    var hasAuto: Bool { [tp, pp, dp].contains(.auto) }

    func validate() throws {
        for (name, degree) in [("--tp", tp), ("--pp", pp), ("--dp", dp)] {
            if let value = degree.value { try OptionCheck.integer(value, in: 1...4096, name) }
        }
        if !hasAuto { _ = try explicit(backend: .local) }
    }

    /// The `ParallelOptions` of this run, `auto` resolved for the launcher's WORLD_SIZE (else 1
    /// per auto axis), with the choice and its reason. `architecture` (heads and layers) is read
    /// only when an axis is auto.
    func resolve(architecture: () throws -> ModelConfiguration, microBatch: Int, globalBatch: Int?) throws -> (ParallelOptions, String?) {
        let worker = try WorkerEnvironment.current()
        let backend = self.backend ?? (worker.map { $0.worldSize > 1 } == true ? .tcp : .local)
        guard hasAuto else { return (try explicit(backend: backend), nil) }
        let request = ElasticLayout.Request(tensor: tp.value, pipeline: pp.value, data: dp.value)
        let world = worker?.worldSize ?? (request.tensor ?? 1) * (request.pipeline ?? 1) * (request.data ?? 1)
        let configuration = try architecture()
        let choice: ElasticLayout.Choice
        do {
            choice = try ElasticLayout.choose(request, world: world, limits: .init(
                heads: configuration.headCount, layers: configuration.layerCount, microBatch: microBatch, globalBatch: globalBatch))
        } catch { throw ExitMessage("\(error)") }
        if pipelineLayers != nil && choice.pipeline != pp.value {
            throw ExitMessage("--pipeline-layers needs a fixed --pp; the layout chose --pp \(choice.pipeline)")
        }
        var options = try explicit(backend: backend)
        options.tp = choice.tensor
        options.pp = choice.pipeline
        options.dp = choice.data
        return (options, "layout --tp \(choice.tensor) --pp \(choice.pipeline) --dp \(choice.data): \(choice.reason)")
    }

    /// The equivalent `ParallelOptions` (auto axes as 1), parsed as from a command line.
    private func explicit(backend: Backend) throws -> ParallelOptions {
        var arguments = ["--tp", String(tp.value ?? 1), "--pp", String(pp.value ?? 1), "--dp", String(dp.value ?? 1),
                         "--backend", backend.rawValue]
        if let pipelineLayers, !hasAuto || pp.value != nil { arguments += ["--pipeline-layers", pipelineLayers] }
        return try ParallelOptions.parse(arguments)
    }
}
