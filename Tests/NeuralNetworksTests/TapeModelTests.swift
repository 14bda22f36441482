import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Models that only the tape makes right: residual connections, branches,
/// shared weights; the step-by-step C1W4 reference against the tape; logits
/// at the output; the NaN guard over layer state.
final class TapeModelTests: XCTestCase {
    var generator = RandomGenerator(seed: 21)

    func data(_ features: Int, _ m: Int) -> (Tensor<Double>, Tensor<Double>) {
        (Tensor(randomNormal: [features, m], generator: &generator),
         Tensor<Double>(randomUniform: [1, m], generator: &generator) .> 0.5)
    }

    func dense(_ inputs: Int, _ outputs: Int) -> Dense<Double> {
        let layer = Dense<Double>(inputs: inputs, outputs: outputs, initializer: .scaledNormal(1), generator: &generator)
        layer.b!.value = Tensor(randomNormal: [outputs, 1], standardDeviation: 0.1, generator: &generator)   // off ReLU's kink
        return layer
    }

    /// a[l+2] = relu(z[l+2] + a[l]) (C4W2's residual block, on dense layers).
    func residualMLP() -> GraphModel<Double> {
        let x = GraphNode<Double>.input()
        let a0 = Activation<Double>(.tanh)(dense(4, 6)(x))
        let a1 = Activation<Double>(.relu)(dense(6, 6)(a0))
        let z2 = dense(6, 6)(a1)
        let a2 = Activation<Double>(.relu)(Add<Double>()([z2, a0]))
        return GraphModel(inputs: [x], outputs: [dense(6, 1)(a2)], outputActivation: .sigmoid)
    }

    func testResidualMLPPassesTheGradientCheck() {
        let (X, Y) = data(4, 9)
        let model = residualMLP()
        XCTAssertEqual(model.parameters.map(\.name), ["dense1.W", "dense1.b", "dense2.W", "dense2.b", "dense3.W", "dense3.b",
                                                      "dense4.W", "dense4.b"])
        assertGreat(gradientCheck(model, X, Y, loss: BinaryCrossEntropyWithLogits(), l2: 0.3), "residual MLP")
    }

    /// Two branches of different widths concatenated along the units (Inception's shape).
    func testTwoBranchConcatenationPassesTheGradientCheck() {
        let (X, Y) = data(3, 7)
        let x = GraphNode<Double>.input()
        let left = Activation<Double>(.relu)(dense(3, 4)(x))
        let right = Activation<Double>(.sigmoid)(BatchNorm<Double>(units: 2)(dense(3, 2)(x)))
        let gate = Activation<Double>(.sigmoid)(dense(3, 6)(x))
        let joined = Multiply<Double>()([Concatenate<Double>(axis: 0)([left, right]), gate])
        let model = GraphModel(inputs: [x], outputs: [dense(6, 1)(joined)], outputActivation: .sigmoid)
        assertGreat(gradientCheck(model, X, Y, loss: BinaryCrossEntropyWithLogits()), "concatenated branches")
    }

    /// One encoder applied to two inputs (a Siamese pair): its weights get the
    /// sum of both uses, and the model has two inputs.
    func testWeightSharedTwoTowerModelPassesTheGradientCheck() {
        let (X1, Y) = data(4, 6)
        let (X2, _) = data(4, 6)
        let encoder = dense(4, 5), head = dense(10, 1)
        let a = GraphNode<Double>.input(), b = GraphNode<Double>.input()
        let ea = Activation<Double>(.tanh)(encoder(a)), eb = Activation<Double>(.tanh)(encoder(b))
        let model = GraphModel(inputs: [a, b], outputs: [head(Concatenate<Double>()([ea, eb]))])
        XCTAssertEqual(model.parameters.count, 4, "the shared encoder is one set of parameters")
        let parameters = model.parameters.map { ($0.name, $0.variable) }
        let report = gradientCheck(parameters) {
            let out = model.forward([Variable(X1), Variable(X2)], context: ForwardContext(training: true))[0]
            return BinaryCrossEntropyWithLogits()(out, Y)
        }
        assertGreat(report, "two towers, one encoder")
    }

