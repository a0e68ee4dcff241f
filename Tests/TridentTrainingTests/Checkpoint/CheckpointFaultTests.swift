import Foundation
import Testing
import TridentCollectives
@testable import TridentTraining

@Suite("Sharded checkpoint faults", .serialized)
struct CheckpointFaultTests {
    let tokens = llamaTokens(700)

    /// Checkpoints after steps 2 and 4 of a TP2 run under a fresh root, then `body(root)`.
    func withTwoCheckpoints(_ body: (String) throws -> Void) throws {
        try withCheckpointDirectory { root in
            _ = try runLlama(tp: 2, try llamaConfiguration(accumulate: 2, steps: 6), tokens: tokens, until: 4,
                             afterStep: saving(to: root, every: 2, tokens: tokens))
            try body(root)
        }
    }

    /// Resumes a TP1 session from `request`: the directory resumed from, and the lines logged.
    func resume(_ request: CheckpointResume.Request) throws -> (String?, [String]) {
        let logs = LogLines()
        let chosen = LogLines()
        _ = try runLlama(try llamaConfiguration(accumulate: 2, steps: 6), tokens: tokens, until: 0, prepare: { session in
            if let directory = try CheckpointResume.resume(session, request, log: logs.add) { chosen.add(directory) }
        })
        return (chosen.lines.first, logs.lines)
    }

    /// The first data file of `directory`.
    func dataFile(_ directory: String) throws -> String {
        let manifest = try CheckpointManifest.read(directory: directory)
        return directory + "/" + (try #require(manifest.files.first { !$0.slices.isEmpty })).path
    }

    @Test("a flipped byte or a truncated file: an explicit resume is refused naming the file, auto falls back to the previous checkpoint",
          arguments: ["flip", "truncate"])
    func damagedFile(damage: String) throws {
        try withTwoCheckpoints { root in
            let file = try dataFile(root + "/step-4")
            let handle = try #require(FileHandle(forUpdatingAtPath: file))
            let size = try handle.seekToEnd()
            if damage == "flip" {
                try handle.seek(toOffset: size / 2)
                let byte = try #require(try handle.read(upToCount: 1)).first!
                try handle.seek(toOffset: size / 2)
                try handle.write(contentsOf: [byte ^ 0x40])
            } else {
                try handle.truncate(atOffset: size - 100)
            }
            try handle.close()
            #expect(throws: CheckpointError.self) { _ = try resume(.directory(root)) }
            do { _ = try resume(.directory(root + "/step-4")) } catch {
                #expect("\(error)".contains(file), "\(error)")
                #expect("\(error)".contains(damage == "flip" ? "CRC-32C" : "truncated"), "\(error)")
            }
            let (chosen, logs) = try resume(.auto(root: root))
            #expect(chosen == root + "/step-2")
            #expect(logs.contains { $0.contains("skipping") && $0.contains(file) }, "\(logs)")
        }
    }

    @Test("a partial directory (a save killed before its rename) is ignored; with nothing valid, auto starts fresh")
    func partialIgnored() throws {
        try withTwoCheckpoints { root in
            // A copy of step-4 that never got renamed, as a kill between the manifest and the rename leaves.
            try FileManager.default.copyItem(atPath: root + "/step-4", toPath: root + "/step-6.partial")
            try FileManager.default.createDirectory(atPath: root + "/step-8.partial", withIntermediateDirectories: true)
            #expect(CheckpointDirectory.complete(root: root).map(\.step) == [4, 2])
            #expect(try resume(.auto(root: root)).0 == root + "/step-4")
            #expect(try resume(.directory(root)).0 == root + "/step-4")
            for step in [2, 4] { try FileManager.default.removeItem(atPath: root + "/step-\(step)") }
            let (chosen, logs) = try resume(.auto(root: root))
            #expect(chosen == nil && logs.contains { $0.contains("starting fresh") })
            #expect(throws: CheckpointError.self) { _ = try resume(.directory(root)) }
        }
    }

    @Test("a manifest that is not JSON, or lacks a key, is refused naming manifest.json; auto skips it")
    func badManifest() throws {
        try withTwoCheckpoints { root in
            let path = root + "/step-4/manifest.json"
            try Data("{\"format\": \"trident-sharded-checkpoint\", ".utf8).write(to: URL(fileURLWithPath: path))
            #expect(throws: CheckpointError.self) { _ = try CheckpointManifest.read(directory: root + "/step-4") }
            do { _ = try CheckpointManifest.read(directory: root + "/step-4") } catch {
                #expect("\(error)".contains(path) && "\(error)".contains("invalid JSON"), "\(error)")
            }
            try Data("{\"format\": \"trident-sharded-checkpoint\"}".utf8).write(to: URL(fileURLWithPath: path))
            do { _ = try CheckpointManifest.read(directory: root + "/step-4") } catch {
                #expect("\(error)".contains(path) && "\(error)".contains("missing key"), "\(error)")
            }
            let (chosen, logs) = try resume(.auto(root: root))
            #expect(chosen == root + "/step-2")
            #expect(logs.contains { $0.contains(path) }, "\(logs)")
        }
    }

    @Test("--keep 1 leaves only the newest checkpoint; latest names it")
    func keepPrunes() throws {
        try withCheckpointDirectory { root in
            let writers = WriterTable()
            let tokens = self.tokens
            _ = try runLlama(try llamaConfiguration(accumulate: 2, steps: 6), tokens: tokens, until: 3, afterStep: { session, stats in
                let writer = writers.writer(rank: session.groups.world.rank) { ShardedCheckpointWriter(root: root, keep: 1, tokens: tokens) }
                try writer.save(session, metrics: stats)
            })
            #expect(CheckpointDirectory.complete(root: root).map(\.step) == [3])
            let latest = try String(contentsOfFile: root + "/latest", encoding: .utf8)
            #expect(latest == "step-3\n")
        }
    }
}
