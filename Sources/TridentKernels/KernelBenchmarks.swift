#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Micro-benchmarks of the matrix kernels (not tests): run in a release build, e.g. from a
/// `trident bench kernels` subcommand. Machines are noisy; compare ratios from one run.
public enum KernelBenchmarks {
    /// One measured configuration.
    public struct Case: Sendable {
        public let dtype: DType
        public let rows: Int
        public let columns: Int
        public let tokens: Int
        public init(dtype: DType, rows: Int, columns: Int, tokens: Int = 1) {
            self.dtype = dtype
            self.rows = rows
            self.columns = columns
            self.tokens = tokens
        }
    }

    /// SmolLM2-135M's matrix shapes (Q4_1 layers, Q8_0 LM head) plus f32 4096x4096, as
    /// matvec, and a 64-token prefill of the Q4_1 FFN shape.
    public static let defaultCases: [Case] = [
        Case(dtype: .q4_1, rows: 576, columns: 1536), Case(dtype: .q4_1, rows: 1536, columns: 576),
        Case(dtype: .q4_1, rows: 49152, columns: 576),
        Case(dtype: .q4_0, rows: 576, columns: 1536),
        Case(dtype: .q8_0, rows: 576, columns: 1536), Case(dtype: .q8_0, rows: 1536, columns: 576),
        Case(dtype: .q8_0, rows: 49152, columns: 576),
        Case(dtype: .f32, rows: 4096, columns: 4096),
        Case(dtype: .q4_1, rows: 1536, columns: 576, tokens: 64),
        Case(dtype: .q8_0, rows: 1536, columns: 576, tokens: 64),
    ]

    /// One matvec (and, with `tokens > 1`, one prefill) case per type, all of the shape
    /// `[rows, columns]`: compares the types' GB/s of weights streamed (`columns` must be a
    /// multiple of 256 so the super-block types fit).
    public static func typeCases(_ types: [DType], rows: Int = 2048, columns: Int = 2048, tokens: Int = 1) -> [Case] {
        types.map { Case(dtype: $0, rows: rows, columns: columns, tokens: tokens) }
    }

    /// Runs `cases` with each thread count for about `secondsPerCase` and returns a table:
    /// weight bytes streamed per second (GB/s), GFLOP/s and time per call.
    /// `kernels`: the matrix-vector loops to time for `tokens == 1` cases (each in turn, so
    /// old and new are compared in one process and minute).
    public static func run(cases: [Case] = defaultCases, threadCounts: [Int] = [1, 2],
                           secondsPerCase: Double = 0.3, kernels: [MatvecKernel] = [.current]) -> String {
        var lines = ["dtype  rows x cols   tokens threads kernel   us/call    GB/s  GFLOP/s"]
        for threads in threadCounts {
            let pool = ThreadPool(threadCount: threads)
            for c in cases {
                for kernel in c.tokens == 1 ? kernels : [MatvecKernel.current] {
                    let seconds = measure(c, pool: pool, budget: secondsPerCase, kernel: kernel)
                    let weightBytes = Double(c.dtype.rowBytes(c.columns) * c.rows)
                    let flops = 2.0 * Double(c.rows * c.columns * c.tokens)
                    lines.append(pad("\(c.dtype)", 6) + pad("\(c.rows)x\(c.columns)", 13) + pad("\(c.tokens)", 7)
                                 + pad("\(threads)", 8) + pad(c.tokens == 1 ? kernel.rawValue : PrefillKernel.current.rawValue, 7)
                                 + pad(format(seconds * 1e6, 1), 10)
                                 + pad(format(weightBytes / seconds / 1e9, 2), 8)
                                 + pad(format(flops / seconds / 1e9, 1), 9))
                }
            }
        }
        for threads in threadCounts {
            for kernel in kernels {
                let seconds = smolLM2DecodeMatvecSeconds(pool: ThreadPool(threadCount: threads), kernel: kernel)
                lines.append("SmolLM2-135M decode, matvecs only, \(threads) thread(s), \(kernel.rawValue):"
                             + " \(format(seconds * 1e3, 2)) ms/token = \(format(1 / seconds, 1)) tokens/s upper bound")
            }
        }
        for threads in threadCounts where threads > 1 {
            let overhead = forkJoinSeconds(ThreadPool(threadCount: threads))
            lines.append("empty \(threads)-thread parallelFor (idle workers are not waited for): \(format(overhead * 1e6, 2)) us")
        }
        return lines.joined(separator: "\n")
    }

