/// A running exponentially weighted average (C2W2-03/04), the notes' one
/// variable updated per value: `v₀ = 0`, `v_t = β·v_{t−1} + (1 − β)·θ_t`, an
/// average over roughly the last `1/(1 − β)` values (β = 0.9: 10, 0.98: 50,
/// 0.5: 2). Starting from 0 pulls the first averages toward 0; the
/// bias-corrected value `v_t / (1 − β^t)` removes that pull. Momentum, RMSprop
/// and Adam keep the same average of every gradient element
/// (`Tensor.formExponentialAverage(with:beta:squared:)`).
public struct ExponentialAverage: Sendable, Equatable {
    /// β, in [0, 1).
    public let beta: Double
    /// `v_t`, 0 before the first value.
    public private(set) var value: Double = 0
    /// `t`, the number of values added.
    public private(set) var count: Int = 0
    private var betaPower: Double = 1

    public init(beta: Double) {
        require(beta >= 0 && beta < 1, "ExponentialAverage: β must be in [0, 1), got \(beta)")
        self.beta = beta
    }

    /// `v_t = β·v_{t−1} + (1 − β)·θ_t`.
    public mutating func add(_ theta: Double) {
        value = beta * value + (1 - beta) * theta
        betaPower *= beta
        count += 1
    }

    /// `v_t / (1 − β^t)` (C2W2-04); 0 before the first value. With β = 0.98 at
    /// t = 2 the divisor is `1 − 0.98² = 0.0396` and `v₂ = 0.0196·θ₁ + 0.02·θ₂`.
    public var biasCorrected: Double { count == 0 ? 0 : value / (1 - betaPower) }
}

/// The exponentially weighted averages `v₁ … v_T` of `series`
/// (``ExponentialAverage``), bias-corrected or not. TC-E1: β = 0.9 on the
/// notes' London temperatures 40, 49, 45 °F gives 4.0, 8.5, 12.15, and
/// bias-corrected 40.0, 44.737, 44.834.
public func exponentiallyWeightedAverages(_ series: [Double], beta: Double, biasCorrected: Bool = false) -> [Double] {
    var average = ExponentialAverage(beta: beta)
    return series.map { theta in
        average.add(theta)
        return biasCorrected ? average.biasCorrected : average.value
    }
}
