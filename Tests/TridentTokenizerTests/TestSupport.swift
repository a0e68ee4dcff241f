import Foundation
import TridentFormats
@testable import TridentTokenizer

/// Locations of shared fixtures and the real model, found from this file's path.
enum TestPaths {
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let fixtures = repository.appendingPathComponent("Tests/Fixtures")
    static let tokenizerFixtures = fixtures.appendingPathComponent("tokenizer")
    static let smolLM2 = repository.appendingPathComponent("models/SmolLM2-135M-Instruct.Q4_1.gguf")
    static let license = repository.appendingPathComponent("models/LICENSE.txt")

    static func fixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
        let data = try Data(contentsOf: tokenizerFixtures.appendingPathComponent(name))
        return try JSONDecoder().decode(T.self, from: data)
    }
}

/// The SmolLM2 tokenizer, loaded once (immutable) for all tests.
enum SmolLM2 {
    static let tokenizer: Tokenizer = {
        do {
            return try Tokenizer(gguf: GGUFFile(path: TestPaths.smolLM2.path))
        } catch {
            fatalError("cannot load \(TestPaths.smolLM2.path): \(error)")
        }
    }()
}

/// `smollm2-encode.json`: oracle token ids for tricky strings and the model's LICENSE text.
struct EncodeFixture: Decodable {
    struct Case: Decodable {
        var name: String
        var text: String
        var parseSpecial: Bool
        var ids: [Int]
        var decoded: String
    }
    struct License: Decodable {
        var count: Int
        var sha256: String
        var ids: [Int]
    }
    var eog: [Int]
    var cases: [Case]
    var license: License
}
