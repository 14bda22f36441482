// Vectorized transcendental functions on SIMD16<Float> and SIMD8<Double>.
//
// Every function here is built from IEEE +, −, ×, ÷, comparisons and integer
// bit manipulation only — no libm calls, and no fused multiply-add, so a build
// without `-target-cpu` runs at full speed and every build gives the same bits.
// (Swift never contracts `a * b + c` into an FMA; `swift-performance.md` §1.)
//
// Range reduction for exp: x = n·ln2 + r with |r| ≤ ln2/2, n = round(x/ln2),
// n·ln2 subtracted in two parts (Cody–Waite) so r is exact to ~1 ulp; then
// e^x = 2ⁿ·p(r). 2ⁿ is applied as two factors 2^⌊n/2⌋·2^(n−⌊n/2⌋) so that
// results in the subnormal range are rounded once, not flushed to zero.
//
// Measured accuracy (TensorsTests.VectorMathAccuracyTests, against Double or
// Foundation's libm over wide ranges including subnormals, ±∞ and NaN):
//   Float  exp ≤ 2 ulp, log ≤ 2 ulp, tanh ≤ 3 ulp, sigmoid ≤ 4 ulp;
//   Double exp ≤ 2 ulp, log ≤ 2 ulp, tanh ≤ 3 ulp, sigmoid ≤ 4 ulp.
// sin and cos (TrigonometricMath.swift) are ≤ 1 ulp; they alone call libm, for
// lanes beyond their reduction's range and for ±∞ and NaN.

typealias FloatVector = SIMD16<Float>
typealias DoubleVector = SIMD8<Double>

enum FloatMath {
    static let log2e: Float = 1.44269504088896341
    static let ln2Hi: Float = 0.693359375            // 9 significant bits: n·ln2Hi is exact
    static let ln2Lo: Float = -2.12194440e-4
    static let roundingMagic: Float = 12582912       // 1.5·2²³: adding it rounds to an integer

    /// |x| by clearing the sign bit (also for NaN and −0).
    @inline(__always)
    static func magnitude(_ x: FloatVector) -> FloatVector {
        unsafeBitCast(unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x7FFF_FFFF, to: FloatVector.self)
    }

    /// Rounds `x·log₂e` to the nearest integer: (as Float, as Int32).
    @inline(__always)
    static func reduce(_ x: FloatVector) -> (n: FloatVector, k: SIMD16<Int32>, r: FloatVector) {
        let t = x * log2e + roundingMagic
        let n = t - roundingMagic
        let k = unsafeBitCast(t, to: SIMD16<Int32>.self) &- Int32(bitPattern: 0x4B40_0000)
        let r = (x - n * ln2Hi) - n * ln2Lo
        return (n, k, r)
    }

    /// `e^r − 1 − r` for |r| ≤ ln2/2 (Cephes' minimax coefficients, ≤ 1 ulp).
    @inline(__always)
    static func expm1Tail(_ r: FloatVector) -> FloatVector {
        var p = 1.9875691500e-4 * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        return p * (r * r)
    }

    /// 2ᵏ for k in [-126, 127] as a Float vector.
    @inline(__always)
    static func pow2(_ k: SIMD16<Int32>) -> FloatVector {
        unsafeBitCast((k &+ 127) &<< 23, to: FloatVector.self)
    }

    /// eˣ. Overflows to +∞ above ln(Float.greatestFiniteMagnitude), gives
    /// correctly scaled subnormals down to 0 below about −103.97; NaN stays NaN.
    @inline(__always)
    static func exp(_ x: FloatVector) -> FloatVector {
        var v = x.replacing(with: 89, where: x .> 89)
        v.replace(with: -104, where: v .< -104)
        let (_, k, r) = reduce(v)
        let p = (expm1Tail(r) + r) + 1
        let k1 = k &>> 1
        return p * pow2(k1) * pow2(k &- k1)
    }

    /// eˣ − 1 for x ≤ 0, accurate to a few ulp also near 0 (used by tanh).
    @inline(__always)
    static func expm1NonPositive(_ x: FloatVector) -> FloatVector {
        let v = x.replacing(with: -40, where: x .< -40)
        let (_, k, r) = reduce(v)
        let q = expm1Tail(r) + r                 // e^r − 1
        let s = pow2(k)                          // k ∈ [-58, 0]
        return q * s + (s - 1)                   // 2ᵏ(e^r − 1) + (2ᵏ − 1)
    }

