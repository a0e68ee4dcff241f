import TridentCollectives

/// Brings the full tensors each pipeline stage assembled (`ParameterGathering` over its tensor
/// group) to pipeline rank 0, for writing one merged checkpoint.
public enum StageGathering {
    static let tag = ParameterGathering.tag + 1
    /// Longest tensor name accepted from a peer.
    static let maxNameBytes = 4096

    /// All stages' tensors by name on rank 0 of `pipelineGroup` (a name held by two stages, the
    /// tied embedding, is taken from the lowest stage), nil on the others.
    ///
    /// Every rank of `pipelineGroup` must call this.
    /// - Parameter tensors: this stage's full tensors by name (row-major f32).
    /// - Throws: `CollectiveError`, or `TrainingError.invalidValue` for a malformed message.
    public static func collect(_ tensors: [String: [Float]], pipelineGroup group: any Communicator) throws -> [String: [Float]]? {
        guard group.rank == 0 else {
            try group.send([Int64(tensors.count)], to: 0, tag: tag)
            for name in tensors.keys.sorted() {
                let values = tensors[name]!
                let bytes = Array(name.utf8)
                try group.send([Int64(bytes.count), Int64(values.count)], to: 0, tag: tag)
                try group.send(bytes, to: 0, tag: tag)
                try group.send(values, to: 0, tag: tag)
            }
            return nil
        }
        var all = tensors
        for peer in 1..<max(group.size, 1) {
            let count = try group.receive(Int64.self, count: 1, from: peer, tag: tag)[0]
            guard (0...1_000_000).contains(count) else { throw bad("tensor count", "0...1000000", count, peer) }
            for _ in 0..<count {
                let sizes = try group.receive(Int64.self, count: 2, from: peer, tag: tag)
                guard (1...Int64(maxNameBytes)).contains(sizes[0]) else {
                    throw bad("name length", "1...\(maxNameBytes)", sizes[0], peer)
                }
                guard (0...(Int64(1) << 34)).contains(sizes[1]) else { throw bad("tensor size", "0...2^34", sizes[1], peer) }
                let name = String(decoding: try group.receive(UInt8.self, count: Int(sizes[0]), from: peer, tag: tag),
                                  as: UTF8.self)
                let values = try group.receive(Float.self, count: Int(sizes[1]), from: peer, tag: tag)
                if all[name] == nil { all[name] = values }
            }
        }
        return all
    }

    private static func bad(_ what: String, _ expected: String, _ found: Int64, _ peer: Int) -> TrainingError {
        TrainingError.invalidValue(name: "\(what) from pipeline stage \(peer)", expected: expected, found: "\(found)")
    }
}
