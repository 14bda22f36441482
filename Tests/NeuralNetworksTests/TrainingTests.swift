import NeuralNetworks
import Tensors
import XCTest

final class TrainingTests: XCTestCase {
    /// TC-I1: with zero initialization both hidden units compute the same
    /// function and get the same gradient, so they stay identical forever.
    func testZeroInitializationDoesNotBreakSymmetry() throws {
        let (X, Y): (Tensor<Double>, Tensor<Double>) = Datasets.flower(count: 100, seed: 1)
        var g = RandomGenerator(seed: 2)
        let model = Sequential<Double>([
            Dense(inputs: 2, outputs: 2, initializer: .zeros, generator: &g), Activation(.tanh),
            Dense(inputs: 2, outputs: 1, initializer: .zeros, generator: &g), Activation(.sigmoid),
        ])
        try model.fit(X, Y, loss: BinaryCrossEntropy(), optimizer: GradientDescent(learningRate: 1.2),
                      configuration: TrainingConfiguration(epochs: 50))
        let W1 = model[parameter: "W1"]!.value
        XCTAssertEqual(W1.rows(0..<1).scalars, W1.rows(1..<2).scalars, "rows of W1 stay equal")
        // Random initialization breaks the symmetry (TC-I2).
        let random = Sequential<Double>.shallowNetwork(inputs: 2, hidden: 2, generator: &g)
        try random.fit(X, Y, optimizer: GradientDescent(learningRate: 1.2),
                       configuration: TrainingConfiguration(epochs: 50))
        let R = random[parameter: "W1"]!.value
        XCTAssertNotEqual(R.rows(0..<1).scalars, R.rows(1..<2).scalars)
    }

    /// Each initializer's spread: He `√(2/n[l−1])`, Xavier `√(1/n[l−1])` (standard
    /// deviations), Glorot uniform within `±√(6/(n[l−1] + n[l]))`, whose standard
    /// deviation is the bound over √3.
    func testInitializerScales() {
        var g = RandomGenerator(seed: 7)
        func deviation(_ w: Tensor<Double>) -> Double { (w.scalars.map { $0 * $0 }.reduce(0, +) / Double(w.count)).squareRoot() }
        let he: Tensor<Double> = Initializer.he.weights(rows: 300, columns: 200, generator: &g)
        XCTAssertEqual(deviation(he), (2.0 / 200).squareRoot(), accuracy: 0.01 * (2.0 / 200).squareRoot())
        let xavier: Tensor<Double> = Initializer.xavier.weights(rows: 300, columns: 200, generator: &g)
        XCTAssertEqual(deviation(xavier), (1.0 / 200).squareRoot(), accuracy: 0.01 * (1.0 / 200).squareRoot())
        let glorot: Tensor<Double> = Initializer.glorotUniform.weights(rows: 300, columns: 200, generator: &g)
        let bound = (6.0 / 500).squareRoot()
        XCTAssert(glorot.scalars.allSatisfy { Swift.abs($0) <= bound })
        XCTAssertGreaterThan(glorot.scalars.map(Swift.abs).max()!, 0.99 * bound)
        XCTAssertEqual(deviation(glorot), bound / 3.0.squareRoot(), accuracy: 0.01 * bound)
        let small: Tensor<Double> = Initializer.scaledNormal(0.01).weights(rows: 300, columns: 200, generator: &g)
        XCTAssertEqual(deviation(small), 0.01, accuracy: 0.0001, "the notes' randn · 0.01")
        let glorotNormal: Tensor<Double> = Initializer.glorotNormal.weights(rows: 300, columns: 200, generator: &g)
        XCTAssertEqual(deviation(glorotNormal), (2.0 / 500).squareRoot(), accuracy: 0.01 * (2.0 / 500).squareRoot())
    }

    /// TC-V1 (C2W1-11): 150 linear layers (identity activations, b = 0) with
    /// `W = 1.5·I` multiply the input by 1.5¹⁵⁰ ≈ 4.4e26 and the gradient of the
    /// first layer's weights by 1.5¹⁴⁹; with `0.5·I` both vanish (0.5¹⁵⁰ ≈ 7e-46).
    /// In Double, so neither overflows.
    func testDeepLinearNetworkExplodesOrVanishes() {
        for (diagonal, label) in [(1.5, "explodes"), (0.5, "vanishes")] {
            let identity = Tensor<Double>([[diagonal, 0], [0, diagonal]])
            let model = Sequential<Double>((0..<150).map { _ in Dense(weight: identity, bias: Tensor([[0], [0]])) })
            let x = Tensor<Double>([[1], [-2]])
            let yHat = model.forward(Variable(x), context: ForwardContext(training: false)).value
            let factor = pow(diagonal, 150)
            assertClose(yHat, [factor, -2 * factor], tolerance: 1e-9 * factor, label)
            // J = Σ ŷ: dW[1] = (W^149)ᵀ·1·xᵀ = 1.5¹⁴⁹ (resp. 0.5¹⁴⁹) times [[1, −2], [1, −2]].
            let J = GradientTape.$isRecording.withValue(true) { model.forward(Variable(x), context: ForwardContext(training: true)).sum() }
            J.backward()
            let g = pow(diagonal, 149)
            assertClose(model[parameter: "W1"]!.gradient!, [g, -2 * g, g, -2 * g], tolerance: 1e-9 * g, label)
        }
    }

