import ArgumentParser
import Foundation
import TridentPlanner

/// `trident plan`: recommends a TP/PP/DP split before anything is loaded.
struct PlanCommand: ParsableCommand, RunsRanks {
    static let configuration = CommandConfiguration(
        commandName: "plan",
        abstract: "Predict memory and speed of every TP x PP x DP split and recommend one.",
        discussion: """
            Sizes: GB = 1e9 bytes, GiB = 2^30 bytes; rates: 300GB/s (bytes),
            25Gb/s (bits).
            Llama 2 70B on one node of 8 x A100-80GB, the literature's splits
            (TP8; PP4 x DP2; TP4 x PP2; TP2 x PP4; DP8, which does not fit):
              trident plan --model llama-70b --devices 8 --device-memory 80GB \\
                --device-tflops 312 --intra-node-bandwidth 300GB/s \\
                --configurations 8x1x1,1x4x2,4x2x1,2x4x1,1x1x8

            --device-preset cpu-local: this host as the CPU engine uses it. One
            device = one core running one rank with one thread; TCP/shared-memory
            links; f32 KV cache and activations; memory = RAM / cores. Defaults,
            measured on the 2-core development host (SmolLM2-135M Q4_1, prompt
            128, 128 decode steps, load average 3-9):
            - memory bandwidth 3.5 GB/s = bytes per decode step (weights + KV
              cache, as the cost model counts them) x decode tokens/s of
              `trident bench model --model M --tp 1 --threads 1 --json`
              (effective: includes dequantization);
            - compute 37 GFLOP/s = prefill FLOPs / prefill seconds (same run).
              A core's compute and memory times add up (no roofline overlap);
              --calibrate solves both rates from the prefill and decode times;
            - link bandwidth 1.35 GB/s: alpha-beta fit of `trident bench
              allreduce --backend tcp --nproc 2 --sizes 2304,4096,196608 --json`;
            - link latency 230 us: one 2304-byte all-reduce between two ranks
              that compute ~220 us between collectives (the probe below); the
              back-to-back bench gives 1-14 us, but on a busy host a rank
              mostly waits for its peer to be scheduled.
            --calibrate re-measures all four for the given GGUF (about 20 s):
            the two benches, then the probe: two ranks spin for half a TP=1
            decode step / (2 x layers + 1) between all-reduces (as TP=2 ranks
            compute between collectives); if that costs more than the fit, the
            difference becomes the link latency. Explicit options still win.

            --measure (GGUF model, inference) runs the one-device TP=1 baseline
            and the top configurations that need at most one core per rank, each
            with `trident bench model --tp T --pp P --dp D --prompts <batch>
            --backend tcp --threads 1 --json` as a child of this binary (prompt
            and decode lengths from --prompt-length/--output-length), and prints
            predicted vs measured decode tokens/s, memory per device (plus this
            process's RSS as the runtime baseline) vs peak RSS, communication
            share, and measured/predicted ratios. Configurations needing more
            cores are listed as not measured. On a shared host results move with
            the load (printed at the end). Calibration check (SmolLM2, TP=1 and TP=2):
              trident plan --model models/SmolLM2-135M-Instruct.Q4_1.gguf \\
                --device-preset cpu-local --devices 2 --prompt-length 128 \\
                --output-length 128 --calibrate --measure

            --mode training --measure FILE... compares measured training runs
            with the planner: each FILE holds `trident train --json` or
            `trident bench train --json` output (one summary line per run; -
            reads standard input). Each run's grid and workload (--seq-len,
            --micro-batch, --accumulate, --zero, --recompute) is priced in
            float32 as trident trains (weights, gradients and both AdamW
            moments: 16 bytes per parameter; trident's saved activations), on
            cpu-local unless another preset is given:
              trident bench train --model M --seq-len 256 --json > runs.jsonl
              trident bench train --model M --seq-len 256 --recompute --json >> runs.jsonl
              trident plan --model M --mode training --measure runs.jsonl
            """)

