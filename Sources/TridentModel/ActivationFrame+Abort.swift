import TridentCollectives

/// Abort frames: a stage that fails tells the next stage why, so the failure travels down the
/// pipeline at once instead of every later stage waiting for its receive deadline.
extension ActivationFrame {
    /// Sends an abort frame carrying `reason` to stage `peer`; its next `receive` from this
    /// rank with `tag` throws `PipelineStageFailure`. Best effort: call it while failing.
    public static func sendAbort(reason: String, over group: any Communicator, to peer: Int,
                                 tag: Int = ActivationFrame.activationTag) throws {
        var text = Array((reason.isEmpty ? "unknown error" : reason).utf8)
        if text.count > ActivationFrameHeader.maxReasonBytes { text = Array(text[..<ActivationFrameHeader.maxReasonBytes]) }
        var header = ActivationFrameHeader(microBatch: 0, slot: 0, start: 0, tokenCount: 0, hiddenSize: 0)
        header.payloadByteCount = text.count
        try group.send(header.encoded(kind: ActivationFrameHeader.abortKind), to: peer, tag: tag)
        try group.send(text, to: peer, tag: tag)
    }

    /// If `bytes` is a well-formed abort header, receives its reason and throws it.
    static func throwIfAbort(_ bytes: [UInt8], over group: any Communicator, from peer: Int, tag: Int) throws {
        let f = ActivationFrameHeader.fields(bytes)
        // A bad magic or version is reported by `decode`.
        guard f[0] == ActivationFrameHeader.magic, f[1] == ActivationFrameHeader.version,
              f[9] == ActivationFrameHeader.abortKind else { return }
        guard f[8] >= 1 && f[8] <= Int64(ActivationFrameHeader.maxReasonBytes) else {
            throw ActivationFrameError(peer: peer, field: .payloadByteCount,
                                       expected: "1...\(ActivationFrameHeader.maxReasonBytes) (abort reason)", found: String(f[8]))
        }
        let reason = try group.receive(UInt8.self, count: Int(f[8]), from: peer, tag: tag)
        throw PipelineStageFailure(stage: peer, reason: String(decoding: reason, as: UTF8.self))
    }
}

/// An earlier pipeline stage failed and said why in an abort frame.
public struct PipelineStageFailure: Error, CustomStringConvertible, Equatable {
    /// Pipeline-group rank of the stage that reported the failure.
    public var stage: Int
    public var reason: String

    public init(stage: Int, reason: String) {
        self.stage = stage
        self.reason = reason
    }

    public var description: String { "pipeline stage \(stage) failed: \(reason)" }
}