    /// ln x: NaN for x < 0 or NaN, −∞ at ±0, +∞ at +∞, exact handling of subnormals.
    @inline(__always)
    static func log(_ x: FloatVector) -> FloatVector {
        let isSubnormal = x .< Float.leastNormalMagnitude
        let scaled = x.replacing(with: x * 8388608, where: isSubnormal)   // ×2²³
        let bits = unsafeBitCast(scaled, to: SIMD16<Int32>.self)
        var e = (bits &>> 23) &- 127
        e.replace(with: e &- 23, where: isSubnormal)
        var m = unsafeBitCast((bits & 0x007F_FFFF) | 0x3F80_0000, to: FloatVector.self)  // [1, 2)
        let high = m .> 1.41421356
        m.replace(with: m * 0.5, where: high)
        e.replace(with: e &+ 1, where: high)
        // ln m = 2·atanh(s) = 2s(1 + s²/3 + s⁴/5 + s⁶/7 + s⁸/9), |s| ≤ 0.1716
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var p: FloatVector = s2 * (1.0 / 9) + (1.0 / 7)
        p = p * s2 + (1.0 / 5)
        p = p * s2 + (1.0 / 3)
        let lnM = (2 * s) + (2 * s) * (p * s2)
        // Int32 → Float by the magic-number trick (a SIMD conversion would be scalarized).
        let ef = unsafeBitCast(e &+ 0x4B40_0000, to: FloatVector.self) - roundingMagic
        var result = ef * ln2Hi + (lnM + ef * ln2Lo)
        result.replace(with: .nan, where: x .< 0)
        result.replace(with: -.infinity, where: x .== 0)
        result.replace(with: .infinity, where: x .== .infinity)
        result.replace(with: x, where: x .!= x)
        return result
    }

    /// tanh x = −expm1(−2|x|) / (expm1(−2|x|) + 2), with the sign of x.
    @inline(__always)
    static func tanh(_ x: FloatVector) -> FloatVector {
        let magnitude = Self.magnitude(x)
        let e = expm1NonPositive(-2 * magnitude)
        let t = -e / (e + 2)
        let sign = unsafeBitCast(x, to: SIMD16<UInt32>.self) & 0x8000_0000
        return unsafeBitCast(unsafeBitCast(t, to: SIMD16<UInt32>.self) | sign, to: FloatVector.self)
    }

    /// √x, correctly rounded (IEEE 754, as `squareRoot()`): the processor's
    /// vector square root, four lanes at a time (``HardwareSquareRoot``).
    /// √−0 = −0, √∞ = ∞, NaN for x < 0 and for NaN.
    @inline(__always)
    static func sqrt(_ x: FloatVector) -> FloatVector {
        #if arch(x86_64) && !TENSORS_NO_LLVM_INTRINSICS
        HardwareSquareRoot.sqrt(x)
        #else
        softwareSqrt(x)
        #endif
    }

    /// √x without the processor's square root: a bit-level estimate of 1/√x,
    /// two Newton steps (error 3e-11), then one residual correction
    /// `s += ½r(x − s²)`; subnormals are scaled by 2²⁴ first. ≤ 1 ulp. Where
    /// ``HardwareSquareRoot`` is not declared (architectures other than x86-64,
    /// builds that define `TENSORS_NO_LLVM_INTRINSICS`).
    @inline(__always)
    static func softwareSqrt(_ x: FloatVector) -> FloatVector {
        let tiny = x .< Float.leastNormalMagnitude
        let xs = x.replacing(with: x * 16_777_216, where: tiny)
        var r = unsafeBitCast(0x5F37_5A86 &- (unsafeBitCast(xs, to: SIMD16<Int32>.self) &>> 1), to: FloatVector.self)
        let half = 0.5 * xs
        r = r * (1.5 - half * r * r)
        r = r * (1.5 - half * r * r)
        var s = xs * r
        s = s + (0.5 * r) * (xs - s * s)
        s.replace(with: s * 0.000244140625, where: tiny)          // ×2⁻¹²
        s.replace(with: x, where: (x .== 0) .| (x .== .infinity) .| (x .!= x))
        s.replace(with: .nan, where: x .< 0)
        return s
    }

    /// σ(x) = 1/(1 + e^−x), evaluated as 1/(1 + e^−|x|) or e^−|x|/(1 + e^−|x|)
    /// so that e^−|x| never overflows and tiny results keep full precision.
    @inline(__always)
    static func sigmoid(_ x: FloatVector) -> FloatVector {
        let magnitude = Self.magnitude(x)
        let e = exp(-magnitude)
        let s = 1 / (1 + e)
        return s.replacing(with: e * s, where: x .< 0)
    }
}

