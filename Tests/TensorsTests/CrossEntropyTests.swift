@testable import Tensors
import XCTest

/// `softmaxCrossEntropy(logits:labels:)`: one sweep for the cost and the
/// gradient, against the composed ops it replaces, a hand-worked case, both
/// paths, and thread counts.
final class CrossEntropyTests: XCTestCase {
    /// z = (0, ln 3) in one column: softmax (1/4, 3/4); with y = (0, 1),
    /// J = −ln(3/4) = 0.2876820724517809, ∂J/∂z = (1/4, −1/4).
    func testHandWorkedColumn() {
        let z = Tensor<Double>(shape: [2, 1], scalars: [0, Foundation.log(3)]), y = Tensor<Double>(shape: [2, 1], scalars: [0, 1])
        for path in [ComputePath.loop, .vectorized] {
            let (cost, gradient) = withComputePath(path) { softmaxCrossEntropy(logits: z, labels: y) }
            XCTAssertEqual(cost, 0.2876820724517809, accuracy: 1e-15, "\(path)")
            XCTAssertEqual(gradient!.scalars[0], 0.25, accuracy: 1e-15, "\(path)")
            XCTAssertEqual(gradient!.scalars[1], -0.25, accuracy: 1e-15, "\(path)")
        }
    }

    /// Against `−(Y ⊙ logSoftmax(Z)).sum()/m` and `(softmax(Z) − Y)/m` on
    /// random logits and one-hot or soft labels, over shapes whose column
    /// counts are not multiples of the vector width or of the 256-column
    /// blocks; the cost alone equals the cost with the gradient bit for bit;
    /// one and two threads give the same bits.
    func testAgreesWithTheComposedOps() {
        func check<S: TensorScalar>(_: S.Type, tolerance: Double) {
            var g = RandomGenerator(seed: 41)
            for shape in [[1, 1], [3, 5], [10, 128], [10, 300], [7, 3, 37], [28, 16, 100]] {
                let z = Tensor<S>(randomNormal: shape, generator: &g) * 3
                let columns = z.count / shape[0]
                let classes = (0..<columns).map { _ in g.nextIndex(below: shape[0]) }
                var y = Tensor<S>.zeros([columns, shape[0]])   // one-hot rows, transposed below
                for (j, k) in classes.enumerated() { y[j, k] = 1 }
                let labels = [y.transposed().reshaped(to: shape), softmax(Tensor<S>(randomNormal: shape, generator: &g), axis: 0)]
                for (kind, y) in zip(["one-hot", "soft"], labels) {
                    let m = S(shape.last!)
                    let expectedCost = Double(-(y * logSoftmax(z, axis: 0)).sum() / m)
                    let expectedGradient = (softmax(z, axis: 0) - y) / m
                    for path in [ComputePath.loop, .vectorized] {
                        let label = "\(S.self) \(shape) \(kind) \(path)"
                        let (cost, gradient) = withComputePath(path) { softmaxCrossEntropy(logits: z, labels: y) }
                        XCTAssertEqual(Double(cost), expectedCost, accuracy: tolerance * Swift.max(1, abs(expectedCost)), label)
                        assertClose(gradient!, expectedGradient.scalars.map(Double.init), relative: 0, absolute: tolerance, label)
                        let costOnly = withComputePath(path) { softmaxCrossEntropy(logits: z, labels: y, computingGradient: false) }
                        XCTAssertNil(costOnly.gradient, label)
                        XCTAssertEqual(costOnly.cost, cost, label + ": the cost alone differs")
                        let one = Parallelism.withMaxThreads(1) { withComputePath(path) { softmaxCrossEntropy(logits: z, labels: y) } }
                        XCTAssertEqual(one.cost, cost, label + ": one thread differs")
                        XCTAssertEqual(one.gradient!.scalars, gradient!.scalars, label + ": one thread differs")
                    }
                }
            }
        }
        check(Float.self, tolerance: 2e-6)
        check(Double.self, tolerance: 1e-13)
    }

    /// The gradient against central finite differences of the cost, in Double,
    /// over a (C, m, T) shape with soft labels, on both paths.
    func testGradientMatchesFiniteDifferences() {
        var g = RandomGenerator(seed: 43)
        let z = Tensor<Double>(randomNormal: [4, 3, 5], generator: &g)
        let y = softmax(Tensor<Double>(randomNormal: [4, 3, 5], generator: &g), axis: 0)
        for path in [ComputePath.loop, .vectorized] {
            withComputePath(path) {
                let gradient = softmaxCrossEntropy(logits: z, labels: y).gradient!
                for i in 0..<z.count {
                    let epsilon = 1e-6
                    var plus = z, minus = z
                    plus.withUnsafeMutableBufferPointer { $0[i] += epsilon }
                    minus.withUnsafeMutableBufferPointer { $0[i] -= epsilon }
                    let numeric = (softmaxCrossEntropy(logits: plus, labels: y, computingGradient: false).cost
                        - softmaxCrossEntropy(logits: minus, labels: y, computingGradient: false).cost) / (2 * epsilon)
                    XCTAssertEqual(gradient.scalars[i], numeric, accuracy: 1e-8, "\(path) element \(i)")
                }
            }
        }
    }

    /// A class the model rules out (z = −∞) with label 0 costs nothing; the
    /// composed form gave 0·(−∞) = NaN there.
    func testZeroLabelOnImpossibleClassCostsNothing() {
        let z = Tensor<Float>(shape: [3, 2], scalars: [0, 1, -.infinity, 2, 1, 0])
        let y = Tensor<Float>(shape: [3, 2], scalars: [1, 0, 0, 1, 0, 0])
        for path in [ComputePath.loop, .vectorized] {
            let (cost, gradient) = withComputePath(path) { softmaxCrossEntropy(logits: z, labels: y) }
            XCTAssertTrue(cost.isFinite, "\(path): \(cost)")
            XCTAssertEqual(gradient!.scalars[2], 0, "\(path)")   // softmax of −∞ is 0, label 0
        }
    }
}
