import ArgumentParser
import Foundation
import TridentPlanner

/// `trident plan --mode training --measure FILE...`: the planner's prediction beside measured
/// training runs (`trident train --json` / `trident bench train --json` output).
extension PlanCommand {
    /// Reads every measurement (a file, or `-` for standard input), prices each run's grid and
    /// workload in float32 as trident trains, and prints predicted next to measured.
    /// - Throws: `ExitMessage` for an unreadable file or one without a summary line.
    func compareTrainingMeasurements() throws {
        var clusterOptions = cluster
        if clusterOptions.devicePreset == nil { clusterOptions.devicePreset = .cpuLocal }
        var plannerModel = try ModelSource.resolve(model)
        if model.lowercased().hasSuffix(".gguf") { plannerModel = try PlanModelFormats.applying(to: plannerModel, path: model) }
        let host = clusterOptions.cluster(calibration: nil)
        var comparisons: [TrainingComparison] = []
        for path in measurementFiles {
            let text = path == "-" ? try InputFile.standardInput(option: "--measure")
                : try InputFile.text(path, option: "--measure")
            let runs: [TrainingMeasurement]
            do { runs = try TrainingMeasurement.parse(text, source: path) } catch {
                throw ExitMessage("--measure \(path): \(error)")
            }
            for run in runs {
                guard run.tp <= plannerModel.configuration.headCount, run.pp <= plannerModel.configuration.layerCount else {
                    throw ExitMessage("--measure \(path): a run on tp \(run.tp) x pp \(run.pp) does not fit --model \(model) "
                        + "(\(plannerModel.configuration.headCount) heads, \(plannerModel.configuration.layerCount) layers): is it the model measured?")
                }
                comparisons.append(TrainingComparison(model: plannerModel, cluster: host, measurement: run))
            }
        }
        if json {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
            let report = TrainingMeasurementsReport(model: plannerModel.name,
                                                    measurements: comparisons.map(TrainingComparisonReport.init))
            print(String(decoding: try encoder.encode(report), as: UTF8.self))
            return
        }
        print("Predicted vs measured training (\(plannerModel.name); float32 weights, gradients and AdamW moments, "
            + "16 bytes per parameter; ratio = measured / predicted; peak RSS also holds the runtime and the mapped model file):")
        print(TrainingComparison.renderTable(comparisons))
        if let load = HostFacts.loadAverage {
            print(String(format: "host load average %.2f on %d cores (the measurements' host may differ)", load, HostFacts.cores))
        }
    }
}

/// `{"model": ..., "mode": "training", "measurements": [...]}`.
struct TrainingMeasurementsReport: Encodable {
    var model: String
    var mode = "training"
    var measurements: [TrainingComparisonReport]
}
