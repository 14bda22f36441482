import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// The transformer's building blocks against PyTorch's own modules in float64
/// (`Reference/transformer.py`), and their gradients by finite differences.
final class TransformerTests: XCTestCase {
    typealias Ref = TransformerReference
    let (D, H, FF, M, T, TK) = (8, 2, 16, 2, 5, 4)

    func tensor(_ values: [Double], _ shape: [Int]) -> Tensor<Double> { Tensor(shape: shape, scalars: values) }

    func load(_ attention: MultiHeadAttention<Double>, _ w: [Double], _ b: [Double], _ wo: [Double], _ bo: [Double]) {
        attention.inProjectionWeight.value = tensor(w, [3 * D, D])
        attention.inProjectionBias.value = tensor(b, [3 * D, 1])
        attention.outProjectionWeight.value = tensor(wo, [D, D])
        attention.outProjectionBias.value = tensor(bo, [D, 1])
    }

    func load(_ ffn: PositionwiseFeedForward<Double>, _ w1: [Double], _ b1: [Double], _ w2: [Double], _ b2: [Double]) {
        ffn.W1.value = tensor(w1, [FF, D]); ffn.b1.value = tensor(b1, [FF, 1])
        ffn.W2.value = tensor(w2, [D, FF]); ffn.b2.value = tensor(b2, [D, 1])
    }

    func load(_ norm: LayerNormalization<Double>, _ gamma: [Double], _ beta: [Double]) {
        norm.gamma.value = tensor(gamma, [D, 1]); norm.beta.value = tensor(beta, [D, 1])
    }

    func assertClose(_ actual: Tensor<Double>?, _ expected: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        guard let actual else { return XCTFail("\(what): no value", file: file, line: line) }
        XCTAssertEqual(actual.count, expected.count, what, file: file, line: line)
        let scale = expected.map(Swift.abs).max() ?? 1
        let worst = zip(actual.scalars, expected).map { Swift.abs($0 - $1) }.max() ?? 0
        XCTAssertLessThan(worst, 1e-10 * Swift.max(1, scale), "\(what): worst difference \(worst)", file: file, line: line)
    }

    func testMultiHeadAttentionMatchesPyTorch() {
        var g = RandomGenerator(seed: 1)
        let attention = MultiHeadAttention<Double>(modelDimensions: D, heads: H, generator: &g)
        load(attention, Ref.mha_in_proj_weight, Ref.mha_in_proj_bias, Ref.mha_out_proj_weight, Ref.mha_out_proj_bias)
        let cases: [(String, AttentionMask, [Double], [Double], [Double], [Double])] = [
            ("causal", .causal, Ref.mhaCausalOutput, Ref.mhaCausalGradX, Ref.mhaCausalGradInProj, Ref.mhaCausalGradOutProj),
            ("padding", .padding(keyLengths: [5, 3]), Ref.mhaPaddingOutput, Ref.mhaPaddingGradX, Ref.mhaPaddingGradInProj, Ref.mhaPaddingGradOutProj),
        ]
        for (name, mask, output, gradX, gradIn, gradOut) in cases {
            for p in attention.parameters { p.gradient = nil }
            let x = Variable(tensor(Ref.x, [D, M, T]), requiresGradient: true)
            let y = attention(x, mask: mask)
            y.backward(seed: tensor(Ref.R, [D, M, T]))
            assertClose(y.value, output, "\(name) output")
            assertClose(x.gradient, gradX, "\(name) ∂x")
            assertClose(attention.inProjectionWeight.gradient, gradIn, "\(name) ∂W_in")
            assertClose(attention.outProjectionWeight.gradient, gradOut, "\(name) ∂W_O")
        }
    }

