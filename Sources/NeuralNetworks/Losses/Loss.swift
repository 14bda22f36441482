import Tensors

/// A cost `J = (1/m) Σᵢ L(ŷ⁽ⁱ⁾, y⁽ⁱ⁾)` over the `m` columns, recorded on the
/// gradient tape as one fused node with its hand-written derivative.
public protocol Loss<Scalar> {
    associatedtype Scalar: TensorScalar
    /// The cost (rank 0) of `prediction` (as the model outputs it) against
    /// targets of the same shape `(n_y, m)`.
    func callAsFunction(_ prediction: Variable<Scalar>, _ target: Tensor<Scalar>) -> Variable<Scalar>
}

extension Loss {
    /// The cost and `∂J/∂prediction` for plain tensors.
    public func callAsFunction(_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>) -> (cost: Scalar, gradient: Tensor<Scalar>) {
        let p = Variable(prediction, requiresGradient: true)
        let J = GradientTape.$isRecording.withValue(true) { self(p, target) }
        J.backward()
        return (J.value.scalar, p.gradient ?? .zeros(prediction.shape))
    }
}

/// Records a loss node: `cost` computed from the prediction, and the gradient
/// `∂J/∂prediction` (for an incoming `∂(whole)/∂J` of 1) computed lazily.
@_specialize(where S == Float)
@_specialize(where S == Double)
func lossNode<S>(_ prediction: Variable<S>, cost: S, gradient: @escaping () -> Tensor<S>) -> Variable<S> {
    Variable(Tensor(cost), derivedFrom: [prediction]) { g, _ in [g.scalar == 1 ? gradient() : gradient() * g.scalar] }
}

func checkShapes<S>(_ name: String, _ a: Tensor<S>, _ b: Tensor<S>) {
    require(a.shape == b.shape, "\(name): prediction shape \(a.shape) differs from target shape \(b.shape)")
}

/// The number of examples `m`: the last axis.
private func exampleCount<S>(_ t: Tensor<S>) -> S { S(t.shape.last ?? 1) }

/// The smallest probability the probability-input losses take a log of:
/// 1e-7 for Float, 1e-15 for Double (a saturated prediction costs a large
/// finite amount instead of ∞).
func probabilityFloor<S: TensorScalar>(_: S.Type) -> S { S.scalarType == .float32 ? 1e-7 : 1e-15 }

/// Per-element sigmoid cross-entropy from logits, stable for any `z`:
/// `L = max(z, 0) − z·y + log(1 + e^−|z|)`, with `∂L/∂z = σ(z) − y`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func logisticLosses<S>(_ Z: Tensor<S>, _ Y: Tensor<S>) -> Tensor<S> {
    relu(Z) - Z * Y + log(1 + exp(-abs(Z)))
}

/// Binary cross-entropy on probabilities (C1W2-07/08):
/// `J = −(1/m) Σ [y log a + (1 − y) log(1 − a)]`, `∂J/∂a = (1/m)(−y/a + (1 − y)/(1 − a))`.
/// Probabilities are clipped to `[ε, 1 − ε]` with ε from `probabilityFloor`.
/// Prefer ``BinaryCrossEntropyWithLogits`` on a model's logits.
public struct BinaryCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ A: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("BinaryCrossEntropy", A.value, Y)
        let eps = probabilityFloor(Scalar.self)
        let a = clip(A.value, lower: eps, upper: 1 - eps)
        let m = exampleCount(Y)
        let cost = -(Y * log(a) + (1 - Y) * log(1 - a)).sum() / m
        return lossNode(A, cost: cost) { (-Y / a + (1 - Y) / (1 - a)) / m }
    }
}

/// Binary cross-entropy from logits `z` (numerically stable, and the
/// gradient is the notes' `dZ = (A − Y)/m` with `A = σ(z)`):
/// `L = max(z, 0) − z·y + log(1 + e^−|z|)`. PyTorch's `BCEWithLogitsLoss`.
public struct BinaryCrossEntropyWithLogits<Scalar: TensorScalar>: Loss {
    public init() {}
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ Z: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("BinaryCrossEntropyWithLogits", Z.value, Y)
        let z = Z.value, m = exampleCount(Y)
        return lossNode(Z, cost: logisticLosses(z, Y).sum() / m) { (sigmoid(z) - Y) / m }
    }
}

