import Foundation

/// Text the user hands the CLI (a prompts file, a text to score or tokenize, standard input),
/// read with one-line errors: missing, a directory, unreadable, empty, not UTF-8.
enum InputFile {
    /// The whole file at `path` as text.
    /// - Parameter option: the option that named the file, for messages (`--prompts-file`).
    /// - Throws: `ExitMessage` naming the option and the path.
    static func text(_ path: String, option: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ExitMessage("\(option): no file at '\(path)'")
        }
        guard !isDirectory.boolValue else { throw ExitMessage("\(option): '\(path)' is a directory, expected a text file") }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ExitMessage("\(option): cannot read '\(path)'")
        }
        guard !data.isEmpty else { throw ExitMessage("\(option): '\(path)' is empty") }
        return try decode(data, option: option, name: "'\(path)'")
    }

    /// All of standard input as text (only for commands that run in one process: launched
    /// ranks would each read their own standard input).
    static func standardInput(option: String) throws -> String {
        let data = FileHandle.standardInput.readDataToEndOfFile()
        guard !data.isEmpty else { throw ExitMessage("\(option): standard input is empty") }
        return try decode(data, option: option, name: "standard input")
    }

    /// `data` as UTF-8 (a leading byte-order mark dropped).
    /// - Throws: `ExitMessage` with the offset of the first byte that is not UTF-8.
    static func decode(_ data: Data, option: String, name: String) throws -> String {
        let bytes = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
        if let text = String(validating: bytes, as: UTF8.self) { return text }
        var offset = 0
        var decoder = UTF8()
        var iterator = bytes.makeIterator()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let scalar): offset += UTF8.width(scalar)
            case .emptyInput, .error: break loop
            }
        }
        throw ExitMessage("\(option): \(name) is not UTF-8 text (invalid byte near offset \(offset))")
    }

    /// The non-empty lines of `text`: LF, CRLF and CR all end a line (Swift's `"\r\n"` is one
    /// `Character`, so a split on `"\n"` alone would never see a CRLF file's line ends).
    static func lines(_ text: String) -> [String] {
        text.split(whereSeparator: \.isNewline).map(String.init)
            .filter { !$0.allSatisfy(\.isWhitespace) }
    }
}