    func testEncoderLayerMatchesPyTorch() {
        var g = RandomGenerator(seed: 2)
        let layer = TransformerEncoderLayer<Double>(modelDimensions: D, heads: H, feedForwardDimensions: FF, dropoutRate: 0, generator: &g)
        load(layer.selfAttention, Ref.enc_self_attn_in_proj_weight, Ref.enc_self_attn_in_proj_bias,
             Ref.enc_self_attn_out_proj_weight, Ref.enc_self_attn_out_proj_bias)
        load(layer.feedForward, Ref.enc_linear1_weight, Ref.enc_linear1_bias, Ref.enc_linear2_weight, Ref.enc_linear2_bias)
        load(layer.norm1, Ref.enc_norm1_weight, Ref.enc_norm1_bias)
        load(layer.norm2, Ref.enc_norm2_weight, Ref.enc_norm2_bias)
        let x = Variable(tensor(Ref.x, [D, M, T]), requiresGradient: true)
        let y = layer.forward(x, mask: .padding(keyLengths: [5, 3]), context: ForwardContext(training: true))
        y.backward(seed: tensor(Ref.R, [D, M, T]))
        assertClose(y.value, Ref.encOutput, "output")
        assertClose(x.gradient, Ref.encGradX, "∂x")
        assertClose(layer.selfAttention.inProjectionWeight.gradient, Ref.encGrad_self_attn_in_proj_weight, "∂W_in")
        assertClose(layer.selfAttention.inProjectionBias.gradient, Ref.encGrad_self_attn_in_proj_bias, "∂b_in")
        assertClose(layer.selfAttention.outProjectionWeight.gradient, Ref.encGrad_self_attn_out_proj_weight, "∂W_O")
        assertClose(layer.feedForward.W1.gradient, Ref.encGrad_linear1_weight, "∂W1")
        assertClose(layer.feedForward.b2.gradient, Ref.encGrad_linear2_bias, "∂b2")
        assertClose(layer.norm1.gamma.gradient, Ref.encGrad_norm1_weight, "∂γ1")
        assertClose(layer.norm2.beta.gradient, Ref.encGrad_norm2_bias, "∂β2")
    }

    func testDecoderLayerMatchesPyTorch() {
        var g = RandomGenerator(seed: 3)
        let layer = TransformerDecoderLayer<Double>(modelDimensions: D, heads: H, feedForwardDimensions: FF, dropoutRate: 0, generator: &g)
        load(layer.selfAttention, Ref.dec_self_attn_in_proj_weight, Ref.dec_self_attn_in_proj_bias,
             Ref.dec_self_attn_out_proj_weight, Ref.dec_self_attn_out_proj_bias)
        load(layer.crossAttention, Ref.dec_multihead_attn_in_proj_weight, Ref.dec_multihead_attn_in_proj_bias,
             Ref.dec_multihead_attn_out_proj_weight, Ref.dec_multihead_attn_out_proj_bias)
        load(layer.feedForward, Ref.dec_linear1_weight, Ref.dec_linear1_bias, Ref.dec_linear2_weight, Ref.dec_linear2_bias)
        load(layer.norm1, Ref.dec_norm1_weight, Ref.dec_norm1_bias)
        load(layer.norm2, Ref.dec_norm2_weight, Ref.dec_norm2_bias)
        load(layer.norm3, Ref.dec_norm3_weight, Ref.dec_norm3_bias)
        let x = Variable(tensor(Ref.x, [D, M, T]), requiresGradient: true)
        let memory = Variable(tensor(Ref.memory, [D, M, TK]), requiresGradient: true)
        let y = layer.forward(x, memory: memory, memoryMask: .padding(keyLengths: [4, 2]), context: ForwardContext(training: true))
        y.backward(seed: tensor(Ref.R, [D, M, T]))
        assertClose(y.value, Ref.decOutput, "output")
        assertClose(x.gradient, Ref.decGradX, "∂x")
        assertClose(memory.gradient, Ref.decGradMemory, "∂memory")
        assertClose(layer.crossAttention.inProjectionWeight.gradient, Ref.decGrad_multihead_attn_in_proj_weight, "cross ∂W_in")
        assertClose(layer.crossAttention.inProjectionBias.gradient, Ref.decGrad_multihead_attn_in_proj_bias, "cross ∂b_in")
        assertClose(layer.selfAttention.inProjectionWeight.gradient, Ref.decGrad_self_attn_in_proj_weight, "self ∂W_in")
        assertClose(layer.feedForward.W2.gradient, Ref.decGrad_linear2_weight, "∂W2")
        assertClose(layer.norm3.gamma.gradient, Ref.decGrad_norm3_weight, "∂γ3")
    }

