// Elementwise functions. Each has a form returning a new tensor and a form
// writing into an existing one (`into:`), which avoids allocating.
//
// Accuracy of the vectorized path (max error against Double libm, measured by
// VectorMathAccuracyTests over wide ranges, subnormals, ±∞, NaN):
// exp, log ≤ 2 ulp; tanh ≤ 3 ulp; sigmoid ≤ 4 ulp; sin, cos ≤ 1 ulp; sqrt correctly
// rounded on x86-64 (≤ 1 ulp elsewhere); pow with a non-integer exponent
// ≈ (2 + |p·ln x|) ulp. The loop path evaluates in Double with libm.

extension Tensor {
    /// `f(self)` elementwise, on the current ``ComputePath``.
    func applying(_ op: UnaryOperation) -> Tensor {
        var out = Tensor(shape: shape) { _ in }
        apply(op, into: &out)
        return out
    }

    /// Writes `f(self)` into `out`, which must have the same shape.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func apply(_ op: UnaryOperation, into out: inout Tensor) {
        if out.shape != shape {
            shapeFailure(ShapeError(operation: "\(op) (into:)", message: "output shape \(format(out.shape)) differs from input shape \(format(shape))"))
        }
        scalars.withUnsafeBufferPointer { x in
            out.scalars.withUnsafeMutableBufferPointer { y in
                guard let px = x.baseAddress, let py = y.baseAddress else { return }
                ComputePath.current.run(
                    loop: { UnaryKernels.loop(op, px, py, x.count) },
                    vectorized: { UnaryKernels.vectorized(op, px, py, x.count) })
            }
        }
    }
}

/// `eˣ` elementwise.
public func exp<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(.exp) }
/// Writes `eˣ` into `out` (same shape as `x`) without allocating.
public func exp<S>(_ x: Tensor<S>, into out: inout Tensor<S>) { x.apply(.exp, into: &out) }
/// Natural logarithm elementwise: NaN for x < 0, −∞ at 0.
public func log<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(.log) }
public func log<S>(_ x: Tensor<S>, into out: inout Tensor<S>) { x.apply(.log, into: &out) }
/// `sin x` elementwise (x in radians); NaN for ±∞ and NaN, `sin(−0) = −0`.
///
/// The vectorized path is within 1 ulp everywhere (its argument reduction
/// keeps full accuracy even next to multiples of π/2), computing |x| up to
/// 8192π (Float) or 2²⁹π (Double) with SIMD polynomials and larger |x| with
/// libm; the loop path evaluates libm's `sin` in Double and rounds once.
public func sin<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(.sin) }
/// Writes `sin x` into `out` (same shape as `x`) without allocating.
public func sin<S>(_ x: Tensor<S>, into out: inout Tensor<S>) { x.apply(.sin, into: &out) }
/// `cos x` elementwise (x in radians); NaN for ±∞ and NaN. Accuracy as ``sin(_:)-(Tensor<S>)``.
public func cos<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(.cos) }
/// Writes `cos x` into `out` (same shape as `x`) without allocating.
public func cos<S>(_ x: Tensor<S>, into out: inout Tensor<S>) { x.apply(.cos, into: &out) }
/// Square root elementwise, correctly rounded (the vectorized path on
/// architectures other than x86-64: within 1 ulp).
public func sqrt<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(.sqrt) }
/// `x²` elementwise.
public func square<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(.square) }
/// `|x|` elementwise.
public func abs<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(.abs) }
/// `1/x` elementwise.
public func reciprocal<S>(_ x: Tensor<S>) -> Tensor<S> { x.applying(.reciprocal) }
/// `xᵖ` elementwise for a scalar exponent. Integer exponents up to 64 in
/// magnitude use repeated multiplication (negative bases allowed, as in
/// numpy); others compute `exp(p·ln x)` and give NaN for negative `x`.
public func pow<S>(_ x: Tensor<S>, _ exponent: S) -> Tensor<S> { x.applying(.pow(Double(exponent))) }
/// `xʸ` elementwise with numpy's broadcasting (`np.power`, `torch.pow` of
/// two tensors): shapes `[2, 3]` and `[3]` give `[2, 3]`.
///
/// Special cases follow C's `pow`: `pow(x, 0) = 1` for every x (NaN too),
/// `pow(1, y) = 1`, `pow(0, y)` is 0 for y > 0 and ∞ for y < 0; a negative x
/// with an integer y takes the sign of `(−1)ʸ` (`pow(−2, 3) = −8`), and a
/// negative x with a non-integer y gives NaN. The vectorized path computes
/// `e^(y·ln|x|)`, within about `2 + |y·ln x|` ulp — integer powers are not
/// exact there; the loop path evaluates libm's `pow` in Double and rounds once.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func pow<S>(_ x: Tensor<S>, _ y: Tensor<S>) -> Tensor<S> { x.broadcasting(.pow, y) }
/// Limits every element to `[lower, upper]`; NaN stays NaN.
public func clip<S>(_ x: Tensor<S>, lower: S, upper: S) -> Tensor<S> {
    x.applying(.clip(lower: Double(lower), upper: Double(upper)))
}

// MARK: Activations (C1W3) and their derivatives, as functions of z

