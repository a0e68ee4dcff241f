import Foundation

/// The layout of a checkpoint root: `step-N/` (complete), `step-N.partial/` (a save in
/// progress or interrupted: ignored), and `latest` (the name of the newest complete one).
public enum CheckpointDirectory {
    public static let latestFile = "latest"

    /// Complete checkpoints under `root`, newest first: (step, path).
    public static func complete(root: String) -> [(step: Int, path: String)] {
        entries(root: root, suffix: "").filter {
            FileManager.default.fileExists(atPath: $0.path + "/" + CheckpointManifest.fileName)
        }
    }

    /// Partial checkpoints under `root`, newest first.
    static func partials(root: String) -> [(step: Int, path: String)] { entries(root: root, suffix: ".partial") }

    private static func entries(root: String, suffix: String) -> [(step: Int, path: String)] {
        let names = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        return names.compactMap { name -> (Int, String)? in
            guard name.hasPrefix("step-"), name.hasSuffix(suffix) else { return nil }
            let digits = name.dropFirst(5).dropLast(suffix.count)
            guard !digits.isEmpty, digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), let step = Int(digits) else { return nil }
            return (step, root + "/" + name)
        }.sorted { $0.0 > $1.0 }
    }

    /// Whether `path` is one checkpoint (it holds `manifest.json`).
    public static func isCheckpoint(_ path: String) -> Bool {
        FileManager.default.fileExists(atPath: path + "/" + CheckpointManifest.fileName)
    }

    /// The checkpoint `path` names: itself when it holds a manifest, else the one its `latest`
    /// pointer names. - Throws: `CheckpointError.notACheckpoint` saying what was found.
    public static func resolve(_ path: String) throws -> String {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        if isCheckpoint(trimmed) { return trimmed }
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: trimmed, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw CheckpointError.notACheckpoint(path: trimmed, found: "no such directory")
        }
        let pointer = trimmed + "/" + latestFile
        guard let data = FileManager.default.contents(atPath: pointer) else {
            let found = complete(root: trimmed).isEmpty ? "no step-N checkpoint either" : "it has step-N checkpoints but no 'latest'"
            throw CheckpointError.notACheckpoint(path: trimmed, found: found)
        }
        let name = String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty, !name.contains("/"), name != "..", isCheckpoint(trimmed + "/" + name) else {
            throw CheckpointError.notACheckpoint(path: trimmed, found: "\(pointer) names '\(name)', which holds no manifest.json")
        }
        return trimmed + "/" + name
    }
}
