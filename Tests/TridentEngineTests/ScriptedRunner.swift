import Foundation
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
import TridentTokenizer

/// An in-memory `ModelRunner` for engine tests (as swift-nio tests run against an embedded
/// event loop): no model, logits come from a script of (token, position). It checks what a
/// real runner relies on: every chunk continues its slot's sequence at the next position (or
/// restarts it at 0), stays inside the slot's capacity and uses a slot that exists.
final class ScriptedRunner: ModelRunner {
    let configuration: ModelConfiguration
    let capacity: Int
    let slotCount: Int
    let pipelineStages = 1
    let maxInFlight = 1
    var overlapGroups: [[Int]] { [Array(0..<slotCount)] }
    /// `[vocabulary]` logits after running `token` at `position`.
    let script: (_ token: Int32, _ position: Int) -> [Float]

    /// Positions held by each slot.
    private(set) var filled: [Int]
    /// Problems seen (a correct generator causes none).
    private(set) var violations: [String] = []
    /// Chunks per submitted step.
    private(set) var stepSizes: [Int] = []
    /// How many times a slot was started afresh at position 0.
    private(set) var sequencesStarted = 0
    private var outstanding: [[[Float]]] = []

    init(configuration: ModelConfiguration, capacity: Int, slotCount: Int,
         script: @escaping (Int32, Int) -> [Float]) {
        self.configuration = configuration
        self.capacity = capacity
        self.slotCount = slotCount
        self.script = script
        filled = Array(repeating: 0, count: slotCount)
    }

    func submit(_ chunks: [SequenceChunk], microBatches: Int?) throws {
        if outstanding.count >= maxInFlight { violations.append("more than \(maxInFlight) steps outstanding") }
        stepSizes.append(chunks.count)
        var step: [[Float]] = []
        for chunk in chunks {
            guard chunk.slot >= 0 && chunk.slot < slotCount else {
                violations.append("slot \(chunk.slot) of \(slotCount)"); step.append([]); continue
            }
            if chunk.start == 0 { sequencesStarted += 1 } else if chunk.start != filled[chunk.slot] {
                violations.append("slot \(chunk.slot): chunk at \(chunk.start), expected \(filled[chunk.slot])")
            }
            let end = chunk.start + chunk.tokens.count
            if end > capacity { violations.append("slot \(chunk.slot): \(end) positions of \(capacity)") }
            filled[chunk.slot] = end
            switch chunk.logits {
            case .none: step.append([])
            case .last: step.append(script(chunk.tokens.last!, end - 1))
            case .all: step.append(chunk.tokens.enumerated().flatMap { script($0.element, chunk.start + $0.offset) })
            }
        }
        outstanding.append(step)
    }

    func collect() throws -> [[Float]] { outstanding.removeFirst() }
    func rankStatistics() throws -> [RankStatistics] { [] }
    func resetStatistics() throws {}
    func shutdown() throws {}
}

/// The tiny fixture model's configuration and tokenizer (no weights are read).
enum TinyFixture {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/tiny-llama-q8_0.gguf").path
    static let sixLayers = URL(fileURLWithPath: path).deletingLastPathComponent()
        .appendingPathComponent("tiny-llama-6l-q8_0.gguf").path

    static func load() throws -> (ModelConfiguration, Tokenizer) {
        let file = try GGUFFile(path: path)
        return (try ModelConfiguration(gguf: file), try Tokenizer(gguf: file))
    }
}