enum DoubleMath {
    static let log2e: Double = 1.4426950408889634
    static let ln2Hi: Double = 6.93147180369123816490e-01   // 32 significant bits
    static let ln2Lo: Double = 1.90821492927058770002e-10
    static let roundingMagic: Double = 6755399441055744     // 1.5·2⁵²

    /// |x| by clearing the sign bit.
    @inline(__always)
    static func magnitude(_ x: DoubleVector) -> DoubleVector {
        unsafeBitCast(unsafeBitCast(x, to: SIMD8<UInt64>.self) & 0x7FFF_FFFF_FFFF_FFFF, to: DoubleVector.self)
    }

    @inline(__always)
    static func reduce(_ x: DoubleVector) -> (k: SIMD8<Int64>, r: DoubleVector) {
        let t = x * log2e + roundingMagic
        let n = t - roundingMagic
        let k = unsafeBitCast(t, to: SIMD8<Int64>.self) &- Int64(bitPattern: 0x4338_0000_0000_0000)
        let r = (x - n * ln2Hi) - n * ln2Lo
        return (k, r)
    }

    /// `e^r − 1 − r` for |r| ≤ ln2/2: Taylor terms r²/2! … r¹³/13!
    /// (truncation error below 2⁻⁵⁶ relative).
    @inline(__always)
    static func expm1Tail(_ r: DoubleVector) -> DoubleVector {
        var p: DoubleVector = r * (1.0 / 6227020800) + (1.0 / 479001600)
        p = p * r + (1.0 / 39916800)
        p = p * r + (1.0 / 3628800)
        p = p * r + (1.0 / 362880)
        p = p * r + (1.0 / 40320)
        p = p * r + (1.0 / 5040)
        p = p * r + (1.0 / 720)
        p = p * r + (1.0 / 120)
        p = p * r + (1.0 / 24)
        p = p * r + (1.0 / 6)
        p = p * r + 0.5
        return p * (r * r)
    }

    @inline(__always)
    static func pow2(_ k: SIMD8<Int64>) -> DoubleVector {
        unsafeBitCast((k &+ 1023) &<< 52, to: DoubleVector.self)
    }

    /// eˣ with the same special-value behaviour as the Float version.
    @inline(__always)
    static func exp(_ x: DoubleVector) -> DoubleVector {
        var v = x.replacing(with: 710, where: x .> 710)
        v.replace(with: -746, where: v .< -746)
        let (k, r) = reduce(v)
        let p = (expm1Tail(r) + r) + 1
        let k1 = k &>> 1
        return p * pow2(k1) * pow2(k &- k1)
    }

    @inline(__always)
    static func expm1NonPositive(_ x: DoubleVector) -> DoubleVector {
        let v = x.replacing(with: -80, where: x .< -80)
        let (k, r) = reduce(v)
        let q = expm1Tail(r) + r
        let s = pow2(k)
        return q * s + (s - 1)
    }

