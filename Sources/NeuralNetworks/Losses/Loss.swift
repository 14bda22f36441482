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

/// Binary cross-entropy on probabilities (C1W2-07/08):
/// `J = −(1/m) Σ [y log a + (1 − y) log(1 − a)]`, `∂J/∂a = (1/m)(−y/a + (1 − y)/(1 − a))`.
/// Probabilities are clipped to `[ε, 1 − ε]` (ε = 1e-7 Float, 1e-15 Double)
/// so that saturated predictions give a large finite cost, not ∞.
public struct BinaryCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ A: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("BinaryCrossEntropy", A, Y)
        let eps: Scalar = Scalar.scalarType == .float32 ? 1e-7 : 1e-15
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
        let losses = relu(Z) - Z * Y + log(1 + exp(-abs(Z)))
        return (losses.sum() / m, (sigmoid(Z) - Y) / m)
    }
}

/// Softmax cross-entropy from logits `Z` of shape `(C, m)` against one-hot `Y`
/// (C2W3-07): `J = −(1/m) Σᵢ Σ_c y_c log softmax(z)_c`, fused gradient
/// `dZ = (softmax(Z) − Y)/m`. Uses `logSoftmax`, so it is stable for any logits.
public struct SoftmaxCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ Z: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("SoftmaxCrossEntropy", Z, Y)
        let m = Scalar(Z.shape.last ?? 1)
        let cost = -(Y * logSoftmax(Z, axis: 0)).sum() / m
        return (cost, (softmax(Z, axis: 0) - Y) / m)
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
        let y = Y.replacingNaN(with: 0)
        let losses = (relu(Z) - Z * y + log(1 + exp(-abs(Z)))) * labelled
        return (losses.sum() / m, (sigmoid(Z) - y) * labelled / m)
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
/// Probabilities are clipped below at ε as in ``BinaryCrossEntropy``.
public struct CategoricalCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    public func callAsFunction(_ A: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        checkShapes("CategoricalCrossEntropy", A, Y)
        let eps: Scalar = Scalar.scalarType == .float32 ? 1e-7 : 1e-15
        let a = max(A, eps)
        let m = Scalar(A.shape.last ?? 1)
        return (-(Y * log(a)).sum() / m, -Y / (a * m))
    }
}
