import Tensors
import XCTest

/// The README's quick-start snippet, verbatim between the markers, so it keeps compiling.
final class QuickStartTests: XCTestCase {
    func testReadmeQuickStart() {
        // README quick start: begin
        // Logistic regression on 500 points in the notes' layout: X is (n_x, m), one example per column.
        var rng = RandomGenerator(seed: 42)
        let X = Tensor<Float>(randomNormal: [2, 500], generator: &rng)
        let Y = X.rows(0..<1) + 2 * X.rows(1..<2) .> 0                  // labels, shape (1, 500)

        var w = Tensor<Float>.zeros([2, 1]), b: Float = 0
        for _ in 0..<300 {
            let A = sigmoid(matmul(w, X, transposingA: true) + b)       // A = σ(wᵀX + b)
            let dZ = A - Y                                               // dZ = A − Y
            w -= 1.0 * matmul(X, dZ, transposingB: true) / 500           // dw = X·dZᵀ / m
            b -= 1.0 * dZ.mean()                                         // db = Σ dZ / m
        }
        let predictions = sigmoid(matmul(w, X, transposingA: true) + b) .> 0.5
        let accuracy = (predictions .== Y).mean()
        print("accuracy:", accuracy)
        // README quick start: end
        XCTAssertGreaterThan(accuracy, 0.97)
        XCTAssertGreaterThan(w[1, 0], w[0, 0], "the second feature has twice the weight")
    }
}
