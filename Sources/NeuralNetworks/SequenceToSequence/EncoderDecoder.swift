import Foundation
import Tensors

/// The notes' sequence-to-sequence model (C5W3-01, -02; Sutskever et al. 2014,
/// Cho et al. 2014): an encoder LSTM reads the input, and its final state
/// starts a decoder LSTM — a conditional language model `P(y⟨1⟩ … y⟨T_y⟩ | x)`
/// that predicts each `y⟨t⟩` from `y⟨t−1⟩` and its state.
///
/// Trained with teacher forcing: the decoder reads the true previous token
/// (a start token first). Decoded with ``BeamSearch`` (``decode(_:startToken:search:)``)
/// or greedily (width 1).
///
/// Image captioning has the same shape with a convolutional encoder
/// (C5W3-01; Mao 2014, Vinyals 2014, Karpathy & Li 2015):
/// ``init(imageEncoder:features:targetVocabulary:embeddingDimensions:units:generator:)``
/// takes any layer mapping images `(m, n_H, n_W, n_C)` to features `(n_f, m)`
/// (a ConvNet ending in `Flatten`), whose projection `a⟨0⟩ = tanh(W_f·f + b_f)`
/// starts the decoder.
public final class EncoderDecoder<Scalar: TensorScalar>: Module {
    /// The source side: token embeddings and an encoder LSTM, or an image encoder and its projection.
    public let sourceEmbedding: Embedding<Scalar>?
    public let encoder: Recurrent<Scalar>?
    public let imageEncoder: (any Layer<Scalar>)?
    public let imageProjection: Dense<Scalar>?
    public let targetEmbedding: Embedding<Scalar>
    public let decoder: Recurrent<Scalar>
    /// `W_y` `(V_y, n_a)`, `b_y` `(V_y, 1)`: `ŷ⟨t⟩ = softmax(W_y a⟨t⟩ + b_y)`.
    public let Wy: Parameter<Scalar>, by: Parameter<Scalar>

    /// A translation model: source and target tokens embedded in
    /// `embeddingDimensions`, LSTMs of `units`.
    public init(sourceVocabulary: Int, targetVocabulary: Int, embeddingDimensions: Int = 32, units: Int = 64, generator: inout RandomGenerator) {
        sourceEmbedding = Embedding(vocabulary: sourceVocabulary, dimensions: embeddingDimensions, scale: 0.1, generator: &generator)
        encoder = Recurrent(.lstm, inputs: embeddingDimensions, units: units, generator: &generator)
        (imageEncoder, imageProjection) = (nil, nil)
        targetEmbedding = Embedding(vocabulary: targetVocabulary, dimensions: embeddingDimensions, scale: 0.1, generator: &generator)
        decoder = Recurrent(.lstm, inputs: embeddingDimensions, units: units, generator: &generator)
        Wy = Parameter(key: "Wy", value: Initializer.xavier.weights(rows: targetVocabulary, columns: units, generator: &generator), isRegularized: true)
        by = Parameter(key: "by", value: .zeros([targetVocabulary, 1]), isRegularized: false)
    }

    /// An image-captioning model: `imageEncoder` maps images to `features`
    /// `(n_f, m)`, projected to the decoder's first state.
    public init(imageEncoder: any Layer<Scalar>, features: Int, targetVocabulary: Int, embeddingDimensions: Int = 32, units: Int = 64,
                generator: inout RandomGenerator) {
        (sourceEmbedding, encoder) = (nil, nil)
        self.imageEncoder = imageEncoder
        imageProjection = Dense(inputs: features, outputs: units, initializer: .xavier, generator: &generator)
        targetEmbedding = Embedding(vocabulary: targetVocabulary, dimensions: embeddingDimensions, scale: 0.1, generator: &generator)
        decoder = Recurrent(.lstm, inputs: embeddingDimensions, units: units, generator: &generator)
        Wy = Parameter(key: "Wy", value: Initializer.xavier.weights(rows: targetVocabulary, columns: units, generator: &generator), isRegularized: true)
        by = Parameter(key: "by", value: .zeros([targetVocabulary, 1]), isRegularized: false)
    }

    public var units: Int { decoder.units }