    func testAdamWMatchesPyTorch() {
        let p = Parameter<Double>(key: "w", value: tensor(Ref.adamwStart, [3, 2]), isRegularized: true)
        let c = tensor(Ref.adamwC, [3, 2])
        let adamW = Adam<Double>.adamW(learningRate: 0.01, weightDecay: 0.1)
        for _ in 0..<3 {
            p.gradient = 3 * p.value * p.value * c   // ∂/∂w Σ w³c
            adamW.step([p])
        }
        assertClose(p.value, Ref.adamwAfterThree, "AdamW after three steps")
    }

    /// PE(pos, 2i) = sin(pos/10000^(2i/d)), PE(pos, 2i+1) = cos(…): d = 4, by hand:
    /// row 0 sin(pos), row 1 cos(pos), row 2 sin(pos/100), row 3 cos(pos/100).
    func testPositionalEncodingFollowsTheFormula() {
        let pe = positionalEncoding(length: 3, dimensions: 4, as: Double.self)
        let expected: [Double] = [0, sin(1), sin(2), 1, cos(1), cos(2), 0, sin(0.01), sin(0.02), 1, cos(0.01), cos(0.02)]
        XCTAssertEqual(pe.shape, [4, 3])
        assertClose(pe, expected, "PE")
        let x = Variable(Tensor<Double>.zeros([4, 2, 3]))
        XCTAssertEqual(addingPositionalEncoding(x).value.slice(axis: 1, 1..<2).reshaped(to: [4, 3]), pe)
    }

    func testTransformerLayersPassAGradientCheck() {
        var g = RandomGenerator(seed: 4)
        let encoder = TransformerEncoderLayer<Double>(modelDimensions: 4, heads: 2, feedForwardDimensions: 6, dropoutRate: 0,
                                                      placement: .beforeSublayer, generator: &g)
        let decoder = TransformerDecoderLayer<Double>(modelDimensions: 4, heads: 2, feedForwardDimensions: 6, dropoutRate: 0, generator: &g)
        let x = Tensor<Double>(randomNormal: [4, 2, 3], generator: &g), y = Tensor<Double>(randomNormal: [4, 2, 2], generator: &g)
        let R = Tensor<Double>(randomNormal: [4, 2, 2], generator: &g)
        let parameters = encoder.parameters + decoder.parameters
        let report = gradientCheck(parameters.map { ($0.name, $0.variable) }) {
            let context = ForwardContext(training: true)
            let memory = encoder.forward(Variable(x), mask: .padding(keyLengths: [3, 2]), context: context)
            return (decoder.forward(Variable(y), memory: memory, memoryMask: .padding(keyLengths: [3, 2]), context: context) * Variable(R)).sum()
        }
        assertGreat(report, "encoder + decoder layers")
    }

    // MARK: Sequence-to-sequence models

    /// 3 May 1979 was a Thursday; 1 January 2000 a Saturday; 3 December 2026 a Thursday.
    func testDatesAreWrittenInTheirFormats() {
        XCTAssertEqual(DateNormalization.format(year: 1979, month: 5, day: 3, pattern: "wwww, mmmm d, yyyy"), "thursday, may 3, 1979")
        XCTAssertEqual(DateNormalization.format(year: 1979, month: 5, day: 3, pattern: "mm/dd/yy"), "05/03/79")
        XCTAssertEqual(DateNormalization.format(year: 2000, month: 1, day: 1, pattern: "www d mmm yyyy"), "sat 1 jan 2000")
        XCTAssertEqual(DateNormalization.format(year: 2026, month: 12, day: 3, pattern: "wwww dd.mm.yyyy"), "thursday 03.12.2026")
        XCTAssertEqual(DateNormalization.format(year: 1969, month: 7, day: 20, pattern: "yyyy-mm-dd"), "1969-07-20")
        var g1 = RandomGenerator(seed: 9), g2 = RandomGenerator(seed: 9)
        let a = DateNormalization.examples(count: 50, generator: &g1), b = DateNormalization.examples(count: 50, generator: &g2)
        XCTAssertEqual(a, b)
        XCTAssertGreaterThan(Set(a.map(\.human)).count, 45)
        for e in a {
            XCTAssertEqual(e.machine.count, 10)
            XCTAssertFalse(DateNormalization.encodeHuman(e.human).contains(1), "\(e.human) has a character outside the vocabulary")
            XCTAssertEqual(DateNormalization.decodeMachine(DateNormalization.encodeMachine(e.machine)), e.machine)
        }
    }