    /// The same Dense layer twice in a Sequential: the case that failed the
    /// old per-layer caches (relative error 0.19).
    func testDenseUsedTwiceInSequential() {
        let (X, Y) = data(5, 8)
        let shared = dense(5, 5)
        let model = Sequential<Double>([shared, Activation(.tanh), shared, Activation(.tanh), dense(5, 1)], outputActivation: .sigmoid)
        XCTAssertEqual(model.parameters.map(\.name), ["W1", "b1", "W2", "b2"])
        assertGreat(gradientCheck(model, X, Y, loss: BinaryCrossEntropyWithLogits()), "shared Dense")
    }

    /// The gradient with respect to the input (neural style transfer's image).
    func testGradientWithRespectToTheInput() {
        let model = residualMLP()
        let (X, Y) = data(4, 5)
        let input = Variable(X, requiresGradient: true)
        let check = gradientCheck([("X", input)]) {
            BinaryCrossEntropyWithLogits()(model.forward(input, context: ForwardContext(training: false)), Y)
        }
        assertGreat(check, "∂J/∂X")
    }

    /// The C1W4 step-by-step network (explicit caches, hand-written backward)
    /// and the tape give the same cost and gradients on the same network.
    func testStepByStepReferenceAgreesWithTheTape() {
        let (X, Y) = data(5, 12)
        var g = RandomGenerator(seed: 3)
        var parameters: [String: Tensor<Double>] = DeepNetworkSteps.initializeParameters(layerDimensions: [5, 7, 4, 1], generator: &g)
        for l in 1...3 { parameters["b\(l)"] = Tensor(randomNormal: parameters["b\(l)"]!.shape, standardDeviation: 0.1, generator: &g) }
        let (AL, caches) = DeepNetworkSteps.modelForward(X, parameters: parameters)
        let cost = DeepNetworkSteps.computeCost(AL, Y)
        let reference = DeepNetworkSteps.modelBackward(AL, Y, caches: caches)

        let model = Sequential<Double>([
            Dense(weight: parameters["W1"]!, bias: parameters["b1"]!), Activation(.relu),
            Dense(weight: parameters["W2"]!, bias: parameters["b2"]!), Activation(.relu),
            Dense(weight: parameters["W3"]!, bias: parameters["b3"]!), Activation(.sigmoid),
        ])
        let J = BinaryCrossEntropy<Double>()(model.forward(Variable(X), context: ForwardContext(training: true)), Y)
        J.backward()
        XCTAssertEqual(J.value.scalar, cost, accuracy: 1e-14)
        for p in model.parameters {
            let expected = reference["d" + p.name]!
            XCTAssertEqual(p.gradient!.shape, expected.shape)
            for (a, e) in zip(p.gradient!.scalars, expected.scalars) { XCTAssertEqual(a, e, accuracy: 1e-13, p.name) }
        }
        // One update of each agrees too.
        DeepNetworkSteps.updateParameters(&parameters, gradients: reference, learningRate: 0.1)
        GradientDescent<Double>().step(model.parameters, learningRate: 0.1)
        for p in model.parameters {
            for (a, e) in zip(p.value.scalars, parameters[p.name]!.scalars) { XCTAssertEqual(a, e, accuracy: 1e-14, p.name) }
        }
    }

    /// In Float σ(20) rounds to 1, so a loss on probabilities sees a = 1 for
    /// y = 0 and its clipped gradient vanishes into rounding; the logit form
    /// gives dZ = σ(20) − 0 ≈ 1 (divided by m).
    func testLogitsKeepTheGradientOfASaturatedExample() {
        let model = Sequential<Float>([Dense(weight: Tensor([[1.0]]), bias: Tensor([[0.0]]))], outputActivation: .sigmoid)
        let X = Tensor<Float>([[20]]), Y = Tensor<Float>([[0]])
        XCTAssertEqual(model.predict(X).scalar, 1, "σ(20) is 1 in Float")
        let J = model.defaultLoss(model.forward(Variable(X), context: ForwardContext(training: true)), Y)
        J.backward()
        XCTAssertEqual(J.value.scalar, 20, accuracy: 1e-5)
        XCTAssertEqual(model[parameter: "W1"]!.gradient!.scalar, 20, accuracy: 1e-4, "dW = (σ(z) − y)·x = 20")
        XCTAssertEqual(model[parameter: "b1"]!.gradient!.scalar, 1, accuracy: 1e-6)
    }

