import Testing
import TridentCollectives
import TridentModel

/// Gradient frames (kind 2) travelling backwards between pipeline stages in training: they
/// arrive intact, and a frame of the other kind is refused naming the field.
@Suite("Pipeline gradient frames")
struct GradientFrameTests {
    static let hidden = 16

    /// Rank 0 sends a frame of `kind`; rank 1 receives expecting `expectedKind`.
    func exchange(kind: Int64, expectedKind: Int64) throws -> Result<ActivationFrame, any Error> {
        let results = try LocalCommunicator.run(size: 2) { group -> Result<ActivationFrame, any Error>? in
            if group.rank == 0 {
                var header = ActivationFrameHeader(microBatch: 1, slot: 0, start: 0, tokenCount: 3, hiddenSize: Self.hidden)
                header.kind = kind
                let values = (0 ..< 3 * Self.hidden).map { Float($0) * 0.5 - 3 }
                try ActivationFrame(header: header, values: values).send(over: group, to: 1, tag: ActivationFrame.gradientTag)
                return nil
            }
            var expected = ActivationFrameExpectation(hiddenSize: Self.hidden, microBatch: 1, slot: 0, start: 0, tokenCount: 3)
            expected.kind = expectedKind
            return Result { try ActivationFrame.receive(over: group, from: 0, tag: ActivationFrame.gradientTag, expected: expected) }
        }
        return results[1]!
    }

    @Test("a gradient frame arrives with its kind and values intact")
    func roundTrip() throws {
        let frame = try exchange(kind: ActivationFrameHeader.gradientKind, expectedKind: ActivationFrameHeader.gradientKind).get()
        #expect(frame.header.kind == ActivationFrameHeader.gradientKind)
        #expect(frame.values == (0 ..< 3 * Self.hidden).map { Float($0) * 0.5 - 3 })
    }

    @Test("activations where gradients are expected (and the reverse) are refused on the kind field",
          arguments: [(ActivationFrameHeader.activationsKind, ActivationFrameHeader.gradientKind),
                      (ActivationFrameHeader.gradientKind, ActivationFrameHeader.activationsKind)])
    func wrongKind(sent: Int64, expected: Int64) throws {
        guard case .failure(let error) = try exchange(kind: sent, expectedKind: expected),
              let frameError = error as? ActivationFrameError else {
            Issue.record("a frame of kind \(sent) was accepted where \(expected) was expected")
            return
        }
        #expect(frameError.field == .kind && frameError.peer == 0 && frameError.found == String(sent))
    }
}
