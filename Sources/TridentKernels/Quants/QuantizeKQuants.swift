/// Float32 -> K-quant super-blocks (256 elements; layouts in `KQuantLayout`).
///
/// - `q4_K` / `q5_K`: each of the 8 sub-blocks of 32 gets an asymmetric fit
///   (`KQuantSearch.fitScaleOffset`, weights `rms(sub-block) + |x|`, as ggml's reference
///   quantizer weighs them); the 8 scales and 8 offsets are then coded as 6-bit integers under
///   the f16 super-scales `d = max scale / 63`, `dmin = max offset / 63`. Each sub-block then
///   tries its rounded 6-bit pair and the neighbours (±1 each) and keeps the pair whose
///   re-rounded levels give the least weighted error, a refinement of ggml's choice (which is
///   the middle candidate).
/// - `q6_K`: each of the 16 sub-blocks of 16 gets a symmetric fit
///   (`KQuantSearch.fitSymmetricScale`, 32 negative and 31 positive levels); the scales are
///   coded as int8 under `d = -(largest-magnitude scale) / 128`, then every value is re-rounded
///   against its coded scale.
extension Quantizer {
    /// 256 floats -> one q4_K block (144 bytes).
    static func quantizeBlockQ4_K(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        quantizeScaleOffsetBlock(x, block, maxLevel: 15, firstShift: -1, steps: 20) { levels in
            let q = (block + KQuantLayout.Q4.qs).assumingMemoryBound(to: UInt8.self)
            for group in 0..<4 {
                for l in 0..<32 { q[32 * group + l] = levels[64 * group + l] | levels[64 * group + l + 32] << 4 }
            }
        }
    }

    /// 256 floats -> one q5_K block (176 bytes).
    static func quantizeBlockQ5_K(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        quantizeScaleOffsetBlock(x, block, maxLevel: 31, firstShift: -0.5, steps: 15) { levels in
            let qh = (block + KQuantLayout.Q5.qh).assumingMemoryBound(to: UInt8.self)
            let qs = (block + KQuantLayout.Q5.qs).assumingMemoryBound(to: UInt8.self)
            qh.update(repeating: 0, count: 32)
            for group in 0..<4 {
                for l in 0..<32 {
                    let a = levels[64 * group + l], b = levels[64 * group + l + 32]
                    qs[32 * group + l] = (a & 15) | (b & 15) << 4
                    qh[l] |= (a >> 4) << UInt8(2 * group) | (b >> 4) << UInt8(2 * group + 1)
                }
            }
        }
    }

    /// 256 floats -> one q6_K block (210 bytes).
    static func quantizeBlockQ6_K(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { buffer in
            let levels = buffer.baseAddress!
            var scales = [Float](repeating: 0, count: 16)
            var extreme: Float = 0
            for s in 0..<16 {
                scales[s] = KQuantSearch.fitSymmetricScale(x + 16 * s, count: 16, maxLevel: 32, levels: levels + 16 * s)
                if abs(scales[s]) > abs(extreme) { extreme = scales[s] }
            }
            block.initializeMemory(as: UInt8.self, repeating: 0, count: 210)
            guard abs(extreme) >= KQuantSearch.zeroThreshold else { return }
            let inverse = -128 / extreme
            let d = HalfConversion.f32ToF16(1 / inverse)
            block.storeBytes(of: d, toByteOffset: KQuantLayout.Q6.d, as: UInt16.self)
            let coded = (block + KQuantLayout.Q6.scales).assumingMemoryBound(to: Int8.self)
            for s in 0..<16 {
                coded[s] = Int8(min(127, KQuantSearch.nearest(inverse * scales[s])))
                let step = HalfConversion.f16ToF32(d) * Float(coded[s])
                guard step != 0 else { continue }
                for i in 16 * s..<16 * (s + 1) {
                    levels[i] = UInt8(min(max(KQuantSearch.nearest(x[i] / step), -32), 31) + 32)
                }
            }
            packQ6(levels, block)
        }
    }

    /// Six-bit levels (0...63) -> low nibbles and 2-bit high parts of a q6_K block: per half of
    /// 128, element `l`, `l+32`, `l+64`, `l+96` share nibble bytes `l`, `l+32` and high byte `l`.
    private static func packQ6(_ levels: UnsafePointer<UInt8>, _ block: UnsafeMutableRawPointer) {
        let ql = (block + KQuantLayout.Q6.ql).assumingMemoryBound(to: UInt8.self)
        let qh = (block + KQuantLayout.Q6.qh).assumingMemoryBound(to: UInt8.self)
        for half in 0..<2 {
            let l0 = levels + 128 * half, low = ql + 64 * half, high = qh + 32 * half
            for l in 0..<32 {
                low[l] = (l0[l] & 15) | (l0[l + 64] & 15) << 4
                low[l + 32] = (l0[l + 32] & 15) | (l0[l + 96] & 15) << 4
                high[l] = l0[l] >> 4 | (l0[l + 32] >> 4) << 2 | (l0[l + 64] >> 4) << 4 | (l0[l + 96] >> 4) << 6
            }
        }
    }
}
