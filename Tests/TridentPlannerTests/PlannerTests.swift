import Foundation
import Testing
@testable import TridentPlanner

@Suite struct PlannerTests {
    /// LLaMA-70B on 8 x A100-80GB, as in the design literature: `trident plan --model
    /// llama-70b --devices 8 --device-memory 80GB --device-tflops 312 --intra-node-bandwidth 300GB/s`.
    @Test func llama70bOnEightA100s() throws {
        let plan = Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8), workload: Fixture.inference())
        func find(_ tp: Int, _ pp: Int, _ dp: Int) throws -> Evaluation {
            try #require(plan.evaluations.first { $0.configuration == ParallelConfiguration(tensor: tp, pipeline: pp, data: dp) })
        }
        let dpOnly = try find(1, 1, 8)
        #expect(!dpOnly.fits)
        // 69e9 f16 weights = 138 GB on one device: at least 58 GB lacking.
        #expect(dpOnly.lackingBytes > 58e9)
        for (tp, pp, dp) in [(8, 1, 1), (1, 4, 2), (4, 2, 1), (2, 4, 1)] {
            #expect(try find(tp, pp, dp).fits, "TP\(tp) PP\(pp) DP\(dp) should fit")
        }
        // Batch-1 decode is bound by weight reads: TP8 splits them 8 ways, PP does not.
        #expect(plan.recommended?.configuration == ParallelConfiguration(tensor: 8, pipeline: 1, data: 1))
        #expect(try find(8, 1, 1).cost.tokensPerSecond > find(4, 2, 1).cost.tokensPerSecond)
        #expect(try find(4, 2, 1).cost.tokensPerSecond > find(2, 4, 1).cost.tokensPerSecond)
        #expect(plan.reason.contains("TP=8"))
    }

    @Test func recommendationAlwaysFitsAndUsesEveryDevice() {
        let models = ModelPreset.allCases.map(\.model)
        for model in models {
            for devices in [1, 2, 3, 4, 6, 8, 12, 16] {
                for memory in [8e9, 24e9, 80e9] {
                    for workload in [Fixture.inference(batch: 4), .training(TrainingWorkload(globalBatchSize: 48))] {
                        let plan = Planner.plan(model: model, cluster: Fixture.a100(devices: devices, memory: memory),
                                                workload: workload)
                        #expect(plan.evaluations.allSatisfy { $0.configuration.deviceCount == devices })
                        if let best = plan.recommended {
                            #expect(best.fits && best.configuration.deviceCount == devices)
                            #expect(best == plan.evaluations.first)
                        } else {
                            #expect(plan.evaluations.allSatisfy { !$0.fits })
                        }
                    }
                }
            }
        }
    }

    @Test func prefersTensorParallelInsideANode() throws {
        // 16 devices in 2 nodes of 8 with a slow inter-node link: TP16 must cross nodes.
        let plan = Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 16, perNode: 8, interNodeBandwidth: 12.5e9),
                                workload: Fixture.inference(batch: 16))
        let best = try #require(plan.recommended)
        #expect(best.configuration.tensor <= 8)
        #expect(best.communication.items.filter { $0.kind == .tensorAllReduce }.allSatisfy { $0.link == .intraNode })
        let tp16 = try #require(plan.evaluations.first { $0.configuration.tensor == 16 })
        #expect(tp16.communication.items.first { $0.kind == .tensorAllReduce }?.link == .interNode)
        #expect(tp16.cost.tokensPerSecond < best.cost.tokensPerSecond)
    }

    @Test func doesNotFitAnywhereSaysHowMuchIsLacking() {
        let plan = Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 1), workload: Fixture.inference())
        #expect(plan.recommended == nil)
        #expect(plan.evaluations.count == 1 && !plan.evaluations[0].fits)
        #expect(plan.reason.contains("Does not fit"))
        #expect(plan.reason.contains(Formatting.bytes(plan.evaluations[0].lackingBytes)))
    }

    @Test func oneDeviceIsEnoughForASmallModel() throws {
        let one = Planner.plan(model: Fixture.smol, cluster: Fixture.a100(devices: 1), workload: Fixture.inference())
        #expect(one.recommended?.configuration == ParallelConfiguration(tensor: 1, pipeline: 1, data: 1))
        #expect(one.reason.contains("one device"))
        // Four devices, batch 1: splitting only adds communication; a full replica per device wins.
        let four = Planner.plan(model: Fixture.smol, cluster: Fixture.a100(devices: 4), workload: Fixture.inference())
        let best = try #require(four.recommended)
        #expect(best.configuration.tensor == 1 && best.configuration.pipeline == 1)
        #expect(four.reason.contains("one device"))
    }

    @Test func jsonHasTheContractFields() throws {
        let plan = Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8), workload: Fixture.inference())
        let data = Data(try PlanReport(plan).jsonString().utf8)
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let configurations = try #require(object["configurations"] as? [[String: Any]])
        #expect(configurations.count == plan.evaluations.count)
        for key in ["tp", "pp", "dp", "fits", "memory_per_device_bytes", "tokens_per_second",
                    "communication_share", "bubble_share", "communication"] {
            #expect(configurations[0][key] != nil, "missing \(key)")
        }
        let recommended = try #require(object["recommended"] as? [String: Any])
        #expect(recommended["tp"] as? Int == 8)
        #expect(object["reason"] as? String == plan.reason)

        let none = Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 1), workload: Fixture.inference())
        let noneObject = try #require(try JSONSerialization.jsonObject(with: Data(try PlanReport(none).jsonString().utf8))
            as? [String: Any])
        #expect(noneObject["recommended"] is NSNull)
    }

    @Test func textTableListsEveryConfiguration() {
        let plan = Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8), workload: Fixture.inference())
        let text = plan.renderText()
        #expect(text.contains("memory/device") && text.contains("bubble %"))
        #expect(text.contains("Recommended: TP=8 x PP=1 x DP=1"))
        #expect(text.contains("tensor_all_reduce"))
        #expect(text.split(separator: "\n").filter { $0.hasSuffix("yes") || $0.contains("no (lacks") }.count
            == plan.evaluations.count)
    }
}

@Suite struct CandidateTests {
    @Test func parsesTPxPPxDP() throws {
        #expect(try ParallelConfiguration.parse("4x2x1") == ParallelConfiguration(tensor: 4, pipeline: 2, data: 1))
        #expect(throws: PlannerError.malformedConfiguration("4x2")) { try ParallelConfiguration.parse("4x2") }
        #expect(throws: PlannerError.malformedConfiguration("0x8x1")) { try ParallelConfiguration.parse("0x8x1") }
    }

    @Test func rejectsCandidatesThatDoNotUseEveryDevice() {
        let bad = ParallelConfiguration(tensor: 4, pipeline: 1, data: 1)
        #expect(throws: PlannerError.self) {
            try Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8), workload: Fixture.inference(),
                             candidates: [bad])
        }
    }

    @Test func theLiteratureScenarioOrdersTP8First() throws {
        let candidates = try ["8x1x1", "1x4x2", "4x2x1", "2x4x1", "1x1x8"].map { try ParallelConfiguration.parse($0) }
        let plan = try Planner.plan(model: Fixture.llama70b, cluster: Fixture.a100(devices: 8),
                                    workload: Fixture.inference(batch: 8), candidates: candidates)
        #expect(plan.evaluations.map(\.configuration.description)
            == ["TP=8 PP=1 DP=1", "TP=4 PP=2 DP=1", "TP=2 PP=4 DP=1", "TP=1 PP=4 DP=2", "TP=1 PP=1 DP=8"])
        #expect(plan.evaluations.last?.fits == false)
    }
}