    func testAttentionModelWeightsAndGradients() {
        var g = RandomGenerator(seed: 5)
        let model = AttentionModel<Double>(inputVocabulary: 5, outputVocabulary: 4, outputLength: 3, encoderUnits: 2, decoderUnits: 3,
                                           attentionUnits: 2, generator: &g)
        let indices = [[1, 2, 3, 4], [4, 4, 0, 0]], lengths = [4, 2]
        var onehot = [Double](repeating: 0, count: 5 * 2 * 4)
        for (i, seq) in indices.enumerated() { for (t, k) in seq.enumerated() { onehot[(k * 2 + i) * 4 + t] = 1 } }
        let x = Tensor(shape: [5, 2, 4], scalars: onehot)
        let (logits, attention) = model.forward(Variable(x), lengths: lengths)
        XCTAssertEqual(logits.shape, [4, 2, 3])
        XCTAssertEqual(attention.shape, [2, 3, 4])
        for i in 0..<2 {
            for t in 0..<3 {
                let row = (0..<4).map { attention.scalars[(i * 3 + t) * 4 + $0] }
                XCTAssertEqual(row.reduce(0, +), 1, accuracy: 1e-12)
                for step in lengths[i]..<4 { XCTAssertEqual(row[step], 0, "padding is never attended to") }
            }
        }
        let R = Tensor<Double>(randomNormal: [4, 2, 3], generator: &g)
        assertGreat(gradientCheck(model.parameters.map { ($0.name, $0.variable) }) {
            (model.forward(Variable(x), lengths: lengths).logits * Variable(R)).sum()
        }, "attention model")
    }

    func testTransformerModelGradients() {
        var g = RandomGenerator(seed: 6)
        let model = Transformer<Double>(sourceVocabulary: 6, targetVocabulary: 5, modelDimensions: 4, heads: 2, feedForwardDimensions: 6,
                                        encoderLayers: 1, decoderLayers: 1, dropoutRate: 0, generator: &g)
        let R = Tensor<Double>(randomNormal: [5, 2, 3], generator: &g)
        assertGreat(gradientCheck(model.parameters.map { ($0.name, $0.variable) }) {
            let logits = model.forward(source: [[1, 2, 5, 3], [4, 4, 0, 0]], sourceLengths: [4, 2], targetInput: [[4, 0, 1], [4, 2, 2]],
                                       context: ForwardContext(training: true))
            return (logits * Variable(R)).sum()
        }, "transformer")
    }

    /// Both models learn on generated dates. Release builds: after 3 epochs on
    /// 2,000 dates the cost is well below a uniform guess's (10·ln 12 ≈ 24.8 per
    /// date). Debug builds (hundreds of times slower) check that one Adam step
    /// on a batch of 10 dates lowers that batch's cost: the second epoch of a
    /// run replays the first one's data and starting point.
    func testDateModelsLearn() throws {
        if isReleaseBuild {
            let (_, attention) = try DateTranslation.trainAttentionModel(seed: 1, trainingExamples: 2_000, testExamples: 20, epochs: 3)
            XCTAssertLessThan(attention.finalCost, 20, "\(attention)")
            let (_, transformer) = try DateTranslation.trainTransformer(seed: 1, trainingExamples: 2_000, testExamples: 20, epochs: 3)
            XCTAssertLessThan(transformer.finalCost, 20, "\(transformer)")
            return
        }
        for transformer in [false, true] {
            func cost(epochs: Int) throws -> Double {
                try transformer
                    ? DateTranslation.trainTransformer(seed: 1, trainingExamples: 10, testExamples: 1, epochs: epochs, batchSize: 10).report.finalCost
                    : DateTranslation.trainAttentionModel(seed: 1, trainingExamples: 10, testExamples: 1, epochs: epochs, batchSize: 10).report.finalCost
            }
            let first = try cost(epochs: 1), second = try cost(epochs: 2)
            XCTAssertLessThan(second, first, transformer ? "transformer" : "attention model")
        }
    }
}

