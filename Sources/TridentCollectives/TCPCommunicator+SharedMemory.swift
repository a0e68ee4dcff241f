/// Shared-memory fast path of the TCP backend: a group whose members all run on one host
/// (equal host identity) reduces through a `SharedMemoryAllReduce` segment set up at its
/// first `allReduce`; other groups, and every other operation, use TCP.
extension TCPCommunicator {
    enum SharedMemoryState { case unknown, unavailable, ready(SharedMemoryAllReduce) }

    /// Sets the segment up on first use (collective: every member is inside the same
    /// allReduce); nil when the group spans hosts or setup failed on the creator.
    func sharedMemory(_ context: TCPOperation) throws(TCPMeshFailure) -> SharedMemoryAllReduce? {
        switch sharedMemoryState.withLock({ $0 }) {
        case .ready(let path): return path
        case .unavailable: return nil
        case .unknown: break
        }
        let hosts = Set(members.map { mesh.hostIdentities[$0] })
        guard hosts.count == 1 else {
            sharedMemoryState.withLock { $0 = .unavailable }
            return nil
        }
        let name = SharedMemoryJob.name(jobKey: mesh.jobKey, groupID: groupID)
        let bytes = SharedMemoryAllReduce.byteCount(members: size)
        var segment: SharedMemorySegment?
        var status: [UInt8] = [0]
        if rank == 0 {
            segment = try? SharedMemorySegment.create(name: name, byteCount: bytes)
            status[0] = segment == nil ? 0 : 1
        }
        // The creator removes the name once all have mapped it, or at once if setup fails,
        // so no segment outlives the job.
        do throws(TCPMeshFailure) {
            let flag = UnsafeMutableRawBufferPointer.allocate(byteCount: 1, alignment: 1)
            defer { flag.deallocate() }
            flag[0] = status[0]
            try context.binomialBroadcast(flag, root: 0)
            status[0] = flag[0]
            if status[0] == 1 && rank != 0 {
                do { segment = try SharedMemorySegment.open(name: name, byteCount: bytes) } catch {
                    throw TCPMeshFailure(kind: .backend, worldPeer: nil, detail: "cannot map shared memory \(name): \(error)")
                }
            }
            try context.disseminationBarrier()
        } catch {
            if rank == 0 { segment?.unlink() }
            throw error
        }
        if rank == 0 { segment?.unlink() }
        guard let segment else {
            sharedMemoryState.withLock { $0 = .unavailable }
            return nil
        }
        let path = SharedMemoryAllReduce(segment: segment, member: rank, members: size)
        sharedMemoryState.withLock { $0 = .ready(path) }
        return path
    }
}
