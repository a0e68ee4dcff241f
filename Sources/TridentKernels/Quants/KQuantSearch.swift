/// Per-sub-block scale searches of the K-quant quantizers, after the ideas of ggml's
/// reference quantizers (`make_qkx2_quants`, `make_qx_quants`): try a small fan of inverse
/// scales around the naive one, round the values at each, refit the scale (and minimum) by
/// weighted least squares for those integer levels, keep the fit with the least weighted
/// squared error.
enum KQuantSearch {
    /// Values below this magnitude count as an all-zero group.
    static let zeroThreshold: Float = 1e-15

    /// Round half to even, as the FPU rounds (ggml's `nearest_int`).
    @inline(__always)
    static func nearest(_ value: Float) -> Int { Int(value.rounded(.toNearestOrEven)) }

    /// Asymmetric fit `x[i] ≈ scale · q[i] − offset` with `q[i]` in `0...maxLevel`, `scale ≥ 0`
    /// and `offset ≥ 0` (the zero point is never above the smallest value), minimising
    /// `Σ w[i] (scale · q[i] − offset − x[i])²`.
    ///
    /// Step `k` of `0...steps` tries the inverse scale `(maxLevel + firstShift + k · shiftStep) / range`
    /// and refits scale and offset for its levels.
    /// - Parameters:
    ///   - x: `count` values; `weights`: `count` non-negative weights.
    ///   - levels: receives the `count` chosen levels.
    /// - Returns: the scale and the offset (the minimum, negated).
    static func fitScaleOffset(_ x: UnsafePointer<Float>, weights w: UnsafePointer<Float>, count: Int, maxLevel: Int,
                               firstShift: Float, shiftStep: Float, steps: Int,
                               levels: UnsafeMutablePointer<UInt8>) -> (scale: Float, offset: Float) {
        var lo = x[0], hi = x[0], sumW: Float = 0, sumX: Float = 0
        for i in 0..<count {
            lo = min(lo, x[i]); hi = max(hi, x[i])
            sumW += w[i]; sumX += w[i] * x[i]
        }
        lo = min(lo, 0)
        guard hi > lo else {
            levels.update(repeating: 0, count: count)
            return (0, -lo)
        }
        let top = Float(maxLevel), range = hi - lo
        var bestScale = range / top, bestMin = lo
        roundLevels(x, count: count, inverse: top / range, zero: lo, maxLevel: maxLevel, into: levels)
        var bestError = weightedError(x, w, count: count, levels: levels, scale: bestScale, minimum: lo)
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: count) { trial in
            let candidate = trial.baseAddress!
            for step in 0...max(steps, 0) {
                let inverse = (top + firstShift + shiftStep * Float(step)) / range
                roundLevels(x, count: count, inverse: inverse, zero: lo, maxLevel: maxLevel, into: candidate)
                var sumL: Float = 0, sumL2: Float = 0, sumXL: Float = 0
                for i in 0..<count {
                    let l = Float(candidate[i])
                    sumL += w[i] * l; sumL2 += w[i] * l * l; sumXL += w[i] * l * x[i]
                }
                let determinant = sumW * sumL2 - sumL * sumL
                guard determinant > 0 else { continue }
                var scale = (sumW * sumXL - sumX * sumL) / determinant
                var minimum = (sumL2 * sumX - sumL * sumXL) / determinant
                if minimum > 0 { minimum = 0; scale = sumXL / sumL2 }
                let error = weightedError(x, w, count: count, levels: candidate, scale: scale, minimum: minimum)
                if error < bestError {
                    levels.update(from: candidate, count: count)
                    bestError = error; bestScale = scale; bestMin = minimum
                }
            }
        }
        return (bestScale, -bestMin)
    }

    /// Symmetric fit `x[i] ≈ scale · q[i]` with `q[i]` in `-maxLevel ..< maxLevel`, weighted by
    /// `x[i]²` (large magnitudes matter most). The sign of `scale` follows the element of
    /// largest magnitude, which thereby gets the extra negative level.
    /// - Parameter levels: receives `q[i] + maxLevel` (0 ..< 2·maxLevel).
    /// - Returns: the scale (0 for an all-zero group).
    static func fitSymmetricScale(_ x: UnsafePointer<Float>, count: Int, maxLevel: Int,
                                  levels: UnsafeMutablePointer<UInt8>) -> Float {
        var amax: Float = 0, extreme: Float = 0
        for i in 0..<count where abs(x[i]) > amax { amax = abs(x[i]); extreme = x[i] }
        guard amax >= zeroThreshold else {
            levels.update(repeating: 0, count: count)
            return 0
        }
        let top = Float(maxLevel)
        var best: (scale: Float, merit: Float)?
        // The unshifted inverse scale first; another replaces it only when strictly better.
        for shift in [0] + Array(-9...(-1)) + Array(1...9) {
            let inverse = -(top + 0.1 * Float(shift)) / extreme
            var sumLX: Float = 0, sumL2: Float = 0
            for i in 0..<count {
                let l = Float(symmetricLevel(x[i], inverse: inverse, maxLevel: maxLevel))
                let w = x[i] * x[i]
                sumLX += w * x[i] * l; sumL2 += w * l * l
            }
            // The least-squares error is Σw·x² − sumLX²/sumL2: a larger merit, a smaller error.
            guard sumL2 > 0 else { continue }
            let merit = sumLX * sumLX / sumL2
            guard best == nil || merit > best!.merit else { continue }
            best = (sumLX / sumL2, merit)
            for i in 0..<count {
                levels[i] = UInt8(symmetricLevel(x[i], inverse: inverse, maxLevel: maxLevel) + maxLevel)
            }
        }
        return best?.scale ?? 0
    }

    /// `clamp(round(inverse · x), -maxLevel, maxLevel - 1)`.
    @inline(__always)
    static func symmetricLevel(_ x: Float, inverse: Float, maxLevel: Int) -> Int {
        min(max(nearest(inverse * x), -maxLevel), maxLevel - 1)
    }

    /// `levels[i] = clamp(round(inverse · (x[i] − zero)), 0, maxLevel)`.
    @inline(__always)
    static func roundLevels(_ x: UnsafePointer<Float>, count: Int, inverse: Float, zero: Float, maxLevel: Int,
                            into levels: UnsafeMutablePointer<UInt8>) {
        for i in 0..<count {
            levels[i] = UInt8(min(max(nearest(inverse * (x[i] - zero)), 0), maxLevel))
        }
    }

    /// `Σ w[i] (scale · levels[i] + minimum − x[i])²`.
    @inline(__always)
    static func weightedError(_ x: UnsafePointer<Float>, _ w: UnsafePointer<Float>, count: Int,
                              levels: UnsafePointer<UInt8>, scale: Float, minimum: Float) -> Float {
        var error: Float = 0
        for i in 0..<count {
            let diff = scale * Float(levels[i]) + minimum - x[i]
            error += w[i] * diff * diff
        }
        return error
    }
}
