/// A check of every collective that any backend can run across real processes (used by
/// `trident bench allreduce --self-test` under mpirun or the TCP launcher).
///
/// Collective: every rank of the communicator must call `run(on:)`. Data are small integers
/// (exact in Float32/Float16/BFloat16), so results are compared exactly. Failures are returned
/// as messages, identical on every rank only for collective results.
public enum CollectiveSelfTest {
    /// Element counts exercised: empty, one, odd, and about 1 MB of Float32.
    public static let counts = [0, 1, 7, 262_147]

    /// Runs every collective and returns descriptions of wrong results (empty: all correct).
    public static func run(on comm: any Communicator, counts: [Int] = counts) throws -> [String] {
        var failures: [String] = []
        let n = comm.size, r = comm.rank
        func value(_ rank: Int, _ i: Int) -> Int { (rank + 1) * (i % 5 + 1) }
        let rankSum = n * (n + 1) / 2
        for count in counts {
            for op in ReduceOperation.allCases {
                let want: (Int) -> Int = { i in
                    let k = i % 5 + 1
                    return op == .sum ? k * rankSum : (op == .max ? k * n : k)
                }
                var floats = (0..<count).map { Float(value(r, $0)) }
                try comm.allReduce(&floats, op: op)
                if let bad = (0..<count).first(where: { Int(floats[$0]) != want($0) }) {
                    failures.append("allReduce f32 \(op) count \(count): element \(bad) is \(floats[bad]), expected \(want(bad))")
                }
                var ints = (0..<count).map { Int32(value(r, $0)) }
                try comm.allReduce(&ints, op: op)
                if let bad = (0..<count).first(where: { Int(ints[$0]) != want($0) }) {
                    failures.append("allReduce i32 \(op) count \(count): element \(bad) is \(ints[bad]), expected \(want(bad))")
                }
            }
            var halves = (0..<count).map { Float16(Float(value(r, $0))) }
            try comm.allReduce(&halves, op: .sum)
            if let bad = (0..<count).first(where: { Int(Float(halves[$0])) != (($0 % 5) + 1) * rankSum }) {
                failures.append("allReduce f16 sum count \(count): element \(bad) is \(halves[bad])")
            }
            var brains = (0..<count).map { CollectiveReduction.floatToBFloat16(Float(value(r, $0))) }
            try comm.allReduceBFloat16(&brains, op: .max)
            if let bad = (0..<count).first(where: { CollectiveReduction.bfloat16ToFloat(brains[$0]) != Float((($0 % 5) + 1) * n) }) {
                failures.append("allReduce bf16 max count \(count): element \(bad) is wrong")
            }
            failures += try gatherScatterBroadcast(comm, count: count, value: value)
        }
        failures += try pointToPointAndSplit(comm)
        return failures
    }

    private static func gatherScatterBroadcast(_ comm: any Communicator, count: Int,
                                               value: (Int, Int) -> Int) throws -> [String] {
        var failures: [String] = []
        let n = comm.size, r = comm.rank
        let gathered = try comm.allGather((0..<count).map { Float(value(r, $0)) })
        let wantGathered = (0..<n).flatMap { rank in (0..<count).map { Float(value(rank, $0)) } }
        if gathered != wantGathered { failures.append("allGather count \(count): wrong result") }
        let scattered = try comm.reduceScatter((0..<(count * n)).map { Float(value(r, $0)) }, op: .sum)
        let wantScattered = (0..<count).map { i in Float((0..<n).reduce(0) { $0 + value($1, r * count + i) }) }
        if scattered != wantScattered { failures.append("reduceScatter count \(count): wrong result") }
        let root = n - 1
        var broadcasted = (0..<count).map { Float(value(r, $0)) }
        try comm.broadcast(&broadcasted, root: root)
        if broadcasted != (0..<count).map({ Float(value(root, $0)) }) {
            failures.append("broadcast count \(count) root \(root): wrong result")
        }
        return failures
    }

    private static func pointToPointAndSplit(_ comm: any Communicator) throws -> [String] {
        var failures: [String] = []
        let n = comm.size, r = comm.rank
        if n > 1 {
            // Even ranks send first, odd ranks receive first: no reliance on eager buffering.
            let next = (r + 1) % n, previous = (r + n - 1) % n
            let message = (0..<1001).map { Int32(r * 10_000 + $0) }
            var received: [Int32] = []
            if r % 2 == 0 {
                try comm.send(message, to: next, tag: 42)
                received = try comm.receive(Int32.self, count: 1001, from: previous, tag: 42)
            } else {
                received = try comm.receive(Int32.self, count: 1001, from: previous, tag: 42)
                try comm.send(message, to: next, tag: 42)
            }
            if received != (0..<1001).map({ Int32(previous * 10_000 + $0) }) {
                failures.append("send/receive ring: wrong message from rank \(previous)")
            }
        }
        try comm.barrier()
        let sub = try comm.split(color: r % 2, key: -r)
        let members = stride(from: r % 2, to: n, by: 2).reversed().map { Int32($0) }
        let gathered = try sub.allGather([Int32(r)])
        if gathered != Array(members) || sub.size != members.count {
            failures.append("split(color: rank % 2, key: -rank): group \(gathered), expected \(Array(members))")
        }
        return failures
    }
}
