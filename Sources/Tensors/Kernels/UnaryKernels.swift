import Foundation

/// An elementwise function `y = f(x)`; parameters are stored as `Double` and
/// converted to the tensor's scalar type.
enum UnaryOperation: Sendable, Equatable {
    case negate, abs, square, sqrt, reciprocal
    case exp, log, tanh, sigmoid, relu, sin, cos
    case leakyRelu(slope: Double)
    case clip(lower: Double, upper: Double)
    case pow(Double)
    case sigmoidDerivative, tanhDerivative, reluDerivative
    case leakyReluDerivative(slope: Double)

    /// Rough cost in simple vector operations per element, used to decide when
    /// threads pay off.
    var cost: Int {
        switch self {
        case .negate, .abs, .square, .relu, .leakyRelu, .clip, .reluDerivative, .leakyReluDerivative: 1
        case .sqrt, .reciprocal: 2
        default: 6
        }
    }
}

/// Elementwise kernels: `loop` is the scalar reference, `vectorized` the SIMD
/// version. Both read `n` elements at `x` and write `n` elements at `y`
/// (`x == y` is allowed).
enum UnaryKernels {
    // MARK: Loop path — one thread, one element at a time; `exp` is the vector
    // polynomial's scalar twin (`ScalarMath`), the other transcendentals libm.

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func loop<S: TensorScalar>(_ op: UnaryOperation, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int) {
        // Transcendentals are evaluated in Double with the platform libm and rounded once.
        func f(_ d: (Double) -> Double) { for i in 0..<n { y[i] = S(d(Double(x[i]))) } }
        switch op {
        case .negate: for i in 0..<n { y[i] = -x[i] }
        case .abs: for i in 0..<n { y[i] = Swift.abs(x[i]) }
        case .square: for i in 0..<n { y[i] = x[i] * x[i] }
        case .sqrt: for i in 0..<n { y[i] = x[i].squareRoot() }
        case .reciprocal: for i in 0..<n { y[i] = 1 / x[i] }
        case .exp:
            switch S.scalarType {
            case .float32: for i in 0..<n { y[i] = S(ScalarMath.exp(Float(x[i]))) }
            case .float64: for i in 0..<n { y[i] = S(ScalarMath.exp(Double(x[i]))) }
            }
        case .log: f(Foundation.log)
        case .tanh: f(Foundation.tanh)
        case .sin: f(Foundation.sin)
        case .cos: f(Foundation.cos)
        case .sigmoid: f { 1 / (1 + Foundation.exp(-$0)) }
        case .relu: for i in 0..<n { y[i] = x[i] < 0 ? 0 : x[i] }
        case .leakyRelu(let slope): for i in 0..<n { y[i] = x[i] < 0 ? S(slope) * x[i] : x[i] }
        case .clip(let lower, let upper):
            for i in 0..<n { y[i] = x[i] < S(lower) ? S(lower) : (x[i] > S(upper) ? S(upper) : x[i]) }
        case .pow(let p): f { Foundation.pow($0, p) }
        // σ′ = σ(z)·σ(−z) and tanh′ = sech² z = 4u/(1 + u)² with u = e^(−2|z|): no
        // cancellation at large |z|, where s(1 − s) and 1 − t² round to 0.
        case .sigmoidDerivative: f { 1 / ((1 + Foundation.exp(-$0)) * (1 + Foundation.exp($0))) }
        case .tanhDerivative: f { let u = Foundation.exp(-2 * Swift.abs($0)); return 4 * u / ((1 + u) * (1 + u)) }
        case .reluDerivative: for i in 0..<n { y[i] = x[i] >= 0 ? 1 : 0 }
        case .leakyReluDerivative(let slope): for i in 0..<n { y[i] = x[i] >= 0 ? 1 : S(slope) }
        }
    }

    // MARK: Vectorized path — SIMD16<Float> / SIMD8<Double>, split into fixed chunks.

    static func vectorized<S: TensorScalar>(_ op: UnaryOperation, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int) {
        let chunks = (n + elementwiseChunk - 1) / elementwiseChunk
        let px = UncheckedSendable(x), py = UncheckedSendable(y)
        parallelFor(chunks: chunks, work: n * op.cost) { c in
            let start = c * elementwiseChunk
            let length = Swift.min(elementwiseChunk, n - start)
            switch S.scalarType {
            case .float32: vectors(op, cast(px.value + start, to: Float.self), cast(py.value + start, to: Float.self), length, FloatVector.self)
            case .float64: vectors(op, cast(px.value + start, to: Double.self), cast(py.value + start, to: Double.self), length, DoubleVector.self)
            }
        }
    }

