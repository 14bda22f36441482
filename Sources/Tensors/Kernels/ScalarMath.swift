// The scalar twins of the vector polynomials in VectorMath: the same clamping,
// argument reduction, coefficients and scaling, one element at a time, so the
// loop path computes exactly what the vectorized path computes and the two
// differ by vectorization alone (`Benchmarks vectorization` times the pair).

enum ScalarMath {
    // MARK: The NaN rule of maximum and minimum — the one definition
    //
    // numpy's `maximum`/`minimum`: NaN if either operand is NaN. Written as a
    // selection (take `b` where `b` beats `a` or `b` is NaN, else keep `a`) so
    // that it is lane for lane what ``KernelVector/maximum(_:_:)`` and
    // ``KernelVector/minimum(_:_:)`` compute: a NaN operand is returned as it
    // is, and both paths give the same bits. Every scalar max/min in the
    // kernels (binary operations, reductions, the tails of vector rows, the
    // horizontal folds of vector accumulators) calls these two.

    /// `max(a, b)`, NaN if either is NaN.
    @inline(__always)
    static func maximum<S: FloatingPoint>(_ a: S, _ b: S) -> S { b > a || b.isNaN ? b : a }

    /// `min(a, b)`, NaN if either is NaN.
    @inline(__always)
    static func minimum<S: FloatingPoint>(_ a: S, _ b: S) -> S { b < a || b.isNaN ? b : a }

    /// eˣ for one Float: ``FloatMath/exp(_:)`` lane by lane.
    @inline(__always)
    static func exp(_ x: Float) -> Float {
        var v = x > 89 ? 89 : x
        if v < -104 { v = -104 }
        let t = v * FloatMath.log2e + FloatMath.roundingMagic
        let n = t - FloatMath.roundingMagic
        let k = Int32(bitPattern: t.bitPattern) &- Int32(bitPattern: 0x4B40_0000)
        let r = (v - n * FloatMath.ln2Hi) - n * FloatMath.ln2Lo
        var p: Float = 1.9875691500e-4 * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        let e = (p * (r * r) + r) + 1
        let k1 = k &>> 1
        return e * pow2(k1) * pow2(k &- k1)
    }

    /// eˣ for one Double: ``DoubleMath/exp(_:)`` lane by lane.
    @inline(__always)
    static func exp(_ x: Double) -> Double {
        var v = x > 710 ? 710 : x
        if v < -746 { v = -746 }
        let t = v * DoubleMath.log2e + DoubleMath.roundingMagic
        let n = t - DoubleMath.roundingMagic
        let k = Int64(bitPattern: t.bitPattern) &- Int64(bitPattern: 0x4338_0000_0000_0000)
        let r = (v - n * DoubleMath.ln2Hi) - n * DoubleMath.ln2Lo
        var p: Double = r * (1.0 / 6227020800) + (1.0 / 479001600)
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
        let e = (p * (r * r) + r) + 1
        let k1 = k &>> 1
        return e * pow2(k1) * pow2(k &- k1)
    }

    @inline(__always)
    static func pow2(_ k: Int32) -> Float { Float(bitPattern: UInt32(bitPattern: (k &+ 127) &<< 23)) }

    @inline(__always)
    static func pow2(_ k: Int64) -> Double { Double(bitPattern: UInt64(bitPattern: (k &+ 1023) &<< 52)) }
}