    enum Mode: String, ExpressibleByArgument, CaseIterable {
        case inference, training
    }

    @Option(help: "A preset (\(ModelPreset.allCases.map(\.rawValue).joined(separator: ", "))) or a .gguf/.safetensors path.")
    var model: String
    @OptionGroup(title: "Cluster") var cluster: PlanClusterOptions
    @OptionGroup var logging: LoggingOptions
    @Option(help: "What to plan for.") var mode: Mode = .inference
    @OptionGroup(title: "Inference workload") var inference: PlanInferenceOptions
    @OptionGroup(title: "Training workload") var training: PlanTrainingOptions
    @Option(parsing: .unconditional, help: "Evaluate only these configurations, TPxPPxDP separated by commas (e.g. 8x1x1,4x2x1).")
    var configurations: String?
    @Flag(help: "Print the plan as one JSON object.") var json = false
    @Flag(help: "Measure this host's rates (bench model TP=1, bench allreduce) and plan with them; implies --device-preset cpu-local.")
    var calibrate = false
    @Flag(help: "Inference: run the top configurations that fit this host's cores locally and print measured next to predicted. Training (--mode training): compare the runs in the FILE arguments.")
    var measure = false
    @Argument(help: ArgumentHelp("With --mode training --measure: files of `trident train --json` or `trident bench train --json` output (- for standard input); each run is priced in float32 on its own grid and printed beside its measured tokens/s, memory and saved activations.", valueName: "FILE"))
    var measurementFiles: [String] = []
    @Option(parsing: .unconditional, help: "With --measure: how many of the top fitting configurations to list.") var measureTop = 3
    @Option(parsing: .unconditional, help: "With --measure/--calibrate: repetitions of each bench run (the best is kept).") var measureRepetitions = 2
    @Flag(help: .hidden) var probeCollectives = false
    @Option(help: .hidden) var probeGapUs: Double = 200
    @Option(help: .hidden) var probeBytes: Int = 2304
    @Option(help: .hidden) var probeIterations: Int = 1000

    func validate() throws {
        if probeCollectives {
            try OptionCheck.real(probeGapUs, "--probe-gap-us", "in [0, 1e6]") { $0 >= 0 && $0 <= 1e6 }
            try OptionCheck.integer(probeBytes, in: 4...(1 << 30), "--probe-bytes")
            try OptionCheck.integer(probeIterations, in: 1...1_000_000, "--probe-iterations")
            return
        }
        try OptionCheck.integer(measureTop, in: 1...100, "--measure-top")
        try OptionCheck.integer(measureRepetitions, in: 1...1000, "--measure-repetitions")
        if !measurementFiles.isEmpty {
            guard measure, !calibrate else {
                throw ValidationError("measurement files are read by --measure: trident plan --mode training --measure FILE")
            }
            guard mode == .training else { throw ValidationError("--measure FILE compares training runs: add --mode training") }
            return
        }
        if let configurations, configurations.trimmingCharacters(in: .whitespaces).isEmpty {
            throw ValidationError("--configurations is empty: give TPxPPxDP values separated by commas, e.g. 8x1x1,4x2x1")
        }
        guard measure || calibrate else { return }
        guard model.lowercased().hasSuffix(".gguf") else {
            throw ValidationError("--measure and --calibrate run the engine: --model must be a .gguf file, got '\(model)'")
        }
        guard mode == .inference else {
            throw ValidationError("--measure and --calibrate run inference benchmarks; to compare training runs, give their `trident bench train --json` output: --mode training --measure FILE")
        }
        if calibrate, let preset = cluster.devicePreset, preset != .cpuLocal {
            throw ValidationError("--calibrate measures this host: use --device-preset cpu-local (or none), not \(preset.rawValue)")
        }
    }