    /// The one SIMD body of every elementwise function, for either vector type.
    /// Comparisons go through ``KernelVector/compare(_:_:_:)`` (the generic
    /// `.<` would be the standard library's lane-by-lane fallback).
    @inline(__always)
    static func vectors<V: KernelVector>(
        _ op: UnaryOperation, _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ n: Int, _: V.Type
    ) {
        let zero = V()
        switch op {
        // The standard library's SIMD prefix minus is `0 − v`, which turns +0 into +0;
        // multiplying by −1 flips the sign of zeros too (−(+0) = −0, as the loop path and numpy give).
        case .negate: mapVectors(x, y, n) { (v: V) in v * V(repeating: -1) }
        case .abs: mapVectors(x, y, n, V.magnitude)
        case .square: mapVectors(x, y, n) { (v: V) in v * v }
        case .sqrt: mapVectors(x, y, n, V.sqrt)
        case .reciprocal: mapVectors(x, y, n) { (v: V) in 1 / v }
        case .exp: mapVectors(x, y, n, V.exp)
        case .log: mapVectors(x, y, n, V.log)
        case .tanh: mapVectors(x, y, n, V.tanh)
        case .sin: mapVectors(x, y, n, V.sin)
        case .cos: mapVectors(x, y, n, V.cos)
        case .sigmoid: mapVectors(x, y, n, V.sigmoid)
        case .relu: mapVectors(x, y, n) { (v: V) in v.replacing(with: 0, where: V.compare(.less, v, zero)) }
        case .leakyRelu(let slope):
            let a = V.Scalar(slope)
            mapVectors(x, y, n) { (v: V) in v.replacing(with: v * a, where: V.compare(.less, v, zero)) }
        case .clip(let lower, let upper):
            let lo = V(repeating: V.Scalar(lower)), hi = V(repeating: V.Scalar(upper))
            mapVectors(x, y, n) { (v: V) in
                v.replacing(with: lo, where: V.compare(.less, v, lo)).replacing(with: hi, where: V.compare(.greater, v, hi))
            }
        case .pow(let p):
            if p == p.rounded() && Swift.abs(p) <= 64 {
                let k = Int(p)
                mapVectors(x, y, n) { (v: V) in integerPower(v, k) }
            } else {
                let exponent = V.Scalar(p)
                mapVectors(x, y, n) { (v: V) in V.exp(exponent * V.log(v)) }
            }
        case .sigmoidDerivative: mapVectors(x, y, n) { (v: V) in V.sigmoid(v) * V.sigmoid(-v) }
        case .tanhDerivative:
            mapVectors(x, y, n) { (v: V) in let u = V.exp(-2 * V.magnitude(v)); return 4 * u / ((1 + u) * (1 + u)) }
        case .reluDerivative: mapVectors(x, y, n) { (v: V) in V(repeating: 1).replacing(with: 0, where: V.compare(.less, v, zero)) }
        case .leakyReluDerivative(let slope):
            let a = V.Scalar(slope)
            mapVectors(x, y, n) { (v: V) in V(repeating: 1).replacing(with: a, where: V.compare(.less, v, zero)) }
        }
    }

    // MARK: pow with a scalar exponent: integer exponents up to 64 in
    // magnitude by repeated squaring (exact sign handling for negative x, like
    // numpy), others as `exp(p·ln x)` (NaN for x < 0).

    @inline(__always)
    static func integerPower<V: SIMD>(_ v: V, _ k: Int) -> V where V.Scalar: FloatingPoint {
        var result = V(repeating: 1), base = v, e = Swift.abs(k)
        while e > 0 {
            if e & 1 == 1 { result = result * base }
            base = base * base
            e >>= 1
        }
        return k < 0 ? V(repeating: 1) / result : result
    }
}

/// Applies `f` to whole vectors, then to one zero-padded vector for the tail,
/// so every element goes through the same code.
@inline(__always)
func mapVectors<V: SIMD>(
    _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ n: Int, _ f: (V) -> V
) {
    let width = V.scalarCount
    var i = 0
    while i + width <= n {
        let v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
        UnsafeMutableRawPointer(y + i).storeBytes(of: f(v), as: V.self)
        i += width
    }
    if i < n {
        var v = V()
        for j in 0..<(n - i) { v[j] = x[i + j] }
        let r = f(v)
        for j in 0..<(n - i) { y[i + j] = r[j] }
    }
}