    /// L1 regularization (C2W1-05) in `fit`: one step of batch gradient descent
    /// with λ against the same step without. The weights differ by exactly
    /// `−α·λ/(2m)·sign(W)` (the zero weight not at all), the biases not at
    /// all, and the epoch's cost by `λ/(2m)·Σ‖W‖₁`.
    func testL1RegularizationAddsTheNotesTermToCostAndGradient() throws {
        let X = Tensor<Double>([[0.5, -1, 2, 0.25, 1], [1, 0.5, -0.5, 2, -1]]), Y = Tensor<Double>([[1, 0, 1, 0, 1]])
        let (m, lambda, alpha) = (5.0, 0.3, 0.1)
        let w1 = Tensor<Double>([[0.5, -0.25], [0, 1], [-2, 0.75]]), w2 = Tensor<Double>([[1, -1, 0.5]])
        func model() -> Sequential<Double> {
            Sequential([Dense(weight: w1, bias: Tensor([[0.1], [0], [-0.1]])), Activation(.tanh), Dense(weight: w2, bias: Tensor([[0.2]]))])
        }
        let (plain, regularized) = (model(), model())
        let configuration = TrainingConfiguration(epochs: 1)
        let costs = try [(plain, 0.0), (regularized, lambda)].map { network, l1 in
            var c = configuration
            c.l1 = l1
            return try network.fit(X, Y, loss: BinaryCrossEntropyWithLogits(), optimizer: GradientDescent(learningRate: alpha),
                                   configuration: c).costs[0]
        }
        let norms = w1.scalars.map(abs).reduce(0, +) + w2.scalars.map(abs).reduce(0, +)
        XCTAssertEqual(costs[1] - costs[0], lambda / (2 * m) * norms, accuracy: 1e-14)
        for (name, start) in [("W1", w1), ("W2", w2)] {
            let difference = zip(regularized[parameter: name]!.value.scalars, plain[parameter: name]!.value.scalars).map { $0 - $1 }
            let expected = start.scalars.map { -alpha * lambda / (2 * m) * ($0 > 0 ? 1 : $0 < 0 ? -1 : 0) }
            for (d, e) in zip(difference, expected) { XCTAssertEqual(d, e, accuracy: 1e-15, name) }
        }
        for name in ["b1", "b2"] { XCTAssertEqual(regularized[parameter: name]!.value, plain[parameter: name]!.value, name) }
        var negative = configuration
        negative.l1 = -1
        XCTAssertThrowsError(try model().fit(X, Y, loss: MeanSquaredError(), optimizer: GradientDescent(), configuration: negative)) { error in
            XCTAssertEqual(error as? TrainingError, .invalidInput("L1 strength -1.0 must be non-negative and finite"))
        }
    }

    /// `fit` turns on the allocator's block retention by default and leaves
    /// it alone when the configuration says so.
    func testFitRetainsFreedMemoryUnlessTold() throws {
        let (X, Y): (Tensor<Float>, Tensor<Float>) = Datasets.flower(count: 40, seed: 5)
        var g = RandomGenerator(seed: 6)
        let model = Sequential<Float>.shallowNetwork(inputs: 2, hidden: 3, generator: &g)
        defer { TensorMemory.retainsFreedBlocks = false }
        TensorMemory.retainsFreedBlocks = false
        try model.fit(X, Y, optimizer: Adam(), configuration: TrainingConfiguration(epochs: 1, retainsFreedMemory: false))
        XCTAssertFalse(TensorMemory.retainsFreedBlocks)
        try model.fit(X, Y, optimizer: Adam(), configuration: TrainingConfiguration(epochs: 1))
        XCTAssertTrue(TensorMemory.retainsFreedBlocks)
    }

