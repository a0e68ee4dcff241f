/// The data contract of `trident train`, as pure arithmetic over a token stream:
///
/// - documents are joined into one stream of `T` tokens with EOS between them (`join`);
/// - there are `N = ⌊(T − 1) / L⌋` sequences; sequence `k` is tokens `[k·L, k·L + L]`
///   (`L + 1` tokens: inputs the first `L`, targets the last `L`);
/// - optimizer step `s` (from 1) uses `G = microBatch · accumulation · dataParallel` sequences,
///   global positions `(s − 1)·G ..< s·G`, each mapped to a sequence index by `sequenceIndex`:
///   `g mod N` in order, or, with a shuffle seed, `permutation(pass: g / N)[g mod N]` (one
///   seeded permutation per pass over the data);
/// - within a step's list, data-parallel replica `r` takes entries `r·A·B ..< (r+1)·A·B`, and
///   its micro-batch `m` the `B` entries from `r·A·B + m·B` (so the union over replicas and
///   micro-batches is the step's list, each entry once).
public struct SequenceBatching: Sendable, Equatable {
    public let tokenCount: Int
    public let sequenceLength: Int
    public let microBatch: Int
    public let accumulation: Int
    public let dataParallel: Int
    /// `nil`: sequences in order; otherwise the seed of the per-pass permutations.
    public let shuffleSeed: UInt64?

    /// - Throws: `TrainingError.dataTooShort` when `tokenCount < sequenceLength + 1`;
    ///   `.invalidValue` for a size below 1.
    public init(tokenCount: Int, sequenceLength: Int, microBatch: Int, accumulation: Int = 1,
                dataParallel: Int = 1, shuffleSeed: UInt64? = nil) throws {
        for (name, value) in [("--seq-len", sequenceLength), ("--micro-batch", microBatch),
                              ("--accumulate", accumulation), ("--dp", dataParallel)] where value < 1 {
            throw TrainingError.invalidValue(name: name, expected: ">= 1", found: "\(value)")
        }
        guard tokenCount >= sequenceLength + 1 else {
            throw TrainingError.dataTooShort(tokens: tokenCount, needed: sequenceLength + 1)
        }
        self.tokenCount = tokenCount
        self.sequenceLength = sequenceLength
        self.microBatch = microBatch
        self.accumulation = accumulation
        self.dataParallel = dataParallel
        self.shuffleSeed = shuffleSeed
    }

    /// Joins documents with `eos` between consecutive ones (none before the first or after the last).
    public static func join(_ documents: [[Int32]], eos: Int32) -> [Int32] {
        var stream: [Int32] = []
        stream.reserveCapacity(documents.reduce(0) { $0 + $1.count + 1 })
        for (i, document) in documents.enumerated() {
            if i > 0 { stream.append(eos) }
            stream.append(contentsOf: document)
        }
        return stream
    }

    /// `N = ⌊(T − 1) / L⌋`.
    public var sequenceCount: Int { (tokenCount - 1) / sequenceLength }
    /// `G`: sequences per optimizer step.
    public var globalBatch: Int { microBatch * accumulation * dataParallel }

    /// Token positions of sequence `k`: `k·L ... k·L + L` (`L + 1` tokens).
    public func tokenRange(ofSequence k: Int) -> Range<Int> {
        precondition((0..<sequenceCount).contains(k), "sequence \(k) outside 0..<\(sequenceCount)")
        return (k * sequenceLength)..<(k * sequenceLength + sequenceLength + 1)
    }

    /// The sequence at global position `g` (≥ 0) of the endless stream of sequences.
    public func sequenceIndex(globalPosition g: Int) -> Int {
        precondition(g >= 0, "negative global position \(g)")
        let n = sequenceCount
        guard let seed = shuffleSeed else { return g % n }
        return SequencePermutation.make(count: n, seed: seed, pass: UInt64(g / n))[g % n]
    }

    /// The `G` sequence indices of optimizer step `step` (≥ 1), in order.
    public func sequenceIndices(step: Int) -> [Int] {
        precondition(step >= 1, "optimizer steps count from 1, got \(step)")
        let first = (step - 1) * globalBatch
        let n = sequenceCount
        guard let seed = shuffleSeed else { return (first..<(first + globalBatch)).map { $0 % n } }
        var cache: (pass: Int, order: [Int])? = nil
        return (first..<(first + globalBatch)).map { g in
            let pass = g / n
            if cache?.pass != pass { cache = (pass, SequencePermutation.make(count: n, seed: seed, pass: UInt64(pass))) }
            return cache!.order[g % n]
        }
    }

    /// The `B` sequence indices that data-parallel replica `replica` uses for its micro-batch
    /// `microBatch` (`0 ..< accumulation`) of step `step`.
    public func sequenceIndices(step: Int, replica: Int, microBatch index: Int) -> [Int] {
        precondition((0..<dataParallel).contains(replica), "replica \(replica) outside 0..<\(dataParallel)")
        precondition((0..<accumulation).contains(index), "micro-batch \(index) outside 0..<\(accumulation)")
        let start = replica * accumulation * microBatch + index * microBatch
        return Array(sequenceIndices(step: step)[start..<(start + microBatch)])
    }

    /// Inputs and targets `[B · L]` each (sequence after sequence) for the given indices,
    /// read from the stream `tokens` (`[T]`).
    public func batch(_ indices: [Int], from tokens: [Int32]) -> (inputs: [Int32], targets: [Int32]) {
        precondition(tokens.count == tokenCount, "stream has \(tokens.count) tokens, batching was made for \(tokenCount)")
        var inputs: [Int32] = [], targets: [Int32] = []
        inputs.reserveCapacity(indices.count * sequenceLength)
        targets.reserveCapacity(indices.count * sequenceLength)
        for k in indices {
            let range = tokenRange(ofSequence: k)
            inputs.append(contentsOf: tokens[range.dropLast()])
            targets.append(contentsOf: tokens[range.dropFirst()])
        }
        return (inputs, targets)
    }
}
