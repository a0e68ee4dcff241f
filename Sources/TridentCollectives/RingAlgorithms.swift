/// The data-movement algorithms of the TCP backend, written against `TCPOperation`
/// (group ranks, one tag per operation). Messages between a pair of ranks arrive in order.
extension TCPOperation {
    var rank: Int { communicator.rank }
    var size: Int { communicator.size }

    /// Ring reduce-scatter in place over `base`: afterwards chunk `r` (byte range `chunks[r]`)
    /// on rank `r` holds the reduction of everyone's chunk `r`. Step `s` sends chunk
    /// `(r - s - 1) mod n` to the right neighbour and folds chunk `(r - s - 2) mod n` from
    /// the left into place, segment by segment so transfer and reduction overlap.
    func ringReduceScatter(_ base: UnsafeMutableRawPointer, chunks: [Range<Int>],
                           type: CollectiveDataType, op: ReduceOperation) throws(TCPMeshFailure) {
        let n = size, right = (rank + 1) % n, left = (rank + n - 1) % n
        for step in 0..<(n - 1) {
            let sendChunk = chunks[(rank - step - 1 + 2 * n) % n]
            let receiveChunk = chunks[(rank - step - 2 + 2 * n) % n]
            let sendSegments = segments(of: sendChunk, width: type.byteWidth)
            let receiveSegments = segments(of: receiveChunk, width: type.byteWidth)
            for k in 0..<max(sendSegments.count, receiveSegments.count) {
                if k < sendSegments.count {
                    try send(UnsafeRawBufferPointer(start: base + sendSegments[k].lowerBound,
                                                    count: sendSegments[k].count), to: right)
                }
                if k < receiveSegments.count {
                    let segment = receiveSegments[k]
                    let incoming = try take(from: left)
                    guard incoming.count == segment.count else {
                        throw mismatch(expected: segment.count, found: incoming.count, from: left)
                    }
                    incoming.withUnsafeBytes {
                        CollectiveReduction.reduce(into: base + segment.lowerBound, from: $0.baseAddress!,
                                                   count: segment.count / type.byteWidth, type: type, op: op)
                    }
                }
            }
        }
    }

    /// Ring all-gather in place over `base`: rank `r` starts with chunk `r` and ends with all.
    func ringAllGather(_ base: UnsafeMutableRawPointer, chunks: [Range<Int>]) throws(TCPMeshFailure) {
        let n = size, right = (rank + 1) % n, left = (rank + n - 1) % n
        for step in 0..<(n - 1) {
            let sendChunk = chunks[(rank - step + 2 * n) % n]
            let receiveChunk = chunks[(rank - step - 1 + 2 * n) % n]
            let sendSegments = segments(of: sendChunk, width: 1)
            let receiveSegments = segments(of: receiveChunk, width: 1)
            for k in 0..<max(sendSegments.count, receiveSegments.count) {
                if k < sendSegments.count {
                    try send(UnsafeRawBufferPointer(start: base + sendSegments[k].lowerBound,
                                                    count: sendSegments[k].count), to: right)
                }
                if k < receiveSegments.count {
                    let segment = receiveSegments[k]
                    try receive(into: UnsafeMutableRawBufferPointer(start: base + segment.lowerBound,
                                                                    count: segment.count), from: left)
                }
            }
        }
    }

    /// Recursive-doubling all-reduce of a small buffer. With `p` the largest power of two
    /// <= n, ranks `p..<n` first hand their data to rank `r - p` and get the result back at
    /// the end. Every rank computes the same combination tree, so results are bitwise equal.
    func recursiveDoublingAllReduce(_ buffer: UnsafeMutableRawBufferPointer, type: CollectiveDataType,
                                    op: ReduceOperation) throws(TCPMeshFailure) {
        let n = size
        var p = 1
        while p * 2 <= n { p *= 2 }
        let count = buffer.count / type.byteWidth
        if rank >= p {
            try send(UnsafeRawBufferPointer(buffer), to: rank - p)
            try receive(into: buffer, from: rank - p)
            return
        }
        if rank + p < n { try fold(from: rank + p, into: buffer, count: count, type: type, op: op) }
        var mask = 1
        while mask < p {
            let partner = rank ^ mask
            try send(UnsafeRawBufferPointer(buffer), to: partner)
            try fold(from: partner, into: buffer, count: count, type: type, op: op)
            mask <<= 1
        }
        if rank + p < n { try send(UnsafeRawBufferPointer(buffer), to: rank + p) }
    }

    /// Binomial-tree broadcast from `root`.
    func binomialBroadcast(_ buffer: UnsafeMutableRawBufferPointer, root: Int) throws(TCPMeshFailure) {
        let n = size, relative = (rank - root + n) % n
        var mask = 1
        while mask < n {
            if relative & mask != 0 {
                try receive(into: buffer, from: (relative - mask + root) % n)
                break
            }
            mask <<= 1
        }
        mask >>= 1
        while mask > 0 {
            if relative + mask < n { try send(UnsafeRawBufferPointer(buffer), to: (relative + mask + root) % n) }
            mask >>= 1
        }
    }

    /// Dissemination barrier: ceil(log2 n) rounds of empty messages.
    func disseminationBarrier() throws(TCPMeshFailure) {
        var distance = 1
        while distance < size {
            try send(UnsafeRawBufferPointer(start: nil, count: 0), to: (rank + distance) % size)
            _ = try take(from: (rank - distance + size) % size)
            distance <<= 1
        }
    }

    private func fold(from peer: Int, into buffer: UnsafeMutableRawBufferPointer, count: Int,
                      type: CollectiveDataType, op: ReduceOperation) throws(TCPMeshFailure) {
        let incoming = try take(from: peer)
        guard incoming.count == buffer.count else { throw mismatch(expected: buffer.count, found: incoming.count, from: peer) }
        guard count > 0 else { return }
        incoming.withUnsafeBytes {
            CollectiveReduction.reduce(into: buffer.baseAddress!, from: $0.baseAddress!, count: count, type: type, op: op)
        }
    }

    /// Splits a byte range into segments of about `segmentBytes`, aligned to `width`.
    /// An empty range still yields one (empty) segment so that both sides agree on messages.
    private func segments(of range: Range<Int>, width: Int) -> [Range<Int>] {
        let step = max(TCPCommunicator.segmentBytes / width * width, width)
        if range.isEmpty { return [range] }
        return stride(from: range.lowerBound, to: range.upperBound, by: step).map {
            $0..<min($0 + step, range.upperBound)
        }
    }

    private func mismatch(expected: Int, found: Int, from peer: Int) -> TCPMeshFailure {
        TCPMeshFailure(kind: .protocolViolation, worldPeer: communicator.members[peer],
                       detail: "expected a \(expected)-byte segment, received \(found) bytes (buffer sizes differ between ranks?)")
    }
}
