/// Point-to-point messages and `split` for `LocalCommunicator`.
extension LocalCommunicator {
    /// Eager send: copies `buffer` into the peer's mailbox and returns.
    public func send(_ buffer: UnsafeRawBufferPointer, to peer: Int, tag: Int) throws {
        try perform("send") {
            guard (0..<size).contains(peer) else { throw invalid("send", "peer \(peer) not in 0..<\(size)") }
            group.mailbox.post(buffer, from: rank, to: peer, tag: tag)
        }
    }

    /// Waits for the oldest message from `peer` with `tag`; it must have exactly `buffer.count` bytes.
    public func receive(into buffer: UnsafeMutableRawBufferPointer, from peer: Int, tag: Int) throws {
        try perform("receive") {
            guard (0..<size).contains(peer) else { throw invalid("receive", "peer \(peer) not in 0..<\(size)") }
            let started = ContinuousClock.now
            let deadline = started + group.options.operationTimeout
            let message = group.mailbox.take(from: peer, to: rank, tag: tag, deadline: deadline) {
                group.peerFailure(operation: "receive", rank: rank) != nil
            }
            guard let message else {
                if let error = group.peerFailure(operation: "receive", rank: rank) { throw error }
                throw CollectiveError(.timeout, operation: "receive", rank: rank, peer: peer, group: group.name,
                                      detail: "no message with tag \(tag) arrived", elapsed: ContinuousClock.now - started)
            }
            guard message.count == buffer.count else {
                throw CollectiveError(.protocolViolation, operation: "receive", rank: rank, peer: peer, group: group.name,
                                      detail: "expected \(buffer.count) bytes with tag \(tag), received \(message.count)")
            }
            message.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
    }

    /// Collective: ranks with equal `color` form a new group, ordered by `(key, rank)`.
    /// The new group is named after this one and the members' ranks in it, e.g. `world[0,2]`.
    public func split(color: Int, key: Int) throws -> any Communicator {
        try splitLocal(color: color, key: key)
    }

    /// `split` returning the concrete type.
    public func splitLocal(color: Int, key: Int) throws -> LocalCommunicator {
        var result: LocalCommunicator?
        try perform("split") {
            guard size > 1 else {
                result = LocalCommunicator(rank: 0, group: LocalGroup(size: 1, name: "\(group.name)[0]", options: group.options))
                return
            }
            let started = ContinuousClock.now
            try publishAndSync(.split, input: nil, byteCount: 0, argument: color, key: key, started: started)
            let members = (0..<size)
                .filter { group.slots[$0].argument == color }
                .sorted { (group.slots[$0].key, $0) < (group.slots[$1].key, $1) }
            let leader = members[0]
            if leader == rank {
                let name = "\(group.name)[\(members.map(String.init).joined(separator: ","))]"
                group.slots[rank].newGroup = LocalGroup(size: members.count, name: name, options: group.options)
            }
            try sync("split", started: started)
            let newGroup = group.slots[leader].newGroup!
            try sync("split", started: started)
            result = LocalCommunicator(rank: members.firstIndex(of: rank)!, group: newGroup)
        }
        return result!
    }
}
