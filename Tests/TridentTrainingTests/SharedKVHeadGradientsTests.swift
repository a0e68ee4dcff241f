import Testing
import TridentCollectives
import TridentModel
@testable import TridentTraining

/// A KV head held by two tensor ranks gets the sum of both ranks' gradients; the global norm
/// counts it once.
@Suite struct SharedKVHeadGradientsTests {
    /// TP 2 over 3 KV heads: rank 0 holds heads 0, 1; rank 1 holds 1, 2 (head 1 straddles).
    @Test func straddlingHeadIsSummedAndCountedOnce() throws {
        let perHead = 5
        let holdings = [[0, 1], [1, 2]]
        let local = (0..<2).map { randomFloats(2 * perHead, seed: 400 + UInt64($0)) }
        let results = try LocalCommunicator.run(size: 2) { comm in
            var gradient = local[comm.rank]
            try gradient.withBase {
                try SharedKVHeadGradients.sum($0, elementsPerHead: perHead, globalHeads: holdings[comm.rank],
                                              totalKVHeads: 3, group: comm)
            }
            let norm = try gradient.withUnsafeMutableBufferPointer { buffer in
                let straddling = UnsafeMutableBufferPointer(rebasing: buffer[(comm.rank == 0 ? perHead : 0)..<(comm.rank == 0 ? 2 * perHead : perHead)])
                let own = UnsafeMutableBufferPointer(rebasing: buffer[(comm.rank == 0 ? 0 : perHead)..<(comm.rank == 0 ? perHead : 2 * perHead)])
                return try GradientClipping.globalNorm([TaggedGradient(own, sharing: .sharded),
                                                        TaggedGradient(straddling, sharing: .duplicated(owner: comm.rank == 0))],
                                                       tensorGroup: comm)
            }
            return (gradient, norm)
        }
        let head0 = Array(local[0][0..<perHead]), head2 = Array(local[1][perHead...])
        let head1 = (0..<perHead).map { local[0][perHead + $0] + local[1][$0] }
        #expect(results[0].0 == head0 + head1)
        #expect(results[1].0 == head1 + head2)
        let oneRank = (head0 + head1 + head2).reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        for (_, norm) in results { #expect(abs(norm - oneRank) <= 1e-6 * oneRank) }
    }
}
