import ArgumentParser
import Foundation
import TridentFormats
import TridentModel
import TridentTokenizer

/// `trident tokenize`: the token ids of a text given as an argument, `--text`, `--file`, or
/// standard input (`-`, or no text at all with input piped in).
struct TokenizeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenize",
        abstract: "Print the token ids of a text (argument, --text, --file, or standard input).",
        discussion: "A text starting with '-' goes after '--' or in --text: trident tokenize -m M -- -x")

    @Option(name: [.long, .customShort("m")],
            help: "Path to a GGUF model file, or a Hugging Face directory with tokenizer.json.")
    var model: String

    @Argument(help: "Text to tokenize; '-' reads standard input.")
    var text: String?

    @Option(name: .customLong("text"), parsing: .unconditional, help: "Text to tokenize (may start with '-').")
    var textOption: String?

    @Option(name: [.long, .customShort("f")], help: "A UTF-8 file whose whole content is tokenized.")
    var file: String?

    @Flag(help: "Do not parse special-token texts (e.g. <|im_start|>) as special tokens.")
    var noParseSpecial = false

    func validate() throws {
        let tokenizerOnlyDirectory = ModelFiles.isDirectory(model)
            && FileManager.default.fileExists(atPath: (model as NSString).appendingPathComponent("tokenizer.json"))
        if !tokenizerOnlyDirectory { try OptionCheck.modelFile(model) }
        let given = [text, textOption, file].compactMap { $0 }.count
        guard given <= 1 else { throw ValidationError("give one text: an argument, --text or --file") }
        if given == 0 && isatty(STDIN_FILENO) != 0 {
            throw ValidationError("give a text to tokenize: an argument, --text, --file, or pipe it to standard input")
        }
    }

    func run() throws {
        let input: String
        if let file {
            input = try InputFile.text(file, option: "--file")
        } else if let given = textOption ?? text, given != "-" || textOption != nil {
            input = given
        } else {
            input = try InputFile.standardInput(option: "tokenize")
        }
        let tokenizer = try ModelTokenizer.load(model)
        print(tokenizer.encode(input, parseSpecial: !noParseSpecial).map(String.init).joined(separator: " "))
    }
}
