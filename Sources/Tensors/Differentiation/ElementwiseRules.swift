// Backward rules of the elementwise functions, from the input x or the output y:
//
//   exp        dx = g·y                 log        dx = g/x
//   sqrt       dx = g/(2y)              square     dx = 2g·x
//   abs        dx = g·sign(x)           reciprocal dx = −g·y²
//   pow(x, p)  dx = g·p·x^(p−1)         clip       dx = g·[lower ≤ x ≤ upper]
//   pow(x, y)  dx = g·y·x^(y−1)         dy = g·xʸ·ln x (0 where x = 0 and y ≥ 0), each summed to its shape
//   tanh       dx = g·(1 − y²)          sigmoid    dx = g·y·(1 − y)
//   sin        dx = g·cos x             cos        dx = −g·sin x
//   relu       dx = g·[x ≥ 0]           leakyRelu  dx = g·(x ≥ 0 ? 1 : slope)
//
// (relu′(0) = 1 is the notes' convention, as in `reluDerivative`.) tanh, sigmoid
// and relu take their rule in one pass over g and the saved tensor (the issue's
// fusion; PyTorch's `tanh_backward`/`sigmoid_backward` use the output the same way):
// no derivative tensor, no second evaluation of the function. From the output,
// σ′ is 0 where σ(z) rounds to 1 (z > 17 in Float), where σ(z)·σ(−z) from the
// input would still give e⁻ᶻ — gradients below the scalar's resolution of y.

extension Variable {
    /// Records `f(self)` with `∂J/∂self = rule(g)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func unary(_ value: Tensor<Scalar>, _ rule: @escaping (Tensor<Scalar>) -> Tensor<Scalar>) -> Variable {
        Variable(value, derivedFrom: [self]) { g, _ in [rule(g)] }
    }
}

/// `eˣ` elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func exp<S>(_ x: Variable<S>) -> Variable<S> {
    let y = exp(x.value)
    return x.unary(y) { g in g * y }
}

/// Natural logarithm elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func log<S>(_ x: Variable<S>) -> Variable<S> {
    let v = x.value
    return x.unary(log(v)) { g in g / v }
}

/// `√x` elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func sqrt<S>(_ x: Variable<S>) -> Variable<S> {
    let y = sqrt(x.value)
    return x.unary(y) { g in 0.5 * g / y }
}

/// `x²` elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func square<S>(_ x: Variable<S>) -> Variable<S> {
    let v = x.value
    return x.unary(square(v)) { g in 2 * g * v }
}

/// `|x|` elementwise; the derivative at 0 is taken as 0.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func abs<S>(_ x: Variable<S>) -> Variable<S> {
    let v = x.value
    return x.unary(abs(v)) { g in g * ((v .> 0) - (v .< 0)) }
}

/// `1/x` elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func reciprocal<S>(_ x: Variable<S>) -> Variable<S> {
    let y = reciprocal(x.value)
    return x.unary(y) { g in -(g * square(y)) }
}

/// `xᵖ` elementwise for a constant exponent.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func pow<S>(_ x: Variable<S>, _ exponent: S) -> Variable<S> {
    let v = x.value
    return x.unary(pow(v, exponent)) { g in g * exponent * pow(v, exponent - 1) }
}

/// `xʸ` elementwise with broadcasting (see ``pow(_:_:)-(Tensor<S>,Tensor<S>)``),
/// with `∂/∂x = y·x^(y−1)` and `∂/∂y = xʸ·ln x`, each summed back to its
/// operand's shape. `∂/∂y` is taken as 0 where x = 0 and y ≥ 0 (as PyTorch),
/// and is NaN for x < 0, where `ln x` is.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func pow<S>(_ x: Variable<S>, _ y: Variable<S>) -> Variable<S> {
    let a = x.value, b = y.value, result = pow(a, b)
    return Variable.binary(x, y, result) { g, needsX, needsY in
        (needsX ? g * b * pow(a, b - 1) : nil,
         needsY ? g * select((a .== 0) * (b .>= 0), Tensor(0), result * log(a)) : nil)
    }
}

/// `sin x` elementwise, with `∂/∂x = cos x`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func sin<S>(_ x: Variable<S>) -> Variable<S> {
    let v = x.value
    return x.unary(sin(v)) { g in g * cos(v) }
}

/// `cos x` elementwise, with `∂/∂x = −sin x`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func cos<S>(_ x: Variable<S>) -> Variable<S> {
    let v = x.value
    return x.unary(cos(v)) { g in -(g * sin(v)) }
}

/// `x` clipped to `[lower, upper]`; the gradient passes where `x` was inside.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func clip<S>(_ x: Variable<S>, lower: S, upper: S) -> Variable<S> {
    let v = x.value
    return x.unary(clip(v, lower: lower, upper: upper)) { g in g * (v .>= lower) * (v .<= upper) }
}

/// `tanh(z)` elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func tanh<S>(_ z: Variable<S>) -> Variable<S> {
    let a = tanh(z.value)
    return z.unary(a) { g in g.broadcasting(.tanhGradient, a) }
}

/// The logistic function `σ(z) = 1/(1 + e⁻ᶻ)` elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func sigmoid<S>(_ z: Variable<S>) -> Variable<S> {
    let a = sigmoid(z.value)
    return z.unary(a) { g in g.broadcasting(.sigmoidGradient, a) }
}

/// `max(z, 0)` elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func relu<S>(_ z: Variable<S>) -> Variable<S> {
    let v = z.value
    return z.unary(relu(v)) { g in g.broadcasting(.reluGradient, v) }
}

/// `max(slope·z, z)` elementwise.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func leakyRelu<S>(_ z: Variable<S>, slope: S = 0.01) -> Variable<S> {
    let v = z.value
    return z.unary(leakyRelu(v, slope: slope)) { g in g * leakyReluDerivative(v, slope: slope) }
}

/// Stable softmax along `axis`, with `∂J/∂z = y ⊙ (g − Σ_axis g ⊙ y)`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func softmax<S>(_ z: Variable<S>, axis: Int) -> Variable<S> {
    let y = softmax(z.value, axis: axis)
    return z.unary(y) { g in y * (g - (g * y).sum(axis: axis, keepingDimensions: true)) }
}

/// Stable `log softmax` along `axis`, with `∂J/∂z = g − softmax(z) ⊙ Σ_axis g`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func logSoftmax<S>(_ z: Variable<S>, axis: Int) -> Variable<S> {
    let y = logSoftmax(z.value, axis: axis)
    return z.unary(y) { g in g - exp(y) * g.sum(axis: axis, keepingDimensions: true) }
}
