import Tensors

/// A fully connected layer: `Z = W·A_prev + b`.
///
/// - `W` is `(n[l], n[l−1])`, `b` is `(n[l], 1)` and broadcasts over the `m`
///   columns of `A_prev` `(n[l−1], m)`; `Z` is `(n[l], m)`.
/// - Backward (C1W4-06), with `dZ = ∂J/∂Z` already carrying the cost's `1/m`:
///   `dW = dZ·A_prevᵀ`, `db = Σ_columns dZ`, `dA_prev = Wᵀ·dZ`.
///
/// ```swift
/// var rng = RandomGenerator(seed: 1)
/// let layer = Dense<Float>(inputs: 784, outputs: 128, initializer: .he, generator: &rng)
/// ```
public final class Dense<Scalar: TensorScalar>: Layer {
    public let W: Parameter<Scalar>
    public let b: Parameter<Scalar>
    /// Set by ``Sequential/backward(_:needsInputGradient:)`` on a first layer
    /// whose `∂J/∂X` nobody uses: `backward` then skips `Wᵀ·dZ` (a third of the
    /// layer's work) and returns an empty tensor.
    var skipsInputGradient = false
    private var input: Tensor<Scalar>?

    public init(inputs: Int, outputs: Int, initializer: Initializer = .he, generator: inout RandomGenerator) {
        W = Parameter(name: "W", value: initializer.weights(rows: outputs, columns: inputs, generator: &generator), isRegularized: true)
        b = Parameter(name: "b", value: .zeros([outputs, 1]), isRegularized: false)
    }

    /// A layer with given parameters (e.g. loaded from a file).
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>) {
        precondition(weight.rank == 2 && bias.shape == [weight.shape[0], 1],
                     "Dense: bias must be (n, 1) for weight (n, n_prev); got \(bias.shape) and \(weight.shape)")
        W = Parameter(name: "W", value: weight, isRegularized: true)
        b = Parameter(name: "b", value: bias, isRegularized: false)
    }

    public func forward(_ input: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        self.input = input
        var Z = matmul(W.value, input)
        Z += b.value
        return Z
    }

    public func backward(_ dZ: Tensor<Scalar>) -> Tensor<Scalar> {
        let A = cached(input, "Dense")
        W.gradient = matmul(dZ, A, transposingB: true)
        b.gradient = dZ.sum(axis: 1, keepingDimensions: true)
        if skipsInputGradient { return Tensor.zeros([0]) }
        return matmul(W.value, dZ, transposingA: true)
    }

    public var parameters: [Parameter<Scalar>] { [W, b] }
    public var summary: String { "Dense(\(W.value.shape[1]) → \(W.value.shape[0]))" }
}
