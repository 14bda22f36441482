import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// The notes' logistic regression (C1W2) through the layer API, with values
/// derived by hand in the comments.
final class LogisticRegressionModelTests: XCTestCase {
    /// Data: x⁽¹⁾ = (1, 2), x⁽²⁾ = (3, −1), y = (1, 0); w = 0, b = 0.
    /// Then z = 0, a = σ(0) = ½ for both, J = −½(ln ½ + ln ½) = ln 2,
    /// dZ = A − Y = (−½, ½), dw = X·dZᵀ/m = ((1·−½ + 3·½)/2, (2·−½ + −1·½)/2) = (½, −¾),
    /// db = (−½ + ½)/2 = 0. One step with α = 0.1: w = (−0.05, 0.075), b = 0.
    func testGradientAndOneStepByHand() throws {
        let X = Tensor<Double>([[1, 3], [2, -1]]), Y = Tensor<Double>([[1, 0]])
        let model = Sequential<Double>.logisticRegression(features: 2)
        XCTAssertEqual(model.predict(X).scalars, [0.5, 0.5])
        let Z = model.forward(Variable(X), context: ForwardContext(training: true))
        let J = BinaryCrossEntropyWithLogits<Double>()(Z, Y)
        XCTAssertEqual(J.value.scalar, Foundation.log(2.0), accuracy: 1e-15)
        J.backward()
        XCTAssertEqual(model[parameter: "W1"]!.gradient!.scalars[0], 0.5, accuracy: 1e-15)
        XCTAssertEqual(model[parameter: "W1"]!.gradient!.scalars[1], -0.75, accuracy: 1e-15)
        XCTAssertEqual(model[parameter: "b1"]!.gradient!.scalars[0], 0, accuracy: 1e-15)
        try model.fit(X, Y, optimizer: GradientDescent(learningRate: 0.1),
                      configuration: TrainingConfiguration(epochs: 1, shuffles: false))
        XCTAssertEqual(model[parameter: "W1"]!.value.scalars[0], -0.05, accuracy: 1e-15)
        XCTAssertEqual(model[parameter: "W1"]!.value.scalars[1], 0.075, accuracy: 1e-15)
        XCTAssertEqual(model[parameter: "b1"]!.value.scalars[0], 0, accuracy: 1e-15)
    }

    /// Clipping by value bounds each element; by norm rescales all gradients together.
    func testGradientClipping() throws {
        let X = Tensor<Double>([[10, -30]]), Y = Tensor<Double>([[0, 0]])
        func step(_ clipping: GradientClipping) throws -> Double {
            let model = Sequential<Double>([Dense(weight: Tensor([[1.0]]), bias: Tensor([[0.0]]))])
            try model.fit(X, Y, loss: MeanSquaredError(), optimizer: GradientDescent(learningRate: 1),
                          configuration: TrainingConfiguration(epochs: 1, clipping: clipping, shuffles: false))
            return model[parameter: "W1"]!.value.scalars[0]
        }
        // ŷ = x, dW = Σ x²/m = (100 + 900)/2 = 500, db = Σ x/m = −10.
        XCTAssertEqual(try step(.none), 1 - 500)
        XCTAssertEqual(try step(.value(2)), 1 - 2)
        // Global norm √(500² + 10²) ≈ 500.1 scaled to 5: dW ≈ 5·500/500.1.
        let globalNorm: Double = (500.0 * 500.0 + 100.0).squareRoot()
        let expected: Double = 1 - 5 * 500 / globalNorm
        XCTAssertEqual(try step(.norm(5)), expected, accuracy: 1e-12)
    }
}
