import Tensors

/// The notes' attention model for sequence-to-sequence problems (C5W3-09,
/// -10; Bahdanau et al. 2014), as the course's date-normalization assignment
/// builds it:
///
/// - a bidirectional LSTM encoder over the one-hot input, `a⟨t'⟩ = [a→⟨t'⟩; a←⟨t'⟩]`;
/// - at each output step `t`, attention energies from a small dense network
///   on `[s⟨t−1⟩, a⟨t'⟩]`: `e⟨t,t'⟩ = vᵀ tanh(W_s s⟨t−1⟩ + W_a a⟨t'⟩ + b)`,
///   weights `α⟨t,t'⟩ = exp(e⟨t,t'⟩) / Σ_t'' exp(e⟨t,t''⟩)` (padding excluded)
///   and the context `c⟨t⟩ = Σ_t' α⟨t,t'⟩ a⟨t'⟩`;
/// - a post-attention LSTM whose input is `c⟨t⟩` and whose state `s⟨t⟩`
///   gives `ŷ⟨t⟩ = softmax(W_y s⟨t⟩ + b_y)`.
///
/// The notes leave the energy network and the context out of the text
/// (scope.md C5W3-09); this is Bahdanau's additive form, the one the course's
/// assignment implements (its second dense layer has a ReLU; this one is
/// linear, as in the paper). `W_a a⟨t'⟩ + b` does not depend on `t` and is
/// computed once per sequence. Inputs `(V_x, m, T_x)` one-hot; outputs logits
/// `(V_y, m, T_y)`.
public final class AttentionModel<Scalar: TensorScalar>: Module {
    public let encoder: Bidirectional<Scalar>
    /// `W_s` `(n_e, n_s)`, `W_a` `(n_e, 2·n_a)`, `b` `(n_e, 1)`, `v` `(1, n_e)`.
    public let Ws: Parameter<Scalar>, Wa: Parameter<Scalar>, be: Parameter<Scalar>, v: Parameter<Scalar>
    /// The post-attention LSTM: `W` `(4·n_s, n_s + 2·n_a)`, `b` `(4·n_s, 1)`.
    public let decoder: Recurrent<Scalar>
    /// `W_y` `(V_y, n_s)`, `b_y` `(V_y, 1)`.
    public let Wy: Parameter<Scalar>, by: Parameter<Scalar>
    public let outputLength: Int

    /// The course's sizes by default: `n_a = 32`, `n_s = 64`, `n_e = 10`.
    public init(inputVocabulary: Int, outputVocabulary: Int, outputLength: Int, encoderUnits na: Int = 32, decoderUnits ns: Int = 64,
                attentionUnits ne: Int = 10, generator: inout RandomGenerator) {
        require(outputLength >= 1, "AttentionModel: output length \(outputLength)")
        encoder = Bidirectional(.lstm, inputs: inputVocabulary, units: na, generator: &generator)
        Ws = Parameter(key: "Ws", value: Initializer.xavier.weights(rows: ne, columns: ns, generator: &generator), isRegularized: true)
        Wa = Parameter(key: "Wa", value: Initializer.xavier.weights(rows: ne, columns: 2 * na, generator: &generator), isRegularized: true)
        be = Parameter(key: "be", value: .zeros([ne, 1]), isRegularized: false)
        v = Parameter(key: "v", value: Initializer.xavier.weights(rows: 1, columns: ne, generator: &generator), isRegularized: true)
        decoder = Recurrent(.lstm, inputs: 2 * na, units: ns, generator: &generator)
        Wy = Parameter(key: "Wy", value: Initializer.xavier.weights(rows: outputVocabulary, columns: ns, generator: &generator), isRegularized: true)
        by = Parameter(key: "by", value: .zeros([outputVocabulary, 1]), isRegularized: false)
        self.outputLength = outputLength
    }

