import Tensors

/// A trainable tensor with its gradient, shared by reference between a layer
/// and the optimizer that updates it.
///
/// Names follow the notes: `W1`, `b1`, … (a ``Sequential`` model renames its
/// layers' parameters by position).
public final class Parameter<Scalar: TensorScalar> {
    /// The name in the notes' style, e.g. `"W2"`.
    public internal(set) var name: String
    /// The current value.
    public var value: Tensor<Scalar>
    /// `∂J/∂value` from the last backward pass (same shape as `value`).
    public var gradient: Tensor<Scalar>
    /// Whether optimizers update it; frozen layers set this to false.
    public var isTrainable = true
    /// Whether L2 regularization applies (weights yes, biases and BatchNorm's β no).
    public let isRegularized: Bool

    public init(name: String, value: Tensor<Scalar>, isRegularized: Bool) {
        self.name = name
        self.value = value
        self.gradient = Tensor.zeros(value.shape)
        self.isRegularized = isRegularized
    }
}

/// One step of a network in the notes' style: `forward` computes the output
/// and keeps what `backward` needs (the notes' "cache"); `backward` receives
/// `∂J/∂output`, fills the parameters' gradients and returns `∂J/∂input`.
///
/// Shapes follow the notes: activations are `(units, m)`, one example per column.
public protocol Layer<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar

    /// `A = layer(A_prev)`. `training` switches dropout and batch statistics on.
    func forward(_ input: Tensor<Scalar>, training: Bool) -> Tensor<Scalar>
    /// Given `∂J/∂A`, sets each parameter's gradient and returns `∂J/∂A_prev`.
    func backward(_ outputGradient: Tensor<Scalar>) -> Tensor<Scalar>
    /// The layer's parameters (empty for activations).
    var parameters: [Parameter<Scalar>] { get }
    /// A short description for summaries, e.g. `Dense(784 → 128)`.
    var summary: String { get }
}

extension Layer {
    public var parameters: [Parameter<Scalar>] { [] }

    /// Stops (or resumes) training of this layer's parameters — transfer
    /// learning keeps trained layers and retrains a new head.
    public func setTrainable(_ trainable: Bool) {
        for p in parameters { p.isTrainable = trainable }
    }
}

/// The output of a forward pass cached for backward; reading it before any
/// forward pass is a programming error that names the layer.
func cached<S>(_ value: Tensor<S>?, _ layer: String) -> Tensor<S> {
    guard let value else { preconditionFailure("\(layer).backward called before forward") }
    return value
}
