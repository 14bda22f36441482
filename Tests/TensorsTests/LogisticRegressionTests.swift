import Foundation
import Tensors
import XCTest

/// Logistic regression written twice with tensor operations, as the notes
/// develop it (C1W2-13 and C1W2-18…20), checked against each other and
/// against numpy (`Reference/make_reference.py`, float64).
final class LogisticRegressionTests: XCTestCase {
    typealias Gradients = (cost: Double, dw: Tensor<Double>, db: Double)

    /// C1W2-13: the explicit double loop over examples i and features j.
    static func loopForm(w: Tensor<Double>, b: Double, X: Tensor<Double>, Y: Tensor<Double>) -> Gradients {
        let (nx, m) = (X.shape[0], X.shape[1])
        var J = 0.0, dw = Tensor<Double>.zeros([nx, 1]), db = 0.0
        for i in 0..<m {
            var z = b
            for j in 0..<nx { z += w[j, 0] * X[j, i] }
            let a = 1 / (1 + Foundation.exp(-z))
            J += -(Y[0, i] * Foundation.log(a) + (1 - Y[0, i]) * Foundation.log(1 - a))
            let dz = a - Y[0, i]
            for j in 0..<nx { dw[j, 0] += X[j, i] * dz }
            db += dz
        }
        return (J / Double(m), dw / Double(m), db / Double(m))
    }

    /// C1W2-18/19: `Z = wᵀX + b`, `A = σ(Z)`, `dZ = A − Y`, `dw = X dZᵀ / m`, `db = Σ dZ / m`.
    static func vectorizedForm(w: Tensor<Double>, b: Double, X: Tensor<Double>, Y: Tensor<Double>) -> Gradients {
        let m = Double(X.shape[1])
        let Z = matmul(w.transposed(), X) + b                  // (1, m)
        let A = sigmoid(Z)
        let J = -(Y * log(A) + (1 - Y) * log(1 - A)).sum() / m
        let dZ = A - Y
        let dw = matmul(X, dZ.transposed()) / m                // (n_x, 1)
        let db = dZ.sum() / m
        return (J, dw, db)
    }

    func testGradientsAgreeWithNumpyOnBothForms() {
        let r = Reference.shared.logistic_regression
        let X = Tensor<Double>(shape: [r.n_x, r.m], scalars: r.X), Y = Tensor<Double>(shape: [1, r.m], scalars: r.Y)
        let w = Tensor<Double>(shape: [r.n_x, 1], scalars: r.w)
        for form in [Self.loopForm, Self.vectorizedForm] {
            onBothPaths { path in
                let g = form(w, r.b, X, Y)
                XCTAssertEqual(g.cost, r.cost, accuracy: 1e-13, "\(path)")
                assertClose(g.dw, r.dw, shape: [r.n_x, 1], relative: 1e-12, absolute: 1e-14, "\(path)")
                XCTAssertEqual(g.db, r.db, accuracy: 1e-13, "\(path)")
            }
        }
    }

    /// C1W2-20: 100 iterations of gradient descent with α = 0.1 reach numpy's parameters.
    func testGradientDescentRunMatchesNumpy() {
        let r = Reference.shared.logistic_regression
        let X = Tensor<Double>(shape: [r.n_x, r.m], scalars: r.X), Y = Tensor<Double>(shape: [1, r.m], scalars: r.Y)
        for form in [Self.loopForm, Self.vectorizedForm] {
            var w = Tensor<Double>(shape: [r.n_x, 1], scalars: r.w), b = r.b
            var lastCost = 0.0
            for _ in 0..<r.iterations {
                let g = form(w, b, X, Y)
                lastCost = g.cost
                w -= r.alpha * g.dw
                b -= r.alpha * g.db
            }
            assertClose(w, r.w_after, relative: 1e-11)
            XCTAssertEqual(b, r.b_after, accuracy: 1e-11)
            XCTAssertEqual(lastCost, r.cost_last, accuracy: 1e-12)
            XCTAssertLessThan(lastCost, r.cost, "gradient descent lowers the cost")
        }
    }

    /// The same run in Float on the loop and vectorized paths agrees to Float precision.
    func testFloatRunAgreesAcrossPaths() {
        let r = Reference.shared.logistic_regression
        let X = Tensor<Float>(shape: [r.n_x, r.m], scalars: r.X.map(Float.init))
        let Y = Tensor<Float>(shape: [1, r.m], scalars: r.Y.map(Float.init))
        func train() -> Tensor<Float> {
            var w = Tensor<Float>(shape: [r.n_x, 1], scalars: r.w.map(Float.init)), b = Float(r.b)
            for _ in 0..<r.iterations {
                let A = sigmoid(matmul(w.transposed(), X) + b)
                let dZ = A - Y
                w -= Float(r.alpha) * matmul(X, dZ.transposed()) / Float(r.m)
                b -= Float(r.alpha) * dZ.sum() / Float(r.m)
            }
            return w
        }
        let loop = withComputePath(.loop, train), vectorized = withComputePath(.vectorized, train)
        assertClose(vectorized, loop.scalars.map(Double.init), relative: 1e-5)
        assertClose(vectorized, r.w_after, relative: 1e-5)
    }
}
