/// One-pass, in-place optimizer updates (each reads and writes every element
/// once instead of a chain of allocating tensor operations).
enum OptimizerKernels {
    /// `a = β·a + γ·x` (or `γ·x²`): with `γ = 1 − β` the exponentially
    /// weighted average, with `γ = 1` momentum's accumulated velocity.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func average<S: TensorScalar>(_ a: UnsafeMutablePointer<S>, _ x: UnsafePointer<S>, _ n: Int, beta: S, weight: S, squared: Bool) {
        ComputePath.current.run(loop: {
            for i in 0..<n { a[i] = beta * a[i] + weight * (squared ? x[i] * x[i] : x[i]) }
        }, vectorized: {
            switch S.scalarType {
            case .float32:
                averageVectorized(cast(a, to: Float.self), cast(x, to: Float.self), n, Float(beta), Float(weight), squared, FloatVector.self)
            case .float64:
                averageVectorized(cast(a, to: Double.self), cast(x, to: Double.self), n, Double(beta), Double(weight), squared, DoubleVector.self)
            }
        })
    }

    /// `p = p − α·(v/c₁)/(√(s/c₂) + ε)` (Adam), or with `adam == false`
    /// `p = p − α·v/√(s + ε)` (RMSprop as the notes write it, `v` the gradient).
    ///
    /// Adam is evaluated as PyTorch does, `p − (α/c₁)·v/(√s·(1/√c₂) + ε)`:
    /// the constants per step, one square root and one division per element
    /// (three divisions made the update compute-bound: the 784-256-128-10
    /// MLP's Adam step alone took 183 µs with them, 103 µs with one).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func step<S: TensorScalar>(
        _ p: UnsafeMutablePointer<S>, _ v: UnsafePointer<S>, _ s: UnsafePointer<S>, _ n: Int,
        rate: S, c1: S, c2: S, epsilon: S, adam: Bool
    ) {
        let (stepSize, scale) = adamConstants(rate: rate, c1: c1, c2: c2)
        ComputePath.current.run(loop: {
            for i in 0..<n {
                p[i] = adam ? p[i] - stepSize * v[i] / (s[i].squareRoot() * scale + epsilon)
                            : p[i] - rate * v[i] / (s[i] + epsilon).squareRoot()
            }
        }, vectorized: {
            switch S.scalarType {
            case .float32:
                stepVectorized(cast(p, to: Float.self), cast(v, to: Float.self), cast(s, to: Float.self), n,
                               Float(rate), Float(stepSize), Float(scale), Float(epsilon), adam, FloatVector.self)
            case .float64:
                stepVectorized(cast(p, to: Double.self), cast(v, to: Double.self), cast(s, to: Double.self), n,
                               Double(rate), Double(stepSize), Double(scale), Double(epsilon), adam, DoubleVector.self)
            }
        })
    }

    /// Adam's per-step constants `α/c₁` and `1/√c₂`, rounded once from Double.
    @inline(__always)
    static func adamConstants<S: TensorScalar>(rate: S, c1: S, c2: S) -> (stepSize: S, scale: S) {
        (S(Double(rate) / Double(c1)), S(1 / Double(c2).squareRoot()))
    }

    @inline(__always)
    static func averageVectorized<V: KernelVector>(
        _ a: UnsafeMutablePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ n: Int, _ beta: V.Scalar, _ weight: V.Scalar,
        _ squared: Bool, _: V.Type
    ) {
        let w = V.scalarCount, b = V(repeating: beta), c = V(repeating: weight)
        var i = 0
        while i + w <= n {
            let xv = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            let av = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(a + i).storeBytes(of: b * av + c * (squared ? xv * xv : xv), as: V.self)
            i += w
        }
        while i < n { a[i] = beta * a[i] + weight * (squared ? x[i] * x[i] : x[i]); i += 1 }
    }

    /// The vectorized ``step(_:_:_:_:rate:c1:c2:epsilon:adam:)``, with Adam's constants already formed.
    @inline(__always)
    static func stepVectorized<V: KernelVector>(
        _ p: UnsafeMutablePointer<V.Scalar>, _ v: UnsafePointer<V.Scalar>, _ s: UnsafePointer<V.Scalar>, _ n: Int,
        _ rate: V.Scalar, _ stepSize: V.Scalar, _ scale: V.Scalar, _ epsilon: V.Scalar, _ adam: Bool, _: V.Type
    ) {
        let w = V.scalarCount
        let r = V(repeating: rate), e = V(repeating: epsilon), a = V(repeating: stepSize), k = V(repeating: scale)
        var i = 0
        while i + w <= n {
            let pv = UnsafeRawPointer(p + i).loadUnaligned(as: V.self)
            let vv = UnsafeRawPointer(v + i).loadUnaligned(as: V.self)
            let sv = UnsafeRawPointer(s + i).loadUnaligned(as: V.self)
            let updated = adam ? pv - a * vv / (V.sqrt(sv) * k + e) : pv - r * vv / V.sqrt(sv + e)
            UnsafeMutableRawPointer(p + i).storeBytes(of: updated, as: V.self)
            i += w
        }
        while i < n {
            p[i] = adam ? p[i] - stepSize * v[i] / (s[i].squareRoot() * scale + epsilon)
                        : p[i] - rate * v[i] / (s[i] + epsilon).squareRoot()
            i += 1
        }
    }

    /// `y = y + a·x` over `n` elements (BLAS axpy), multiply then add — the
    /// same two roundings as `y + (a * x)` with a temporary, without the temporary.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func addScaled<S: TensorScalar>(_ y: UnsafeMutablePointer<S>, _ x: UnsafePointer<S>, _ n: Int, _ a: S) {
        ComputePath.current.run(loop: {
            for i in 0..<n { y[i] = y[i] + a * x[i] }
        }, vectorized: {
            let chunks = (n + elementwiseChunk - 1) / elementwiseChunk
            let (py, px) = (UncheckedSendable(y), UncheckedSendable(x))
            parallelFor(chunks: chunks, work: n) { c in
                let start = c * elementwiseChunk, count = Swift.min(elementwiseChunk, n - start)
                switch S.scalarType {
                case .float32:
                    addScaledVectorized(cast(py.value + start, to: Float.self), cast(px.value + start, to: Float.self),
                                        count, Float(a), FloatVector.self)
                case .float64:
                    addScaledVectorized(cast(py.value + start, to: Double.self), cast(px.value + start, to: Double.self),
                                        count, Double(a), DoubleVector.self)
                }
            }
        })
    }

    @inline(__always)
    static func addScaledVectorized<V: KernelVector>(
        _ y: UnsafeMutablePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ n: Int, _ a: V.Scalar, _: V.Type
    ) {
        let w = V.scalarCount, av = V(repeating: a)
        var i = 0
        while i + w <= n {
            let yv = UnsafeRawPointer(y + i).loadUnaligned(as: V.self), xv = UnsafeRawPointer(x + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: yv + av * xv, as: V.self)
            i += w
        }
        while i < n { y[i] = y[i] + a * x[i]; i += 1 }
    }

    /// One fused Adam step over elements `0..<n`:
    /// `v = β₁v + (1 − β₁)g`, `s = β₂s + (1 − β₂)g²`, `p −= α·(v/c₁)/(√(s/c₂) + ε)`,
    /// each expression evaluated exactly as ``average(_:_:_:beta:squared:)`` and
    /// ``step(_:_:_:_:rate:c1:c2:epsilon:adam:)`` do (PyTorch's form of the last:
    /// `p − (α/c₁)·v/(√s·(1/√c₂) + ε)`), so the result is bitwise the same as
    /// those three passes. Reads p, g, v, s and writes p, v, s once. (MLP
    /// 784-256-128-10's update alone: 183 µs with three divisions per element,
    /// 103 µs with one.)
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func adamStep<S: TensorScalar>(
        _ p: UnsafeMutablePointer<S>, _ g: UnsafePointer<S>, _ v: UnsafeMutablePointer<S>, _ s: UnsafeMutablePointer<S>,
        _ n: Int, beta1: S, beta2: S, rate: S, c1: S, c2: S, epsilon: S
    ) {
        let (stepSize, scale) = adamConstants(rate: rate, c1: c1, c2: c2)
        ComputePath.current.run(loop: {
            for i in 0..<n { adamElement(i, p, g, v, s, beta1, beta2, stepSize, scale, epsilon) }
        }, vectorized: {
            // Fixed chunks: the same element always gets the same operations, whatever the thread count.
            let chunks = (n + elementwiseChunk - 1) / elementwiseChunk
            let (pp, pg, pv, ps) = (UncheckedSendable(p), UncheckedSendable(g), UncheckedSendable(v), UncheckedSendable(s))
            parallelFor(chunks: chunks, work: 4 * n) { c in
                let start = c * elementwiseChunk, count = Swift.min(elementwiseChunk, n - start)
                switch S.scalarType {
                case .float32:
                    adamVectorized(cast(pp.value + start, to: Float.self), cast(pg.value + start, to: Float.self),
                                   cast(pv.value + start, to: Float.self), cast(ps.value + start, to: Float.self), count,
                                   Float(beta1), Float(beta2), Float(stepSize), Float(scale), Float(epsilon), FloatVector.self)
                case .float64:
                    adamVectorized(cast(pp.value + start, to: Double.self), cast(pg.value + start, to: Double.self),
                                   cast(pv.value + start, to: Double.self), cast(ps.value + start, to: Double.self), count,
                                   Double(beta1), Double(beta2), Double(stepSize), Double(scale), Double(epsilon), DoubleVector.self)
                }
            }
        })
    }

    @inline(__always)
    static func adamVectorized<V: KernelVector>(
        _ p: UnsafeMutablePointer<V.Scalar>, _ g: UnsafePointer<V.Scalar>, _ v: UnsafeMutablePointer<V.Scalar>,
        _ s: UnsafeMutablePointer<V.Scalar>, _ n: Int,
        _ beta1: V.Scalar, _ beta2: V.Scalar, _ stepSize: V.Scalar, _ scale: V.Scalar, _ epsilon: V.Scalar,
        _: V.Type
    ) {
        let w = V.scalarCount
        let b1 = V(repeating: beta1), d1 = V(repeating: 1 - beta1), b2 = V(repeating: beta2), d2 = V(repeating: 1 - beta2)
        let a = V(repeating: stepSize), k = V(repeating: scale), e = V(repeating: epsilon)
        @inline(__always) func load(_ x: UnsafePointer<V.Scalar>) -> V { UnsafeRawPointer(x).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ x: V, _ to: UnsafeMutablePointer<V.Scalar>) { UnsafeMutableRawPointer(to).storeBytes(of: x, as: V.self) }
        var i = 0
        while i + w <= n {
            let gv = load(g + i)
            let vv = b1 * load(v + i) + d1 * gv
            let sv = b2 * load(s + i) + d2 * (gv * gv)
            store(vv, v + i)
            store(sv, s + i)
            store(load(p + i) - a * vv / (V.sqrt(sv) * k + e), p + i)
            i += w
        }
        while i < n {
            adamElement(i, p, g, v, s, beta1, beta2, stepSize, scale, epsilon)
            i += 1
        }
    }

    /// The scalar Adam step of element `i` (the loop path, and the vectorized path's tail).
    @inline(__always)
    static func adamElement<S: TensorScalar>(
        _ i: Int, _ p: UnsafeMutablePointer<S>, _ g: UnsafePointer<S>, _ v: UnsafeMutablePointer<S>,
        _ s: UnsafeMutablePointer<S>, _ beta1: S, _ beta2: S, _ stepSize: S, _ scale: S, _ epsilon: S
    ) {
        v[i] = beta1 * v[i] + (1 - beta1) * g[i]
        s[i] = beta2 * s[i] + (1 - beta2) * (g[i] * g[i])
        p[i] = p[i] - stepSize * v[i] / (s[i].squareRoot() * scale + epsilon)
    }
}