    @inline(__always)
    static func log(_ x: DoubleVector) -> DoubleVector {
        let isSubnormal = x .< Double.leastNormalMagnitude
        let scaled = x.replacing(with: x * 4503599627370496, where: isSubnormal)   // ×2⁵²
        let bits = unsafeBitCast(scaled, to: SIMD8<Int64>.self)
        var e = (bits &>> 52) &- 1023
        e.replace(with: e &- 52, where: isSubnormal)
        var m = unsafeBitCast((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000, to: DoubleVector.self)
        let high = m .> 1.4142135623730951
        m.replace(with: m * 0.5, where: high)
        e.replace(with: e &+ 1, where: high)
        // ln m = 2s(1 + s²/3 + … + s²²/23), truncation below 1e-19
        let s = (m - 1) / (m + 1)
        let s2 = s * s
        var p: DoubleVector = s2 * (1.0 / 23) + (1.0 / 21)
        p = p * s2 + (1.0 / 19)
        p = p * s2 + (1.0 / 17)
        p = p * s2 + (1.0 / 15)
        p = p * s2 + (1.0 / 13)
        p = p * s2 + (1.0 / 11)
        p = p * s2 + (1.0 / 9)
        p = p * s2 + (1.0 / 7)
        p = p * s2 + (1.0 / 5)
        p = p * s2 + (1.0 / 3)
        let lnM = (2 * s) + (2 * s) * (p * s2)
        let ef = unsafeBitCast(e &+ 0x4338_0000_0000_0000, to: DoubleVector.self) - roundingMagic
        var result = ef * ln2Hi + (lnM + ef * ln2Lo)
        result.replace(with: .nan, where: x .< 0)
        result.replace(with: -.infinity, where: x .== 0)
        result.replace(with: .infinity, where: x .== .infinity)
        result.replace(with: x, where: x .!= x)
        return result
    }

    @inline(__always)
    static func tanh(_ x: DoubleVector) -> DoubleVector {
        let magnitude = Self.magnitude(x)
        let e = expm1NonPositive(-2 * magnitude)
        let t = -e / (e + 2)
        let sign = unsafeBitCast(x, to: SIMD8<UInt64>.self) & 0x8000_0000_0000_0000
        return unsafeBitCast(unsafeBitCast(t, to: SIMD8<UInt64>.self) | sign, to: DoubleVector.self)
    }

    /// √x, correctly rounded: the processor's vector square root, two lanes at
    /// a time (``HardwareSquareRoot``).
    @inline(__always)
    static func sqrt(_ x: DoubleVector) -> DoubleVector {
        #if arch(x86_64) && !TENSORS_NO_LLVM_INTRINSICS
        HardwareSquareRoot.sqrt(x)
        #else
        softwareSqrt(x)
        #endif
    }

    /// √x as ``FloatMath/softwareSqrt(_:)``, with three Newton steps and subnormals scaled by 2⁵⁴.
    @inline(__always)
    static func softwareSqrt(_ x: DoubleVector) -> DoubleVector {
        let tiny = x .< Double.leastNormalMagnitude
        let xs = x.replacing(with: x * 18_014_398_509_481_984, where: tiny)
        var r = unsafeBitCast(0x5FE6_EB50_C7B5_37A9 &- (unsafeBitCast(xs, to: SIMD8<Int64>.self) &>> 1), to: DoubleVector.self)
        let half = 0.5 * xs
        r = r * (1.5 - half * r * r)
        r = r * (1.5 - half * r * r)
        r = r * (1.5 - half * r * r)
        var s = xs * r
        s = s + (0.5 * r) * (xs - s * s)
        s.replace(with: s * 7.450580596923828125e-9, where: tiny)   // ×2⁻²⁷
        s.replace(with: x, where: (x .== 0) .| (x .== .infinity) .| (x .!= x))
        s.replace(with: .nan, where: x .< 0)
        return s
    }

    @inline(__always)
    static func sigmoid(_ x: DoubleVector) -> DoubleVector {
        let magnitude = Self.magnitude(x)
        let e = exp(-magnitude)
        let s = 1 / (1 + e)
        return s.replacing(with: e * s, where: x .< 0)
    }
}

/// The vector operations generic kernels need. Comparisons matter most: in
/// code generic over `V: SIMD`, `.<` and friends resolve to the standard
/// library's lane-by-lane fallback (measured 15× slower than the concrete
/// overloads), and a transcendental passed as a closure into a parallel body
/// becomes an opaque call per vector. So each vector type supplies only the
/// primitives that must be written on the concrete type (`compare`, the
/// bit-level `magnitude`, the transcendentals); everything built from them
/// is written once, below.
protocol KernelVector: SIMD where Scalar: TensorScalar {
    static func exp(_ x: Self) -> Self
    static func log(_ x: Self) -> Self
    static func tanh(_ x: Self) -> Self
    static func sin(_ x: Self) -> Self
    static func cos(_ x: Self) -> Self
    /// `σ(x) = 1/(1 + e⁻ˣ)`
    static func sigmoid(_ x: Self) -> Self
    /// `√x`, correctly rounded (the standard library's SIMD `squareRoot()` is
    /// scalarized: see ``HardwareSquareRoot``).
    static func sqrt(_ x: Self) -> Self
    /// `|x|`
    static func magnitude(_ x: Self) -> Self
    /// The lanes where `relation(a, b)` holds; `relation` is a comparison operation.
    static func compare(_ relation: BinaryOperation, _ a: Self, _ b: Self) -> SIMDMask<MaskStorage>
}

extension KernelVector {
    /// Lane-wise maximum; NaN if either lane is NaN (numpy's `maximum`);
    /// lane for lane ``ScalarMath/maximum(_:_:)``.
    @inline(__always)
    static func maximum(_ a: Self, _ b: Self) -> Self {
        a.replacing(with: b, where: compare(.greater, b, a) .| compare(.notEqual, b, b))
    }

