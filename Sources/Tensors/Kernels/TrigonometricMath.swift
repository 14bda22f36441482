import Foundation

// Vectorized sine and cosine on SIMD16<Float> and SIMD8<Double>, built like
// VectorMath.swift's functions from +, −, ×, ÷, comparisons and bit
// manipulation only (no FMA, so every build gives the same bits).
//
// Range reduction (Cody–Waite, extended to five parts): n = round(x·2/π) by
// the magic-number trick and r = x − n·π/2 with π/2 = C₁ + C₂ + C₃ + C₄ + C₅.
// C₁…C₄ have so few significant bits (Float 10, Double 23) that every n·Cᵢ
// is exact for |n| ≤ 2¹⁴ (Float) or 2³⁰ (Double); x − n·C₁ is then exact, the
// next three products are subtracted with an exact two-sum into a head and a
// tail, and only n·C₅ — some 2⁻⁶⁴ (Float) or 2⁻¹⁴⁵ (Double) relative to π/2 —
// rounds. Nothing is lost however closely x approaches a multiple of π/2: the
// closest any Float in range comes is 2^-27.8 (x = 252.898…, by exhaustive
// search), no Double at all comes closer than 2^-60.9 (Muller, *Elementary
// Functions*: x = 6381956970095103·2⁷⁹⁷), and π/2 carried to 64 and 145 bits
// keeps even such remainders correct to a fraction of an ulp. Plain three-part
// Cody–Waite (Cephes' sinf) carries ~43 bits and returns cos(252.898) with a
// 1 % error. The result is r = r_hi + r_lo with |r| ≤ π/4 (plus the rounding of n).
//
// On [−π/4, π/4]: Cephes' sinf/cosf minimax polynomials (Float) and fdlibm's
// __kernel_sin/__kernel_cos (Double), each with the first-order term of r_lo
// (sin(r + δ) ≈ sin r + δ, cos(r + δ) ≈ cos r − r·δ) and 1 − r²/2 evaluated with
// its rounding error added back. With q = n mod 4 (the low bits of the rounded
// x·2/π), sin x = (sin r, cos r, −sin r, −cos r)[q]; cos x is the sine of
// quadrant q + 1.
//
// Lanes beyond the bound — |x| > 8192π ≈ 25736 for Float, |x| > 2²⁹π ≈ 1.69e9
// for Double — and ±∞ and NaN are taken from Foundation's sin/cos evaluated in
// Double, one lane at a time (correct, slow, rare); ±∞ and NaN give NaN.
//
// Accuracy: Float ≤ 0.97 ulp (sin) and ≤ 0.95 ulp (cos) over every Float with
// 2⁻²⁰ ≤ |x| ≤ 8192π, measured exhaustively by Reference/sincos_exhaustive.py,
// which runs this arithmetic in numpy (smaller |x| has n = 0 and r = x
// exactly); Double within 1 ulp of libm on 250,000 inputs up to 1e9 and of
// the correctly rounded value at the hardest inputs of Reference/tensor_math.py,
// where libm itself is off by up to 2 ulp (VectorMathAccuracyTests).

extension FloatMath {
    static let twoOverPi: Float = 0.636619772367581343
    /// π/2 = C₁ + … + C₅ + O(2⁻⁶⁹); C₁…C₄ have at most 10 significant bits.
    static let halfPi1: Float = 0x1.92p0
    static let halfPi2: Float = 0x1.fb8p-12
    static let halfPi3: Float = -0x1.5ep-23
    static let halfPi4: Float = 0x1.0b8p-34
    static let halfPi5: Float = -0x1.cf72cep-45
    /// 8192π rounded up: |x| up to here gives |n| ≤ 2¹⁴, so n·C₁…n·C₄ are exact.
    static let trigonometricBound: Float = 25735.927

    /// sin x, or cos x when `cosine`.
    @inline(__always)
    static func sinCos(_ x: FloatVector, cosine: Bool) -> FloatVector {
        let t = x * twoOverPi + roundingMagic
        let n = t - roundingMagic
        var q = unsafeBitCast(t, to: SIMD16<Int32>.self) &- Int32(bitPattern: 0x4B40_0000)
        if cosine { q = q &+ 1 }
        // r = x − n·π/2 as head h plus tail lo.
        var (h, lo) = twoSum(x - n * halfPi1, -(n * halfPi2))
        var e: FloatVector
        (h, e) = twoSum(h, -(n * halfPi3))
        lo = lo + e
        (h, e) = twoSum(h, -(n * halfPi4))
        lo = lo + e
        lo = lo - n * halfPi5
        let r = h + lo, rLow = (h - r) + lo
        let z = r * r
        var s: FloatVector = -1.9515295891e-4 * z + 8.3321608736e-3
        s = s * z - 1.6666654611e-1
        let sine = r + (r * z * s + rLow)
        var c: FloatVector = 2.443315711809948e-5 * z - 1.388731625493765e-3
        c = c * z + 4.166664568298827e-2
        let half = 0.5 * z, w = 1 - half
        let cosineOfR = w + (((1 - w) - half) + (z * z * c - r * rLow))
        var y = sine.replacing(with: cosineOfR, where: (q & 1) .== 1)
        let sign = unsafeBitCast(q & 2, to: SIMD16<UInt32>.self) &<< 30
        y = unsafeBitCast(unsafeBitCast(y, to: SIMD16<UInt32>.self) ^ sign, to: FloatVector.self)
        if !cosine { y.replace(with: x, where: x .== 0) }   // sin(−0) = −0
        let outside = .!(magnitude(x) .<= trigonometricBound)
        if any(outside) {
            for i in 0..<FloatVector.scalarCount where outside[i] {
                let d = Double(x[i])
                y[i] = Float(cosine ? Foundation.cos(d) : Foundation.sin(d))
            }
        }
        return y
    }
}

