import NeuralNetworks
import Tensors
import XCTest

/// Every layer's backward pass, every loss and the deep network against
/// two-sided finite differences in Double (C2W1-14): relative difference
/// below 1e-7 is the notes' "great".
final class GradientCheckTests: XCTestCase {
    var generator = RandomGenerator(seed: 7)

    func data(_ features: Int, _ m: Int, classes: Int = 1) -> (Tensor<Double>, Tensor<Double>) {
        let X = Tensor<Double>(randomNormal: [features, m], generator: &generator)
        if classes == 1 {
            return (X, Tensor<Double>(randomUniform: [1, m], generator: &generator) .> 0.5)
        }
        let labels = (0..<m).map { _ in generator.nextIndex(below: classes) }
        return (X, Tensor.oneHot(labels, classes: classes))
    }

    /// ReLU6 (MobileNet v2) with pre-activations spread over both kinks (below 0 and above 6).
    func testReLU6AfterDense() {
        let (X, Y) = data(3, 6)
        let model = Sequential<Double>([
            Dense(inputs: 3, outputs: 4, initializer: .scaledNormal(1), generator: &generator), Activation(.relu6),
            Dense(inputs: 4, outputs: 1, initializer: .scaledNormal(1), generator: &generator), Activation(.sigmoid),
        ])
        let Z = model.layers[0](X * 8)
        XCTAssertTrue(Z.scalars.contains { $0 > 6 } && Z.scalars.contains { $0 < 0 }, "both kinks are reached")
        assertGreat(gradientCheck(model, X * 8, Y, loss: BinaryCrossEntropy()), "relu6")
    }

    func testEachActivationAfterDense() {
        for function in [ActivationFunction.sigmoid, .tanh, .relu, .leakyRelu(slope: 0.01), .identity] {
            let (X, Y) = data(3, 5)
            let model = Sequential<Double>([
                Dense(inputs: 3, outputs: 4, initializer: .scaledNormal(1), generator: &generator), Activation(function),
                Dense(inputs: 4, outputs: 1, initializer: .scaledNormal(1), generator: &generator), Activation(.sigmoid),
            ])
            assertGreat(gradientCheck(model, X, Y, loss: BinaryCrossEntropy()), "\(function)")
        }
    }

    func testLossesFromLogitsAndMSE() {
        let (X, Y) = data(3, 6)
        let logits = Sequential<Double>([Dense(inputs: 3, outputs: 1, initializer: .scaledNormal(1), generator: &generator)])
        assertGreat(gradientCheck(logits, X, Y, loss: BinaryCrossEntropyWithLogits()), "BCE with logits")
        assertGreat(gradientCheck(logits, X, Y, loss: MeanSquaredError()), "MSE")
        let (Xc, Yc) = data(4, 7, classes: 3)
        let classifier = Sequential<Double>([Dense(inputs: 4, outputs: 3, initializer: .scaledNormal(1), generator: &generator)])
        assertGreat(gradientCheck(classifier, Xc, Yc, loss: SoftmaxCrossEntropy()), "softmax CE from logits")
        let withSoftmax = Sequential<Double>([Dense(inputs: 4, outputs: 3, initializer: .scaledNormal(1), generator: &generator), Softmax()])
        assertGreat(gradientCheck(withSoftmax, Xc, Yc, loss: CategoricalCrossEntropy()), "softmax layer + CE")
        // Multi-task with a missing label (NaN) that must be ignored.
        var Ym = Tensor<Double>(randomUniform: [3, 7], generator: &generator) .> 0.5
        Ym[1, 2] = .nan
        assertGreat(gradientCheck(classifier, Xc, Ym, loss: MultiTaskSigmoidCrossEntropy()), "multi-task")
    }

    /// TC-G1: f(θ) = θ³ at θ = 1 with ε = 0.01.
    func testOneAndTwoSidedDifferences() {
        let cube: (Double) -> Double = { $0 * $0 * $0 }
        XCTAssertEqual(numericalDerivative(of: cube, at: 1, epsilon: 0.01, using: .oneSided), 3.0301, accuracy: 1e-12)
        XCTAssertEqual(numericalDerivative(of: cube, at: 1, epsilon: 0.01), 3.0001, accuracy: 1e-12)
        XCTAssertEqual(numericalDerivative(of: cube, at: 1), 3, accuracy: 1e-8)
    }

    /// The mean absolute error by hand — differences (1, 0; −2, 3) over m = 2:
    /// J = 6/2 = 3, ∂J/∂ŷ = sign/2 — and by finite differences on a model.
    func testMeanAbsoluteError() {
        let (J, dA) = MeanAbsoluteError<Double>()(Tensor([[1.0, 2], [3, 4]]), Tensor([[0.0, 2], [5, 1]]))
        XCTAssertEqual(J, 3)
        XCTAssertEqual(dA.scalars, [0.5, 0, -0.5, 0.5])
        let (X, Y) = data(3, 6)
        let model = Sequential<Double>([Dense(inputs: 3, outputs: 2, initializer: .scaledNormal(1), generator: &generator)])
        assertGreat(gradientCheck(model, X, Tensor.concatenate([Y, Y * 2], axis: 0), loss: MeanAbsoluteError()), "MAE")
    }

