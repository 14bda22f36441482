// Backward rules of the reductions. A reduction's gradient is spread back over
// the reduced axis (`g` with the axis kept, broadcast to the input's shape):
//
//   sum        dx = g                        mean      dx = g/n
//   max, min   dx = g·[x = y] / (number of elements equal to y)   (ties share evenly)
//   variance   dx = g·2(x − μ)/(n − c)       (c = correction: 0 population, 1 sample)
//   std σ      dx = g·(x − μ)/((n − c)·σ)    (0 where σ = 0)
//   norm l2    dx = g·x/‖x‖ (0 where ‖x‖ = 0)   l1: dx = g·sign(x)   ∞: as max of |x|

extension Variable {
    /// Records a reduction along `axis` (or over everything when `axis` is nil) whose
    /// rule receives the incoming gradient with the reduced axis kept (size 1) and
    /// the reduced value likewise, and returns `∂J/∂self`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    fileprivate func reduction(
        _ value: Tensor<Scalar>, axis: Int?, keepingDimensions: Bool,
        _ rule: @escaping (_ g: Tensor<Scalar>, _ y: Tensor<Scalar>) -> Tensor<Scalar>
    ) -> Variable {
        let input = self.value
        var keptShape = [Int](repeating: 1, count: input.rank)
        if let axis {
            keptShape = input.shape
            keptShape[normalizedAxis(axis, rank: input.rank, operation: "reduce", shape: input.shape)] = 1
        }
        let y = value.reshaped(to: keptShape)
        return Variable(value, derivedFrom: [self]) { g, _ in [rule(g.reshaped(to: keptShape), y)] }
    }

    /// Sum of all elements, as a rank-0 variable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum() -> Variable {
        let shape = value.shape
        return Variable(Tensor(value.sum()), derivedFrom: [self]) { g, _ in [Tensor(shape: shape, repeating: g.scalar)] }
    }

    /// Sum along `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func sum(axis: Int, keepingDimensions: Bool = false) -> Variable {
        let shape = value.shape
        return reduction(value.sum(axis: axis, keepingDimensions: keepingDimensions), axis: axis,
                         keepingDimensions: keepingDimensions) { g, _ in g.broadcasted(toShape: shape) }
    }

    /// Mean of all elements, as a rank-0 variable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean() -> Variable { sum() / Scalar(value.count) }

    /// Mean along `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func mean(axis: Int, keepingDimensions: Bool = false) -> Variable {
        let n = value.shape[normalizedAxis(axis, rank: value.rank, operation: "mean", shape: value.shape)]
        return sum(axis: axis, keepingDimensions: keepingDimensions) / Scalar(n)
    }

    /// Largest element along `axis`; tied maxima share the gradient evenly.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max(axis: Int, keepingDimensions: Bool = false) -> Variable {
        let x = value
        return reduction(value.max(axis: axis, keepingDimensions: keepingDimensions), axis: axis,
                         keepingDimensions: keepingDimensions) { g, y in Self.extremumGradient(x, y, g, axis: axis) }
    }

    /// Smallest element along `axis`; tied minima share the gradient evenly.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func min(axis: Int, keepingDimensions: Bool = false) -> Variable {
        let x = value
        return reduction(value.min(axis: axis, keepingDimensions: keepingDimensions), axis: axis,
                         keepingDimensions: keepingDimensions) { g, y in Self.extremumGradient(x, y, g, axis: axis) }
    }

    /// Largest element, as a rank-0 variable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func max() -> Variable {
        let x = value
        return reduction(Tensor(x.max()), axis: nil, keepingDimensions: false) { g, y in Self.extremumGradient(x, y, g, axis: nil) }
    }

    /// Smallest element, as a rank-0 variable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func min() -> Variable {
        let x = value
        return reduction(Tensor(x.min()), axis: nil, keepingDimensions: false) { g, y in Self.extremumGradient(x, y, g, axis: nil) }
    }

    /// `g` sent to the elements equal to the extremum `y`, split evenly among ties.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    static func extremumGradient(_ x: Tensor<Scalar>, _ y: Tensor<Scalar>, _ g: Tensor<Scalar>, axis: Int?) -> Tensor<Scalar> {
        let winners = x .== y
        let count = axis.map { winners.sum(axis: $0, keepingDimensions: true) } ?? Tensor(shape: y.shape, repeating: winners.sum())
        return winners * (g / count)
    }

    /// Variance along `axis` (population by default, ``Tensor/variance(axis:keepingDimensions:correction:)``),
    /// `∂/∂x = 2(x − μ)/(n − correction)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func variance(axis: Int, keepingDimensions: Bool = false, correction: Int = 0) -> Variable {
        let x = value
        let n = x.shape[normalizedAxis(axis, rank: x.rank, operation: "variance", shape: x.shape)]
        return reduction(x.variance(axis: axis, keepingDimensions: keepingDimensions, correction: correction), axis: axis,
                         keepingDimensions: keepingDimensions) { g, _ in
            (x - x.mean(axis: axis, keepingDimensions: true)) * (g * (2 / Scalar(n - correction)))
        }
    }

    /// Variance of all elements (population by default), as a rank-0 variable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func variance(correction: Int = 0) -> Variable {
        let x = value
        return reduction(Tensor(x.variance(correction: correction)), axis: nil, keepingDimensions: false) { g, _ in
            (x - x.mean()) * (g.scalar * 2 / Scalar(x.count - correction))
        }
    }

    /// Standard deviation along `axis` (population by default,
    /// ``Tensor/std(axis:keepingDimensions:correction:)``), with
    /// `∂σ/∂x = (x − μ)/((n − correction)·σ)`, taken as 0 where σ = 0 (all
    /// elements equal; the derivative of √ at 0 is unbounded), as for the l2 norm.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func std(axis: Int, keepingDimensions: Bool = false, correction: Int = 0) -> Variable {
        let x = value
        let n = x.shape[normalizedAxis(axis, rank: x.rank, operation: "std", shape: x.shape)]
        return reduction(x.std(axis: axis, keepingDimensions: keepingDimensions, correction: correction), axis: axis,
                         keepingDimensions: keepingDimensions) { g, sigma in
            let scale = select(sigma .> 0, g / (sigma * Scalar(n - correction)), Tensor(0))
            return (x - x.mean(axis: axis, keepingDimensions: true)) * scale
        }
    }

    /// Standard deviation of all elements (population by default), as a rank-0
    /// variable; the derivative is 0 where σ = 0.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func std(correction: Int = 0) -> Variable {
        let x = value
        let sigma = x.std(correction: correction)
        return reduction(Tensor(sigma), axis: nil, keepingDimensions: false) { g, _ in
            sigma > 0 ? (x - x.mean()) * (g.scalar / (sigma * Scalar(x.count - correction))) : .zeros(x.shape)
        }
    }

    /// The norm of all elements, as a rank-0 variable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func norm(_ kind: Norm = .l2) -> Variable {
        let x = value
        let n = x.norm(kind)
        return reduction(Tensor(n), axis: nil, keepingDimensions: false) { g, _ in
            switch kind {
            case .l1: return g.scalar * ((x .> 0) - (x .< 0))
            case .l2: return n == 0 ? .zeros(x.shape) : x * (g.scalar / n)
            case .infinity:
                let magnitude = abs(x)
                return Self.extremumGradient(magnitude, Tensor(shape: [], repeating: n), g, axis: nil) * ((x .> 0) - (x .< 0))
            }
        }
    }
}
