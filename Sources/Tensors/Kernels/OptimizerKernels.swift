/// One-pass, in-place optimizer updates (each reads and writes every element
/// once instead of a chain of allocating tensor operations).
enum OptimizerKernels {
    /// `a = β·a + (1 − β)·x` (or `x²`).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func average<S: TensorScalar>(_ a: UnsafeMutablePointer<S>, _ x: UnsafePointer<S>, _ n: Int, beta: S, squared: Bool) {
        switch ComputePath.current {
        case .loop:
            for i in 0..<n { a[i] = beta * a[i] + (1 - beta) * (squared ? x[i] * x[i] : x[i]) }
        case .vectorized:
            switch S.scalarType {
            case .float32: averageVectorized(cast(a, to: Float.self), cast(x, to: Float.self), n, Float(beta), squared, FloatVector.self)
            case .float64: averageVectorized(cast(a, to: Double.self), cast(x, to: Double.self), n, Double(beta), squared, DoubleVector.self)
            }
        }
    }

    /// `p = p − α·(v/c₁)/(√(s/c₂) + ε)` (Adam), or with `adam == false`
    /// `p = p − α·v/√(s + ε)` (RMSprop as the notes write it, `v` the gradient).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func step<S: TensorScalar>(
        _ p: UnsafeMutablePointer<S>, _ v: UnsafePointer<S>, _ s: UnsafePointer<S>, _ n: Int,
        rate: S, c1: S, c2: S, epsilon: S, adam: Bool
    ) {
        switch ComputePath.current {
        case .loop:
            for i in 0..<n {
                p[i] = adam ? p[i] - rate * (v[i] / c1) / ((s[i] / c2).squareRoot() + epsilon)
                            : p[i] - rate * v[i] / (s[i] + epsilon).squareRoot()
            }
        case .vectorized:
            switch S.scalarType {
            case .float32:
                stepVectorized(cast(p, to: Float.self), cast(v, to: Float.self), cast(s, to: Float.self), n,
                               Float(rate), Float(c1), Float(c2), Float(epsilon), adam, FloatVector.self)
            case .float64:
                stepVectorized(cast(p, to: Double.self), cast(v, to: Double.self), cast(s, to: Double.self), n,
                               Double(rate), Double(c1), Double(c2), Double(epsilon), adam, DoubleVector.self)
            }
        }
    }

    @inline(__always)
    static func averageVectorized<V: KernelVector>(
        _ a: UnsafeMutablePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ n: Int, _ beta: V.Scalar, _ squared: Bool, _: V.Type
    ) {
        let w = V.scalarCount, b = V(repeating: beta), c = V(repeating: 1 - beta)
        var i = 0
        while i + w <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let av = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(a + i).storeBytes(of: b * av + c * (squared ? xv * xv : xv), as: V.self)
            i += w
        }
        while i < n { a[i] = beta * a[i] + (1 - beta) * (squared ? x[i] * x[i] : x[i]); i += 1 }
    }

    @inline(__always)
    static func stepVectorized<V: KernelVector>(
        _ p: UnsafeMutablePointer<V.Scalar>, _ v: UnsafePointer<V.Scalar>, _ s: UnsafePointer<V.Scalar>, _ n: Int,
        _ rate: V.Scalar, _ c1: V.Scalar, _ c2: V.Scalar, _ epsilon: V.Scalar, _ adam: Bool, _: V.Type
    ) {
        let w = V.scalarCount
        let r = V(repeating: rate), e = V(repeating: epsilon), k1 = V(repeating: c1), k2 = V(repeating: c2)
        var i = 0
        while i + w <= n {
            let pv = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            let vv = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
            let sv = UnsafeRawPointer(s + i).loadUnaligned(as: V.self)
            let updated = adam ? pv - r * (vv / k1) / (V.sqrt(sv / k2) + e) : pv - r * vv / V.sqrt(sv + e)
            UnsafeMutableRawPointer(p + i).storeBytes(of: updated, as: V.self)
            i += w
        }
        while i < n {
            p[i] = adam ? p[i] - rate * (v[i] / c1) / ((s[i] / c2).squareRoot() + epsilon)
                        : p[i] - rate * v[i] / (s[i] + epsilon).squareRoot()
            i += 1
        }
    }
}
