/// `Communicator` operations of the TCP backend. Every rank of the group must call each of
/// them, in the same order, with equal sizes.
extension TCPCommunicator {
    public func allReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType,
                          op: ReduceOperation) throws {
        precondition(buffer.count % type.byteWidth == 0,
                     "allReduce: \(buffer.count) bytes is not a whole number of \(type) elements")
        try perform("allReduce") { (context) throws(TCPMeshFailure) in
            guard size > 1, buffer.count > 0 else { setAlgorithm("none"); return }
            if let shared = try sharedMemory(context) {
                setAlgorithm("shared-memory")
                try shared.allReduce(buffer, type: type, op: op) { () throws(TCPMeshFailure) in
                    if let failure = mesh.currentFailure { throw failure }
                    if context.deadline.expired {
                        throw TCPMeshFailure(kind: .timeout, worldPeer: nil, detail: "shared-memory all-reduce exceeded the operation timeout")
                    }
                }
                return
            }
            if buffer.count <= Self.smallMessageLimit || buffer.count / type.byteWidth < size {
                setAlgorithm("recursive-doubling")
                try context.recursiveDoublingAllReduce(buffer, type: type, op: op)
            } else {
                setAlgorithm("ring")
                let chunks = Self.elementChunks(count: buffer.count / type.byteWidth, parts: size, width: type.byteWidth)
                try context.ringReduceScatter(buffer.baseAddress!, chunks: chunks, type: type, op: op)
                try context.ringAllGather(buffer.baseAddress!, chunks: chunks)
            }
        }
    }

    public func allGather(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws {
        precondition(output.count == size * input.count,
                     "allGather: output has \(output.count) bytes, expected \(size) x \(input.count)")
        try perform("allGather") { (context) throws(TCPMeshFailure) in
            guard input.count > 0 else { return }
            (output.baseAddress! + rank * input.count).copyMemory(from: input.baseAddress!, byteCount: input.count)
            guard size > 1 else { return }
            let chunks = (0..<size).map { ($0 * input.count)..<(($0 + 1) * input.count) }
            try context.ringAllGather(output.baseAddress!, chunks: chunks)
        }
    }

    public func reduceScatter(_ input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer,
                              type: CollectiveDataType, op: ReduceOperation) throws {
        precondition(input.count == size * output.count,
                     "reduceScatter: input has \(input.count) bytes, expected \(size) x \(output.count)")
        precondition(output.count % type.byteWidth == 0,
                     "reduceScatter: \(output.count) bytes is not a whole number of \(type) elements")
        try perform("reduceScatter") { (context) throws(TCPMeshFailure) in
            guard output.count > 0 else { return }
            guard size > 1 else { output.copyMemory(from: input); return }
            let work = UnsafeMutableRawBufferPointer.allocate(byteCount: input.count, alignment: 64)
            defer { work.deallocate() }
            work.copyMemory(from: input)
            let chunks = (0..<size).map { ($0 * output.count)..<(($0 + 1) * output.count) }
            try context.ringReduceScatter(work.baseAddress!, chunks: chunks, type: type, op: op)
            output.copyMemory(from: UnsafeRawBufferPointer(rebasing: work[chunks[rank]]))
        }
    }

    public func broadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws {
        precondition((0..<size).contains(root), "broadcast: root \(root) outside group of \(size)")
        try perform("broadcast") { (context) throws(TCPMeshFailure) in
            guard size > 1 else { return }
            try context.binomialBroadcast(buffer, root: root)
        }
    }

    public func send(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws {
        precondition((0..<size).contains(peer) && peer != rank, "send: bad peer \(peer) (rank \(rank) of \(size))")
        try performTagged("send", tag: tag) { (context) throws(TCPMeshFailure) in
            try context.send(buffer, to: peer)
        }
    }

    public func receive(into buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws {
        precondition((0..<size).contains(peer) && peer != rank, "receive: bad peer \(peer) (rank \(rank) of \(size))")
        try performTagged("receive", tag: tag) { (context) throws(TCPMeshFailure) in
            try context.receive(into: buffer, from: peer)
        }
    }

    public func barrier() throws {
        try perform("barrier") { (context) throws(TCPMeshFailure) in
            try context.disseminationBarrier()
        }
    }

    /// Members with equal `color` form a new group ordered by (key, rank); the new group's
    /// name lists its world ranks, e.g. `world/1[2,3]`.
    public func split(color: Int, key: Int) throws -> any Communicator {
        let mine = [Int64(color), Int64(key)]
        var all = [Int64](repeating: 0, count: 2 * size)
        try mine.withUnsafeBytes { input in
            try all.withUnsafeMutableBytes { try allGather(input, into: $0) }
        }
        let chosen = (0..<size).filter { all[2 * $0] == Int64(color) }
            .sorted { (all[2 * $0 + 1], $0) < (all[2 * $1 + 1], $1) }
        let splitIndex = nextSplitIndex()
        let id = Self.mix(groupID, splitIndex, UInt64(bitPattern: Int64(color)))
        let worldRanks = chosen.map { members[$0] }
        let name = "\(groupName)/\(color)[" + worldRanks.map(String.init).joined(separator: ",") + "]"
        return TCPCommunicator(mesh: mesh, groupID: id, members: worldRanks, groupName: name)
    }

    /// Byte ranges of `parts` nearly equal chunks of `count` elements.
    static func elementChunks(count: Int, parts: Int, width: Int) -> [Range<Int>] {
        (0..<parts).map { (($0 * count / parts) * width)..<((($0 + 1) * count / parts) * width) }
    }

    /// SplitMix64-style mixing for deterministic sub-group ids.
    static func mix(_ values: UInt64...) -> UInt64 {
        var h: UInt64 = 0x9E37_79B9_7F4A_7C15
        for v in values {
            h = (h ^ v) &* 0xBF58_476D_1CE4_E5B9
            h = (h ^ (h >> 27)) &* 0x94D0_49BB_1331_11EB
            h ^= h >> 31
        }
        return h == 0 ? 1 : h
    }
}
