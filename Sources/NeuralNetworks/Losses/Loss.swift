import Tensors

/// A cost `J = (1/m) Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾)` over the `m` columns, and its gradient
/// `∂J/∂input` (which carries the `1/m`).
public protocol Loss<Scalar> {
    associatedtype Scalar: TensorScalar
    /// The cost and `∂J/∂prediction` for predictions and targets of the same shape `(n_y, m)`.
    func callAsFunction(_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>)
}

func checkShapes<S>(_ name: String, _ a: Tensor<S>, _ b: Tensor<S>) {
    precondition(a.shape == b.shape, "\(name): prediction shape \(a.shape) differs from target shape \(b.shape)")
}

/// The smallest probability the probability-input losses take a log of:
/// 1e-7 for Float, 1e-15 for Double (a saturated prediction costs a large
/// finite amount instead of ∞).
func probabilityFloor<S: TensorScalar>(_: S.Type) -> S { S.scalarType == .float32 ? 1e-7 : 1e-15 }

/// Per-element sigmoid cross-entropy from logits, stable for any `z`:
/// `L = max(z, 0) − z·y + log(1 + e^−|z|)`, with `∂L/∂z = σ(z) − y`.
func logisticLosses<S>(_ Z: Tensor<S>, _ Y: Tensor<S>) -> (losses: Tensor<S>, gradients: Tensor<S>) {
    (relu(Z) - Z * Y + log(1 + exp(-abs(Z))), sigmoid(Z) - Y)
}

/// Binary cross-entropy on probabilities (C1W2-07/08):
/// `J = −(1/m) Σ [y log a + (1 − y) log(1 − a)]`, `∂J/∂a = (1/m)(−y/a + (1 − y)/(1 − a))`.
/// Probabilities are clipped to `[ε, 1 − ε]` with ε from `probabilityFloor`.
public struct BinaryCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ A: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("BinaryCrossEntropy", A, Y)
        let eps = probabilityFloor(Scalar.self)
        let a = clip(A, lower: eps, upper: 1 - eps)
        let m = Scalar(A.shape.last ?? 1)
        let cost = -(Y * log(a) + (1 - Y) * log(1 - a)).sum() / m
        return (cost, (-Y / a + (1 - Y) / (1 - a)) / m)
    }
}

/// Binary cross-entropy from logits `z` (numerically stable, and the
/// gradient is the notes' `dZ = (A − Y)/m` with `A = σ(z)`):
/// `L = max(z, 0) − z·y + log(1 + e^−|z|)`.
public struct BinaryCrossEntropyWithLogits<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ Z: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("BinaryCrossEntropyWithLogits", Z, Y)
        let m = Scalar(Z.shape.last ?? 1)
        let (losses, gradients) = logisticLosses(Z, Y)
        return (losses.sum() / m, gradients / m)
    }
}

/// Softmax cross-entropy from logits `Z` of shape `(C, m)` against one-hot `Y`
/// (C2W3-07): `J = −(1/m) Σᵢ Σ_c y_c log softmax(z)_c`, fused gradient
/// `dZ = (softmax(Z) − Y)/m`, with `softmax = exp(logSoftmax)` from the one
/// stable `logSoftmax` pass.
public struct SoftmaxCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ Z: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("SoftmaxCrossEntropy", Z, Y)
        let m = Scalar(Z.shape.last ?? 1)
        let logProbabilities = logSoftmax(Z, axis: 0)
        return (-(Y * logProbabilities).sum() / m, (exp(logProbabilities) - Y) / m)
    }
}

/// Mean squared error with the notes' ½ (C1W2-06): `J = (1/m) Σ ½‖ŷ − y‖²`, `∂J/∂ŷ = (ŷ − y)/m`.
public struct MeanSquaredError<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ A: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("MeanSquaredError", A, Y)
        let m = Scalar(A.shape.last ?? 1)
        let difference = A - Y
        return (square(difference).sum() / (2 * m), difference / m)
    }
}

/// Multi-task (multi-label) loss from logits (C3W2-09): an independent sigmoid
/// cross-entropy per task, summed over tasks and averaged over examples,
/// ignoring missing labels (`NaN` in `Y`): `J = (1/m) Σᵢ Σ_{j labelled} L(ŷⱼ⁽ⁱ⁾, yⱼ⁽ⁱ⁾)`.
public struct MultiTaskSigmoidCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ Z: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("MultiTaskSigmoidCrossEntropy", Z, Y)
        let m = Scalar(Z.shape.last ?? 1)
        let labelled = Y .== Y                       // 0 where the label is NaN
        let (losses, gradients) = logisticLosses(Z, Y.replacingNaN(with: 0))
        return ((losses * labelled).sum() / m, gradients * labelled / m)
    }
}

extension Tensor {
    /// The same tensor with NaNs replaced by `value`.
    func replacingNaN(with value: Scalar) -> Tensor {
        Tensor(shape: shape, scalars: scalars.map { $0.isNaN ? value : $0 })
    }
}

/// Categorical cross-entropy on probabilities `A` (a ``Softmax`` output) of
/// shape `(C, m)` against one-hot `Y`: `J = −(1/m) Σ y log a`,
/// `∂J/∂a = −y/(m·a)`; with the Softmax layer's backward this is `(A − Y)/m`.
/// Probabilities are clipped below at ε from `probabilityFloor`.
public struct CategoricalCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ A: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("CategoricalCrossEntropy", A, Y)
        let a = max(A, probabilityFloor(Scalar.self))
        let m = Scalar(A.shape.last ?? 1)
        return (-(Y * log(a)).sum() / m, -Y / (a * m))
    }
}
