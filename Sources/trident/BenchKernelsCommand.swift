import ArgumentParser
import TridentKernels

/// `trident bench kernels`: weight GB/s of the matrix kernels per storage type.
struct BenchKernelsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kernels",
        abstract: "Time matvec (decode) and prefill kernels per weight type: us/call, GB/s of weights, GFLOP/s.",
        discussion: """
            With --types, every listed type is timed on one [rows, columns] shape (columns a \
            multiple of 256), so GB/s compare per byte of weights. Without it, SmolLM2's shapes.
            """)

    @Option(help: "Comma-separated weight types, e.g. q4_1,q4_k,q6_k (\(DType.allCases.map(\.rawValue).joined(separator: ","))).")
    var types: String?

    @Option(parsing: .unconditional, help: "Rows of the --types shape.")
    var rows: Int = 2048

    @Option(parsing: .unconditional, help: "Columns of the --types shape (a multiple of 256).")
    var columns: Int = 2048

    @Option(parsing: .unconditional, help: "Tokens per call of the --types cases (1 = decode matvec).")
    var tokens: Int = 1

    @Option(help: "Comma-separated thread counts.")
    var threads: String = "1,2"

    @Flag(help: "Time every matrix-vector kernel (narrow 8-lane, wide 16-lane) in turn, not only this CPU's default.")
    var compareMatvec = false

    @Option(parsing: .unconditional, help: "Seconds per case.")
    var seconds: Double = 0.3

    func validate() throws {
        try OptionCheck.integer(rows, in: 1...1 << 20, "--rows")
        try OptionCheck.integer(columns, in: 256...1 << 20, "--columns")
        try OptionCheck.integer(tokens, in: 1...4096, "--tokens")
        guard columns % 256 == 0 else { throw ValidationError("--columns must be a multiple of 256, got \(columns)") }
        guard seconds > 0 && seconds <= 60 else { throw ValidationError("--seconds must be in (0, 60], got \(seconds)") }
        _ = try parsedTypes()
        _ = try parsedThreads()
    }

    func parsedTypes() throws -> [DType]? {
        guard let types else { return nil }
        return try types.split(separator: ",").map { name in
            guard let t = DType(rawValue: name.lowercased()) else {
                throw ValidationError("--types: unknown type '\(name)'; known: \(DType.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            return t
        }
    }

    func parsedThreads() throws -> [Int] {
        let counts = threads.split(separator: ",").compactMap { Int($0) }
        guard !counts.isEmpty, counts.count == threads.split(separator: ",").count, counts.allSatisfy({ (1...256).contains($0) }) else {
            throw ValidationError("--threads must be thread counts in 1...256 separated by commas, got '\(threads)'")
        }
        return counts
    }

    func run() throws {
        let cases = try parsedTypes().map { KernelBenchmarks.typeCases($0, rows: rows, columns: columns, tokens: tokens) }
        print(KernelBenchmarks.run(cases: cases ?? KernelBenchmarks.defaultCases, threadCounts: try parsedThreads(),
                                   secondsPerCase: seconds,
                                   kernels: compareMatvec ? MatvecKernel.allCases : [.current]))
    }
}
