import Tensors

/// A recurrent layer over sequences (C5W1): the basic RNN, the notes' GRU or
/// the LSTM (see ``RecurrentCell``), run over all `T_x` steps as one fused
/// tape node with backpropagation through time.
///
/// Input `(n_x, m, T_x)`; output `(n_a, m, T_x)` — every `a⟨t⟩`, for
/// many-to-many use and for stacking deep RNNs — or, with
/// `returnsSequences: false`, the last state `(n_a, m)` for many-to-one use
/// (for a reversed layer, the state after reading `x⟨1⟩`). Parameters:
/// `W = [W_a | W_x]` `(G·n_a, n_a + n_x)` (Xavier initialization, fan-in
/// `n_a + n_x`) and `b` `(G·n_a, 1)` (zeros; the LSTM's forget-gate rows at
/// `forgetBias`, 0 by default as the notes and PyTorch, 1 as Keras).
public final class Recurrent<Scalar: TensorScalar>: Layer {
    public let cell: RecurrentCell
    public let W: Parameter<Scalar>
    public let b: Parameter<Scalar>
    public let returnsSequences: Bool
    public let reversed: Bool

    public convenience init(_ cell: RecurrentCell, inputs: Int, units: Int, returnsSequences: Bool = true, reversed: Bool = false,
                            forgetBias: Double = 0, initializer: Initializer = .xavier, generator: inout RandomGenerator) {
        self.init(cell, inputs: inputs, units: units, returnsSequences: returnsSequences, reversed: reversed, forgetBias: forgetBias,
                  initializer: initializer, keyPrefix: "", generator: &generator)
    }

    /// `keyPrefix` tells apart the parameters of layers inside one module (``Bidirectional``'s `forward.W`, `backward.W`).
    convenience init(_ cell: RecurrentCell, inputs: Int, units: Int, returnsSequences: Bool, reversed: Bool, forgetBias: Double,
                     initializer: Initializer, keyPrefix: String, generator: inout RandomGenerator) {
        require(inputs >= 1 && units >= 1, "Recurrent: \(inputs) inputs and \(units) units")
        var bias = [Scalar](repeating: 0, count: cell.gates * units)
        if cell == .lstm { for i in units..<2 * units { bias[i] = Scalar(forgetBias) } }
        self.init(cell, weight: initializer.weights(rows: cell.gates * units, columns: units + inputs, generator: &generator),
                  bias: Tensor(shape: [cell.gates * units, 1], scalars: bias), returnsSequences: returnsSequences, reversed: reversed,
                  keyPrefix: keyPrefix)
    }

    /// A layer with given parameters `W (G·n_a, n_a + n_x)` and `b (G·n_a, 1)`.
    public convenience init(_ cell: RecurrentCell, weight: Tensor<Scalar>, bias: Tensor<Scalar>, returnsSequences: Bool = true,
                            reversed: Bool = false) {
        self.init(cell, weight: weight, bias: bias, returnsSequences: returnsSequences, reversed: reversed, keyPrefix: "")
    }

    init(_ cell: RecurrentCell, weight: Tensor<Scalar>, bias: Tensor<Scalar>, returnsSequences: Bool, reversed: Bool, keyPrefix: String) {
        require(weight.rank == 2 && weight.shape[0] % cell.gates == 0 && weight.shape[1] > weight.shape[0] / cell.gates
                && bias.shape == [weight.shape[0], 1],
                "Recurrent(\(cell)): weight \(weight.shape) must be (G·n_a, n_a + n_x) and bias (G·n_a, 1), got bias \(bias.shape)")
        self.cell = cell
        W = Parameter(key: keyPrefix + "W", value: weight, isRegularized: true)
        b = Parameter(key: keyPrefix + "b", value: bias, isRegularized: false)
        (self.returnsSequences, self.reversed) = (returnsSequences, reversed)
    }

