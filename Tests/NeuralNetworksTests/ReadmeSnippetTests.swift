import NeuralNetworks
import Tensors
import XCTest

/// The README's deep-network snippet, verbatim between the markers.
final class ReadmeSnippetTests: XCTestCase {
    func testReadmeDeepNetwork() throws {
        // README deep network: begin
        let (X, Y): (Tensor<Float>, Tensor<Float>) = Datasets.moons(count: 1000, noise: 0.15, seed: 1)   // X (2, m), Y (1, m)
        let data = trainDevTestSplit(X, Y, train: 0.8, dev: 0.1, seed: 2)
        var rng = RandomGenerator(seed: 3)
        let model = Sequential<Float>.deepNetwork(layerSizes: [2, 16, 8, 1], generator: &rng)    // [LINEAR→RELU]×2 → LINEAR (logits); predict applies σ
        let history = try model.fit(data.train.X, data.train.Y, optimizer: Adam(),
                                    configuration: TrainingConfiguration(epochs: 100, batchSize: 64, learningRate: 0.01, l2: 0.01),
                                    validation: data.dev)
        let accuracy = Metrics.accuracy(model.predict(data.test.X), data.test.Y)
        print("final cost \(history.costs.last!), test accuracy \(accuracy)")
        // README deep network: end
        XCTAssertGreaterThan(accuracy, 0.95)
        XCTAssertLessThan(history.costs.last!, history.costs.first!)
    }
}
