import Testing
import TridentCollectives
import TridentModel

@Suite("Pipeline activation frames")
struct PipelineActivationFrameTests {
    static let hidden = 64

    /// Rank 0 runs `send`, rank 1 receives one frame with `expected`; returns rank 1's outcome.
    func exchange(expected: ActivationFrameExpectation,
                  send: @escaping @Sendable (LocalCommunicator) throws -> Void) throws -> Result<ActivationFrame, any Error> {
        let results = try LocalCommunicator.run(size: 2) { group -> Result<ActivationFrame, any Error>? in
            if group.rank == 0 {
                try send(group)
                return nil
            }
            return Result { try ActivationFrame.receive(over: group, from: 0, expected: expected) }
        }
        return results[1]!
    }

    /// Rank 1's outcome when rank 0 sends `bytes` as a frame header (and nothing else).
    func rawHeader(_ bytes: [UInt8]) throws -> Result<ActivationFrame, any Error> {
        try exchange(expected: ActivationFrameExpectation(hiddenSize: Self.hidden)) { group in
            try group.send(bytes, to: 1, tag: ActivationFrame.activationTag)
        }
    }

    func frameError(_ result: Result<ActivationFrame, any Error>) -> ActivationFrameError? {
        if case .failure(let error) = result { return error as? ActivationFrameError }
        return nil
    }

    @Test("a frame arrives with its header and values intact")
    func roundTrip() throws {
        var rng = SplitMix(seed: 3)
        let values = (0 ..< 5 * Self.hidden).map { _ in rng.nextFloat() }
        let header = ActivationFrameHeader(microBatch: 2, slot: 1, start: 17, tokenCount: 5, hiddenSize: Self.hidden)
        let sent = ActivationFrame(header: header, values: values)
        let expected = ActivationFrameExpectation(hiddenSize: Self.hidden, microBatch: 2, slot: 1, start: 17, tokenCount: 5)
        let received = try exchange(expected: expected) { try sent.send(over: $0, to: 1) }.get()
        #expect(received == sent)
        #expect(received.header.payloadByteCount == 5 * Self.hidden * 4)
        // Without per-step expectations only the hidden size is pinned.
        let loose = try exchange(expected: ActivationFrameExpectation(hiddenSize: Self.hidden)) { try sent.send(over: $0, to: 1) }.get()
        #expect(loose == sent)
    }

    @Test("a header with the wrong magic is rejected naming the peer stage and field")
    func wrongMagic() throws {
        let header = ActivationFrameHeader(microBatch: 0, slot: 0, start: 0, tokenCount: 1, hiddenSize: Self.hidden)
        let result = try exchange(expected: ActivationFrameExpectation(hiddenSize: Self.hidden)) { group in
            try group.send(header.encoded(magic: 0x1234), to: 1, tag: ActivationFrame.activationTag)
        }
        let error = try #require(frameError(result))
        #expect(error.peer == 0 && error.field == .magic && error.found == "0x1234")
        #expect(error.description.contains("pipeline stage 0") && error.description.contains("magic"))
    }

    @Test("a wrong version is rejected")
    func wrongVersion() throws {
        let header = ActivationFrameHeader(microBatch: 0, slot: 0, start: 0, tokenCount: 1, hiddenSize: Self.hidden)
        let result = try exchange(expected: ActivationFrameExpectation(hiddenSize: Self.hidden)) { group in
            try group.send(header.encoded(version: 9), to: 1, tag: ActivationFrame.activationTag)
        }
        #expect(frameError(result)?.field == .version)
    }

    @Test("activations of the wrong hidden size are rejected before the payload is read")
    func wrongHiddenSize() throws {
        let header = ActivationFrameHeader(microBatch: 0, slot: 0, start: 0, tokenCount: 3, hiddenSize: 32)
        let frame = ActivationFrame(header: header, values: [Float](repeating: 1, count: 3 * 32))
        let result = try exchange(expected: ActivationFrameExpectation(hiddenSize: Self.hidden)) { try frame.send(over: $0, to: 1) }
        let error = try #require(frameError(result))
        #expect(error.field == .hiddenSize && error.expected == "64" && error.found == "32")
    }