    /// `n_a`.
    public var units: Int { W.value.shape[0] / cell.gates }
    /// `n_x`.
    public var inputs: Int { W.value.shape[1] - units }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        forward(input, initialState: nil, initialCell: nil, lengths: nil)
    }

    /// The layer with an initial state (an encoder's final state for a decoder,
    /// C5W3) and per-example lengths for padded batches (steps past an
    /// example's length carry its state; see ``recurrentSequence(_:_:weight:bias:initialState:initialCell:lengths:reversed:returnsCellStates:)``).
    public func forward(_ input: Variable<Scalar>, initialState: Variable<Scalar>?, initialCell: Variable<Scalar>? = nil,
                        lengths: [Int]?) -> Variable<Scalar> {
        require(input.value.rank == 3 && input.shape[0] == inputs,
                "Recurrent(\(cell)): input \(input.shape) must be (n_x = \(inputs), m, T_x)")
        let states = recurrentSequence(cell, input, weight: W.variable, bias: b.variable, initialState: initialState,
                                       initialCell: initialCell, lengths: lengths, reversed: reversed)
        guard !returnsSequences else { return states }
        let T = input.shape[2], last = reversed ? 0 : T - 1
        return states.slice(axis: 2, last..<last + 1).reshaped(to: [units, input.shape[1]])
    }

    public var parameters: [Parameter<Scalar>] { [W, b] }
    public var summary: String {
        "\(cell == .rnn ? "RNN" : cell.rawValue.uppercased())(\(inputs) → \(units)\(reversed ? ", reversed" : "")\(returnsSequences ? "" : ", last"))"
    }
    public static var typeName: String { "Recurrent" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["cell": .string(cell.rawValue), "inputs": .int(inputs), "units": .int(units),
                            "returnsSequences": .bool(returnsSequences), "reversed": .bool(reversed)])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        guard let cell = RecurrentCell(rawValue: try configuration.string("cell")) else {
            throw ModelFileError.corrupt("Recurrent layer with unknown cell \(try configuration.string("cell"))")
        }
        let inputs = try configuration.int("inputs"), units = try configuration.int("units")
        guard inputs >= 1, units >= 1 else { throw ModelFileError.corrupt("Recurrent layer with \(inputs) inputs and \(units) units") }
        self.init(cell, weight: .zeros([cell.gates * units, units + inputs]), bias: .zeros([cell.gates * units, 1]),
                  returnsSequences: try configuration.bool("returnsSequences"), reversed: try configuration.bool("reversed"))
    }
}

/// A bidirectional RNN (C5W1-13): a forward and a reversed recurrent layer
/// over the same input, their outputs stacked along the feature axis,
/// `[a→⟨t⟩; a←⟨t⟩]` `(2·n_a, m, T_x)` — or `(2·n_a, m)` for the last forward
/// and first backward states when the layers do not return sequences.
public final class Bidirectional<Scalar: TensorScalar>: Layer {
    public let forwardLayer: Recurrent<Scalar>
    public let backwardLayer: Recurrent<Scalar>

    /// Parameters `forward.W`, `forward.b`, `backward.W`, `backward.b`.
    public init(_ cell: RecurrentCell, inputs: Int, units: Int, returnsSequences: Bool = true, forgetBias: Double = 0,
                initializer: Initializer = .xavier, generator: inout RandomGenerator) {
        forwardLayer = Recurrent(cell, inputs: inputs, units: units, returnsSequences: returnsSequences, reversed: false,
                                 forgetBias: forgetBias, initializer: initializer, keyPrefix: "forward.", generator: &generator)
        backwardLayer = Recurrent(cell, inputs: inputs, units: units, returnsSequences: returnsSequences, reversed: true,
                                  forgetBias: forgetBias, initializer: initializer, keyPrefix: "backward.", generator: &generator)
    }

