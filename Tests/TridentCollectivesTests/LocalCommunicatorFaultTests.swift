import Testing
import TridentCollectives

/// Splits, deadlines, mismatched calls and poisoning on `LocalCommunicator`.
@Suite struct LocalCommunicatorFaultTests {
    @Test func splitFormsGroupsOrderedByKeyThenRank() throws {
        let results = try LocalCommunicator.run(size: 6) { comm in
            // Colors: even / odd ranks; key reverses the order inside each group.
            let sub = try comm.split(color: comm.rank % 2, key: -comm.rank)
            var value: [Int32] = [Int32(comm.rank)]
            try sub.allReduce(&value, op: .sum)
            let gathered = try sub.allGather([Int32(comm.rank)])
            return (sub.rank, sub.size, value[0], gathered, sub.groupName)
        }
        for (rank, (subRank, subSize, sum, gathered, name)) in results.enumerated() {
            #expect(subSize == 3)
            #expect(sum == (rank % 2 == 0 ? 0 + 2 + 4 : 1 + 3 + 5))
            #expect(gathered == (rank % 2 == 0 ? [4, 2, 0] : [5, 3, 1]))
            #expect(subRank == 2 - rank / 2)
            #expect(name.hasPrefix("world"))
        }
    }

    @Test func absentRankTimesOutNamingItAndPoisons() throws {
        let options = CommunicatorOptions(operationTimeout: .milliseconds(300), livenessTimeout: .milliseconds(300))
        let started = ContinuousClock.now
        let errors = try LocalCommunicator.run(size: 3, options: options) { comm -> CollectiveError? in
            guard comm.rank != 2 else { return nil }   // rank 2 never shows up
            var values: [Float] = [1, 2, 3]
            do {
                try comm.allReduce(&values, op: .sum)
                return nil
            } catch let error as CollectiveError {
                // Later calls fail at once with .poisoned naming the first error.
                let again = ContinuousClock.now
                do { try comm.barrier() } catch let later as CollectiveError {
                    #expect(later.kind == .poisoned)
                    #expect(later.description.contains("allReduce"))
                }
                #expect(ContinuousClock.now - again < .milliseconds(50))
                return error
            }
        }
        #expect(ContinuousClock.now - started < .seconds(3))
        let reported = errors.compactMap { $0 }
        #expect(reported.count == 2)
        #expect(reported.contains { $0.kind == .timeout && $0.peer == 2 })
        for error in reported {
            #expect(error.kind == .timeout || error.kind == .peerFailed)
            #expect(error.description.contains("allReduce"))
            #expect(error.description.contains("rank 2") || error.description.contains("[2]"))
        }
    }

    @Test func mismatchedCallsAreProtocolViolations() throws {
        let errors = try LocalCommunicator.run(size: 2) { comm -> CollectiveError.Kind? in
            var values = [Float](repeating: 1, count: comm.rank + 1)   // 1 vs 2 elements
            do { try comm.allReduce(&values, op: .sum); return nil } catch let error as CollectiveError {
                return error.kind
            }
        }
        #expect(errors.allSatisfy { $0 == .protocolViolation || $0 == .peerFailed })
        #expect(errors.contains(.protocolViolation))
    }

    @Test func receiveOfWrongSizeIsProtocolViolation() throws {
        let kinds = try LocalCommunicator.run(size: 2) { comm -> CollectiveError.Kind? in
            if comm.rank == 0 { try comm.send([Float](repeating: 0, count: 4), to: 1, tag: 1); return nil }
            do { _ = try comm.receive(Float.self, count: 3, from: 0, tag: 1); return nil } catch let error as CollectiveError {
                return error.kind
            }
        }
        #expect(kinds == [nil, .protocolViolation])
    }

    @Test func receiveWithoutSenderTimesOut() throws {
        let options = CommunicatorOptions(operationTimeout: .milliseconds(150))
        let comm = LocalCommunicator.makeGroup(size: 2, options: options)[1]
        #expect(throws: CollectiveError.self) { _ = try comm.receive(Float.self, count: 1, from: 0, tag: 3) }
        do { try comm.barrier() } catch let error as CollectiveError { #expect(error.kind == .poisoned) }
    }

    @Test func invalidArgumentsThrow() throws {
        let comm = LocalCommunicator.makeGroup(size: 1)[0]
        var odd = [UInt8](repeating: 0, count: 5)
        #expect(throws: CollectiveError.self) {
            try odd.withUnsafeMutableBytes { try comm.allReduce($0, type: .float32, op: .sum) }
        }
        let other = LocalCommunicator.makeGroup(size: 2)[0]
        #expect(throws: CollectiveError.self) { try other.send([Float(1)], to: 5, tag: 0) }
    }

    @Test func errorDescriptionNamesEverything() {
        let error = CollectiveError(.peerDisconnected, operation: "allReduce", rank: 1, peer: 0, group: "tp[0,1]",
                                    detail: "connection reset", elapsed: .milliseconds(3200))
        #expect(error.description == "rank 1: allReduce in group tp[0,1] failed: peer rank 0 disconnected (connection reset) after 3.2 s")
    }
}
