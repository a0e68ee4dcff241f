/// The shared half of the q4_K and q5_K quantizers: sub-block fits, 6-bit coding of their
/// scales and offsets, and the final levels against the coded values.
extension Quantizer {
    /// Fits the 8 sub-blocks of 32 of `x` (256 floats), writes `d`, `dmin` and the 12 scale
    /// bytes (layout of `KQuantLayout.Q4`, shared by Q5), then hands the 256 final levels
    /// (0...maxLevel) in element order to `pack`.
    static func quantizeScaleOffsetBlock(_ x: UnsafePointer<Float>, _ block: UnsafeMutableRawPointer, maxLevel: Int,
                                         firstShift: Float, steps: Int, pack: (UnsafePointer<UInt8>) -> Void) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 256) { levelBuffer in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: 256) { weightBuffer in
                let levels = levelBuffer.baseAddress!, weights = weightBuffer.baseAddress!
                var scales = SIMD8<Float>(), offsets = SIMD8<Float>()
                for s in 0..<8 {
                    let xs = x + 32 * s, ws = weights + 32 * s
                    var sumSquares: Float = 0
                    for i in 0..<32 { sumSquares += xs[i] * xs[i] }
                    let rms = (sumSquares / 32).squareRoot()
                    for i in 0..<32 { ws[i] = rms + abs(xs[i]) }
                    let fit = KQuantSearch.fitScaleOffset(xs, weights: ws, count: 32, maxLevel: maxLevel,
                                                          firstShift: firstShift, shiftStep: 0.1, steps: steps,
                                                          levels: levels + 32 * s)
                    scales[s] = fit.scale
                    offsets[s] = fit.offset
                }
                let maxScale = max(scales.max(), 0), maxOffset = max(offsets.max(), 0)
                let dBits = HalfConversion.f32ToF16(maxScale / 63), dminBits = HalfConversion.f32ToF16(maxOffset / 63)
                block.storeBytes(of: dBits, toByteOffset: KQuantLayout.Q4.d, as: UInt16.self)
                block.storeBytes(of: dminBits, toByteOffset: KQuantLayout.Q4.dmin, as: UInt16.self)
                let d = HalfConversion.f16ToF32(dBits), dmin = HalfConversion.f16ToF32(dminBits)
                let inverseScale: Float = maxScale > 0 ? 63 / maxScale : 0
                let inverseOffset: Float = maxOffset > 0 ? 63 / maxOffset : 0
                var codes = [(scale: UInt8, offset: UInt8)]()
                for s in 0..<8 {
                    let rounded = (scale: code(inverseScale * scales[s]), offset: code(inverseOffset * offsets[s]))
                    codes.append(bestCodes(x + 32 * s, weights + 32 * s, around: rounded, d: d, dmin: dmin,
                                           maxLevel: maxLevel, levels: levels + 32 * s))
                }
                packScaleOffsetCodes(codes, into: (block + KQuantLayout.Q4.scales).assumingMemoryBound(to: UInt8.self))
                pack(levels)
            }
        }
    }

    /// A 6-bit code: `round(value)` clamped to 0...63.
    @inline(__always)
    private static func code(_ value: Float) -> UInt8 { UInt8(min(max(KQuantSearch.nearest(value), 0), 63)) }

    /// Of the 6-bit pairs within ±1 of `around`, the one whose re-rounded levels give the least
    /// weighted error over the 32 values `x` (ties keep `around`); writes those levels.
    private static func bestCodes(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>,
                                  around: (scale: UInt8, offset: UInt8), d: Float, dmin: Float, maxLevel: Int,
                                  levels: UnsafeMutablePointer<UInt8>) -> (scale: UInt8, offset: UInt8) {
        func neighbours(_ c: UInt8) -> [UInt8] { [c] + [Int(c) - 1, Int(c) + 1].filter { (0...63).contains($0) }.map(UInt8.init) }
        var best = around, bestError = Float.infinity
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 32) { trialBuffer in
            let trial = trialBuffer.baseAddress!
            for sc in neighbours(around.scale) {
                for m in neighbours(around.offset) {
                    let step = d * Float(sc), offset = dmin * Float(m)
                    if step == 0 {
                        trial.update(repeating: 0, count: 32)
                    } else {
                        for i in 0..<32 {
                            trial[i] = UInt8(min(max(KQuantSearch.nearest((x[i] + offset) / step), 0), maxLevel))
                        }
                    }
                    let error = KQuantSearch.weightedError(x, w, count: 32, levels: trial, scale: step, minimum: -offset)
                    if error < bestError {
                        bestError = error
                        best = (sc, m)
                        levels.update(from: trial, count: 32)
                    }
                }
            }
        }
        return best
    }

    /// 8 (scale, offset) 6-bit pairs -> the 12 scale bytes: pairs 0-3 in the low 6 bits of
    /// bytes 0-3 / 4-7; pairs 4-7 as nibbles in bytes 8-11 with their top 2 bits in the top
    /// bits of bytes 0-3 (scales) and 4-7 (offsets).
    private static func packScaleOffsetCodes(_ codes: [(scale: UInt8, offset: UInt8)], into q: UnsafeMutablePointer<UInt8>) {
        for j in 0..<4 {
            q[j] = codes[j].scale
            q[j + 4] = codes[j].offset
        }
        for j in 4..<8 {
            let (sc, m) = codes[j]
            q[j + 4] = (sc & 15) | (m & 15) << 4
            q[j - 4] |= (sc >> 4) << 6
            q[j] |= (m >> 4) << 6
        }
    }
}
