import Tensors

/// A fully connected layer: `Z = W·A_prev + b`.
///
/// - `W` is `(n[l], n[l−1])`, `b` is `(n[l], 1)` and broadcasts over the `m`
///   columns of `A_prev` `(n[l−1], m)`; `Z` is `(n[l], m)`.
/// - One fused tape node (``linear(_:_:_:)``), backward (C1W4-06):
///   `dW = dZ·A_prevᵀ`, `db = Σ_columns dZ`, `dA_prev = Wᵀ·dZ` — the last one
///   only when something upstream needs it.
/// - `useBias: false` leaves `b` out, `Z = W·A_prev` (C2W3-05: before batch
///   norm, whose β takes the bias's place and whose mean subtraction would
///   cancel it; Keras's `use_bias=False`).
///
/// ```swift
/// var rng = RandomGenerator(seed: 1)
/// let layer = Dense<Float>(inputs: 784, outputs: 128, initializer: .he, generator: &rng)
/// ```
public final class Dense<Scalar: TensorScalar>: Layer {
    public let W: Parameter<Scalar>
    /// The bias `(n[l], 1)`, nil for a layer built with `useBias: false`.
    public let b: Parameter<Scalar>?

    public init(inputs: Int, outputs: Int, initializer: Initializer = .he, useBias: Bool = true, generator: inout RandomGenerator) {
        W = Parameter(key: "W", value: initializer.weights(rows: outputs, columns: inputs, generator: &generator), isRegularized: true)
        b = useBias ? Parameter(key: "b", value: .zeros([outputs, 1]), isRegularized: false) : nil
    }

    /// A layer with given parameters (e.g. copied from another model); a nil
    /// `bias` makes a layer without one.
    public init(weight: Tensor<Scalar>, bias: Tensor<Scalar>?) {
        require(weight.rank == 2 && (bias == nil || bias!.shape == [weight.shape[0], 1]),
                "Dense: bias must be (n, 1) for weight (n, n_prev); got \(bias.map { "\($0.shape)" } ?? "none") and \(weight.shape)")
        W = Parameter(key: "W", value: weight, isRegularized: true)
        b = bias.map { Parameter(key: "b", value: $0, isRegularized: false) }
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        guard let b else { return matmul(W.variable, input) }
        return linear(W.variable, input, b.variable)
    }

    public var parameters: [Parameter<Scalar>] { b.map { [W, $0] } ?? [W] }
    public var summary: String { "Dense(\(W.value.shape[1]) → \(W.value.shape[0])\(b == nil ? ", no bias" : ""))" }

    public static var typeName: String { "Dense" }
    public var configuration: LayerConfiguration {
        var settings: [String: LayerConfiguration.Value] = ["inputs": .int(W.value.shape[1]), "outputs": .int(W.value.shape[0])]
        if b == nil { settings["useBias"] = .bool(false) }   // files without the key have a bias
        return LayerConfiguration(settings)
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let inputs = try configuration.int("inputs"), outputs = try configuration.int("outputs")
        guard inputs >= 0, outputs >= 0 else { throw ModelFileError.corrupt("Dense with negative size \(inputs) → \(outputs)") }
        let useBias = configuration.values["useBias"] == nil ? true : try configuration.bool("useBias")
        self.init(weight: .zeros([outputs, inputs]), bias: useBias ? .zeros([outputs, 1]) : nil)
    }
}
