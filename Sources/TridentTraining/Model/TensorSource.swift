import Foundation
import TridentFormats
import TridentKernels
import TridentModel

/// Where a training model's float32 master values come from.
public enum TensorSource {
    /// A GGUF file: each tensor's slice dequantized to float32.
    case gguf(GGUFFile)
    /// Megatron's initialisation, identical for every layout (`ParameterInitializer`).
    case random(seed: UInt64)

    /// This rank's values of `spec`, row-major `[rows.count, columns.count]`.
    /// - Throws: `ModelLoadingError` for a missing tensor or a wrong shape, `GGUFError` for an unreadable one.
    func values(_ spec: ParameterSpec, layers: Int, pool: ThreadPool) throws -> [Float] {
        switch self {
        case .gguf(let file): return try Self.read(spec, from: file)
        case .random(let seed): return Self.initialise(spec, seed: seed, layers: layers, pool: pool)
        }
    }

    private static func read(_ spec: ParameterSpec, from file: GGUFFile) throws -> [Float] {
        guard let info = file.tensor(named: spec.name) else { throw ModelLoadingError.missingTensor(spec.name) }
        let expected = spec.isVector ? [spec.globalRows] : [spec.globalColumns, spec.globalRows]
        guard info.shape == expected else {
            throw ModelLoadingError.wrongShape(tensor: spec.name, expected: expected, found: info.shape)
        }
        if spec.isVector { return Array(try file.floats(named: spec.name)[spec.rows]) }
        let matrix = try file.matrix(named: spec.name)
        let width = spec.columns.count
        var out = [Float](repeating: 0, count: spec.rows.count * width)
        var row = [Float](repeating: 0, count: spec.globalColumns)
        for (i, r) in spec.rows.enumerated() {
            row.withUnsafeMutableBufferPointer { matrix.dequantizeRow(r, into: $0.baseAddress!) }
            for (j, c) in spec.columns.enumerated() { out[i * width + j] = row[c] }
        }
        return out
    }

    private static func initialise(_ spec: ParameterSpec, seed: UInt64, layers: Int, pool: ThreadPool) -> [Float] {
        let count = spec.rows.count * spec.columns.count
        switch spec.role {
        case .normWeight: return [Float](repeating: 1, count: count)
        case .bias: return [Float](repeating: 0, count: count)
        case .matrix(let outputProjection):
            var out = [Float](repeating: 0, count: count)
            let std = ParameterInitializer.standardDeviation(isOutputProjection: outputProjection, layers: layers)
            out.withUnsafeMutableBufferPointer { buffer in
                ParameterInitializer.normal(into: buffer.baseAddress!, globalRows: spec.globalRows,
                                            globalColumns: spec.globalColumns, rows: spec.rows, columns: spec.columns,
                                            std: std, random: CounterRandom(seed: seed),
                                            stream: streamID(spec.name), pool: pool)
            }
            return out
        }
    }

    /// A stable stream number per tensor name (FNV-1a), the same in every layout.
    static func streamID(_ name: String) -> UInt64 {
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01B3 }
        return hash
    }
}
