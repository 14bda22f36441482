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
/// default); inference uses the running averages. Since `β` takes the role of
/// the preceding layer's bias, that bias can be left at zero.
///
/// Backward (with `x̂ = z_norm`, `g = dZ̃ ⊙ γ`):
/// `dz = (1/m)/√(σ² + ε) · (m·g − Σ g − x̂ ⊙ Σ(g ⊙ x̂))`, `dγ = Σ dZ̃ ⊙ x̂`, `dβ = Σ dZ̃`.
public final class BatchNorm<Scalar: TensorScalar>: Layer {
    public let gamma: Parameter<Scalar>
    public let beta: Parameter<Scalar>
    public private(set) var runningMean: Tensor<Scalar>
    public private(set) var runningVariance: Tensor<Scalar>
    public let epsilon: Scalar
    public let momentum: Scalar
    private var normalized: Tensor<Scalar>?
    private var inverseStd: Tensor<Scalar>?

    public init(units: Int, epsilon: Scalar = 1e-5, momentum: Scalar = 0.9) {
        gamma = Parameter(name: "gamma", value: .ones([units, 1]), isRegularized: false)
        beta = Parameter(name: "beta", value: .zeros([units, 1]), isRegularized: false)
        runningMean = .zeros([units, 1])
        runningVariance = .ones([units, 1])
        self.epsilon = epsilon
        self.momentum = momentum
    }

    public func forward(_ Z: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let mean: Tensor<Scalar>, variance: Tensor<Scalar>
        if training {
            mean = Z.mean(axis: 1, keepingDimensions: true)
            variance = Z.variance(axis: 1, keepingDimensions: true)
            runningMean = momentum * runningMean + (1 - momentum) * mean
            runningVariance = momentum * runningVariance + (1 - momentum) * variance
        } else {
            (mean, variance) = (runningMean, runningVariance)
        }
        let invStd = 1 / sqrt(variance + epsilon)
        let xHat = (Z - mean) * invStd
        normalized = xHat
        inverseStd = invStd
        return gamma.value * xHat + beta.value
    }

    public func backward(_ dY: Tensor<Scalar>) -> Tensor<Scalar> {
        let xHat = cached(normalized, "BatchNorm"), invStd = cached(inverseStd, "BatchNorm")
        let m = Scalar(dY.shape[1])
        gamma.gradient = (dY * xHat).sum(axis: 1, keepingDimensions: true)
        beta.gradient = dY.sum(axis: 1, keepingDimensions: true)
        let g = dY * gamma.value
        let sumG = g.sum(axis: 1, keepingDimensions: true)
        let sumGX = (g * xHat).sum(axis: 1, keepingDimensions: true)
        return (invStd / m) * (m * g - sumG - xHat * sumGX)
    }

    func restoreRunningStatistics(mean: Tensor<Scalar>, variance: Tensor<Scalar>) {
        runningMean = mean
        runningVariance = variance
    }

    public var parameters: [Parameter<Scalar>] { [gamma, beta] }
    public var summary: String { "BatchNorm(\(gamma.value.shape[0]))" }
}
