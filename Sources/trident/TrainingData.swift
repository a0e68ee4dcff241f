import TridentTokenizer
import TridentTraining

/// The token stream of `trident train` under the data contract: each `--data` file read as
/// UTF-8 and tokenized once (a BOS first only if the model's tokenizer adds one; no EOS at
/// the end), the files joined in the order given with the model's EOS between them.
enum TrainingData {
    /// - Throws: `ExitMessage` for a missing, empty or non-UTF-8 file (naming the byte offset),
    ///   or a model without an EOS token when several files are given.
    static func tokens(files: [String], tokenizer: Tokenizer) throws -> [Int32] {
        var documents: [[Int32]] = []
        for file in files {
            let text = try InputFile.text(file, option: "--data")
            var ids = tokenizer.encode(text, parseSpecial: false, addSpecial: false).map { Int32($0) }
            if tokenizer.vocabulary.addBOS, let bos = tokenizer.vocabulary.bosId { ids.insert(Int32(bos), at: 0) }
            documents.append(ids)
        }
        guard documents.count == 1 || tokenizer.vocabulary.eosId != nil else {
            throw ExitMessage("--data: the model's tokenizer has no EOS token to join \(documents.count) files with")
        }
        return SequenceBatching.join(documents, eos: Int32(tokenizer.vocabulary.eosId ?? 0))
    }
}