    /// Logits `(V_y, m, T_y)` and the attention weights `α` `(m, T_y, T_x)`
    /// for one-hot inputs `x` `(V_x, m, T_x)` whose example `i` has
    /// `lengths[i]` real steps (the rest is padding: not read by the encoder's
    /// backward direction, never attended to).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ x: Variable<Scalar>, lengths: [Int]? = nil) -> (logits: Variable<Scalar>, attention: Tensor<Scalar>) {
        let (m, tx) = (x.shape[1], x.shape[2])
        let (ne, ns) = (Ws.value.shape[0], Ws.value.shape[1])
        let a = encoder.forward(x, lengths: lengths)                         // (2n_a, m, T_x)
        let na2 = a.shape[0]
        let projected = linear(Wa.variable, a.reshaped(to: [na2, m * tx]), be.variable).reshaped(to: [ne, m, tx])
        var padding = [Scalar](repeating: 0, count: m * tx)                  // −∞ (a large negative) on padded steps
        if let lengths { for i in 0..<m { for t in lengths[i]..<tx { padding[i * tx + t] = -Scalar.greatestFiniteMagnitude / 4 } } }
        let mask = Variable(Tensor(shape: [1, m, tx], scalars: padding))
        var s = Variable(Tensor<Scalar>.zeros([ns, m])), c = Variable(Tensor<Scalar>.zeros([ns, m]))
        var logits: [Variable<Scalar>] = [], weights: [Tensor<Scalar>] = []
        for _ in 0..<outputLength {
            let energy = tanh(projected + matmul(Ws.variable, s).reshaped(to: [ne, m, 1]))
            let e = matmul(v.variable, energy.reshaped(to: [ne, m * tx])).reshaped(to: [1, m, tx]) + mask
            let alpha = softmax(e, axis: 2)                                   // (1, m, T_x)
            let context = (a * alpha).sum(axis: 2, keepingDimensions: true)  // (2n_a, m, 1)
            let state = recurrentSequence(.lstm, context, weight: decoder.W.variable, bias: decoder.b.variable,
                                          initialState: s, initialCell: c, returnsCellStates: true)   // [s; c] (2n_s, m, 1)
            s = state.slice(axis: 0, 0..<ns).reshaped(to: [ns, m])
            c = state.slice(axis: 0, ns..<2 * ns).reshaped(to: [ns, m])
            logits.append(linear(Wy.variable, s, by.variable).reshaped(to: [Wy.value.shape[0], m, 1]))
            weights.append(alpha.value.reshaped(to: [m, 1, tx]))
        }
        return (Variable.concatenate(logits, axis: 2), Tensor.concatenate(weights, axis: 1))
    }

    public var parameters: [Parameter<Scalar>] { encoder.parameters + [Ws, Wa, be, v] + decoder.parameters + [Wy, by] }
    public var summary: String { "AttentionModel(encoder \(encoder.summary), n_s \(Ws.value.shape[1]), n_e \(Ws.value.shape[0]), T_y \(outputLength))" }
    public static var typeName: String { "AttentionModel" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["inputVocabulary": .int(encoder.forwardLayer.inputs), "outputVocabulary": .int(Wy.value.shape[0]),
                            "outputLength": .int(outputLength), "encoderUnits": .int(encoder.forwardLayer.units),
                            "decoderUnits": .int(Ws.value.shape[1]), "attentionUnits": .int(Ws.value.shape[0])])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let values = try ["inputVocabulary", "outputVocabulary", "outputLength", "encoderUnits", "decoderUnits", "attentionUnits"].map {
            try configuration.int($0)
        }
        guard values.allSatisfy({ $0 >= 1 }) else { throw ModelFileError.corrupt("AttentionModel with sizes \(values)") }
        var generator = RandomGenerator(seed: 0)
        self.init(inputVocabulary: values[0], outputVocabulary: values[1], outputLength: values[2], encoderUnits: values[3],
                  decoderUnits: values[4], attentionUnits: values[5], generator: &generator)
    }
}