/// Softmax cross-entropy from logits `Z` of shape `(C, m)` against one-hot `Y`
/// (C2W3-07): `J = −(1/m) Σᵢ Σ_c y_c log softmax(z)_c`, fused gradient
/// `dZ = (softmax(Z) − Y)/m`, both from one stable sweep over the logits
/// (`Tensors`' `softmaxCrossEntropy`; the gradient only when it will be
/// used). PyTorch's `CrossEntropyLoss` on probabilities as targets.
public struct SoftmaxCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ Z: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("SoftmaxCrossEntropy", Z.value, Y)
        let recorded = GradientTape.isRecording && Z.requiresGradient
        let (cost, gradient) = softmaxCrossEntropy(logits: Z.value, labels: Y, computingGradient: recorded)
        return lossNode(Z, cost: cost) { gradient! }
    }
}

/// Mean squared error with the notes' ½ (C1W2-06): `J = (1/m) Σ ½‖ŷ − y‖²`, `∂J/∂ŷ = (ŷ − y)/m`.
public struct MeanSquaredError<Scalar: TensorScalar>: Loss {
    public init() {}
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ A: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("MeanSquaredError", A.value, Y)
        let m = exampleCount(Y)
        let difference = A.value - Y
        return lossNode(A, cost: square(difference).sum() / (2 * m)) { difference / m }
    }
}

/// Mean absolute error, the notes' L1 cost (C1W4-09) per example:
/// `J = (1/m) Σᵢ ‖ŷ⁽ⁱ⁾ − y⁽ⁱ⁾‖₁`, `∂J/∂ŷ = sign(ŷ − y)/m` (0 where ŷ = y).
/// The notes' `J₁ = Σᵢ |y⁽ⁱ⁾ − ŷ⁽ⁱ⁾|` is `m` times it (a sum, where every
/// cost here is a mean over the examples); PyTorch's `L1Loss` divides by every
/// element, `n_y·m`.
public struct MeanAbsoluteError<Scalar: TensorScalar>: Loss {
    public init() {}
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ A: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("MeanAbsoluteError", A.value, Y)
        let m = exampleCount(Y)
        let difference = A.value - Y
        return lossNode(A, cost: difference.norm(.l1) / m) { ((difference .> 0) - (difference .< 0)) / m }
    }
}

/// Multi-task (multi-label) loss from logits (C3W2-09): an independent sigmoid
/// cross-entropy per task, summed over tasks and averaged over examples,
/// ignoring missing labels (`NaN` in `Y`): `J = (1/m) Σᵢ Σ_{j labelled} L(ŷⱼ⁽ⁱ⁾, yⱼ⁽ⁱ⁾)`.
public struct MultiTaskSigmoidCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ Z: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("MultiTaskSigmoidCrossEntropy", Z.value, Y)
        let z = Z.value, m = exampleCount(Y)
        let labelled = Y .== Y                       // 0 where the label is NaN
        let filled = Y.replacingNaN(with: 0)
        return lossNode(Z, cost: (logisticLosses(z, filled) * labelled).sum() / m) { (sigmoid(z) - filled) * labelled / m }
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
/// Probabilities are clipped below at ε from `probabilityFloor`. Prefer
/// ``SoftmaxCrossEntropy`` on a model's logits.
public struct CategoricalCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ A: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("CategoricalCrossEntropy", A.value, Y)
        let a = max(A.value, probabilityFloor(Scalar.self))
        let m = exampleCount(Y)
        return lossNode(A, cost: -(Y * log(a)).sum() / m) { -Y / (a * m) }
    }
}

extension Model {
    /// The loss that matches ``outputActivation`` on logits: binary
    /// cross-entropy with logits for `.sigmoid`, softmax cross-entropy for
    /// `.softmax`, mean squared error for `.identity`.
    public var defaultLoss: any Loss<Scalar> {
        switch outputActivation {
        case .sigmoid: BinaryCrossEntropyWithLogits<Scalar>()
        case .softmax: SoftmaxCrossEntropy<Scalar>()
        case .identity: MeanSquaredError<Scalar>()
        }
    }
}
