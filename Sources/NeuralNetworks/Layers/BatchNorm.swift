import Tensors

/// Batch normalization of each unit over the examples of a mini-batch (C2W3-04):
///
///     μ = (1/m) Σᵢ z⁽ⁱ⁾,   σ² = (1/m) Σᵢ (z⁽ⁱ⁾ − μ)²,
///     z_norm = (z − μ) / √(σ² + ε),   z̃ = γ ⊙ z_norm + β
///
/// on `(n, m)` input with `γ`, `β` of shape `(n, 1)` (initialized to 1 and 0,
/// so that `γ = √(σ² + ε)`, `β = μ` gives back `z`). Training uses the batch
/// statistics and updates exponentially weighted running averages
/// (`running = momentum·running + (1 − momentum)·batch`, momentum 0.9 by
/// default) — through ``ForwardContext/deferUpdate(_:)``, so a step rejected by
/// the NaN/Inf guard leaves them untouched; inference uses the running
/// averages. Since `β` takes the role of the preceding layer's bias, that bias
/// can be left at zero.
///
/// One fused tape node (``Tensors/batchNormalization(_:gamma:beta:featureAxis:statistics:epsilon:)``); backward (with `x̂ = z_norm`, `g = dZ̃ ⊙ γ`):
/// `dz = (1/m)/√(σ² + ε) · (m·g − Σ g − x̂ ⊙ Σ(g ⊙ x̂))`, `dγ = Σ dZ̃ ⊙ x̂`, `dβ = Σ dZ̃`.
/// In inference mode the statistics are constants and `dz = g/√(σ² + ε)`.
///
/// ``init(channels:epsilon:momentum:runningVarianceEstimate:)`` normalizes the
/// channels of feature maps `(m, n_H, n_W, n_C)` instead (C4's conv nets): the
/// statistics of each channel run over all `m·n_H·n_W` positions, and `γ`, `β`
/// are `(1, n_C)`.
public final class BatchNorm<Scalar: TensorScalar>: Layer {
    public let gamma: Parameter<Scalar>
    public let beta: Parameter<Scalar>
    public private(set) var runningMean: Tensor<Scalar>
    public private(set) var runningVariance: Tensor<Scalar>
    public let epsilon: Scalar
    public let momentum: Scalar
    public let runningVarianceEstimate: VarianceEstimate

    /// How the running variance estimates the population variance.
    public enum VarianceEstimate: String, Sendable {
        /// `(1/m) Σ (z − μ)²`: the notes, Keras.
        case biased
        /// `1/(m − 1) Σ (z − μ)²`: PyTorch.
        case unbiased
    }

    /// Whether the layer normalizes dense units `(n, m)` or the channels of feature maps.
    public let normalizesChannels: Bool

    public init(units: Int, epsilon: Scalar = 1e-5, momentum: Scalar = 0.9, runningVarianceEstimate: VarianceEstimate = .biased) {
        (gamma, beta, runningMean, runningVariance) = Self.initialState(shape: [units, 1])
        self.epsilon = epsilon
        self.momentum = momentum
        self.runningVarianceEstimate = runningVarianceEstimate
        normalizesChannels = false
    }

    /// Batch normalization of the `channels` channels of feature maps `(m, n_H, n_W, n_C)`.
    public init(channels: Int, epsilon: Scalar = 1e-5, momentum: Scalar = 0.9, runningVarianceEstimate: VarianceEstimate = .biased) {
        (gamma, beta, runningMean, runningVariance) = Self.initialState(shape: [1, channels])
        self.epsilon = epsilon
        self.momentum = momentum
        self.runningVarianceEstimate = runningVarianceEstimate
        normalizesChannels = true
    }

    static func initialState(shape: [Int]) -> (Parameter<Scalar>, Parameter<Scalar>, Tensor<Scalar>, Tensor<Scalar>) {
        (Parameter(key: "gamma", value: .ones(shape), isRegularized: false),
         Parameter(key: "beta", value: .zeros(shape), isRegularized: false), .zeros(shape), .ones(shape))
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        guard normalizesChannels else { return normalize(input, context: context) }
        let shape = input.shape
        require(shape.count >= 2 && shape.last == gamma.value.shape[1],
                "BatchNorm: input \(shape) must have \(gamma.value.shape[1]) channels on its last axis")
        return normalize(input.reshaped(to: [-1, shape[shape.count - 1]]), context: context).reshaped(to: shape)
    }

    /// ``Tensors/batchNormalization(_:gamma:beta:featureAxis:statistics:epsilon:)``
    /// on the 2-D view: features on axis 1 for channels, axis 0 for units.
    func normalize(_ Z: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        // A frozen layer (transfer learning) normalizes with its running statistics
        // and leaves them alone, as Keras does for `trainable = False`.
        let training = context.training && gamma.isTrainable
        let (y, mean, variance) = batchNormalization(Z, gamma: gamma.variable, beta: beta.variable, featureAxis: normalizesChannels ? 1 : 0,
                                                     statistics: training ? nil : (runningMean, runningVariance), epsilon: Double(epsilon))
        // An empty batch has no statistics: the running averages stay as they are.
        if training && Z.value.count > 0 {
            let momentum = self.momentum, m = Scalar(Z.value.count / Swift.max(1, gamma.value.count))
            let estimate = runningVarianceEstimate == .unbiased && m > 1 ? variance * (m / (m - 1)) : variance
            context.deferUpdate { [self] in
                runningMean = momentum * runningMean + (1 - momentum) * mean
                runningVariance = momentum * runningVariance + (1 - momentum) * estimate
            }
        }
        return y
    }

    public var parameters: [Parameter<Scalar>] { [gamma, beta] }
    public var summary: String {
        normalizesChannels ? "BatchNorm(channels: \(gamma.value.shape[1]))" : "BatchNorm(\(gamma.value.shape[0]))"
    }

    public var state: [String: Tensor<Scalar>] { ["running_mean": runningMean, "running_variance": runningVariance] }

    public func restoreState(_ state: [String: Tensor<Scalar>]) throws {
        let shape = gamma.value.shape
        for key in ["running_mean", "running_variance"] {
            guard let t = state[key] else { throw ModelFileError.missingTensor(key) }
            guard t.shape == shape else { throw ModelFileError.shapeMismatch(tensor: key, expected: shape, found: t.shape) }
        }
        runningMean = state["running_mean"]!
        runningVariance = state["running_variance"]!
    }

    public static var typeName: String { "BatchNorm" }
    public var configuration: LayerConfiguration {
        LayerConfiguration([(normalizesChannels ? "channels" : "units"): .int(gamma.value.count), "epsilon": .double(Double(epsilon)),
                            "momentum": .double(Double(momentum)), "runningVariance": .string(runningVarianceEstimate.rawValue)])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let channels = try? configuration.int("channels")
        let units = try channels ?? configuration.int("units")
        guard units >= 0 else { throw ModelFileError.corrupt("BatchNorm with \(units) units") }
        let stored = try configuration.string("runningVariance")
        guard let estimate = VarianceEstimate(rawValue: stored) else { throw ModelFileError.corrupt("BatchNorm running variance \"\(stored)\"") }
        let epsilon = Scalar(try configuration.double("epsilon")), momentum = Scalar(try configuration.double("momentum"))
        if channels != nil {
            self.init(channels: units, epsilon: epsilon, momentum: momentum, runningVarianceEstimate: estimate)
        } else {
            self.init(units: units, epsilon: epsilon, momentum: momentum, runningVarianceEstimate: estimate)
        }
    }
}
