import Testing
import TridentCollectives

@Suite struct CollectiveSelfTestTests {
    @Test(arguments: [1, 3, 4])
    func selfTestPassesOnLocalBackend(size: Int) throws {
        let failures = try LocalCommunicator.run(size: size) { try CollectiveSelfTest.run(on: $0, counts: [0, 1, 7, 999]) }
        for rankFailures in failures { #expect(rankFailures.isEmpty, "\(rankFailures)") }
    }

    @Test func benchmarkChecksAndMeasures() throws {
        let results = try LocalCommunicator.run(size: 3) { comm in
            try CollectiveBenchmark.allReduce(on: comm, sizes: [4, 6000, 100_000], iterations: 3, warmup: 1)
        }
        #expect(results[0].map(\.bytes) == [4, 6000, 100_000])
        for result in results[0] {
            #expect(result.correct)
            #expect(result.seconds > 0)
            #expect(abs(result.busBandwidth - result.algorithmBandwidth * 4 / 3) < 1e-9 * max(1, result.busBandwidth))
        }
        #expect(results[0][2].json.hasPrefix("{\"bytes\":100000,\"seconds\":"))
        #expect(results[1] == results[0])
    }
}