    /// The notes' C1W3 result: a tanh hidden layer separates the flower data,
    /// logistic regression cannot (≈ 50 % in the assignment).
    func testShallowNetworkBeatsLogisticRegressionOnTheFlower() throws {
        let (X, Y): (Tensor<Float>, Tensor<Float>) = Datasets.flower(count: 400, seed: 3)
        let logistic = Sequential<Float>.logisticRegression(features: 2)
        try logistic.fit(X, Y, optimizer: GradientDescent(learningRate: 1.2),
                         configuration: TrainingConfiguration(epochs: 500))
        var g = RandomGenerator(seed: 4)
        let shallow = Sequential<Float>.shallowNetwork(inputs: 2, hidden: 4, generator: &g)
        let history = try shallow.fit(X, Y, optimizer: GradientDescent(learningRate: 1.2),
                                      configuration: TrainingConfiguration(epochs: isReleaseBuild ? 5000 : 1000))
        let logisticAccuracy = Metrics.accuracy(logistic.predict(X), Y)
        let shallowAccuracy = Metrics.accuracy(shallow.predict(X), Y)
        print("flower accuracy: logistic regression \(logisticAccuracy), shallow network \(shallowAccuracy)")
        XCTAssertLessThan(logisticAccuracy, 0.7)
        XCTAssertGreaterThan(shallowAccuracy, 0.85)
        XCTAssertLessThan(history.costs.last!, history.costs.first!)
    }

    /// A divergent learning rate stops training with an error before the bad
    /// update, leaving the parameters of the last good step.
    func testNonFiniteGuardKeepsLastGoodParameters() {
        let X = Tensor<Double>([[1, 2, 3, 4]]), Y = Tensor<Double>([[2, 4, 6, 8]])
        let model = Sequential<Double>([Dense(weight: Tensor([[0.5]]), bias: Tensor([[0]]))])
        var snapshots: [[Double]] = []
        XCTAssertThrowsError(try model.fit(
            X, Y, loss: MeanSquaredError(), optimizer: GradientDescent(learningRate: 10),
            configuration: TrainingConfiguration(epochs: 500),
            onEpoch: { _ in snapshots.append(model.parameters.flatMap(\.value.scalars)); return true })
        ) { error in
            guard case .nonFinite(let epoch, _, _, _)? = error as? TrainingError else { return XCTFail("\(error)") }
            XCTAssertEqual(epoch, snapshots.count + 1, "the failing epoch is the one after the last recorded")
        }
        let current = model.parameters.flatMap(\.value.scalars)
        XCTAssertTrue(current.allSatisfy(\.isFinite))
        XCTAssertEqual(current, snapshots.last)
    }

    func testMiniBatchPartitionsKeepTheRemainder() {
        let X = Tensor<Float>(shape: [2, 10], scalars: (0..<20).map(Float.init))
        let Y = Tensor<Float>(shape: [1, 10], scalars: (0..<10).map(Float.init))
        var g = RandomGenerator(seed: 1)
        let batches = miniBatches(X, Y, size: 4, generator: &g)
        XCTAssertEqual(batches.map { $0.X.shape[1] }, [4, 4, 2])
        XCTAssertEqual(Set(batches.flatMap { $0.Y.scalars }), Set((0..<10).map(Float.init)))
        // Columns stay paired: X's second row is 10 + label.
        for b in batches { XCTAssertEqual(b.X.rows(1..<2).scalars, b.Y.scalars.map { $0 + 10 }) }
        XCTAssertEqual(miniBatches(X, Y, size: 10).first?.Y.scalars, Y.scalars, "batch GD keeps the order")
    }

    /// The mini-batches are those of one permutation drawn from the generator,
    /// picked example by example here with plain loops, in every layout the notes use.
    func testMiniBatchesAreThePermutedExamplesInEveryLayout() {
        for shape in [[3, 11], [2, 11, 4], [11, 3, 2, 2]] {
            let axis = exampleAxis(ofRank: shape.count)
            let count = shape.reduce(1, *)
            let X = Tensor<Double>(shape: shape, scalars: (0..<count).map { Double($0) })
            let Y = Tensor<Double>(shape: [2, 11], scalars: (0..<22).map { Double($0) })
            var g = RandomGenerator(seed: 7), reference = RandomGenerator(seed: 7)
            let batches = miniBatches(X, Y, size: 4, generator: &g)
            let order = reference.permutation(11)
            XCTAssertEqual(g.next(), reference.next(), "the batches draw exactly one permutation")
            XCTAssertEqual(batches.count, 3)
            let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
            for (b, batch) in batches.enumerated() {
                let picked = Array(order[(b * 4)..<Swift.min(11, b * 4 + 4)])
                var expected: [Double] = []
                for o in 0..<outer { for j in picked { for i in 0..<inner { expected.append(X.scalars[(o * 11 + j) * inner + i]) } } }
                var expectedShape = shape
                expectedShape[axis] = picked.count
                XCTAssertEqual(batch.X.shape, expectedShape, "\(shape) batch \(b)")
                XCTAssertEqual(batch.X.scalars, expected, "\(shape) batch \(b)")
                XCTAssertEqual(batch.Y.scalars, [0, 11].flatMap { row in picked.map { Double(row + $0) } }, "\(shape) batch \(b)")
            }
            let ordered = miniBatches(X, Y, size: 5)
            XCTAssertEqual(ordered.map { $0.Y.scalars }, [[0, 1, 2, 3, 4, 11, 12, 13, 14, 15], [5, 6, 7, 8, 9, 16, 17, 18, 19, 20], [10, 21]])
            XCTAssertEqual(miniBatches(X, Y, size: 11).map { $0.X }, [X], "one batch is the data itself")
        }
    }