    /// The two directions with given parameters: `forward` runs from `t = 1`, `backward` from `t = T_x`.
    public init(_ cell: RecurrentCell, forward: (weight: Tensor<Scalar>, bias: Tensor<Scalar>),
                backward: (weight: Tensor<Scalar>, bias: Tensor<Scalar>), returnsSequences: Bool = true) {
        require(forward.weight.shape == backward.weight.shape, "Bidirectional: the directions' weights \(forward.weight.shape) and \(backward.weight.shape) differ")
        forwardLayer = Recurrent(cell, weight: forward.weight, bias: forward.bias, returnsSequences: returnsSequences, reversed: false,
                                 keyPrefix: "forward.")
        backwardLayer = Recurrent(cell, weight: backward.weight, bias: backward.bias, returnsSequences: returnsSequences, reversed: true,
                                  keyPrefix: "backward.")
    }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        Variable.concatenate([forwardLayer.forward(input, context: context), backwardLayer.forward(input, context: context)], axis: 0)
    }

    /// Both directions with per-example lengths (the backward direction starts at each example's last step).
    public func forward(_ input: Variable<Scalar>, lengths: [Int]?) -> Variable<Scalar> {
        Variable.concatenate([forwardLayer.forward(input, initialState: nil, lengths: lengths),
                              backwardLayer.forward(input, initialState: nil, lengths: lengths)], axis: 0)
    }

    public var parameters: [Parameter<Scalar>] { forwardLayer.parameters + backwardLayer.parameters }
    public var summary: String { "Bidirectional(\(forwardLayer.summary))" }
    public static var typeName: String { "Bidirectional" }
    public var configuration: LayerConfiguration { forwardLayer.configuration }
    public convenience init(configuration: LayerConfiguration) throws {
        let shape = try Recurrent<Scalar>(configuration: configuration)   // checks the settings
        let placeholder = (weight: shape.W.value, bias: shape.b.value)
        self.init(shape.cell, forward: placeholder, backward: placeholder, returnsSequences: shape.returnsSequences)
    }
}

/// Applies a layer that maps `(n, k)` columns to `(n', k)` — a ``Dense`` layer,
/// an activation — to every time step of a sequence `(n, m, T)`, giving
/// `(n', m, T)`: the notes' `ŷ⟨t⟩ = g(W_ya a⟨t⟩ + b_y)` with one `W_ya` shared
/// by all steps, computed as one product over all `m·T` columns.
public final class TimeDistributed<Scalar: TensorScalar>: Layer {
    public let layer: any Layer<Scalar>

    public init(_ layer: any Layer<Scalar>) { self.layer = layer }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        require(input.value.rank == 3, "TimeDistributed: input \(input.shape) must be (n, m, T)")
        let (n, m, T) = (input.shape[0], input.shape[1], input.shape[2])
        let out = layer.forward(input.reshaped(to: [n, m * T]), context: context)
        return out.reshaped(to: [out.shape[0], m, T])
    }

    public var parameters: [Parameter<Scalar>] { layer.parameters }
    public var summary: String { "TimeDistributed(\(layer.summary))" }
    public static var typeName: String { "TimeDistributed" }
    public var configuration: LayerConfiguration {
        var stored = layer.configuration.values
        stored["wrappedType"] = .string(type(of: layer).typeName)
        return LayerConfiguration(stored)
    }
    public convenience init(configuration: LayerConfiguration) throws {
        var values = configuration.values
        guard case .string(let wrapped)? = values.removeValue(forKey: "wrappedType") else {
            throw ModelFileError.corrupt("TimeDistributed without the wrapped layer's type")
        }
        // The registry checked the wrapped layer's size against the file already (``ConfigurationSized``).
        var unlimited = Int.max
        guard let inner = try LayerRegistry.make(wrapped, configuration: LayerConfiguration(values), scalar: Scalar.self,
                                                 available: &unlimited) as? any Layer<Scalar> else {
            throw ModelFileError.corrupt("TimeDistributed wraps \(wrapped), which is not a layer")
        }
        self.init(inner)
    }
}

/// Softmax cross-entropy summed over time (C5W1-06, -08: `L = Σ_t L⟨t⟩`),
/// averaged over the `m` sequences: logits and one-hot targets `(n_y, m, T)`,
/// softmax over axis 0. A step whose target column is all zeros is padding:
/// it costs nothing and gets no gradient (pad shorter sequences' targets with
/// zeros). `J = −(1/m) Σ_i Σ_t Σ_k y log softmax(z)_k`,
/// `∂J/∂z = (softmax(z) − y)·[step is labelled]/m`.
public struct SequenceSoftmaxCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}

    public func callAsFunction(_ Z: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("SequenceSoftmaxCrossEntropy", Z.value, Y)
        require(Y.rank == 3, "SequenceSoftmaxCrossEntropy: targets \(Y.shape) must be (n_y, m, T)")
        let m = Scalar(Y.shape[1])
        let labelled = Y.sum(axis: 0, keepingDimensions: true)      // 1 on labelled steps, 0 on padding
        let logProbabilities = logSoftmax(Z.value, axis: 0)
        return lossNode(Z, cost: -(Y * logProbabilities).sum() / m) { (exp(logProbabilities) - Y) * labelled / m }
    }
}