    /// The decoder's initial state `(a⟨0⟩, c⟨0⟩)`, each `(n_a, m)`: the encoder's
    /// state after each example's last real token (`lengths`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func encode(_ source: [[Int]], lengths: [Int]? = nil) -> (state: Variable<Scalar>, cell: Variable<Scalar>) {
        guard let sourceEmbedding, let encoder else { fatalError("EncoderDecoder: an image-captioning model encodes images") }
        let m = source.count, t = source.first?.count ?? 0
        require(t > 0 && source.allSatisfy { $0.count == t }, "EncoderDecoder: sources must be non-empty and padded to one length")
        let x = sourceEmbedding.lookup(source.flatMap { $0 }, shape: [m, t])
        let states = recurrentSequence(.lstm, x, weight: encoder.W.variable, bias: encoder.b.variable, lengths: lengths, returnsCellStates: true)
        let last = states.slice(axis: 2, (t - 1)..<t).reshaped(to: [2 * units, m])   // steps past a length carry the state
        return (last.rows(0..<units), last.rows(units..<2 * units))
    }

    /// The initial state for images `(m, n_H, n_W, n_C)`: `a⟨0⟩ = tanh(W_f·f + b_f)`, `c⟨0⟩ = 0`.
    public func encode(images: Variable<Scalar>, context: ForwardContext) -> (state: Variable<Scalar>, cell: Variable<Scalar>) {
        guard let imageEncoder, let imageProjection else { fatalError("EncoderDecoder: a translation model encodes tokens") }
        let a0 = tanh(imageProjection.forward(imageEncoder.forward(images, context: context), context: context))
        return (a0, Variable(.zeros(a0.shape)))
    }

    /// Teacher-forced logits `(V_y, m, T_y)` of each next token given the decoder inputs.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func decode(_ targetInput: [[Int]], from initial: (state: Variable<Scalar>, cell: Variable<Scalar>)) -> Variable<Scalar> {
        let m = targetInput.count, t = targetInput.first?.count ?? 0
        require(t > 0 && targetInput.allSatisfy { $0.count == t }, "EncoderDecoder: decoder inputs must be non-empty and padded to one length")
        let y = targetEmbedding.lookup(targetInput.flatMap { $0 }, shape: [m, t])
        let a = recurrentSequence(.lstm, y, weight: decoder.W.variable, bias: decoder.b.variable, initialState: initial.state,
                                  initialCell: initial.cell)
        return linear(Wy.variable, a.reshaped(to: [units, m * t]), by.variable).reshaped(to: [Wy.value.shape[0], m, t])
    }

    /// Beam-search decoding of one source sequence (``BeamSearch``): the
    /// decoder is run one step at a time for all live hypotheses at once.
    public func decode(_ source: [Int], startToken: Int, search: BeamSearch) -> [BeamSearch.Hypothesis] {
        withoutGradients {
            let (a0, c0) = encode([source])
            return decode(from: (a0.value, c0.value), startToken: startToken, search: search)
        }
    }

    /// Beam-search decoding from a given initial state `(n_a, 1)` each (an image's, or a source's).
    public func decode(from initial: (state: Tensor<Scalar>, cell: Tensor<Scalar>), startToken: Int, search: BeamSearch) -> [BeamSearch.Hypothesis] {
        typealias State = (state: Tensor<Scalar>, cell: Tensor<Scalar>)
        let n = units
        return withoutGradients {
            search.search(initial: State(initial.state, initial.cell)) { (states: [State], prefixes: [[Int]]) in
                let k = states.count
                let a = Tensor.concatenate(states.map(\.state), axis: 1), c = Tensor.concatenate(states.map(\.cell), axis: 1)
                let tokens = prefixes.map { $0.last ?? startToken }
                let step = recurrentSequence(.lstm, targetEmbedding.lookup(tokens, shape: [k, 1]), weight: decoder.W.variable,
                                             bias: decoder.b.variable, initialState: Variable(a), initialCell: Variable(c),
                                             returnsCellStates: true).value.reshaped(to: [2 * n, k])
                let next = step.slice(axis: 0, 0..<n), cell = step.slice(axis: 0, n..<2 * n)
                let logProbabilities = logSoftmax(matmul(Wy.value, next) + by.value, axis: 0)   // (V_y, k)
                let v = logProbabilities.shape[0]
                return (0..<k).map { i in
                    ((0..<v).map { Double(logProbabilities.scalars[$0 * k + i]) },
                     State(next.slice(axis: 1, i..<(i + 1)), cell.slice(axis: 1, i..<(i + 1))))
                }
            }
        }
    }

    public var parameters: [Parameter<Scalar>] {
        (sourceEmbedding?.parameters ?? []) + (encoder?.parameters ?? []) + (imageEncoder?.parameters ?? []) + (imageProjection?.parameters ?? [])
            + targetEmbedding.parameters + decoder.parameters + [Wy, by]
    }
    public var summary: String {
        "EncoderDecoder(\(imageEncoder == nil ? "LSTM" : "image") encoder, LSTM decoder of \(units), \(Wy.value.shape[0]) output tokens)"
    }
    public static var typeName: String { "EncoderDecoder" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["sourceVocabulary": .int(sourceEmbedding?.vocabulary ?? 0), "targetVocabulary": .int(targetEmbedding.vocabulary),
                            "embeddingDimensions": .int(targetEmbedding.dimensions), "units": .int(units)])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let sizes = try ["sourceVocabulary", "targetVocabulary", "embeddingDimensions", "units"].map { try configuration.int($0) }
        guard sizes.allSatisfy({ $0 >= 1 }) else { throw ModelFileError.corrupt("EncoderDecoder with sizes \(sizes) (image encoders are not stored)") }
        var generator = RandomGenerator(seed: 0)
        self.init(sourceVocabulary: sizes[0], targetVocabulary: sizes[1], embeddingDimensions: sizes[2], units: sizes[3], generator: &generator)
    }
}
