import Foundation
import Tensors

/// An encoder–decoder transformer (C5W4-04; Vaswani et al. 2017) for
/// sequence-to-sequence problems on token indices:
///
///     memory = Encoder_N(…Encoder_1(√d·E_x[x] + PE))                  padding of x masked
///     logits = W_out · Decoder_N(…Decoder_1(√d·E_y[y_in] + PE, memory))   look-ahead masked
///
/// with `y_in` the target shifted right behind a start token (teacher
/// forcing). Activations are `(d_model, m, T)`, the notes' sequence layout;
/// logits `(V_y, m, T_y)`.
public final class Transformer<Scalar: TensorScalar>: Module {
    public let sourceEmbedding: Embedding<Scalar>, targetEmbedding: Embedding<Scalar>
    public let encoderLayers: [TransformerEncoderLayer<Scalar>]
    public let decoderLayers: [TransformerDecoderLayer<Scalar>]
    /// `W_out` `(V_y, d_model)`, `b_out` `(V_y, 1)`.
    public let outputWeight: Parameter<Scalar>, outputBias: Parameter<Scalar>
    public let heads: Int

    public init(sourceVocabulary: Int, targetVocabulary: Int, modelDimensions d: Int = 64, heads: Int = 4, feedForwardDimensions ff: Int = 128,
                encoderLayers: Int = 2, decoderLayers: Int = 2, dropoutRate: Double = 0.1, generator: inout RandomGenerator) {
        require(encoderLayers >= 1 && decoderLayers >= 1, "Transformer: needs at least one encoder and one decoder layer")
        self.heads = heads
        let scale = 1 / Double(d).squareRoot()   // embeddings start at N(0, 1/d); the √d factor brings them to unit size
        sourceEmbedding = Embedding(vocabulary: sourceVocabulary, dimensions: d, scale: scale, generator: &generator)
        targetEmbedding = Embedding(vocabulary: targetVocabulary, dimensions: d, scale: scale, generator: &generator)
        self.encoderLayers = (0..<encoderLayers).map { _ in
            TransformerEncoderLayer(modelDimensions: d, heads: heads, feedForwardDimensions: ff, dropoutRate: dropoutRate, generator: &generator)
        }
        self.decoderLayers = (0..<decoderLayers).map { _ in
            TransformerDecoderLayer(modelDimensions: d, heads: heads, feedForwardDimensions: ff, dropoutRate: dropoutRate, generator: &generator)
        }
        let limit = Scalar(1 / Double(d).squareRoot())
        outputWeight = Parameter(key: "W_out", value: Tensor(randomUniform: [targetVocabulary, d], lower: -limit, upper: limit, generator: &generator),
                                 isRegularized: true)
        outputBias = Parameter(key: "b_out", value: .zeros([targetVocabulary, 1]), isRegularized: false)
    }

    public var modelDimensions: Int { sourceEmbedding.dimensions }

    func embed(_ embedding: Embedding<Scalar>, _ tokens: [[Int]]) -> Variable<Scalar> {
        let m = tokens.count, t = tokens.first?.count ?? 0
        require(tokens.allSatisfy { $0.count == t }, "Transformer: the sequences of a batch must be padded to one length")
        let e = embedding.lookup(tokens.flatMap { $0 }, shape: [m, t]) * Scalar(Double(modelDimensions).squareRoot())
        return addingPositionalEncoding(e)
    }