extension DoubleMath {
    static let twoOverPi: Double = 0.636619772367581343
    /// π/2 = C₁ + … + C₅ + O(2⁻¹⁵⁰); C₁…C₄ have at most 23 significant bits.
    static let halfPi1: Double = 0x1.921fb4p0
    static let halfPi2: Double = 0x1.4442dp-24
    static let halfPi3: Double = 0x1.846988p-48
    static let halfPi4: Double = 0x1.8cc518p-72
    static let halfPi5: Double = -0x1.fc8f8cbb5bf6cp-97
    /// Just below 2²⁹π: |x| up to here gives |n| ≤ 2³⁰, so n·C₁…n·C₄ are exact.
    static let trigonometricBound: Double = 1_686_629_713

    /// sin x, or cos x when `cosine`.
    @inline(__always)
    static func sinCos(_ x: DoubleVector, cosine: Bool) -> DoubleVector {
        let t = x * twoOverPi + roundingMagic
        let n = t - roundingMagic
        var q = unsafeBitCast(t, to: SIMD8<Int64>.self) &- Int64(bitPattern: 0x4338_0000_0000_0000)
        if cosine { q = q &+ 1 }
        var (h, lo) = twoSum(x - n * halfPi1, -(n * halfPi2))
        var e: DoubleVector
        (h, e) = twoSum(h, -(n * halfPi3))
        lo = lo + e
        (h, e) = twoSum(h, -(n * halfPi4))
        lo = lo + e
        lo = lo - n * halfPi5
        let r = h + lo, rLow = (h - r) + lo
        let z = r * r, v = z * r
        // fdlibm __kernel_sin(r, rLow): r − (((z·(½rLow − v·S) − rLow) − v·S₁)
        var s: DoubleVector = 1.58969099521155010221e-10 * z - 2.50507602534068634195e-08
        s = s * z + 2.75573137070700676789e-06
        s = s * z - 1.98412698298579493134e-04
        s = s * z + 8.33333333332248946124e-03
        let sine = r - (((z * (0.5 * rLow - v * s)) - rLow) - v * -1.66666666666666324348e-01)
        // fdlibm __kernel_cos(r, rLow)
        var c: DoubleVector = -1.13596475577881948265e-11 * z + 2.08757232129817482790e-09
        c = c * z - 2.75573143513906633035e-07
        c = c * z + 2.48015872894767294178e-05
        c = c * z - 1.38888888888741095749e-03
        c = c * z + 4.16666666666666019037e-02
        c = z * c
        let half = 0.5 * z, w = 1 - half
        let cosineOfR = w + (((1 - w) - half) + (z * c - r * rLow))
        var y = sine.replacing(with: cosineOfR, where: (q & 1) .== 1)
        let sign = unsafeBitCast(q & 2, to: SIMD8<UInt64>.self) &<< 62
        y = unsafeBitCast(unsafeBitCast(y, to: SIMD8<UInt64>.self) ^ sign, to: DoubleVector.self)
        if !cosine { y.replace(with: x, where: x .== 0) }   // sin(−0) = −0
        let outside = .!(magnitude(x) .<= trigonometricBound)
        if any(outside) {
            for i in 0..<DoubleVector.scalarCount where outside[i] {
                y[i] = cosine ? Foundation.cos(x[i]) : Foundation.sin(x[i])
            }
        }
        return y
    }
}

/// `a + b` as the rounded sum and its exact rounding error (Knuth's two-sum,
/// no condition on the magnitudes): `sum + error == a + b` exactly.
@inline(__always)
func twoSum<V: SIMD>(_ a: V, _ b: V) -> (sum: V, error: V) where V.Scalar: FloatingPoint {
    let sum = a + b
    let bVirtual = sum - a
    let aVirtual = sum - bVirtual
    return (sum, (a - aVirtual) + (b - bVirtual))
}