    func testBatchNormDropoutAndL2() {
        let (X, Y) = data(3, 8)
        let model = Sequential<Double>([
            Dense(inputs: 3, outputs: 5, initializer: .scaledNormal(1), generator: &generator), BatchNorm(units: 5), Activation(.tanh),
            Dropout(keepProbability: 0.5),
            Dense(inputs: 5, outputs: 1, initializer: .scaledNormal(1), generator: &generator), Activation(.sigmoid),
        ])
        // Dropout stays on: every evaluation replays the same seed, so the same masks.
        let before = (model.layers[1] as! BatchNorm<Double>).runningMean
        assertGreat(gradientCheck(model, X, Y, loss: BinaryCrossEntropy(), l2: 0.7), "BatchNorm + dropout + L2")
        assertGreat(gradientCheck(model, X, Y, loss: BinaryCrossEntropy(), l1: 0.7), "BatchNorm + dropout + L1")
        XCTAssertEqual((model.layers[1] as! BatchNorm<Double>).runningMean, before, "gradient checking leaves running averages alone")
        XCTAssertNotNil(model[parameter: "gamma1"])
        XCTAssertNotNil(model[parameter: "W2"])
    }

    func testReshapeAndFlatten() {
        let (X, Y) = data(4, 6)
        let model = Sequential<Double>([
            Dense(inputs: 4, outputs: 6, initializer: .scaledNormal(1), generator: &generator), Activation(.tanh),
            Reshape(exampleShape: [2, 3]), Reshape.flatten(),
            Dense(inputs: 6, outputs: 1, initializer: .scaledNormal(1), generator: &generator), Activation(.sigmoid),
        ])
        XCTAssertEqual(model.layers[2].forward(Variable(Tensor<Double>.zeros([6, 5])), context: ForwardContext(training: true)).shape, [2, 3, 5])
        assertGreat(gradientCheck(model, X, Y, loss: BinaryCrossEntropy()), "reshape + flatten")
    }

    /// The masked backward is exact: `y = x ⊙ M` with `M ∈ {0, 1/keep}`, so
    /// `∂J/∂x = g ⊙ M`, the same mask the forward pass applied.
    func testDropoutBackwardUsesTheForwardMask() {
        let dropout = Dropout<Double>(keepProbability: 0.8)
        let xValue = Tensor<Double>(randomUniform: [50, 40], lower: 1, upper: 2, generator: &generator)   // no zeros
        let x = Variable(xValue, requiresGradient: true)
        let g = Tensor<Double>(randomNormal: [50, 40], generator: &generator)
        let y = dropout.forward(x, context: ForwardContext(training: true, generator: RandomGenerator(seed: 9)))
        let mask = y.value / xValue
        XCTAssertEqual(Set(mask.scalars.map { ($0 * 1e12).rounded() / 1e12 }), [0, 1.25])
        XCTAssertEqual(Double(mask.scalars.filter { $0 == 0 }.count) / 2000, 0.2, accuracy: 0.03)   // ±3σ ≈ 0.027
        y.backward(seed: g)
        let dx = x.gradient!.scalars, expected = (g * mask).scalars
        XCTAssertEqual(dx.count, expected.count)
        for (a, e) in zip(dx, expected) { XCTAssertEqual(a, e, accuracy: 1e-15 * Swift.abs(e)) }
        XCTAssertEqual(dropout.forward(x, context: ForwardContext(training: false)).value, xValue, "identity at inference")
        let again = dropout.forward(x, context: ForwardContext(training: true, generator: RandomGenerator(seed: 9)))
        XCTAssertEqual(again.value, y.value, "the caller's seed decides the mask")
    }

    func testDeepNetwork() {
        // Zero biases can put a unit exactly on ReLU's kink (all its inputs dead ReLUs give z = 0),
        // where relu′(0) = 1 by the notes' convention but finite differences see ½; random biases avoid it.
        func randomizeBiases(_ model: Sequential<Double>) {
            for p in model.parameters where p.name.hasPrefix("b") {
                p.value = Tensor(randomNormal: p.value.shape, standardDeviation: 0.1, generator: &generator)
            }
        }
        let (X, Y) = data(4, 10, classes: 3)
        let softmax = Sequential<Double>.deepNetwork(layerSizes: [4, 6, 5, 3], softmaxOutput: true, generator: &generator)
        randomizeBiases(softmax)
        assertGreat(gradientCheck(softmax, X, Y, loss: SoftmaxCrossEntropy()), "deep softmax network (logits)")
        let (Xb, Yb) = data(4, 10)
        let binary = Sequential<Double>.deepNetwork(layerSizes: [4, 5, 3, 1], generator: &generator)
        randomizeBiases(binary)
        assertGreat(gradientCheck(binary, Xb, Yb, loss: BinaryCrossEntropyWithLogits()), "deep binary network (logits)")
        XCTAssertEqual(binary.parameters.map(\.name), ["W1", "b1", "W2", "b2", "W3", "b3"])
    }

    /// A deliberately wrong backward pass is caught.
    func testCheckerDetectsWrongGradients() {
        final class BrokenScale: Layer {
            typealias Scalar = Double
            init() {}
            func forward(_ input: Variable<Double>, context: ForwardContext) -> Variable<Double> {
                Variable(2 * input.value, derivedFrom: [input]) { g, _ in [3 * g] }   // should be 2×
            }
            var summary: String { "BrokenScale" }
            static var typeName: String { "BrokenScale" }
            var configuration: LayerConfiguration { LayerConfiguration() }
            init(configuration: LayerConfiguration) throws {}
        }
        let (X, Y) = data(3, 5)
        let model = Sequential<Double>([Dense(inputs: 3, outputs: 1, initializer: .scaledNormal(1), generator: &generator),
                                        BrokenScale(), Activation(.sigmoid)])
        let report = gradientCheck(model, X, Y, loss: BinaryCrossEntropy())
        XCTAssertEqual(report.verdict, .wrong, "\(report)")
    }
}