extension TransformerTests {
    func testEncoderDecoderGradientsAndBeamSearchAgreeWithTeacherForcing() {
        var g = RandomGenerator(seed: 7)
        let model = EncoderDecoder<Double>(sourceVocabulary: 6, targetVocabulary: 5, embeddingDimensions: 3, units: 4, generator: &g)
        let R = Tensor<Double>(randomNormal: [5, 2, 3], generator: &g)
        assertGreat(gradientCheck(model.parameters.map { ($0.name, $0.variable) }) {
            let initial = model.encode([[1, 2, 5, 3], [4, 4, 0, 0]], lengths: [4, 2])
            return (model.decode([[4, 0, 1], [4, 2, 2]], from: initial) * Variable(R)).sum()
        }, "encoder–decoder")
        // Width 1 is greedy: each token is the argmax of the teacher-forced logits given the tokens before it.
        let search = BeamSearch(width: 1, maximumLength: 4, lengthNormalization: 0.7, endToken: 3)
        let best = model.decode([1, 2, 5], startToken: 4, search: search)[0]
        let logits = withoutGradients { model.decode([[4] + best.tokens.dropLast()], from: model.encode([[1, 2, 5]])).value }
        for (t, token) in best.tokens.enumerated() {
            let column = (0..<5).map { logits.scalars[$0 * best.tokens.count + t] }
            XCTAssertEqual(column.indices.max { column[$0] < column[$1] }, token, "step \(t)")
        }
        // A wider beam never finds a less probable sequence of the same length here (no early end is possible with 4 steps).
        let wide = model.decode([1, 2, 5], startToken: 4, search: BeamSearch(width: 5, maximumLength: 4, lengthNormalization: 0, endToken: 3))[0]
        XCTAssertGreaterThanOrEqual(wide.score, BeamSearch(width: 1, maximumLength: 4, lengthNormalization: 0, endToken: 3)
            .normalizedScore(logProbability: best.logProbability, length: best.tokens.count) - 1e-12)
    }

    /// Image captioning's shape (C5W3-01): a ConvNet's features start the decoder, and the gradient reaches the filters.
    func testImageCaptioningShapeTrainsEndToEnd() {
        var g = RandomGenerator(seed: 8)
        let model = EncoderDecoder<Double>(imageEncoder: ConvFeatures(Conv2D(filterSize: 3, inputChannels: 1, filters: 2, generator: &g)), features: 2 * 3 * 3, targetVocabulary: 5, embeddingDimensions: 3, units: 4,
                                           generator: &g)
        let images = Variable(Tensor<Double>(randomNormal: [2, 5, 5, 1], generator: &g))
        let context = ForwardContext(training: true)
        let logits = model.decode([[4, 1, 2], [4, 0, 0]], from: model.encode(images: images, context: context))
        XCTAssertEqual(logits.shape, [5, 2, 3])
        logits.sum().backward()
        let filter: Parameter<Double> = model.parameters.first!   // the image encoder's parameters come first
        XCTAssertGreaterThan(filter.gradient!.norm(), 0)
        let hypotheses = model.decode(from: withoutGradients { let s = model.encode(images: Variable(images.value.slice(axis: 0, 0..<1)), context: context); return (s.state.value, s.cell.value) },
                                      startToken: 4, search: BeamSearch(width: 2, maximumLength: 3, endToken: 0))
        XCTAssertFalse(hypotheses.isEmpty)
    }
}

/// A ConvNet image encoder for the captioning test: convolution, ReLU, flatten to `(features, m)`.
final class ConvFeatures: Layer {
    let conv: Conv2D<Double>
    init(_ conv: Conv2D<Double>) { self.conv = conv }
    func forward(_ input: Variable<Double>, context: ForwardContext) -> Variable<Double> {
        Flatten<Double>().forward(relu(conv.forward(input, context: context)), context: context)
    }
    var parameters: [Parameter<Double>] { conv.parameters }
    var summary: String { "ConvFeatures" }
    static var typeName: String { "ConvFeatures" }
    var configuration: LayerConfiguration { LayerConfiguration([:]) }
    init(configuration: LayerConfiguration) throws { throw ModelFileError.corrupt("not stored") }
}