    func run() throws {
        if probeCollectives {
            return try CollectiveProbe.run(gapSeconds: probeGapUs / 1e6, bytes: probeBytes, iterations: probeIterations)
        }
        if !measurementFiles.isEmpty { return try compareTrainingMeasurements() }
        var clusterOptions = cluster
        if calibrate { clusterOptions.devicePreset = .cpuLocal }
        var plannerModel = try ModelSource.resolve(model)
        if model.lowercased().hasSuffix(".gguf") { plannerModel = try PlanModelFormats.applying(to: plannerModel, path: model) }
        let device = clusterOptions.preset.device
        let workload: Workload = mode == .inference
            ? .inference(try inference.workload(model: plannerModel, device: device)) : .training(training.workload())
        let runner = BenchModelRunner(modelPath: model, promptTokens: inference.promptLength,
                                      decodeTokens: inference.outputLength, repetitions: measureRepetitions,
                                      cores: HostFacts.cores)
        var calibration: HostCalibration?
        if calibrate, case .inference(let w) = workload {
            let singleRank = try runner.benchmark(tensor: 1)
            let c = plannerModel.configuration
            let sizes = Array(Set([c.hiddenSize * 4, 4096, c.vocabularySize * 4])).sorted()
            let fitted = try HostCalibration(model: plannerModel, formats: w, singleRank: singleRank,
                                             allReduce: try runner.allReduce(sizes: sizes))
            // The engine's TP=2 ranks compute about half a TP=1 decode step between their
            // 2 x layers + 1 collectives per token.
            let collectives = 2 * c.layerCount + 1
            let gap = 1 / singleRank.decodeTokensPerSecond / 2 / Double(collectives)
            calibration = fitted.including(try CollectiveProbe.measure(
                modelPath: model, gapSeconds: gap, bytes: c.hiddenSize * 4, iterations: 16 * collectives))
        }
        let machines = clusterOptions.cluster(calibration: calibration)
        let plan: Plan
        if let configurations {
            let candidates = try configurations.split(separator: ",").map { try ParallelConfiguration.parse(String($0)) }
            plan = try Planner.plan(model: plannerModel, cluster: machines, workload: workload, candidates: candidates)
        } else {
            plan = Planner.plan(model: plannerModel, cluster: machines, workload: workload)
        }
        // Peak RSS counts the runtime every process pays; add this process's as the baseline.
        let runtimeBytes = HostFacts.residentBytes ?? 0
        let comparisons = measure
            ? try measurements(plan: plan, runner: runner).map { c -> Comparison in
                var adjusted = c
                adjusted.predictedMemoryBytes += runtimeBytes
                return adjusted
            } : nil
        if json {
            print(try PlanReport(plan, measurements: comparisons, calibration: calibration?.derivation).jsonString())
            return
        }
        print(plan.renderText())
        if let calibration {
            print("\nCalibrated on this host:")
            for line in calibration.derivation { print("  " + line) }
        }
        if let comparisons {
            print("\nPredicted vs measured (decode tokens/s; ratio = measured / predicted; predicted memory includes "
                + "a \(Formatting.bytes(runtimeBytes)) runtime baseline, this process's RSS):")
            print(Comparison.renderTable(comparisons))
            if let load = HostFacts.loadAverage {
                let warning = load > Double(HostFacts.cores) ? " -- busier than its cores: multi-rank runs are slowed" : ""
                print(String(format: "host load average %.2f on %d cores%@", load, HostFacts.cores, warning))
            }
        }
    }

    /// The one-device TP=1 baseline (when the plan has more devices) and the plan's top
    /// fitting configurations, measured where the runner can run them.
    private func measurements(plan: Plan, runner: BenchModelRunner) throws -> [Comparison] {
        var comparisons: [Comparison] = []
        if plan.cluster.deviceCount > 1 {
            var single = plan.cluster
            single.deviceCount = 1
            single.devicesPerNode = 1
            let baseline = Planner.plan(model: plan.model, cluster: single, workload: plan.workload)
            comparisons += try baseline.compare(with: runner, top: 1)
        }
        return comparisons + (try plan.compare(with: runner, top: measureTop))
    }
}
