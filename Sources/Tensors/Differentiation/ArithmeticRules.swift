// Backward rules of the broadcasting binary operations (PyTorch's derivatives.yaml
// reads the same way). `g` is ∂J/∂output; a gradient sent to an operand that was
// broadcast is summed back to its shape (`summed(toShape:)`).
//
//   a + b    da = g                 db = g
//   a − b    da = g                 db = −g
//   a · b    da = g·b               db = g·a
//   a / b    da = g/b               db = −g·a/b² = −g·(a/b)/b
//   max(a,b) da = g·[a > b] + ½g·[a = b]   (ties split evenly, as PyTorch does)
//   min(a,b) da = g·[a < b] + ½g·[a = b]
//   −a       da = −g

extension Variable {
    /// Records `op(a, b)` computed by `forward`, with the rule `rule(g) → (da, db)`
    /// before un-broadcasting; `rule` is only asked for the gradients needed.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func binary(
        _ a: Variable, _ b: Variable, _ value: Tensor<Scalar>,
        _ rule: @escaping (_ g: Tensor<Scalar>, _ needsA: Bool, _ needsB: Bool) -> (Tensor<Scalar>?, Tensor<Scalar>?)
    ) -> Variable {
        let shapeA = a.value.shape, shapeB = b.value.shape
        return Variable(value, derivedFrom: [a, b]) { g, needs in
            let (da, db) = rule(g, needs[0], needs[1])
            return [da?.summed(toShape: shapeA), db?.summed(toShape: shapeB)]
        }
    }

    /// Elementwise sum with broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Variable, b: Variable) -> Variable {
        binary(a, b, a.value + b.value) { g, needsA, needsB in (needsA ? g : nil, needsB ? g : nil) }
    }

    /// Elementwise difference with broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Variable, b: Variable) -> Variable {
        binary(a, b, a.value - b.value) { g, needsA, needsB in (needsA ? g : nil, needsB ? -g : nil) }
    }

    /// Elementwise product with broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Variable, b: Variable) -> Variable {
        let x = a.value, y = b.value
        return binary(a, b, x * y) { g, needsA, needsB in (needsA ? g * y : nil, needsB ? g * x : nil) }
    }

    /// Elementwise quotient with broadcasting.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Variable, b: Variable) -> Variable {
        let y = b.value, quotient = a.value / b.value
        return binary(a, b, quotient) { g, needsA, needsB in
            (needsA ? g / y : nil, needsB ? -(g * quotient / y) : nil)
        }
    }

    /// Elementwise negation.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static prefix func - (a: Variable) -> Variable {
        Variable(-a.value, derivedFrom: [a]) { g, _ in [-g] }
    }

    // Scalar operands are constants: only the tensor operand has a gradient.

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (a: Variable, s: Scalar) -> Variable { Variable(a.value + s, derivedFrom: [a]) { g, _ in [g] } }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func + (s: Scalar, a: Variable) -> Variable { a + s }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (a: Variable, s: Scalar) -> Variable { Variable(a.value - s, derivedFrom: [a]) { g, _ in [g] } }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func - (s: Scalar, a: Variable) -> Variable { Variable(s - a.value, derivedFrom: [a]) { g, _ in [-g] } }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (a: Variable, s: Scalar) -> Variable { Variable(a.value * s, derivedFrom: [a]) { g, _ in [g * s] } }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func * (s: Scalar, a: Variable) -> Variable { a * s }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (a: Variable, s: Scalar) -> Variable { Variable(a.value / s, derivedFrom: [a]) { g, _ in [g / s] } }
    /// `s / a`, with `∂/∂a = −s/a² = −(s/a)/a`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func / (s: Scalar, a: Variable) -> Variable {
        let x = a.value, y = s / a.value
        return Variable(y, derivedFrom: [a]) { g, _ in [-(g * y / x)] }
    }
}

/// The share of `g` that `max`/`min` send to the first operand: all of it
/// where it won, half on ties.
@_specialize(where S == Float)
@_specialize(where S == Double)
private func winnerShare<S>(_ wins: Tensor<S>, _ ties: Tensor<S>) -> Tensor<S> { wins + 0.5 * ties }

/// Elementwise maximum with broadcasting; on ties each operand gets half the gradient.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func max<S>(_ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    let x = a.value, y = b.value
    return Variable.binary(a, b, max(x, y)) { g, needsA, needsB in
        let ties = x .== y
        return (needsA ? g * winnerShare(x .> y, ties) : nil, needsB ? g * winnerShare(y .> x, ties) : nil)
    }
}

/// Elementwise minimum with broadcasting; on ties each operand gets half the gradient.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func min<S>(_ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    let x = a.value, y = b.value
    return Variable.binary(a, b, min(x, y)) { g, needsA, needsB in
        let ties = x .== y
        return (needsA ? g * winnerShare(x .< y, ties) : nil, needsB ? g * winnerShare(y .< x, ties) : nil)
    }
}

/// `max(a, s)` elementwise (`max(Z, 0)` is ReLU); ties with `s` pass half the gradient.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func max<S>(_ a: Variable<S>, _ s: S) -> Variable<S> {
    let x = a.value
    return Variable(max(x, s), derivedFrom: [a]) { g, _ in [g * winnerShare(x .> s, x .== s)] }
}

/// `min(a, s)` elementwise; ties with `s` pass half the gradient.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func min<S>(_ a: Variable<S>, _ s: S) -> Variable<S> {
    let x = a.value
    return Variable(min(x, s), derivedFrom: [a]) { g, _ in [g * winnerShare(x .< s, x .== s)] }
}