    /// Lane-wise minimum; NaN if either lane is NaN; lane for lane ``ScalarMath/minimum(_:_:)``.
    @inline(__always)
    static func minimum(_ a: Self, _ b: Self) -> Self {
        a.replacing(with: b, where: compare(.less, b, a) .| compare(.notEqual, b, b))
    }

    /// `xʸ` lane by lane as `e^(y·ln|x|)` (within about `2 + |y·ln x|` ulp),
    /// with C's `pow` rules for the special cases: `x⁰ = 1` for every x,
    /// `1ʸ = 1`, `(−1)^±∞ = 1`; a negative x (−0 and −∞ included) gives the
    /// sign of `(−1)ʸ` for an integer y, and a negative finite x gives NaN
    /// for any other y; `0ʸ` is 0 for y > 0 and ∞ for y < 0.
    @inline(__always)
    static func pow(_ x: Self, _ y: Self) -> Self {
        let zero = Self(), one = Self(repeating: 1)
        // Adding and subtracting 2ᵖ (p fraction bits) rounds a magnitude below 2ᵖ to an
        // integer; every magnitude from 2ᵖ up is an integer, and from 2ᵖ⁺¹ up an even one.
        let twoP = Self(repeating: Scalar(1 << Scalar.significandBitCount))
        @inline(__always) func rounded(_ v: Self) -> Self { (v + twoP) - twoP }
        let m = magnitude(y), halfM = m * 0.5
        let integer = compare(.greaterOrEqual, m, twoP) .| compare(.equal, rounded(m), m)
        let odd = integer .& compare(.less, m, twoP + twoP) .& compare(.notEqual, rounded(halfM), halfM)
        var p = exp(y * log(magnitude(x)))
        p.replace(with: one, where: compare(.equal, magnitude(x), one))
        let signed = compare(.less, x, zero) .| (compare(.equal, x, zero) .& compare(.less, one / x, zero))
        p.replace(with: p * -1, where: signed .& odd)   // not `-p`: the standard library's SIMD negation is 0 − p, +0 for p = +0
        let negativeFinite = compare(.less, x, zero) .& compare(.greater, x, Self(repeating: -Scalar.infinity))
        p.replace(with: Scalar.nan, where: negativeFinite .& .!integer)
        p.replace(with: one, where: compare(.equal, y, zero))
        return p
    }

    /// 1 where `relation(a, b)` holds, else 0.
    @inline(__always)
    static func mask(_ relation: BinaryOperation, _ a: Self, _ b: Self) -> Self {
        Self().replacing(with: 1, where: compare(relation, a, b))
    }

