import Tensors

/// A trainable tensor: a leaf of the gradient tape, shared by reference between
/// its layer, the model and the optimizer, which keeps its state here.
///
/// ``key`` is the name inside the layer (`"W"`, `"b"`, `"gamma"`); ``name`` is
/// the unique name the model gives it: the notes' `W1`, `b1`, … where those
/// are unambiguous, path-style (`"0.W"`, `"dense2.W"`) otherwise.
public final class Parameter<Scalar: TensorScalar> {
    /// The name inside its layer, e.g. `"W"`.
    public let key: String
    /// The name in its model, e.g. `"W2"` (the key until a model names it).
    public internal(set) var name: String
    /// Whether L2 regularization applies (weights yes, biases and BatchNorm's β no).
    public let isRegularized: Bool
    /// The tape leaf layers compute with.
    public private(set) var variable: Variable<Scalar>
    /// What the optimizer remembers about this parameter (moments, step count).
    public var optimizerState = OptimizerState<Scalar>()

    public init(key: String, value: Tensor<Scalar>, isRegularized: Bool) {
        self.key = key
        self.name = key
        self.isRegularized = isRegularized
        self.variable = Variable(value, requiresGradient: true)
    }

    /// The current value.
    public var value: Tensor<Scalar> {
        get { variable.value }
        set { variable.value = newValue }
        _modify { yield &variable.value }
    }

    /// `∂J/∂value` accumulated by the last backward pass; `nil` before one, or
    /// when the parameter did not take part in the cost.
    public var gradient: Tensor<Scalar>? {
        get { variable.gradient }
        set { variable.gradient = newValue }
        _modify { yield &variable.gradient }
    }

    /// The row-sparse part of the gradient, from row lookups (an ``Embedding``'s
    /// table): optimizers update only those rows. `nil` before a backward pass
    /// that looked rows up.
    public var rowGradient: RowGradient<Scalar>? {
        get { variable.rowGradient }
        set { variable.rowGradient = newValue }
    }

    /// Whether a backward pass gave this parameter a gradient, dense or by rows.
    public var hasGradient: Bool { variable.gradient != nil || variable.rowGradient != nil }

    /// Whether the gradient (dense and row parts) is finite; true without one.
    public var gradientIsFinite: Bool { (gradient?.isFinite ?? true) && (rowGradient?.isFinite ?? true) }

    /// Whether the tape differentiates it and optimizers update it; frozen
    /// layers (transfer learning) set this to false, so no gradient is computed.
    public var isTrainable: Bool {
        get { variable.requiresGradient }
        set {
            guard newValue != variable.requiresGradient else { return }
            variable = Variable(variable.value, requiresGradient: newValue)
        }
    }
}

/// An optimizer's memory of one parameter (C2W2): it lives with the parameter,
/// so it is released with it and a parameter added later (a new head for
/// transfer learning) starts from step 0 whatever the others have done.
public struct OptimizerState<Scalar: TensorScalar> {
    /// Updates applied so far (Adam's `t` after the update is `step`).
    public var step = 0
    /// Momentum's velocity `v`, Adam's first moment `V`.
    public var firstMoment: Tensor<Scalar>?
    /// RMSprop's and Adam's average of squares `S`.
    public var secondMoment: Tensor<Scalar>?
    /// The optimizer that wrote this state; another optimizer starts afresh.
    var owner: OptimizerIdentity?

    public init() {}
}
