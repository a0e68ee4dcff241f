import Foundation
import Testing
import TridentFormats
@testable import TridentTokenizer

/// llama.cpp's tokenizer conformance files (`models/ggml-vocab-NAME.gguf` with `.gguf.inp` and
/// `.gguf.out`), read from the folder named by `TRIDENT_LLAMA_VOCAB_DIR` (not committed).
/// Format (llama.cpp `tests/test-tokenizer-0.cpp`): inputs separated by the line
/// `__ggml_vocab_test__`, one line of space-separated ids per input; encoded without BOS/EOS
/// and without parsing special tokens. `scripts/tokenizer-conformance.sh` runs this suite.
enum LlamaVocabConformance {
    static let directory = ProcessInfo.processInfo.environment["TRIDENT_LLAMA_VOCAB_DIR"]

    struct Case {
        var text: String
        var ids: [Int]
    }

    /// One vocabulary's outcome.
    struct Row {
        var name: String
        var cases: Int
        var passed: Int?           // nil: not run
        var note: String
    }

    /// The cases of `NAME.gguf.inp` / `.out`. Throws when the two disagree in count.
    static func cases(inp: URL, out: URL) throws -> [Case] {
        // Split on bytes: a case may end in "\r", which String would join with the "\n" after it.
        let raw = [UInt8](try Data(contentsOf: inp))
        let separator = Array("\n__ggml_vocab_test__\n".utf8)
        var texts: [String] = []
        var start = 0
        while start < raw.count {
            guard let hit = Tokenizer.find(separator, in: raw, from: start, to: raw.count) else {
                texts.append(String(decoding: raw[start...], as: UTF8.self))
                break
            }
            texts.append(String(decoding: raw[start..<hit], as: UTF8.self))
            start = hit + separator.count
        }
        var lines = try String(contentsOf: out, encoding: .utf8).components(separatedBy: "\n")
        if lines.last == "" { lines.removeLast() }
        guard texts.count == lines.count else {
            throw TokenizerError.lengthMismatch(key: out.lastPathComponent, expected: texts.count, found: lines.count)
        }
        return zip(texts, lines).map { text, line in
            Case(text: text, ids: line.split(separator: " ").compactMap { Int($0) })
        }
    }

    /// Runs every `*.gguf.inp` in `directory`; vocabularies without a `.gguf` are listed as missing.
    static func run(directory: URL) throws -> [Row] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".gguf.inp") }.sorted()
        var rows: [Row] = []
        for inpName in names {
            let gguf = directory.appendingPathComponent(String(inpName.dropLast(4)))
            let name = gguf.deletingPathExtension().lastPathComponent.replacingOccurrences(of: "ggml-vocab-", with: "")
            let all = try cases(inp: directory.appendingPathComponent(inpName),
                                out: URL(fileURLWithPath: gguf.path + ".out"))
            guard FileManager.default.fileExists(atPath: gguf.path) else {
                rows.append(Row(name: name, cases: all.count, passed: nil, note: "no .gguf in this folder"))
                continue
            }
            let file = try GGUFFile(path: gguf.path)
            let model = file.metadata["tokenizer.ggml.model"]?.string ?? "?"
            guard model == "gpt2" || model == "llama" else {
                rows.append(Row(name: name, cases: all.count, passed: nil,
                                note: "tokenizer model '\(model)': not BPE or SentencePiece, not applicable"))
                continue
            }
            do {
                let tokenizer = try Tokenizer(gguf: file)
                var passed = 0
                for c in all {
                    let got = tokenizer.encode(c.text, parseSpecial: false, addSpecial: false)
                    if got == c.ids { passed += 1 } else if ProcessInfo.processInfo.environment["TRIDENT_VOCAB_VERBOSE"] != nil {
                        print("\(name) FAIL \(c.text.debugDescription)\n  want \(c.ids)\n  got  \(got)")
                    }
                }
                rows.append(Row(name: name, cases: all.count, passed: passed, note: model == "llama" ? "SentencePiece" : "BPE"))
            } catch {
                rows.append(Row(name: name, cases: all.count, passed: 0, note: "refused: \(error)"))
            }
        }
        // Vocabularies shipped without cases: only whether they load.
        let ggufs = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".gguf") && !names.contains($0 + ".inp") }.sorted()
        for ggufName in ggufs {
            let name = String(ggufName.dropLast(5)).replacingOccurrences(of: "ggml-vocab-", with: "")
            let file = try GGUFFile(path: directory.appendingPathComponent(ggufName).path)
            let model = file.metadata["tokenizer.ggml.model"]?.string ?? "?"
            do {
                let tokenizer = try Tokenizer(gguf: file)
                rows.append(Row(name: name, cases: 0, passed: nil,
                                note: "no .inp/.out; loads (\(model), \(tokenizer.vocabularySize) tokens)"))
            } catch {
                rows.append(Row(name: name, cases: 0, passed: nil, note: "no .inp/.out; refused: \(error)"))
            }
        }
        return rows
    }

    static func table(_ rows: [Row]) -> String {
        var s = "| vocab | cases | passed | note |\n| --- | --- | --- | --- |\n"
        for r in rows {
            s += "| \(r.name) | \(r.cases) | \(r.passed.map(String.init) ?? "-") | \(r.note) |\n"
        }
        return s
    }
}

@Suite("llama.cpp vocabulary conformance (TRIDENT_LLAMA_VOCAB_DIR)",
       .enabled(if: LlamaVocabConformance.directory != nil, "set TRIDENT_LLAMA_VOCAB_DIR to llama.cpp's models/"))
struct LlamaVocabConformanceTests {
    @Test("every BPE and SentencePiece vocabulary passes every case")
    func allVocabularies() throws {
        let rows = try LlamaVocabConformance.run(directory: URL(fileURLWithPath: try #require(LlamaVocabConformance.directory)))
        print(LlamaVocabConformance.table(rows))
        #expect(!rows.isEmpty)
        for row in rows where row.passed != nil {
            #expect(row.passed == row.cases, "\(row.name): \(row.passed ?? 0)/\(row.cases) (\(row.note))")
        }
    }
}