    /// A batch that makes the cost NaN throws before BatchNorm's running
    /// averages move: later predictions stay finite.
    func testNaNGuardCoversBatchNormState() throws {
        var g = RandomGenerator(seed: 4)
        let norm = BatchNorm<Float>(units: 3)
        let model = Sequential<Float>([Dense(inputs: 2, outputs: 3, generator: &g), norm, Activation(.relu),
                                       Dense(inputs: 3, outputs: 1, generator: &g)], outputActivation: .sigmoid)
        let X = Tensor<Float>([[1, 2, .nan, 4], [0, 1, 2, 3]]), Y = Tensor<Float>([[0, 1, 0, 1]])
        let before = (norm.runningMean, norm.runningVariance)
        XCTAssertThrowsError(try model.fit(X, Y, optimizer: Adam(learningRate: 0.1), configuration: TrainingConfiguration(epochs: 1)))
        XCTAssertEqual(norm.runningMean, before.0)
        XCTAssertEqual(norm.runningVariance, before.1)
        XCTAssertTrue(model.predict(Tensor([[1], [2]])).isFinite)
    }

    /// An empty batch of feature maps has no statistics: the running averages stay put.
    func testBatchNormIgnoresEmptyBatches() {
        let norm = BatchNorm<Float>(channels: 2)
        let context = ForwardContext(training: true)
        let y = norm.forward(Variable(Tensor<Float>.zeros([0, 3, 3, 2])), context: context)
        context.commitUpdates()
        XCTAssertEqual(y.shape, [0, 3, 3, 2])
        XCTAssertEqual(norm.runningMean, .zeros([1, 2]))
        XCTAssertEqual(norm.runningVariance, .ones([1, 2]))
    }

    func testFitRejectsUnusableDataWithErrors() {
        let model = Sequential<Double>([Dense(weight: Tensor([[1.0]]), bias: Tensor([[0.0]]))])
        let configuration = TrainingConfiguration(epochs: 1, batchSize: 0)
        XCTAssertThrowsError(try model.fit(Tensor([[1.0, 2]]), Tensor([[1.0, 2]]), optimizer: Adam(learningRate: 0.1), configuration: configuration))
        let ok = TrainingConfiguration(epochs: 1)
        XCTAssertThrowsError(try model.fit(Tensor([[1.0, 2]]), Tensor([[1.0, 2, 3]]), optimizer: Adam(), configuration: ok)) { error in
            XCTAssertTrue("\(error)".contains("X has 2 examples"), "\(error)")
        }
        XCTAssertThrowsError(try model.fit(Tensor([[1.0, 2]]), Tensor([1.0, 2]), optimizer: Adam(), configuration: ok))
    }

    /// `Dense(useBias: false)` before batch norm (C2W3-05): no `b`, `Z = W·A`,
    /// the gradient check through batch norm, and a file that keeps the choice
    /// (files without the setting, the older ones, have a bias).
    func testDenseWithoutBiasBeforeBatchNorm() throws {
        var g = RandomGenerator(seed: 41)
        let layer = Dense<Double>(inputs: 3, outputs: 4, useBias: false, generator: &g)
        XCTAssertNil(layer.b)
        XCTAssertEqual(layer.parameters.map(\.value.count), [12])
        XCTAssertTrue(layer.summary.hasSuffix("no bias)"), layer.summary)
        let x = Tensor<Double>(randomNormal: [3, 5], generator: &g)
        XCTAssertEqual(layer.forward(Variable(x), context: ForwardContext(training: false)).value, matmul(layer.W.value, x))
        let model = Sequential<Double>([
            Dense(inputs: 3, outputs: 4, useBias: false, generator: &g), BatchNorm(units: 4), Activation(.relu),
            Dense(inputs: 4, outputs: 2, generator: &g),
        ], outputActivation: .softmax)
        XCTAssertEqual(model.parameters.map(\.value.count), [12, 4, 4, 8, 2], "W, γ, β, W, b")
        let Y = Tensor<Double>.oneHot([0, 1, 1, 0, 1], classes: 2)
        assertGreat(gradientCheck(model, x, Y, loss: SoftmaxCrossEntropy()), "dense without bias → batch norm")
        let loaded = try savedAndLoaded(model)
        XCTAssertNil((loaded.layers[0] as! Dense<Double>).b)
        XCTAssertEqual(loaded.predict(x), model.predict(x))
        var settings = layer.configuration
        settings.values["useBias"] = nil
        XCTAssertNotNil(try Dense<Double>(configuration: settings).b, "a file without the setting")
    }