    /// The loop path and the vectorized path train the same model to the same
    /// parameters (the notes' loops-vs-vectorization at the scale of a run).
    func testLoopAndVectorizedPathsTrainTheSameModel() throws {
        func train() throws -> [Float] {
            let (X, Y): (Tensor<Float>, Tensor<Float>) = Datasets.moons(count: 200, seed: 5)
            var g = RandomGenerator(seed: 6)
            let model = Sequential<Float>.deepNetwork(layerSizes: [2, 8, 4, 1], generator: &g)
            try model.fit(X, Y, optimizer: Adam(learningRate: 0.01),
                          configuration: TrainingConfiguration(epochs: 20, batchSize: 32, seed: 9))
            return model.parameters.flatMap(\.value.scalars)
        }
        let loop = try withComputePath(.loop, train), vectorized = try withComputePath(.vectorized, train)
        XCTAssertEqual(loop.count, vectorized.count)
        for (a, b) in zip(loop, vectorized) { XCTAssertEqual(a, b, accuracy: 1e-4) }
    }

    func testEarlyStoppingAndHistory() throws {
        let (X, Y): (Tensor<Double>, Tensor<Double>) = Datasets.moons(count: 100, seed: 8)
        let (Xv, Yv): (Tensor<Double>, Tensor<Double>) = Datasets.moons(count: 100, noise: 0.5, seed: 9)
        var g = RandomGenerator(seed: 10)
        let model = Sequential<Double>.deepNetwork(layerSizes: [2, 16, 1], generator: &g)
        let history = try model.fit(
            X, Y, optimizer: Adam(learningRate: 0.05),
            configuration: TrainingConfiguration(epochs: 2000, batchSize: 16, earlyStoppingPatience: 5),
            validation: (Xv, Yv), metrics: ["accuracy": Metrics.accuracy])
        XCTAssertTrue(history.stoppedEarly)
        XCTAssertLessThan(history.epochs.count, 2000)
        XCTAssertNotNil(history.epochs.last?.validationCost)
        XCTAssertNotNil(history.epochs.last?.metrics["validation accuracy"])
    }

    func testZeroEpochsLeaveTheModelUntouched() throws {
        let model = Sequential<Double>([Dense(weight: Tensor([[2.0]]), bias: Tensor([[1.0]]))])
        let history = try model.fit(Tensor([[1.0, 2.0]]), Tensor([[0.0, 1.0]]), loss: MeanSquaredError(), optimizer: Adam(learningRate: 0.1),
                                    configuration: TrainingConfiguration(epochs: 0))
        XCTAssertTrue(history.epochs.isEmpty)
        XCTAssertEqual(model[parameter: "W1"]!.value.scalars, [2.0])
    }

    /// TC-M1: F1 of classifiers A (P 95 %, R 90 %) and B (P 98 %, R 85 %).
    func testMetrics() {
        XCTAssertEqual(Metrics.f1(precision: 0.95, recall: 0.90), 0.9243, accuracy: 1e-4)
        XCTAssertEqual(Metrics.f1(precision: 0.98, recall: 0.85), 0.9104, accuracy: 1e-4)
        let predicted = [1, 1, 0, 0, 1], actual = [1, 0, 0, 1, 1]
        let (p, r, f) = Metrics.precisionRecallF1(predicted: predicted, actual: actual)
        XCTAssertEqual(p, 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(r, 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(f, 2.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(Metrics.confusionMatrix(predicted: predicted, actual: actual, classes: 2), [[1, 1], [1, 2]])
    }

    func testFrozenLayerKeepsItsWeights() throws {
        let (X, Y): (Tensor<Double>, Tensor<Double>) = Datasets.moons(count: 64, seed: 11)
        var g = RandomGenerator(seed: 12)
        let body = Dense<Double>(inputs: 2, outputs: 8, generator: &g)
        let model = Sequential<Double>([body, Activation(.relu), Dense(inputs: 8, outputs: 1, generator: &g), Activation(.sigmoid)])
        body.setTrainable(false)
        let before = body.W.value
        try model.fit(X, Y, loss: BinaryCrossEntropy(), optimizer: Adam(learningRate: 0.01), configuration: TrainingConfiguration(epochs: 5))
        XCTAssertEqual(body.W.value, before)
        XCTAssertNotEqual(model[parameter: "W2"]!.gradient!.scalars.allSatisfy { $0 == 0 }, true)
    }
}
