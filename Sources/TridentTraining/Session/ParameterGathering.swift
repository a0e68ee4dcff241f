import TridentCollectives

/// Assembles full tensors from their tensor-parallel shards on tensor rank 0, for writing a
/// checkpoint (`TrainableParameter.shardRows` / `shardColumns` say where each shard goes).
public enum ParameterGathering {
    /// Message tag of the shard transfers (nothing else runs on the group during a save).
    static let tag = 0x5452_4700

    /// The full tensor `[globalShape[0], Π globalShape[1...]]` row-major on rank 0 of
    /// `tensorGroup`, nil on the others. Shards that overlap (a KV head held by two ranks) hold
    /// equal values; the later rank's copy is kept.
    ///
    /// Every rank of `tensorGroup` must call this for the same parameter, in the same order.
    /// - Throws: a `CollectiveError`, or `TrainingError.invalidValue` when a peer describes a
    ///   shard outside the tensor.
    public static func gather(_ parameter: TrainableParameter, tensorGroup: any Communicator) throws -> [Float]? {
        let rows = parameter.globalShape.first ?? 1
        let columns = parameter.globalShape.dropFirst().reduce(1, *)
        let mine = [Int64(parameter.shardRows?.lowerBound ?? 0), Int64(parameter.shardRows?.upperBound ?? rows),
                    Int64(parameter.shardColumns?.lowerBound ?? 0), Int64(parameter.shardColumns?.upperBound ?? columns)]
        guard tensorGroup.rank == 0 else {
            try tensorGroup.send(mine, to: 0, tag: tag)
            try tensorGroup.send(Array(parameter.values), to: 0, tag: tag)
            return nil
        }
        var full = [Float](repeating: 0, count: rows * columns)
        try place(Array(parameter.values), header: mine, into: &full, rows: rows, columns: columns, name: parameter.name)
        for peer in 1..<max(tensorGroup.size, 1) {
            let header = try tensorGroup.receive(Int64.self, count: 4, from: peer, tag: tag)
            let count = try checkedCount(header, rows: rows, columns: columns, name: parameter.name, peer: peer)
            let values = try tensorGroup.receive(Float.self, count: count, from: peer, tag: tag)
            try place(values, header: header, into: &full, rows: rows, columns: columns, name: parameter.name)
        }
        return full
    }

    /// The element count of the shard `header` = `[row0, row1, column0, column1]` describes.
    private static func checkedCount(_ header: [Int64], rows: Int, columns: Int, name: String, peer: Int) throws -> Int {
        guard header.count == 4, 0 <= header[0], header[0] <= header[1], header[1] <= Int64(rows),
              0 <= header[2], header[2] <= header[3], header[3] <= Int64(columns) else {
            throw TrainingError.invalidValue(name: "shard of \(name) from tensor rank \(peer)",
                                             expected: "rows within 0...\(rows) and columns within 0...\(columns)",
                                             found: "\(header)")
        }
        return Int(header[1] - header[0]) * Int(header[3] - header[2])
    }

    private static func place(_ values: [Float], header: [Int64], into full: inout [Float], rows: Int, columns: Int,
                              name: String) throws {
        let count = try checkedCount(header, rows: rows, columns: columns, name: name, peer: 0)
        guard values.count == count else {
            throw TrainingError.invalidValue(name: "shard of \(name)", expected: "\(count) values", found: "\(values.count)")
        }
        let rowRange = Int(header[0])..<Int(header[1]), columnRange = Int(header[2])..<Int(header[3])
        let width = columnRange.count
        for (i, row) in rowRange.enumerated() {
            let start = row * columns + columnRange.lowerBound
            full.replaceSubrange(start..<(start + width), with: values[(i * width)..<((i + 1) * width)])
        }
    }
}