    /// TC-BN1 (C2W3-04): with γ = √(σ² + ε) and β = μ of the batch, batch norm
    /// gives back its input, z̃ = z, in training mode (batch statistics) — for
    /// dense units and for the channels of feature maps.
    func testBatchNormWithGammaAndBetaFromTheBatchIsTheIdentity() {
        var g = RandomGenerator(seed: 31)
        let z = Tensor<Double>(randomNormal: [3, 8], generator: &g) * 2 + 1
        let dense = BatchNorm<Double>(units: 3)
        dense.gamma.value = sqrt(z.variance(axis: 1, keepingDimensions: true) + dense.epsilon)
        dense.beta.value = z.mean(axis: 1, keepingDimensions: true)
        assertClose(dense.forward(Variable(z), context: ForwardContext(training: true)).value, z.scalars, tolerance: 1e-13)
        let maps = Tensor<Double>(randomNormal: [2, 3, 3, 4], generator: &g) * 3 - 2
        let channels = BatchNorm<Double>(channels: 4)
        let columns = maps.reshaped(to: [18, 4])
        channels.gamma.value = sqrt(columns.variance(axis: 0, keepingDimensions: true) + channels.epsilon)
        channels.beta.value = columns.mean(axis: 0, keepingDimensions: true)
        assertClose(channels.forward(Variable(maps), context: ForwardContext(training: true)).value, maps.scalars, tolerance: 1e-13)
    }

    /// z = (1, 2, 3, 6): μ = 3, biased σ² = (4 + 1 + 0 + 9)/4 = 3.5, unbiased 14/3.
    /// After one training step from (0, 1) with momentum 0.9: mean 0.3, variance
    /// 0.9 + 0.1·3.5 = 1.25 (the notes, Keras) or 0.9 + 0.1·14/3 (PyTorch).
    func testBatchNormRunningVarianceConventions() throws {
        for (estimate, expected) in [(BatchNorm<Double>.VarianceEstimate.biased, 1.25), (.unbiased, 0.9 + 1.4 / 3)] {
            let norm = BatchNorm<Double>(units: 1, runningVarianceEstimate: estimate)
            let context = ForwardContext(training: true)
            _ = norm.forward(Variable(Tensor([[1, 2, 3, 6]])), context: context)
            context.commitUpdates()
            XCTAssertEqual(norm.runningMean.scalar, 0.3, accuracy: 1e-15)
            XCTAssertEqual(norm.runningVariance.scalar, expected, accuracy: 1e-15, "\(estimate)")
            XCTAssertEqual(try BatchNorm<Double>(configuration: norm.configuration).runningVarianceEstimate, estimate)
        }
    }

    /// BatchNorm's inference-mode backward (running statistics are constants:
    /// dz = g·γ/√(σ² + ε)) against finite differences, with respect to the input,
    /// γ and β — the training-mode rule is checked by the model gradient checks.
    func testBatchNormInferenceBackwardPassesTheGradientCheck() {
        let norm = BatchNorm<Double>(units: 3)
        let context = ForwardContext(training: true)
        _ = norm.forward(Variable(Tensor(randomNormal: [3, 8], mean: 1, standardDeviation: 2, generator: &generator)), context: context)
        context.commitUpdates()   // non-trivial running averages
        norm.gamma.value = Tensor(randomNormal: [3, 1], generator: &generator)
        let X = Variable(Tensor<Double>(randomNormal: [3, 5], generator: &generator), requiresGradient: true)
        let R = Tensor<Double>(randomNormal: [3, 5], generator: &generator)
        let report = gradientCheck([("X", X), ("gamma", norm.gamma.variable), ("beta", norm.beta.variable)]) {
            (norm.forward(X, context: ForwardContext(training: false)) * Variable(R)).sum()
        }
        assertGreat(report, "BatchNorm at inference")
    }
}