    /// The encoder's output `(d_model, m, T_x)` for `source` (`m` index sequences
    /// padded to one length; `sourceLengths` real tokens each).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func encode(_ source: [[Int]], sourceLengths: [Int]? = nil, context: ForwardContext) -> Variable<Scalar> {
        var h = embed(sourceEmbedding, source)
        let mask = sourceLengths.map { AttentionMask.padding(keyLengths: $0) } ?? .none
        for layer in encoderLayers { h = layer.forward(h, mask: mask, context: context) }
        return h
    }

    /// Logits `(V_y, m, T_y)` of every next token for the decoder inputs `targetInput` given `memory`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func decode(_ targetInput: [[Int]], memory: Variable<Scalar>, sourceLengths: [Int]? = nil, context: ForwardContext) -> Variable<Scalar> {
        var h = embed(targetEmbedding, targetInput)
        let mask = sourceLengths.map { AttentionMask.padding(keyLengths: $0) } ?? .none
        for layer in decoderLayers { h = layer.forward(h, memory: memory, memoryMask: mask, context: context) }
        let (d, m, t) = (h.shape[0], h.shape[1], h.shape[2])
        return linear(outputWeight.variable, h.reshaped(to: [d, m * t]), outputBias.variable).reshaped(to: [outputWeight.value.shape[0], m, t])
    }

    /// Teacher-forced logits `(V_y, m, T_y)`.
    public func forward(source: [[Int]], sourceLengths: [Int]? = nil, targetInput: [[Int]], context: ForwardContext) -> Variable<Scalar> {
        decode(targetInput, memory: encode(source, sourceLengths: sourceLengths, context: context), sourceLengths: sourceLengths, context: context)
    }

    /// Greedy decoding: `length` tokens after `startToken`, each the argmax
    /// given the tokens before it (the encoder runs once).
    public func greedyDecode(_ source: [[Int]], sourceLengths: [Int]? = nil, startToken: Int, length: Int) -> [[Int]] {
        withoutGradients {
            let context = ForwardContext(training: false)
            let memory = encode(source, sourceLengths: sourceLengths, context: context)
            var outputs = source.map { _ in [startToken] }
            for step in 0..<length {
                let logits = decode(outputs, memory: memory, sourceLengths: sourceLengths, context: context).value   // (V, m, step + 1)
                let (v, m, t) = (logits.shape[0], logits.shape[1], logits.shape[2])
                logits.withUnsafeBufferPointer { z in
                    for i in 0..<m {
                        var best = 0
                        for k in 1..<v where z[(k * m + i) * t + step] > z[(best * m + i) * t + step] { best = k }
                        outputs[i].append(best)
                    }
                }
            }
            return outputs.map { Array($0.dropFirst()) }
        }
    }

    public var parameters: [Parameter<Scalar>] {
        sourceEmbedding.parameters + targetEmbedding.parameters + encoderLayers.flatMap(\.parameters) + decoderLayers.flatMap(\.parameters)
            + [outputWeight, outputBias]
    }
    public var summary: String {
        "Transformer(d_model \(modelDimensions), \(heads) heads, \(encoderLayers.count) + \(decoderLayers.count) layers)"
    }
    public static var typeName: String { "Transformer" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["sourceVocabulary": .int(sourceEmbedding.vocabulary), "targetVocabulary": .int(targetEmbedding.vocabulary),
                            "modelDimensions": .int(modelDimensions), "heads": .int(heads),
                            "feedForwardDimensions": .int(encoderLayers[0].feedForward.W1.value.shape[0]),
                            "encoderLayers": .int(encoderLayers.count), "decoderLayers": .int(decoderLayers.count),
                            "dropoutRate": .double(encoderLayers[0].dropoutRate)])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let sizes = try ["sourceVocabulary", "targetVocabulary", "modelDimensions", "heads", "feedForwardDimensions", "encoderLayers",
                         "decoderLayers"].map { try configuration.int($0) }
        guard sizes.allSatisfy({ $0 >= 1 }), sizes[2] % sizes[3] == 0 else { throw ModelFileError.corrupt("Transformer with sizes \(sizes)") }
        var generator = RandomGenerator(seed: 0)
        self.init(sourceVocabulary: sizes[0], targetVocabulary: sizes[1], modelDimensions: sizes[2], heads: sizes[3],
                  feedForwardDimensions: sizes[4], encoderLayers: sizes[5], decoderLayers: sizes[6],
                  dropoutRate: try configuration.double("dropoutRate"), generator: &generator)
    }
}
