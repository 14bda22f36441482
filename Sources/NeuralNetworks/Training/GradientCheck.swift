import Tensors

/// The result of a gradient check.
public struct GradientCheckReport: Sendable, CustomStringConvertible {
    /// `‖g − g̃‖ / (‖g‖ + ‖g̃‖)` over all checked values (C2W1-14).
    public var relativeDifference: Double
    /// The checked tensor whose own relative difference is largest, and that difference.
    public var worstParameter: String
    public var worstParameterDifference: Double
    /// Number of scalars checked.
    public var count: Int

    /// The notes' reading: ≈1e-7 great, ≈1e-5 double-check, ≥1e-3 wrong.
    public enum Verdict: String, Sendable { case great, checkAgain = "check again", wrong }

    public var verdict: Verdict {
        relativeDifference <= 1e-7 ? .great : (relativeDifference < 1e-3 ? .checkAgain : .wrong)
    }

    public var description: String {
        "gradient check over \(count) values: relative difference \(relativeDifference) (\(verdict.rawValue)); "
            + "worst \(worstParameter) at \(worstParameterDifference)"
    }
}

/// The two finite differences of C2W1-13.
public enum FiniteDifference: Sendable {
    /// `(f(θ + ε) − f(θ)) / ε`: error O(ε).
    case oneSided
    /// `(f(θ + ε) − f(θ − ε)) / 2ε`: error O(ε²), what ``gradientCheck(_:epsilon:cost:)`` uses.
    case twoSided
}

/// The numerical derivative of `f` at `θ` (C2W1-13). TC-G1: `f(θ) = θ³` at
/// `θ = 1`, `ε = 0.01`: one-sided `(1.01³ − 1)/0.01 = 3.0301` (error 0.0301),
/// two-sided `(1.01³ − 0.99³)/0.02 = 3.0001` (error 0.0001); `f′(1) = 3`.
public func numericalDerivative(
    of f: (Double) throws -> Double, at theta: Double, epsilon: Double = 1e-7, using difference: FiniteDifference = .twoSided
) rethrows -> Double {
    require(epsilon > 0 && epsilon.isFinite, "numericalDerivative: ε must be positive and finite, got \(epsilon)")
    switch difference {
    case .oneSided: return (try f(theta + epsilon) - f(theta)) / epsilon
    case .twoSided: return (try f(theta + epsilon) - f(theta - epsilon)) / (2 * epsilon)
    }
}

/// Two-sided finite-difference check of the tape (C2W1-13/14) for any scalar
/// cost: `dθ_approx[i] = (J(θ + εeᵢ) − J(θ − εeᵢ)) / 2ε` for every element of
/// every variable in `variables`, compared with what `backward()` computes.
///
/// `cost` must rebuild the graph from the variables' current values on each
/// call (it is called `2n + 1` times) and be deterministic — replay any
/// randomness from a fixed seed.
public func gradientCheck(
    _ variables: [(name: String, variable: Variable<Double>)], epsilon: Double = 1e-7, cost: () -> Variable<Double>
) -> GradientCheckReport {
    for (_, v) in variables { v.gradient = nil; v.rowGradient = nil }
    let J = GradientTape.$isRecording.withValue(true) { cost() }
    J.backward()
    let analytic = variables.map { (_, v) -> Tensor<Double> in
        var g = v.gradient ?? .zeros(v.value.shape)
        if let rows = v.rowGradient { g += rows.dense(rows: v.value.shape[0]) }   // an embedding table's looked-up rows
        return g
    }
    var numerator = 0.0, analyticNorm = 0.0, numericNorm = 0.0, count = 0
    var worst = ("", -1.0)
    for ((name, v), g) in zip(variables, analytic) {
        var pNumerator = 0.0, pA = 0.0, pN = 0.0
        for i in 0..<v.value.count {
            let original = v.value.scalars[i]
            v.value.withUnsafeMutableBufferPointer { $0[i] = original + epsilon }
            let plus = withoutGradients { cost().value.scalar }
            v.value.withUnsafeMutableBufferPointer { $0[i] = original - epsilon }
            let minus = withoutGradients { cost().value.scalar }
            v.value.withUnsafeMutableBufferPointer { $0[i] = original }
            let numeric = (plus - minus) / (2 * epsilon)
            let difference = numeric - g.scalars[i]
            pNumerator += difference * difference
            pA += g.scalars[i] * g.scalars[i]
            pN += numeric * numeric
        }
        numerator += pNumerator; analyticNorm += pA; numericNorm += pN; count += v.value.count
        let relative = pNumerator.squareRoot() / Swift.max(pA.squareRoot() + pN.squareRoot(), .leastNormalMagnitude)
        if relative > worst.1 { worst = (name, relative) }
    }
    let relative = numerator.squareRoot() / Swift.max(analyticNorm.squareRoot() + numericNorm.squareRoot(), .leastNormalMagnitude)
    return GradientCheckReport(relativeDifference: relative, worstParameter: worst.0, worstParameterDifference: worst.1, count: count)
}

/// Gradient check of a whole model's cost `J(X, Y)` (with the L2 and L1 terms when
/// `l2`, `l1` > 0) with respect to every trainable parameter, in `Double`.
///
/// Each evaluation runs in training mode with a generator seeded by `seed`,
/// so dropout draws the same masks every time and is checked as it trains;
/// BatchNorm uses batch statistics and its running averages are never
/// updated (the deferred updates are not committed). The parameters' gradients
/// are left as the backward pass computed them.
public func gradientCheck<M: Model, L: Loss>(
    _ model: M, _ X: Tensor<Double>, _ Y: Tensor<Double>, loss: L, l2: Double = 0, l1: Double = 0, epsilon: Double = 1e-7, seed: UInt64 = 0
) -> GradientCheckReport where M.Scalar == Double, L.Scalar == Double {
    let parameters = model.parameters.filter(\.isTrainable)
    let m = Double(numberOfExamples(X))
    let report = gradientCheck(parameters.map { ($0.name, $0.variable) }, epsilon: epsilon) {
        let context = ForwardContext(training: true, generator: RandomGenerator(seed: seed))
        var J = loss(model.forward(Variable(X), context: context), Y)
        if l2 > 0 {
            for p in parameters where p.isRegularized { J = J + (l2 / (2 * m)) * square(p.variable).sum() }
        }
        if l1 > 0 {
            for p in parameters where p.isRegularized { J = J + (l1 / (2 * m)) * abs(p.variable).sum() }
        }
        return J
    }
    return report
}
