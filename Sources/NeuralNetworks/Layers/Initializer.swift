import Tensors

/// How a ``Dense`` layer's weights `W[l]` of shape `(n[l], n[l−1])` start (C1W3-09, C2W1-12).
/// Biases always start at zero.
public enum Initializer: Sendable {
    /// All zeros — fails to break symmetry: every hidden unit computes the same function.
    case zeros
    /// `randn · scale`; the notes' `np.random.randn(…) * 0.01` is `.scaledNormal(0.01)`.
    case scaledNormal(Double)
    /// He: `randn · √(2 / n[l−1])`, for ReLU layers.
    case he
    /// Xavier: `randn · √(1 / n[l−1])`, for tanh layers.
    case xavier
    /// Glorot and Bengio's uniform form: `U(−b, b)` with `b = √(6 / (n[l−1] + n[l]))`
    /// — Keras's `glorot_uniform` and scikit-learn's `MLPClassifier` initialization
    /// for ReLU and tanh layers. Convolution layers pass `n[l]` = filters and
    /// `n[l−1]` = taps (Keras multiplies the filters by the kernel's area).
    case glorotUniform
    /// The notes' third variance, `randn · √(2 / (n[l−1] + n[l]))` — Keras's
    /// `glorot_normal` without its truncation at two standard deviations.
    case glorotNormal

    /// A `(rows, columns)` weight matrix drawn from `generator`.
    public func weights<S: TensorScalar>(rows: Int, columns: Int, generator: inout RandomGenerator) -> Tensor<S> {
        let scale: Double
        switch self {
        case .zeros: return .zeros([rows, columns])
        case .scaledNormal(let s): scale = s
        case .he: scale = (2 / Double(columns)).squareRoot()
        case .xavier: scale = (1 / Double(columns)).squareRoot()
        case .glorotNormal: scale = (2 / Double(rows + columns)).squareRoot()
        case .glorotUniform:
            let bound = S((6 / Double(rows + columns)).squareRoot())
            return Tensor(randomUniform: [rows, columns], lower: -bound, upper: bound, generator: &generator)
        }
        return Tensor(randomNormal: [rows, columns], standardDeviation: S(scale), generator: &generator)
    }
}
