import Tensors

/// The activation functions of the notes (C1W3-04) as layers: `A = g(Z)`,
/// backward `dZ = dA ⊙ g′(Z)`.
public enum ActivationFunction: Sendable, Equatable {
    case sigmoid, tanh, relu
    /// `max(slope·z, z)`; the notes' slope is 0.01.
    case leakyRelu(slope: Double)
    /// `g(z) = z` — the output of a regression network.
    case identity
}

/// An elementwise activation layer. For softmax use ``Softmax``.
public final class Activation<Scalar: TensorScalar>: Layer {
    public let function: ActivationFunction
    private var input: Tensor<Scalar>?
    private var output: Tensor<Scalar>?

    public init(_ function: ActivationFunction) {
        self.function = function
    }

    public func forward(_ Z: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        input = Z
        let A: Tensor<Scalar>
        switch function {
        case .sigmoid: A = sigmoid(Z)
        case .tanh: A = tanh(Z)
        case .relu: A = relu(Z)
        case .leakyRelu(let slope): A = leakyRelu(Z, slope: Scalar(slope))
        case .identity: A = Z
        }
        output = A
        return A
    }

    public func backward(_ dA: Tensor<Scalar>) -> Tensor<Scalar> {
        switch function {
        case .sigmoid:   // σ′ = A(1 − A)
            let A = cached(output, "Activation(sigmoid)")
            return dA * A * (1 - A)
        case .tanh:      // tanh′ = 1 − A²
            let A = cached(output, "Activation(tanh)")
            return dA * (1 - square(A))
        case .relu: return dA * reluDerivative(cached(input, "Activation(relu)"))
        case .leakyRelu(let slope): return dA * leakyReluDerivative(cached(input, "Activation(leakyRelu)"), slope: Scalar(slope))
        case .identity: return dA
        }
    }

    public var summary: String { "Activation(\(function))" }
}

/// Softmax over the classes of each column (axis 0), `(C, m) → (C, m)`.
///
/// Backward for an arbitrary `dA`: `dZ = A ⊙ (dA − Σ_classes(dA ⊙ A))`. With
/// ``SoftmaxCrossEntropy`` prefer feeding logits to the loss, which fuses the
/// two into `dZ = (A − Y)/m`.
public final class Softmax<Scalar: TensorScalar>: Layer {
    private var output: Tensor<Scalar>?

    public init() {}

    public func forward(_ Z: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        let A = Tensors.softmax(Z, axis: 0)
        output = A
        return A
    }

    public func backward(_ dA: Tensor<Scalar>) -> Tensor<Scalar> {
        let A = cached(output, "Softmax")
        return A * (dA - (dA * A).sum(axis: 0, keepingDimensions: true))
    }

    public var summary: String { "Softmax" }
}

/// Inverted dropout (C2W1-08): in training each unit is kept with probability
/// `keepProbability` and survivors are scaled by `1/keepProbability`, so the
/// expected activation is unchanged; at inference it is the identity.
/// The mask comes from the layer's own seeded generator.
public final class Dropout<Scalar: TensorScalar>: Layer {
    public let keepProbability: Double
    /// The seed of the mask generator (saved with the model).
    public let seed: UInt64
    /// Turned off by gradient checking (the notes: check with keep_prob = 1).
    var isEnabled = true
    private var generator: RandomGenerator
    private var mask: Tensor<Scalar>?

    public init(keepProbability: Double, seed: UInt64) {
        precondition(keepProbability > 0 && keepProbability <= 1, "Dropout: keepProbability must be in (0, 1], got \(keepProbability)")
        self.keepProbability = keepProbability
        self.seed = seed
        self.generator = RandomGenerator(seed: seed)
    }

    public func forward(_ A: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        guard training && isEnabled && keepProbability < 1 else {
            mask = nil
            return A
        }
        let keep = Tensor<Scalar>(randomUniform: A.shape, generator: &generator) .< Scalar(keepProbability)
        let scaled = keep / Scalar(keepProbability)
        mask = scaled
        return A * scaled
    }

    public func backward(_ dA: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let mask else { return dA }
        return dA * mask
    }

    public var summary: String { "Dropout(keep \(keepProbability))" }
}

/// Reshapes each example: `(d₁, …, m)` ↔ `(d₁·…, m)` style changes between
/// layers. `Flatten` is `Reshape(to: [-1, m])` with the batch kept last.
public final class Reshape<Scalar: TensorScalar>: Layer {
    /// Shape of one example after the layer (the batch axis `m` is appended).
    public let exampleShape: [Int]
    private var inputShape: [Int]?

    public init(exampleShape: [Int]) { self.exampleShape = exampleShape }

    /// Flattens each example into one column: `(…, m) → (features, m)`.
    public static func flatten() -> Reshape { Reshape(exampleShape: [-1]) }

    public func forward(_ x: Tensor<Scalar>, training: Bool) -> Tensor<Scalar> {
        inputShape = x.shape
        return x.reshaped(to: exampleShape + [x.shape.last ?? 1])
    }

    public func backward(_ dY: Tensor<Scalar>) -> Tensor<Scalar> {
        guard let inputShape else { preconditionFailure("Reshape.backward called before forward") }
        return dY.reshaped(to: inputShape)
    }

    public var summary: String { "Reshape(\(exampleShape) × m)" }
}