    /// Seconds of matrix-vector work per decoded token of SmolLM2-135M (30 layers of
    /// Q4_1 q/k/v/o/gate/up/down, dim 576, kv dim 192, ffn 1536, plus the Q8_0 49152-row
    /// LM head), measured shape by shape.
    public static func smolLM2DecodeMatvecSeconds(pool: ThreadPool, budget: Double = 0.1,
                                                  kernel: MatvecKernel = .current) -> Double {
        let layer: [(Int, Int, Int)] = [(576, 576, 2), (192, 576, 2), (1536, 576, 2), (576, 1536, 1)]
        var total = 0.0
        for (rows, columns, count) in layer {
            total += 30 * Double(count) * measure(Case(dtype: .q4_1, rows: rows, columns: columns), pool: pool,
                                                  budget: budget, kernel: kernel)
        }
        return total + measure(Case(dtype: .q8_0, rows: 49152, columns: 576), pool: pool, budget: budget, kernel: kernel)
    }

    /// Seconds per `parallelFor(threadCount)` with an empty body (best of 5 batches).
    public static func forkJoinSeconds(_ pool: ThreadPool, iterations: Int = 20_000) -> Double {
        var best = Double.infinity
        for _ in 0..<5 {
            let t0 = now()
            for _ in 0..<iterations { pool.parallelFor(pool.threadCount) { _ in } }
            best = min(best, (now() - t0) / Double(iterations))
        }
        return best
    }

    /// Seconds per `matmul` call, best of several timed batches.
    private static func measure(_ c: Case, pool: ThreadPool, budget: Double, kernel: MatvecKernel = .current) -> Double {
        var values = [Float](repeating: 0, count: c.rows * c.columns)
        var state: UInt32 = 12345
        for i in values.indices {
            state = state &* 1_664_525 &+ 1_013_904_223
            values[i] = Float(Int32(bitPattern: state >> 8) - 0x80_0000) / Float(0x80_0000)
        }
        let weights = Quantizer.canQuantize(c.dtype)
            ? OwnedWeights(values: values, rows: c.rows, columns: c.columns, dtype: c.dtype)
            : OwnedWeights(bytes: RandomBlocks.rows(c.rows, columns: c.columns, dtype: c.dtype, seed: 12345),
                           rows: c.rows, columns: c.columns, dtype: c.dtype)
        let input = [Float](repeating: 0.5, count: c.tokens * c.columns)
        var output = [Float](repeating: 0, count: c.tokens * c.rows)
        // Packed as a model load packs it (`TRIDENT_ROW_GROUPS=0` keeps GGUF order).
        let w = RowGroups.enabledByDefault ? weights.matrix.packedInRowGroups() : weights.matrix
        var best = Double.infinity
        var iterations = 1
        let start = now()
        input.withUnsafeBufferPointer { x in
            output.withUnsafeMutableBufferPointer { y in
                let input = x.baseAddress!, output = y.baseAddress!
                let call = {
                    if c.tokens == 1 {
                        matvec(weight: w, input: input, output: output, pool: pool, kernel: kernel)
                    } else {
                        matmul(weight: w, input: input, output: output, tokens: c.tokens, pool: pool)
                    }
                }
                call()
                while now() - start < budget {
                    let t0 = now()
                    for _ in 0..<iterations { call() }
                    let elapsed = now() - t0
                    best = min(best, elapsed / Double(iterations))
                    if elapsed < 0.01 { iterations *= 2 }
                }
            }
        }
        return best
    }

    private static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) * 1e-9
    }

    private static func format(_ value: Double, _ decimals: Int) -> String {
        var scale = 1.0
        for _ in 0..<decimals { scale *= 10 }
        let rounded = (value * scale).rounded() / scale
        return decimals == 0 ? "\(Int(rounded))" : "\(rounded)"
    }

    private static func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
    }
}
