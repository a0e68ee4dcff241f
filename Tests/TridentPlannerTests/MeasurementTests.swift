import Foundation
import Testing
@testable import TridentPlanner

/// A measurement runner that returns canned speeds, recording what it was asked to run;
/// with `tensorOnly` it refuses pipelines, as a runner short of cores would.
final class FakeRunner: MeasurementRunner, @unchecked Sendable {
    var asked: [ParallelConfiguration] = []
    var tensorOnly = false

    func unmeasurableReason(for configuration: ParallelConfiguration) -> String? {
        tensorOnly && configuration.pipeline > 1 ? "not measured (needs more cores)" : nil
    }

    func measure(_ configuration: ParallelConfiguration, workload: Workload) throws -> MeasuredRun {
        asked.append(configuration)
        return MeasuredRun(tokensPerSecond: 10, seconds: 1, decodeTokensPerSecond: 12, peakMemoryBytes: 2e9,
                           communicationShare: 0.2)
    }
}

@Suite struct MeasurementHookTests {
    @Test func comparesTheTopFittingConfigurationsInOrder() throws {
        let plan = Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8), workload: Fixture.inference())
        let runner = FakeRunner()
        let comparisons = try plan.compare(with: runner, top: 3)
        #expect(runner.asked == plan.evaluations.filter(\.fits).prefix(3).map(\.configuration))
        #expect(comparisons.count == 3)
        let first = try #require(comparisons.first)
        let error = try #require(first.relativeError)
        #expect(abs(error - (10 / first.predictedTokensPerSecond - 1)) < 1e-12)
    }

    @Test func unmeasurableConfigurationsAreListedWithTheirReasonNotRun() throws {
        let plan = Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8), workload: Fixture.inference())
        let runner = FakeRunner()
        runner.tensorOnly = true
        let comparisons = try plan.compare(with: runner, top: 6)
        #expect(runner.asked.allSatisfy { $0.pipeline == 1 })
        let pipelined = comparisons.filter { $0.configuration.pipeline > 1 }
        #expect(!pipelined.isEmpty)
        #expect(pipelined.allSatisfy { $0.measured == nil && $0.note == "not measured (needs more cores)" })
        #expect(pipelined.allSatisfy { $0.decodeRatio == nil && $0.decodeWithin(0.3) == nil })
        let table = Comparison.renderTable(comparisons)
        #expect(table.contains("not measured (needs more cores)"))
    }
}

@Suite struct ComparisonMathTests {
    func comparison(decode: Double, measuredDecode: Double?) -> Comparison {
        let estimate = CostEstimate(tokensPerSecond: 40, prefillTokensPerSecond: 100, decodeTokensPerSecond: decode,
                                    seconds: 2, communicationShare: 0.25, bubbleShare: 0)
        let measured = measuredDecode.map {
            MeasuredRun(tokensPerSecond: 30, seconds: 3, decodeTokensPerSecond: $0, peakMemoryBytes: 150e6,
                        communicationShare: 0.5)
        }
        return Comparison(configuration: ParallelConfiguration(tensor: 2, pipeline: 1, data: 1), predicted: estimate,
                          predictedMemoryBytes: 100e6, measured: measured, note: measured == nil ? "not run" : nil)
    }

    @Test func ratiosAreMeasuredOverPredicted() throws {
        let c = comparison(decode: 50, measuredDecode: 40)
        #expect(c.decodeRatio == 0.8)
        #expect(c.memoryRatio == 1.5)
        #expect(c.communicationRatio == 2)
        #expect(try #require(c.relativeError) == -0.25)
    }

    @Test func toleranceIsRelativeToTheMeasurement() {
        // 50 predicted vs 40 measured: 25% off -> within 30%; vs 38: 31.6% off -> not.
        #expect(comparison(decode: 50, measuredDecode: 40).decodeWithin(0.3) == true)
        #expect(comparison(decode: 50, measuredDecode: 38).decodeWithin(0.3) == false)
        // 29 predicted vs 40 measured: 27.5% low -> within; 27 vs 40: 32.5% low -> not.
        #expect(comparison(decode: 29, measuredDecode: 40).decodeWithin(0.3) == true)
        #expect(comparison(decode: 27, measuredDecode: 40).decodeWithin(0.3) == false)
        #expect(comparison(decode: 50, measuredDecode: nil).decodeWithin(0.3) == nil)
    }

    @Test func tableShowsPredictedMeasuredAndRatio() {
        let table = Comparison.renderTable([comparison(decode: 50, measuredDecode: 40),
                                            comparison(decode: 50, measuredDecode: nil)])
        let lines = table.split(separator: "\n").map(String.init)
        #expect(lines.count == 3)
        #expect(lines[1].contains("TP=2 x PP=1 x DP=1") && lines[1].contains("0.80") && lines[1].contains("1.50"))
        #expect(lines[2].contains("not run"))
    }

    @Test func planJSONCarriesMeasurementsOnlyWhenGiven() throws {
        let plan = Planner.plan(model: Fixture.smol, cluster: Fixture.a100(devices: 1), workload: Fixture.inference())
        let plain = try #require(try JSONSerialization.jsonObject(with: Data(PlanReport(plan).jsonString().utf8))
            as? [String: Any])
        #expect(plain["measurements"] == nil)
        let with = PlanReport(plan, measurements: [comparison(decode: 50, measuredDecode: 40)],
                              calibration: ["memory bandwidth ..."])
        let object = try #require(try JSONSerialization.jsonObject(with: Data(with.jsonString().utf8)) as? [String: Any])
        let rows = try #require(object["measurements"] as? [[String: Any]])
        #expect(rows.count == 1 && rows[0]["tp"] as? Int == 2 && rows[0]["decode_ratio"] as? Double == 0.8)
        #expect((object["calibration"] as? [String])?.count == 1)
    }
}
