import Foundation

/// Progress of long work on stderr, only when stderr is a terminal (and not with `--json`):
/// model loading, `perplexity`'s running `[chunk]ppl` figures (as llama.cpp prints them),
/// `bench` repetitions. Quiet otherwise, so piped and logged output is unchanged.
final class ProgressLine: @unchecked Sendable {
    let enabled: Bool
    /// Whether the last thing written was a progress line still open (no newline yet).
    private var open = false

    /// - Parameter enabled: false for `--json`; stderr must also be a terminal.
    init(enabled: Bool) {
        self.enabled = enabled && isatty(STDERR_FILENO) != 0
    }

    /// Announces the model load (called before the ranks start).
    func loading(_ path: String, ranks: Int) {
        write("loading \(path) on \(ranks) rank\(ranks == 1 ? "" : "s")...\n")
    }

    func modelLoaded(seconds: Double) {
        write(String(format: "model loaded in %.2f s\n", seconds))
    }

    /// One `[chunk]perplexity` figure, appended to the running line.
    func perplexity(chunk: Int, of total: Int, running: Double) {
        write(String(format: "%@[%d]%.4f", open ? "," : "perplexity over \(total) chunks: ", chunk, running), staysOpen: true)
    }

    /// A line of its own (e.g. `bench` repetition times).
    func note(_ text: String) { write(text + "\n") }

    /// Ends an open progress line.
    func finish() { if open { write("\n") } }

    private func write(_ text: String, staysOpen: Bool = false) {
        guard enabled else { return }
        FileHandle.standardError.write(Data(text.utf8))
        open = staysOpen
    }
}