/// `tanh z = (eᶻ − e⁻ᶻ)/(eᶻ + e⁻ᶻ)` elementwise, range (−1, 1).
public func tanh<S>(_ z: Tensor<S>) -> Tensor<S> { z.applying(.tanh) }
public func tanh<S>(_ z: Tensor<S>, into out: inout Tensor<S>) { z.apply(.tanh, into: &out) }
/// `σ(z) = 1/(1 + e⁻ᶻ)` elementwise, range (0, 1); exact also for large |z|.
public func sigmoid<S>(_ z: Tensor<S>) -> Tensor<S> { z.applying(.sigmoid) }
public func sigmoid<S>(_ z: Tensor<S>, into out: inout Tensor<S>) { z.apply(.sigmoid, into: &out) }
/// `max(0, z)` elementwise.
public func relu<S>(_ z: Tensor<S>) -> Tensor<S> { z.applying(.relu) }
public func relu<S>(_ z: Tensor<S>, into out: inout Tensor<S>) { z.apply(.relu, into: &out) }
/// `max(slope·z, z)` elementwise; the notes' default slope is 0.01.
public func leakyRelu<S>(_ z: Tensor<S>, slope: S = 0.01) -> Tensor<S> { z.applying(.leakyRelu(slope: Double(slope))) }

/// `σ′(z) = σ(z)(1 − σ(z))`: 0.25 at 0, ≈ 0 for |z| = 10.
public func sigmoidDerivative<S>(_ z: Tensor<S>) -> Tensor<S> { z.applying(.sigmoidDerivative) }
/// `tanh′(z) = 1 − tanh²(z)`: 1 at 0.
public func tanhDerivative<S>(_ z: Tensor<S>) -> Tensor<S> { z.applying(.tanhDerivative) }
/// `relu′(z)`: 0 for z < 0, 1 for z ≥ 0 (the notes' convention at 0).
public func reluDerivative<S>(_ z: Tensor<S>) -> Tensor<S> { z.applying(.reluDerivative) }
/// `leakyRelu′(z)`: `slope` for z < 0, 1 for z ≥ 0.
public func leakyReluDerivative<S>(_ z: Tensor<S>, slope: S = 0.01) -> Tensor<S> {
    z.applying(.leakyReluDerivative(slope: Double(slope)))
}

// MARK: Softmax

extension Tensor {
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func softmax(axis: Int, log: Bool, operation: String) -> Tensor {
        let (outer, length, inner) = splitAxis(axis, operation: operation)
        return Tensor(shape: shape) { y in
            scalars.withUnsafeBufferPointer { x in
                guard let px = x.baseAddress, let py = y.baseAddress else { return }
                ComputePath.current.run(loop: {
                    SoftmaxKernels.loop(px, py, outer: outer, length: length, inner: inner, log: log)
                }, vectorized: {
                    SoftmaxKernels.vectorized(px, py, outer: outer, length: length, inner: inner, log: log)
                })
            }
        }
    }
}

/// Numerically stable softmax along `axis`: `eᶻ⁻ᵐ / Σ eᶻ⁻ᵐ` with `m` the
/// maximum along the axis. For the notes' `(classes, m)` layout use `axis: 0`
/// (each column sums to 1).
public func softmax<S>(_ z: Tensor<S>, axis: Int) -> Tensor<S> { z.softmax(axis: axis, log: false, operation: "softmax") }
/// Numerically stable `log(softmax(z))` along `axis`: `z − m − ln Σ eᶻ⁻ᵐ`.
public func logSoftmax<S>(_ z: Tensor<S>, axis: Int) -> Tensor<S> { z.softmax(axis: axis, log: true, operation: "logSoftmax") }

/// Softmax cross-entropy from logits, with the classes along axis 0 and the
/// examples along the last axis (the notes' `(C, m)`; any shape `(C, …, m)`):
/// `J = −(1/m) Σ y·log softmax(z)`, softmax over axis 0 of each column.
/// Returns `J` and, unless `computingGradient` is false, `∂J/∂z = (softmax(z) − y)/m`
/// (`z`'s shape), both from one sweep over each block of columns — no
/// log-softmax, product or difference tensors in between — with the cost
/// summed in fixed blocks, so it does not depend on the thread count.
/// A label of 0 adds nothing to `J`, even where `log softmax(z)` is −∞.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func softmaxCrossEntropy<S>(logits z: Tensor<S>, labels y: Tensor<S>, computingGradient: Bool = true)
    -> (cost: S, gradient: Tensor<S>?) {
    if z.shape != y.shape || z.rank == 0 {
        shapeFailure(ShapeError(operation: "softmaxCrossEntropy",
                                message: "logits \(format(z.shape)) and labels \(format(y.shape)) must have one shape of rank ≥ 1"))
    }
    let classes = z.shape[0], columns = classes == 0 ? 0 : z.count / classes
    let scale = 1 / S(z.shape[z.rank - 1])
    if z.count == 0 { return (0, computingGradient ? Tensor<S>.zeros(z.shape) : nil) }
    var gradient: Tensor<S>? = computingGradient ? Tensor<S>(shape: z.shape) { _ in } : nil   // every element is written
    let cost: S = z.withUnsafeBufferPointer { pz in
        y.withUnsafeBufferPointer { py in
            func run(_ g: UnsafeMutablePointer<S>?) -> S {
                ComputePath.current.run(loop: {
                    CrossEntropyKernels.loop(pz.baseAddress!, py.baseAddress!, g, classes: classes, columns: columns, scale: scale)
                }, vectorized: {
                    CrossEntropyKernels.vectorized(pz.baseAddress!, py.baseAddress!, g, classes: classes, columns: columns, scale: scale)
                })
            }
            guard gradient != nil else { return run(nil) }
            return gradient!.withUnsafeMutableBufferPointer { run($0.baseAddress!) }
        }
    }
    return (cost, gradient)
}