    /// One step of a running argmax/argmin along a reduced axis: where `x`
    /// beats `best` (or is the first NaN), take `x` and index `k`.
    @inline(__always)
    static func argStep(best: inout Self, index: inout Self, x: Self, k: Scalar, minimum: Bool) {
        let better = compare(minimum ? .less : .greater, x, best) .| compare(.notEqual, x, x)
        let take = better .& .!compare(.notEqual, best, best)
        best.replace(with: x, where: take)
        index.replace(with: k, where: take)
    }
}

extension SIMD16: KernelVector where Scalar == Float {
    @inline(__always) static func exp(_ x: Self) -> Self { FloatMath.exp(x) }
    @inline(__always) static func log(_ x: Self) -> Self { FloatMath.log(x) }
    @inline(__always) static func tanh(_ x: Self) -> Self { FloatMath.tanh(x) }
    @inline(__always) static func sin(_ x: Self) -> Self { FloatMath.sinCos(x, cosine: false) }
    @inline(__always) static func cos(_ x: Self) -> Self { FloatMath.sinCos(x, cosine: true) }
    @inline(__always) static func sigmoid(_ x: Self) -> Self { FloatMath.sigmoid(x) }
    @inline(__always) static func sqrt(_ x: Self) -> Self { FloatMath.sqrt(x) }
    @inline(__always) static func magnitude(_ x: Self) -> Self { FloatMath.magnitude(x) }
    @inline(__always) static func compare(_ relation: BinaryOperation, _ a: Self, _ b: Self) -> SIMDMask<SIMD16<Int32>> {
        switch relation {
        case .equal: a .== b
        case .notEqual: a .!= b
        case .less: a .< b
        case .lessOrEqual: a .<= b
        case .greater: a .> b
        case .greaterOrEqual: a .>= b
        default: fatalError("compare: \(relation) is not a comparison")
        }
    }
}

extension SIMD8: KernelVector where Scalar == Double {
    @inline(__always) static func exp(_ x: Self) -> Self { DoubleMath.exp(x) }
    @inline(__always) static func log(_ x: Self) -> Self { DoubleMath.log(x) }
    @inline(__always) static func tanh(_ x: Self) -> Self { DoubleMath.tanh(x) }
    @inline(__always) static func sin(_ x: Self) -> Self { DoubleMath.sinCos(x, cosine: false) }
    @inline(__always) static func cos(_ x: Self) -> Self { DoubleMath.sinCos(x, cosine: true) }
    @inline(__always) static func sigmoid(_ x: Self) -> Self { DoubleMath.sigmoid(x) }
    @inline(__always) static func sqrt(_ x: Self) -> Self { DoubleMath.sqrt(x) }
    @inline(__always) static func magnitude(_ x: Self) -> Self { DoubleMath.magnitude(x) }
    @inline(__always) static func compare(_ relation: BinaryOperation, _ a: Self, _ b: Self) -> SIMDMask<SIMD8<Int64>> {
        switch relation {
        case .equal: a .== b
        case .notEqual: a .!= b
        case .less: a .< b
        case .lessOrEqual: a .<= b
        case .greater: a .> b
        case .greaterOrEqual: a .>= b
        default: fatalError("compare: \(relation) is not a comparison")
        }
    }
}

#if arch(x86_64) && !TENSORS_NO_LLVM_INTRINSICS
/// The processor's vector square root (`sqrtps` / `sqrtpd`), correctly
/// rounded like `squareRoot()`, reached through LLVM's
/// target-independent `llvm.sqrt` intrinsic declared by its LLVM name (as
/// `CacheLines` declares `llvm.prefetch`): the standard library's SIMD
/// `squareRoot()` goes lane by lane. Only 128-bit vectors are declared —
/// Swift passes a wider one indirectly unless the build targets AVX, and
/// LLVM rejects the declaration then — so a `SIMD16<Float>` takes four
/// calls, which LLVM keeps as four instructions (or joins, on AVX). Checked
/// on x86-64 in optimized builds with and without `-target-cpu native`, debug
/// and address-sanitizer builds; other architectures, and builds that define
/// `TENSORS_NO_LLVM_INTRINSICS` (the thread sanitizer's, see `CacheLines`),
/// keep the software square root.
///
/// Twenty-second session, Zen 3 (AVX2): Adam's vectorized loop over MLP
/// 784-256-128-10's 235,146 parameters, copied into a standalone program, one
/// thread, best of 50: 289 → 99 µs against the bit-level estimate with Newton
/// steps it replaces (≤ 1 ulp, kept as ``FloatMath/softwareSqrt(_:)``), which
/// spilled AVX2's sixteen registers; in `Benchmarks training` (two threads)
/// the optimizer's share of the step went from 294 to 99–121 µs.
enum HardwareSquareRoot {
    @inline(__always)
    static func sqrt(_ x: SIMD16<Float>) -> SIMD16<Float> {
        SIMD16(lowHalf: SIMD8(lowHalf: llvmSqrt4(x.lowHalf.lowHalf), highHalf: llvmSqrt4(x.lowHalf.highHalf)),
               highHalf: SIMD8(lowHalf: llvmSqrt4(x.highHalf.lowHalf), highHalf: llvmSqrt4(x.highHalf.highHalf)))
    }

    @inline(__always)
    static func sqrt(_ x: SIMD8<Double>) -> SIMD8<Double> {
        SIMD8(lowHalf: SIMD4(lowHalf: llvmSqrt2(x.lowHalf.lowHalf), highHalf: llvmSqrt2(x.lowHalf.highHalf)),
              highHalf: SIMD4(lowHalf: llvmSqrt2(x.highHalf.lowHalf), highHalf: llvmSqrt2(x.highHalf.highHalf)))
    }
}

@_silgen_name("llvm.sqrt.v4f32")
private func llvmSqrt4(_ x: SIMD4<Float>) -> SIMD4<Float>

@_silgen_name("llvm.sqrt.v2f64")
private func llvmSqrt2(_ x: SIMD2<Double>) -> SIMD2<Double>
#endif