    @Test("an absurd token count is rejected without allocating")
    func absurdTokenCount() throws {
        var header = ActivationFrameHeader(microBatch: 0, slot: 0, start: 0, tokenCount: 1, hiddenSize: Self.hidden)
        header.tokenCount = 1 << 40
        header.payloadByteCount = (1 << 40) * Self.hidden * 4
        let result = try rawHeader(header.encoded())
        let error = try #require(frameError(result))
        #expect(error.field == .tokenCount && error.found == String(1 << 40))
        // Zero and negative counts are just as wrong.
        header.tokenCount = -1
        let negative = try rawHeader(header.encoded())
        #expect(frameError(negative)?.field == .tokenCount)
    }

    @Test("a payload byte count that disagrees with the shape is rejected")
    func wrongPayloadCount() throws {
        var header = ActivationFrameHeader(microBatch: 0, slot: 0, start: 0, tokenCount: 2, hiddenSize: Self.hidden)
        header.payloadByteCount = 2 * Self.hidden * 2
        let result = try rawHeader(header.encoded())
        let error = try #require(frameError(result))
        #expect(error.field == .payloadByteCount && error.expected == String(2 * Self.hidden * 4))
    }

    @Test("a frame for a different micro-batch, slot, start or length than expected is rejected")
    func unexpectedStep() throws {
        let header = ActivationFrameHeader(microBatch: 1, slot: 2, start: 3, tokenCount: 4, hiddenSize: Self.hidden)
        let frame = ActivationFrame(header: header, values: [Float](repeating: 0, count: 4 * Self.hidden))
        let cases: [(ActivationFrameExpectation, ActivationFrameError.Field)] = [
            (ActivationFrameExpectation(hiddenSize: Self.hidden, microBatch: 0), .microBatch),
            (ActivationFrameExpectation(hiddenSize: Self.hidden, slot: 0), .slot),
            (ActivationFrameExpectation(hiddenSize: Self.hidden, start: 0), .start),
            (ActivationFrameExpectation(hiddenSize: Self.hidden, tokenCount: 5), .tokenCount),
        ]
        for (expected, field) in cases {
            let result = try exchange(expected: expected) { try frame.send(over: $0, to: 1) }
            #expect(frameError(result)?.field == field)
        }
    }

    @Test("a payload shorter than the header promises fails in the transport")
    func shortPayload() throws {
        let header = ActivationFrameHeader(microBatch: 0, slot: 0, start: 0, tokenCount: 2, hiddenSize: Self.hidden)
        let result = try exchange(expected: ActivationFrameExpectation(hiddenSize: Self.hidden)) { group in
            try group.send(header.encoded(), to: 1, tag: ActivationFrame.activationTag)
            try group.send([Float](repeating: 0, count: Self.hidden), to: 1, tag: ActivationFrame.activationTag)
        }
        guard case .failure(let error) = result, let collective = error as? CollectiveError else {
            Issue.record("expected a CollectiveError, got \(result)")
            return
        }
        #expect(collective.kind == .protocolViolation && collective.peer == 0)
    }

    @Test("an abort frame makes the receiver throw the sender's reason")
    func abortFrame() throws {
        let result = try exchange(expected: ActivationFrameExpectation(hiddenSize: Self.hidden)) { group in
            try ActivationFrame.sendAbort(reason: "KV cache full", over: group, to: 1)
        }
        guard case .failure(let error) = result, let failure = error as? PipelineStageFailure else {
            Issue.record("expected a PipelineStageFailure, got \(result)")
            return
        }
        #expect(failure == PipelineStageFailure(stage: 0, reason: "KV cache full"))
        #expect(failure.description == "pipeline stage 0 failed: KV cache full")
    }

    @Test("an unknown frame kind is rejected")
    func unknownKind() throws {
        let header = ActivationFrameHeader(microBatch: 0, slot: 0, start: 0, tokenCount: 1, hiddenSize: Self.hidden)
        let result = try rawHeader(header.encoded(kind: 7))
        let error = try #require(frameError(result))
        #expect(error.field == .kind && error.found == "7")
    }
}
