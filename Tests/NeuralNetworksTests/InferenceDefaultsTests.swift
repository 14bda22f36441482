import Foundation
import Tensors
import NeuralNetworks
import XCTest

/// The calls a user ports from Keras or PyTorch compile without spelling out
/// `<Float>`, and the learning rate lives on the optimizer.
final class InferenceDefaultsTests: XCTestCase {
    func testCommonCallsInferFloat() throws {
        let adam = Adam()
        XCTAssertTrue(type(of: adam) == Adam<Float>.self)
        XCTAssertTrue(type(of: GradientDescent()) == GradientDescent<Float>.self)
        XCTAssertTrue(type(of: Momentum()) == Momentum<Float>.self)
        XCTAssertTrue(type(of: RMSprop()) == RMSprop<Float>.self)
        let (X, Y) = Datasets.moons(count: 20, seed: 1)
        XCTAssertTrue(type(of: X) == Tensor<Float>.self)
        XCTAssertEqual(Y.shape, [1, 20])
        let flower = Datasets.flower(count: 10, seed: 2)
        XCTAssertEqual(flower.X.shape, [2, 10])
        // With a type context the generic forms still serve.
        let double: (X: Tensor<Double>, Y: Tensor<Double>) = Datasets.moons(count: 20, seed: 1)
        XCTAssertEqual(double.X.scalars.map(Float.init), X.scalars)
        let model = Sequential<Double>.logisticRegression(features: 2)
        try model.fit(double.X, double.Y, optimizer: Adam(), configuration: TrainingConfiguration(epochs: 1))
    }

    func testLearningRateLivesOnTheOptimizer() throws {
        XCTAssertEqual(Adam().learningRate, 0.001, "Keras's defaults")
        XCTAssertEqual(RMSprop().learningRate, 0.001)
        XCTAssertEqual(GradientDescent().learningRate, 0.01)
        XCTAssertEqual(Momentum().learningRate, 0.01)
        let (X, Y) = Datasets.moons(count: 40, seed: 3)
        func run(_ rate: Double) throws -> History {
            let model = Sequential<Float>.logisticRegression(features: 2)
            let optimizer = GradientDescent(learningRate: rate)
            return try model.fit(X, Y, optimizer: optimizer, configuration: TrainingConfiguration(epochs: 2, schedule: .inverseTime(decayRate: 1)))
        }
        let history = try run(0.5)
        XCTAssertEqual(history.epochs.map(\.learningRate), [0.5 / 2, 0.5 / 3], "the schedule starts from the optimizer's rate")
        XCTAssertNotEqual(try run(0.1).costs, history.costs)
        let optimizer = GradientDescent(learningRate: 0.5)
        optimizer.learningRate = 0
        XCTAssertThrowsError(try Sequential<Float>.logisticRegression(features: 2)
            .fit(X, Y, optimizer: optimizer, configuration: TrainingConfiguration(epochs: 1))) { error in
            XCTAssertTrue("\(error)".contains("learning rate 0.0 must be positive"), "\(error)")
        }
        let record = EpochRecord(epoch: 1, cost: 0.5, learningRate: 0.1)
        XCTAssertEqual(History(epochs: [record]).costs, [0.5])
    }
}

extension InferenceDefaultsTests {
    /// Tensors saved by name come back equal, from Float or into Double.
    func testNamedTensorsRoundTrip() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("tensors-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        let tensors: [String: Tensor<Float>] = ["x": Tensor([[1, 2], [3, 4.5]]), "bias": Tensor([0.25])]
        try ModelFile.save(tensors, to: url)
        XCTAssertEqual(try ModelFile.loadTensors(from: url, as: Float.self), tensors)
        XCTAssertEqual(try ModelFile.loadTensors(from: url, as: Double.self)["x"], Tensor<Double>([[1, 2], [3, 4.5]]))
        XCTAssertThrowsError(try ModelFile.loadTensors(from: url.appendingPathExtension("missing"), as: Float.self))
    }
}

extension InferenceDefaultsTests {
    /// Literal arguments do not turn an optimizer into Double.
    func testLiteralArgumentsKeepFloat() {
        XCTAssertTrue(type(of: Momentum(learningRate: 0.01, beta: 0.9)) == Momentum<Float>.self)
        XCTAssertTrue(type(of: Adam(learningRate: 0.01, beta1: 0.8)) == Adam<Float>.self)
        XCTAssertTrue(type(of: RMSprop(beta2: 0.99)) == RMSprop<Float>.self)
        let double: Adam<Double> = Adam(beta1: 0.8)
        XCTAssertEqual(double.beta1, 0.8)
    }
}
