import Tensors

/// Layer normalization (Ba et al. 2016), the "Norm" of the transformer's
/// "Add & Norm" (C5W4-04): each example (each column; each token of a
/// `(d, m, T)` sequence batch) is normalized over its `d` features, then
/// scaled and shifted: `y = γ ⊙ (x − μ)/√(σ² + ε) + β`.
///
/// Unlike batch normalization (C2W3) it needs no batch statistics, so it
/// behaves the same in training and inference and for any batch size. One
/// fused tape node (``layerNormalization(_:gamma:beta:epsilon:)``).
public final class LayerNormalization<Scalar: TensorScalar>: Layer {
    /// `γ` `(d, 1)`, starting at 1.
    public let gamma: Parameter<Scalar>
    /// `β` `(d, 1)`, starting at 0.
    public let beta: Parameter<Scalar>
    /// `ε`, 10⁻⁵ by default (PyTorch's; Keras uses 10⁻³).
    public let epsilon: Double

    public init(features: Int, epsilon: Double = 1e-5) {
        require(features >= 1 && epsilon >= 0, "LayerNormalization: needs features ≥ 1 and ε ≥ 0, got \(features) and \(epsilon)")
        gamma = Parameter(key: "gamma", value: Tensor(shape: [features, 1], repeating: 1), isRegularized: false)
        beta = Parameter(key: "beta", value: .zeros([features, 1]), isRegularized: false)
        self.epsilon = epsilon
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        layerNormalization(input, gamma: gamma.variable, beta: beta.variable, epsilon: epsilon)
    }

    public var parameters: [Parameter<Scalar>] { [gamma, beta] }
    public var summary: String { "LayerNormalization(\(gamma.value.shape[0]))" }
    public static var typeName: String { "LayerNormalization" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["features": .int(gamma.value.shape[0]), "epsilon": .double(epsilon)])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let features = try configuration.int("features"), epsilon = try configuration.double("epsilon")
        guard features >= 1, epsilon >= 0 else { throw ModelFileError.corrupt("LayerNormalization with \(features) features and ε \(epsilon)") }
        self.init(features: features, epsilon: epsilon)
    }
}
