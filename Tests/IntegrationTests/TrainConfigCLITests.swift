import Foundation
import Testing

/// `trident train --init random --config FILE|preset`: models of an architecture other than
/// `--model`'s (the seed's own style: LayerNorm, biases, gated GELU, learned positions), with
/// `--model`'s tokenizer and vocabulary.
@Suite("trident train --config", .serialized,
       .enabled(if: CLIPaths.binary != nil && FileManager.default.fileExists(atPath: CLIPaths.license),
                "needs a built trident and models/LICENSE.txt"))
struct TrainConfigCLITests {
    static func train(_ config: String, steps: Int, lr: String = "1e-3", _ extra: [String] = [])
        throws -> (steps: [[String: Any]], result: CLIResult) {
        let result = try runCLI(["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license, "--seq-len", "32",
                                 "--micro-batch", "2", "--steps", String(steps), "--lr", lr, "--json",
                                 "--init", "random", "--config", config, "--seed", "7"] + extra, timeout: 120)
        let objects = result.stdout.split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
        return (objects.filter { $0["step"] != nil }, result)
    }

    static func relative(_ a: Double, _ b: Double) -> Double { abs(a - b) / max(abs(b), 1e-30) }

    @Test("a tiny-gelu model (LayerNorm, biases, gated GELU, learned positions) from random weights: the loss falls over 10 steps")
    func lossFalls() throws {
        let run = try Self.train("tiny-gelu", steps: 10)
        #expect(run.result.status == 0, "\(run.result.transcript)")
        let losses = run.steps.map { TrainCLITests.number($0, "loss") }
        #expect(losses.count == 10)
        guard let first = losses.first, let last = losses.last else { return }
        // Random init starts near ln(vocabulary); ten AdamW steps at 1e-3 on a repeating text
        // must bring it clearly down.
        #expect(first.isFinite && last.isFinite && last < first - 0.5, "losses \(losses)")
    }

    @Test("one step of a --config model at --tp 2 (threads and TCP) and --tp 3 (uneven heads) equals one rank (1e-5 relative)",
          arguments: ["tiny-gelu", "tiny-gpt2"])
    func tensorParallelEqualsOneRank(preset: String) throws {
        let one = try Self.train(preset, steps: 1)
        #expect(one.result.status == 0, "\(one.result.transcript)")
        for extra in [["--tp", "2"], ["--tp", "2", "--backend", "tcp"], ["--tp", "3"]] {
            let two = try Self.train(preset, steps: 1, extra)
            #expect(two.result.status == 0, "\(two.result.transcript)")
            guard let a = one.steps.first, let b = two.steps.first else { Issue.record("no step line"); continue }
            for key in ["loss", "grad_norm"] {
                let (x, y) = (TrainCLITests.number(b, key), TrainCLITests.number(a, key))
                #expect(Self.relative(x, y) <= 1e-5, "\(preset) \(extra) \(key): \(x) vs one rank \(y)")
            }
        }
    }

    @Test("a JSON --config (plain ReLU MLP, RMSNorm, RoPE, biases) trains; vocab_size comes from --model")
    func jsonFile() throws {
        try withTemporaryDirectory { directory in
            let path = directory.appendingPathComponent("relu.json").path
            let json = """
                {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
                 "num_key_value_heads": 1, "max_position_embeddings": 64, "hidden_act": "relu",
                 "gated_mlp": false, "attention_bias": true, "mlp_bias": true, "normalization": "rms",
                 "position_embedding_type": "rope"}
                """
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
            let run = try Self.train(path, steps: 3)
            #expect(run.result.status == 0, "\(run.result.transcript)")
            #expect(run.steps.count == 3)
            #expect(run.steps.allSatisfy { TrainCLITests.number($0, "loss").isFinite })
        }
    }

    @Test("bad --config input gets one line and a non-zero exit")
    func badInput() throws {
        try withTemporaryDirectory { directory in
            func file(_ name: String, _ text: String) throws -> String {
                let path = directory.appendingPathComponent(name).path
                try Data(text.utf8).write(to: URL(fileURLWithPath: path))
                return path
            }
            let valid = #""hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2"#
            let cases: [([String], String)] = [
                (["--init", "random", "--config", "no-such-preset"], "neither a JSON file nor a preset"),
                (["--init", "random", "--config", try file("broken.json", "{\"hidden_size\": ")], "not a JSON object"),
                (["--init", "random", "--config", try file("missing.json", "{\"hidden_size\": 32}")], "missing key"),
                (["--init", "random", "--config", try file("typo.json", "{\(valid), \"num_layers\": 3}")], "unknown key 'num_layers'"),
                (["--init", "random", "--config", try file("heads.json",
                    #"{"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4, "num_key_value_heads": 3}"#)],
                 "not a multiple of 3 KV heads"),
                (["--init", "random", "--config", try file("split.json",
                    #"{"hidden_size": 34, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 4}"#)],
                 "not a multiple of 4 heads"),
                (["--init", "random", "--config", try file("vocab.json", "{\(valid), \"vocab_size\": 7}")], "differs from --model's vocabulary"),
                (["--init", "random", "--config", try file("act.json", "{\(valid), \"hidden_act\": \"tanh\"}")], "hidden_act"),
                (["--config", "tiny-gelu"], "--config needs --init random"),
                (["--init", "random", "--config", "tiny-gelu", "--save", directory.path], "cannot be written as GGUF"),
                (["--init", "random", "--config", "tiny-gelu", "--tp", "5"], "cannot place"),
            ]
            for (extra, expected) in cases {
                let result = try runCLI(["train", "--model", CLIPaths.tinyModel("f32"), "--data", CLIPaths.license,
                                         "--seq-len", "32", "--micro-batch", "1", "--steps", "1", "--lr", "1e-3"] + extra,
                                        timeout: 60)
                #expect(result.status != 0, "\(extra): \(result.transcript)")
                #expect(!result.signaled, "\(extra) crashed")
                let lines = result.stderrLines
                #expect(lines.count <= 2 && lines.contains { $0.contains(expected) }, "\(extra): \(result.stderr)")
            }
        }
    }
}
