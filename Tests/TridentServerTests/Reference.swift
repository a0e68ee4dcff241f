import Foundation
import TridentCollectives
import TridentEngine
import TridentFormats
import TridentModel
import TridentTokenizer

/// Independent results for the server tests: the same model run by `BatchGenerator` on one rank,
/// one request at a time, without the server.
enum Reference {
    static func generate(model: String = TestModels.tiny, prompt: String, maxTokens: Int,
                         capacity: Int = 128) throws -> GenerationResult {
        let tokenizer = try Tokenizer(gguf: GGUFFile(path: model))
        let tokens = tokenizer.encode(prompt, parseSpecial: true).map { Int32($0) }
        let world = LocalCommunicator.makeGroup(size: 1)[0]
        let runtime = try RankRuntime.load(path: model, world: world, threads: 1, capacity: capacity)
        return try DistributedRunner.drive(runtime) { runner in
            try BatchGenerator(runner: runner, tokenizer: tokenizer)
                .generate(GenerationRequest(promptTokens: tokens, maxTokens: maxTokens))
        }
    }
}

extension HTTPReply {
    /// `choices[i].text` (completions) or `choices[i].message.content` (chat).
    func choiceText(_ i: Int = 0) -> String? {
        guard let choices = json?["choices"] as? [[String: Any]], i < choices.count else { return nil }
        if let text = choices[i]["text"] as? String { return text }
        return (choices[i]["message"] as? [String: Any])?["content"] as? String
    }

    func choice(_ i: Int = 0) -> [String: Any]? {
        (json?["choices"] as? [[String: Any]]).flatMap { i < $0.count ? $0[i] : nil }
    }

    /// `usage`'s counts, with `prompt_tokens_details.cached_tokens` as `cached_tokens`.
    var usage: [String: Int]? { Self.counts(json?["usage"]) }

    static func counts(_ usage: Any?) -> [String: Int]? {
        guard let usage = usage as? [String: Any] else { return nil }
        var counts = usage.compactMapValues { $0 as? Int }
        counts["cached_tokens"] = (usage["prompt_tokens_details"] as? [String: Any])?["cached_tokens"] as? Int
        return counts
    }

    /// The error object's fields.
    var error: [String: Any]? { json?["error"] as? [String: Any] }

    /// Streamed chunks (JSON objects), `[DONE]` excluded.
    var chunks: [[String: Any]] {
        events.filter { $0 != "[DONE]" }.compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }
}
