import Tensors

/// A fully connected layer: `Z = W·A_prev + b`.
///
/// - `W` is `(n[l], n[l−1])`, `b` is `(n[l], 1)` and broadcasts over the `m`
///   columns of `A_prev` `(n[l−1], m)`; `Z` is `(n[l], m)`.
/// - One fused tape node (``linear(_:_:_:)``), backward (C1W4-06):
///   `dW = dZ·A_prevᵀ`, `db = Σ_columns dZ`, `dA_prev = Wᵀ·dZ` — the last one
///   only when something upstream needs it.
///
/// ```swift
/// var rng = RandomGenerator(seed: 1)
/// let layer = Dense<Float>(inputs: 784, outputs: 128, initializer: .he, generator: &rng)
/// ```
public final class Dense<Scalar: TensorScalar>: Layer {
    public let W: Parameter<Scalar>
    public let b: Parameter<Scalar>

    public init(inputs: Int, outputs: Int, initializer: Initializer = .he, generator: inout RandomGenerator) {
        W = Parameter(key: "W", value: initializer.weights(rows: outputs, columns: inputs, generator: &generator), isRegularized: true)
        b = Parameter(key: "b", value: .zeros([outputs, 1]), isRegularized: false)
    }

    /// A layer with given parameters (e.g. copied from another model).
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
        require(weight.rank == 2 && bias.shape == [weight.shape[0], 1],
                     "Dense: bias must be (n, 1) for weight (n, n_prev); got \(bias.shape) and \(weight.shape)")
        W = Parameter(key: "W", value: weight, isRegularized: true)
        b = Parameter(key: "b", value: bias, isRegularized: false)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        linear(W.variable, input, b.variable)
    }

    public var parameters: [Parameter<Scalar>] { [W, b] }
    public var summary: String { "Dense(\(W.value.shape[1]) → \(W.value.shape[0]))" }

    public static var typeName: String { "Dense" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["inputs": .int(W.value.shape[1]), "outputs": .int(W.value.shape[0])])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let inputs = try configuration.int("inputs"), outputs = try configuration.int("outputs")
        guard inputs >= 0, outputs >= 0 else { throw ModelFileError.corrupt("Dense with negative size \(inputs) → \(outputs)") }
        self.init(weight: .zeros([outputs, inputs]), bias: .zeros([outputs, 1]))
    }
}
