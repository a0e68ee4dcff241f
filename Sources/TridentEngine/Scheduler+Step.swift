import TridentModel

extension Scheduler {
    /// One step's chunks, in slot order.
    struct Step {
        var chunks: [SequenceChunk] = []
        /// (chunk index, slot) of each sequence's last chunk, whose logits it samples from.
        var finalChunkOwner: [(Int, Int)] = []
        /// Tokens each sampling slot runs in this step.
        var ranTokens: [Int: Int] = [:]
        /// Prompt tokens run by slots whose prompt is not finished by this step.
        var partialPrefill: [(Int, Int)] = []
        /// (chunk index, slot) of prompt chunks that return every position's logits (`.all`),
        /// for requests that score their prompt.
        var scoredChunks: [(Int, Int)] = []
        var hasPrefill = false

        /// The last position's logits of chunk `m` (`[vocabulary]`), from what the runner returned.
        func lastLogits(_ logits: [Float], chunk m: Int) -> [Float] {
            guard chunks[m].logits == .all else { return logits }
            let vocabulary = logits.count / chunks[m].tokens.count
            return Array(logits.suffix(vocabulary))
        }
    }

    /// The chunks of `slots` (all running): decode tokens, and prompt pieces within `prefillBudget`.
    func makeStep(slots: [Int]) -> Step {
        var step = Step()
        let states = slots.map { (slot: $0, sequence: sequence(inSlot: $0)!) }
        let prefilling = states.filter { $0.sequence.needsPrefill }.count
        let pieces = BatchGenerator.chunksPerPrompt(stages: runner.pipelineStages, promptsInStep: prefilling)
        var budgetLeft = max(1, prefillBudget)
        for (slot, sequence) in states.sorted(by: { $0.slot < $1.slot }) {
            if sequence.needsPrefill {
                guard budgetLeft > 0 else { continue }
                let remaining = sequence.remainingPrompt
                let part = Array(remaining.prefix(budgetLeft))
                budgetLeft -= part.count
                let isLast = part.count == remaining.count
                var chunks = BatchGenerator.prefillChunks(part, slot: slot, start: sequence.position, chunks: pieces,
                                                          longestChunk: prefillChunk, endsPrompt: isLast)
                chunks[0].prefixSource = prefixSource(ofSlot: slot)
                if sequence.request.promptLogprobs {
                    for i in chunks.indices {
                        chunks[i].logits = .all
                        step.scoredChunks.append((step.chunks.count + i, slot))
                    }
                }
                step.chunks += chunks
                step.hasPrefill = true
                if !isLast {
                    step.partialPrefill.append((slot, part.count))
                    continue
                }
                step.ranTokens[slot] = part.count
            } else {
                step.chunks.append(SequenceChunk(slot: slot, start: sequence.position, tokens: [sequence.nextToken!],
                                                 logits: .last))
                step.ranTokens[slot] = 1
            }
            step.finalChunkOwner.append((step.chunks.count - 1, slot))
        }
        return step
    }
}
