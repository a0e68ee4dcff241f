import TridentCollectives

/// Assembles full tensors from their tensor-parallel shards on tensor rank 0, for writing a
/// checkpoint (`TrainableParameter.shardRows` / `shardColumns` say where each shard goes).
public enum ParameterGathering {
    /// Message tag of the shard transfers (nothing else runs on the group during a save).
    static let tag = 0x5452_4700

    /// The full tensor `[globalShape[0], Π globalShape[1...]]` row-major on rank 0 of
    /// `tensorGroup`, nil on the others, from `views`: this rank's parameters of one name (a
    /// K/V projection may be several views, one per run of heads; ranks may hold different
    /// numbers of them). Shards that overlap (a KV head held by two ranks) hold equal values.
    ///
    /// Every rank of `tensorGroup` must call this for the same tensor names, in the same order.
    /// - Throws: a `CollectiveError`, or `TrainingError.invalidValue` when a peer describes a
    ///   shard outside the tensor.
    public static func gather(_ views: [TrainableParameter], tensorGroup: any Communicator) throws -> [Float]? {
        guard let first = views.first else { return nil }
        let rows = first.globalShape.first ?? 1
        let columns = first.globalShape.dropFirst().reduce(1, *)
        func header(_ view: TrainableParameter) -> [Int64] {
            [Int64(view.shardRows?.lowerBound ?? 0), Int64(view.shardRows?.upperBound ?? rows),
             Int64(view.shardColumns?.lowerBound ?? 0), Int64(view.shardColumns?.upperBound ?? columns)]
        }
        guard tensorGroup.rank == 0 else {
            try tensorGroup.send([Int64(views.count)], to: 0, tag: tag)
            for view in views {
                try tensorGroup.send(header(view), to: 0, tag: tag)
                try tensorGroup.send(Array(view.values), to: 0, tag: tag)
            }
            return nil
        }
        var full = [Float](repeating: 0, count: rows * columns)
        for view in views {
            try place(Array(view.values), header: header(view), into: &full, rows: rows, columns: columns, name: first.name)
        }
        for peer in 1..<max(tensorGroup.size, 1) {
            let count = try tensorGroup.receive(Int64.self, count: 1, from: peer, tag: tag)[0]
            guard (1...64).contains(count) else {
                throw TrainingError.invalidValue(name: "views of \(first.name) from tensor rank \(peer)", expected: "1...64",
                                                 found: "\(count)")
            }
            for _ in 0..<count {
                let shard = try tensorGroup.receive(Int64.self, count: 4, from: peer, tag: tag)
                let size = try checkedCount(shard, rows: rows, columns: columns, name: first.name, peer: peer)
                let values = try tensorGroup.receive(Float.self, count: size, from: peer, tag: tag)
                try place(values, header: shard, into: &full, rows: rows, columns: columns, name: first.name)
            }
        }
        return full
    }

    /// `parameters` grouped by name, in order of first appearance.
    public static func byName(_ parameters: [TrainableParameter]) -> [[TrainableParameter]] {
        var order: [String] = [], groups: [String: [TrainableParameter]] = [:]
        for parameter in parameters {
            if groups[parameter.name] == nil { order.append(parameter.name) }
            groups[parameter.name, default: []].append(parameter)
        }
        return order.map { groups[$0]! }
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
