import Tensors

/// The result of ``gradientCheck(_:_:_:loss:l2:epsilon:)``.
public struct GradientCheckReport: Sendable, CustomStringConvertible {
    /// `‖g − g̃‖ / (‖g‖ + ‖g̃‖)` over all parameters (C2W1-14).
    public var relativeDifference: Double
    /// The parameter whose own relative difference is largest, and that difference.
    public var worstParameter: String
    public var worstParameterDifference: Double
    /// Number of scalar parameters checked.
    public var count: Int

    /// The notes' reading: ≈1e-7 great, ≈1e-5 double-check, ≥1e-3 wrong.
    public enum Verdict: String, Sendable { case great, checkAgain = "check again", wrong }

    public var verdict: Verdict {
        relativeDifference <= 1e-7 ? .great : (relativeDifference < 1e-3 ? .checkAgain : .wrong)
    }

    public var description: String {
        "gradient check over \(count) parameters: relative difference \(relativeDifference) (\(verdict.rawValue)); "
            + "worst \(worstParameter) at \(worstParameterDifference)"
    }
}

/// Two-sided finite-difference check of backpropagation (C2W1-13/14):
/// `dθ_approx[i] = (J(θ + εeᵢ) − J(θ − εeᵢ)) / 2ε` for every parameter
/// element, compared with the backward pass's `dθ`. Runs in `Double`, with
/// dropout disabled and BatchNorm's running averages left untouched; the L2
/// term is included in `J` when `l2 > 0`.
public func gradientCheck<L: Loss>(
    _ model: Sequential<Double>, _ X: Tensor<Double>, _ Y: Tensor<Double>, loss: L, l2: Double = 0, epsilon: Double = 1e-7
) -> GradientCheckReport where L.Scalar == Double {
    let dropouts = model.layers.compactMap { $0 as? Dropout<Double> }
    let norms = model.layers.compactMap { $0 as? BatchNorm<Double> }
    for d in dropouts { d.isEnabled = false }
    let saved = norms.map { ($0.runningMean, $0.runningVariance) }
    defer {
        for d in dropouts { d.isEnabled = true }
        for (n, s) in zip(norms, saved) { n.restoreRunningStatistics(mean: s.0, variance: s.1) }
    }
    _ = costAndGradients(model, X, Y, loss, l2: l2, training: true)
    let analytic = model.parameters.map(\.gradient)
    var numerator = 0.0, analyticNorm = 0.0, numericNorm = 0.0, count = 0
    var worst = ("", -1.0)
    for (p, g) in zip(model.parameters, analytic) {
        var pNumerator = 0.0, pA = 0.0, pN = 0.0
        for i in 0..<p.value.count {
            let original = p.value.scalars[i]
            p.value.withUnsafeMutableBufferPointer { $0[i] = original + epsilon }
            let plus = costAndGradients(model, X, Y, loss, l2: l2, training: true)
            p.value.withUnsafeMutableBufferPointer { $0[i] = original - epsilon }
            let minus = costAndGradients(model, X, Y, loss, l2: l2, training: true)
            p.value.withUnsafeMutableBufferPointer { $0[i] = original }
            let numeric = (plus - minus) / (2 * epsilon)
            let difference = numeric - g.scalars[i]
            pNumerator += difference * difference
            pA += g.scalars[i] * g.scalars[i]
            pN += numeric * numeric
        }
        numerator += pNumerator; analyticNorm += pA; numericNorm += pN; count += p.value.count
        let relative = pNumerator.squareRoot() / Swift.max(pA.squareRoot() + pN.squareRoot(), .leastNormalMagnitude)
        if relative > worst.1 { worst = (p.name, relative) }
    }
    // Leave the gradients as the backward pass computed them.
    _ = costAndGradients(model, X, Y, loss, l2: l2, training: true)
    let relative = numerator.squareRoot() / Swift.max(analyticNorm.squareRoot() + numericNorm.squareRoot(), .leastNormalMagnitude)
    return GradientCheckReport(relativeDifference: relative, worstParameter: worst.0, worstParameterDifference: worst.1, count: count)
}
