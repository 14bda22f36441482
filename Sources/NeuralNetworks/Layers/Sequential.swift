import Tensors

/// Layers applied in order: `A[l] = layer_l(A[l−1])`, backward in reverse.
///
/// Parameters are named by position in the notes' style: the l-th layer that
/// has parameters gets `W{l}`, `b{l}` (Dense) or `gamma{l}`, `beta{l}`
/// (BatchNorm, numbered with the Dense layer it follows).
public final class Sequential<Scalar: TensorScalar> {
    public let layers: [any Layer<Scalar>]

    public init(_ layers: [any Layer<Scalar>]) {
        self.layers = layers
        var l = 0
        for layer in layers {
            if layer is Dense<Scalar> { l += 1 }
            for p in layer.parameters {
                p.name = "\(p.name.prefix { !$0.isNumber })\(Swift.max(l, 1))"
            }
        }
    }

    /// The network's output for `X` of shape `(n_x, m)`.
    public func forward(_ X: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        layers.reduce(X) { $1.forward($0, training: training) }
    }

    /// Backpropagates `∂J/∂output`, filling every parameter's gradient; returns
    /// `∂J/∂X`, or an empty tensor when `needsInputGradient` is false and the
    /// first layer is `Dense` (training skips that product).
    @discardableResult
    public func backward(_ gradient: Tensor<Scalar>, needsInputGradient: Bool = true) -> Tensor<Scalar> {
        let first = layers.first as? Dense<Scalar>
        first?.skipsInputGradient = !needsInputGradient
        defer { first?.skipsInputGradient = false }
        return layers.reversed().reduce(gradient) { $1.backward($0) }
    }

    /// All parameters in layer order (`W1, b1, W2, b2, …`).
    public var parameters: [Parameter<Scalar>] { layers.flatMap { $0.parameters } }

    /// The parameter called `name` (`"W1"`, `"b2"`, …), if any.
    public subscript(parameter name: String) -> Parameter<Scalar>? {
        parameters.first { $0.name == name }
    }

    /// One line per layer with its parameter count.
    public var summary: String {
        let lines = layers.map { layer -> String in
            let count = layer.parameters.reduce(0) { $0 + $1.value.count }
            return "\(layer.summary)  params: \(count)"
        }
        let total = parameters.reduce(0) { $0 + $1.value.count }
        return (lines + ["total params: \(total)"]).joined(separator: "\n")
    }
}
