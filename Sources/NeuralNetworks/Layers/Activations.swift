import Tensors

/// The activation functions of the notes (C1W3-04): `A = g(Z)`.
public enum ActivationFunction: Sendable, Equatable {
    case sigmoid, tanh, relu
    /// `max(slope·z, z)`; the notes' slope is 0.01.
    case leakyRelu(slope: Double)
    /// `g(z) = z` — the output of a regression network.
    case identity
    /// `min(max(z, 0), 6)` — MobileNet's bounded ReLU.
    case relu6

    /// `g(z)` on the tape.
    public func callAsFunction<S>(_ z: Variable<S>) -> Variable<S> {
        switch self {
        case .sigmoid: Tensors.sigmoid(z)
        case .tanh: Tensors.tanh(z)
        case .relu: Tensors.relu(z)
        case .leakyRelu(let slope): Tensors.leakyRelu(z, slope: S(slope))
        case .identity: z
        case .relu6: min(Tensors.relu(z), S(6))
        }
    }

    /// The name files store.
    var storedName: String {
        switch self {
        case .sigmoid: "sigmoid"
        case .tanh: "tanh"
        case .relu: "relu"
        case .leakyRelu: "leakyRelu"
        case .identity: "identity"
        case .relu6: "relu6"
        }
    }

    init(storedName: String, slope: Double?) throws {
        switch storedName {
        case "sigmoid": self = .sigmoid
        case "tanh": self = .tanh
        case "relu": self = .relu
        case "identity": self = .identity
        case "relu6": self = .relu6
        case "leakyRelu": self = .leakyRelu(slope: slope ?? 0.01)
        default: throw ModelFileError.corrupt("unknown activation \"\(storedName)\"")
        }
    }
}

/// An elementwise activation layer: `A = g(Z)`, backward `dZ = dA ⊙ g′(Z)`.
/// For softmax use ``Softmax``.
public final class Activation<Scalar: TensorScalar>: Layer {
    public let function: ActivationFunction

    public init(_ function: ActivationFunction) { self.function = function }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ Z: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> { function(Z) }

    public var summary: String { "Activation(\(function))" }
    public static var typeName: String { "Activation" }
    public var configuration: LayerConfiguration {
        var values: [String: LayerConfiguration.Value] = ["function": .string(function.storedName)]
        if case .leakyRelu(let slope) = function { values["slope"] = .double(slope) }
        return LayerConfiguration(values)
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let slope = configuration.values["slope"] == nil ? nil : try configuration.double("slope")
        self.init(try ActivationFunction(storedName: configuration.string("function"), slope: slope))
    }
}

/// Softmax over the classes of each column (axis 0), `(C, m) → (C, m)`, with
/// backward `dZ = A ⊙ (dA − Σ_classes(dA ⊙ A))`. Models built by the library
/// end in logits and train with ``SoftmaxCrossEntropy`` instead, which fuses
/// the two into `dZ = (A − Y)/m`; this layer is the notes' explicit form.
public final class Softmax<Scalar: TensorScalar>: Layer {
    public init() {}
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ Z: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> { Tensors.softmax(Z, axis: 0) }
    public var summary: String { "Softmax" }
    public static var typeName: String { "Softmax" }
    public var configuration: LayerConfiguration { LayerConfiguration() }
    public convenience init(configuration: LayerConfiguration) throws { self.init() }
}

/// Inverted dropout (C2W1-08): in training each unit is kept with probability
/// `keepProbability` and survivors are scaled by `1/keepProbability`, so the
/// expected activation is unchanged; at inference it is the identity. The
/// mask is drawn from the forward pass's ``ForwardContext/generator``.
public final class Dropout<Scalar: TensorScalar>: Layer {
    public let keepProbability: Double

    public init(keepProbability: Double) {
        require(keepProbability > 0 && keepProbability <= 1, "Dropout: keepProbability must be in (0, 1], got \(keepProbability)")
        self.keepProbability = keepProbability
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ A: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        guard context.training && keepProbability < 1 else { return A }
        let keep = Tensor<Scalar>(randomUniform: A.shape, generator: &context.generator) .< Scalar(keepProbability)
        let mask = keep / Scalar(keepProbability)
        return Variable(A.value * mask, derivedFrom: [A]) { g, _ in [g * mask] }
    }

    public var summary: String { "Dropout(keep \(keepProbability))" }
    public static var typeName: String { "Dropout" }
    public var configuration: LayerConfiguration { LayerConfiguration(["keepProbability": .double(keepProbability)]) }
    public convenience init(configuration: LayerConfiguration) throws {
        let p = try configuration.double("keepProbability")
        guard p > 0 && p <= 1 else { throw ModelFileError.corrupt("Dropout keep probability \(p) outside (0, 1]") }
        self.init(keepProbability: p)
    }
}

/// Reshapes each example, keeping the batch axis last: `(d₁, …, m)` ↔
/// `(d₁·…, m)`. ``flatten()`` is `Reshape(exampleShape: [-1])`.
public final class Reshape<Scalar: TensorScalar>: Layer {
    /// Shape of one example after the layer (the batch axis `m` is appended).
    public let exampleShape: [Int]

    public init(exampleShape: [Int]) { self.exampleShape = exampleShape }

    /// Flattens each example into one column: `(…, m) → (features, m)`.
    public static func flatten() -> Reshape { Reshape(exampleShape: [-1]) }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ x: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        x.reshaped(to: exampleShape + [x.shape.last ?? 1])
    }

    public var summary: String { "Reshape(\(exampleShape) × m)" }
    public static var typeName: String { "Reshape" }
    public var configuration: LayerConfiguration { LayerConfiguration(["exampleShape": .ints(exampleShape)]) }
    public convenience init(configuration: LayerConfiguration) throws {
        self.init(exampleShape: try configuration.ints("exampleShape"))
    }
}
