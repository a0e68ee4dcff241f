import Foundation
import Testing
import TridentCollectives

/// `TimedCommunicator` forwards every call unchanged and adds up the time spent inside them.
@Suite struct TimedCommunicatorTests {
    @Test func forwardsCollectivesAndPointToPoint() throws {
        let results = try LocalCommunicator.run(size: 3) { inner -> [Float] in
            let comm = TimedCommunicator(inner)
            #expect(comm.rank == inner.rank && comm.size == 3 && comm.groupName == inner.groupName)
            var values: [Float] = [Float(comm.rank), 1]
            try comm.allReduce(&values, op: .sum)
            let gathered = try comm.allGather([Int32(comm.rank)])
            if comm.rank == 1 { try comm.send([Float(42)], to: 2, tag: 9) }
            let received = comm.rank == 2 ? try comm.receive(Float.self, count: 1, from: 1, tag: 9) : []
            try comm.barrier()
            return values + gathered.map(Float.init) + received
        }
        #expect(results[0] == [3, 3, 0, 1, 2] && results[1] == [3, 3, 0, 1, 2] && results[2] == [3, 3, 0, 1, 2, 42])
    }

    @Test func countsTheTimeSpentWaitingAndResets() throws {
        let seconds = try LocalCommunicator.run(size: 2) { inner -> [Double] in
            let comm = TimedCommunicator(inner)
            #expect(comm.seconds == 0)
            if comm.rank == 0 { Thread.sleep(forTimeInterval: 0.2) }   // outside any call: not counted
            try comm.barrier()                                          // rank 1 waits here ~200 ms
            let waited = comm.seconds
            comm.reset()
            return [waited, comm.seconds]
        }
        #expect(seconds[1][0] >= 0.18, "rank 1 waited in the barrier")
        #expect(seconds[0][0] < 0.15, "rank 0's sleep was not inside a call")
        #expect(seconds[0][1] == 0 && seconds[1][1] == 0)
    }
}
