import Tensors
import XCTest

/// The broadcasting examples of the notes (scope.md §2.4, TC-B1…B6) and the
/// numpy reference cases of `Reference/make_reference.py`.
final class BroadcastingTests: XCTestCase {
    func testScalarPlusColumnAndRow() {
        onBothPaths { path in
            // TC-B1: [1,2,3,4]ᵀ + 100 → [101,102,103,104]ᵀ
            let column = Tensor<Float>([[1], [2], [3], [4]]) + 100
            assertClose(column, [101, 102, 103, 104], shape: [4, 1], "\(path)")
            // TC-B2: [1 2 3] + 100
            assertClose(Tensor<Double>([[1, 2, 3]]) + 100, [101, 102, 103], shape: [1, 3], "\(path)")
        }
    }

    func testMatrixPlusRowAndColumn() {
        onBothPaths { path in
            let A = Tensor<Float>([[1, 2, 3], [4, 5, 6]])
            // TC-B3: (2,3) + (1,3), printed in the notes
            assertClose(A + Tensor<Float>([[100, 200, 300]]), [101, 202, 303, 104, 205, 306], shape: [2, 3], "\(path)")
            // numpy's rank-1 (3,) operand aligns as a row
            assertClose(A + Tensor<Float>([100, 200, 300]), [101, 202, 303, 104, 205, 306], shape: [2, 3], "\(path)")
            // TC-B4: (2,3) + (2,1)
            assertClose(A + Tensor<Float>([[100], [200]]), [101, 102, 103, 204, 205, 206], shape: [2, 3], "\(path)")
        }
    }

    /// TC-B5: the calories table. `cal = A.sum(axis=0)`; `100 * A / cal.reshape(1, 4)`.
    /// Expected percentages computed by hand from the table (apples: 56/59 = 94.92 %, …).
    func testCaloriesPercentages() {
        onBothPaths { path in
            let A = Tensor<Double>([[56.0, 0.0, 4.4, 68.0],
                                    [1.2, 104.0, 52.0, 8.0],
                                    [1.8, 135.0, 99.0, 0.9]])
            let cal = A.sum(axis: 0)
            assertClose(cal, [59, 239, 155.4, 76.9], shape: [4], relative: 1e-12, "\(path)")
            let percentage = 100 * A / cal.reshaped(to: [1, 4])
            XCTAssertEqual(percentage.shape, [3, 4])
            assertClose(percentage, [
                100 * 56 / 59.0, 0, 100 * 4.4 / 155.4, 100 * 68 / 76.9,
                100 * 1.2 / 59.0, 100 * 104 / 239.0, 100 * 52 / 155.4, 100 * 8 / 76.9,
                100 * 1.8 / 59.0, 100 * 135 / 239.0, 100 * 99 / 155.4, 100 * 0.9 / 76.9,
            ], relative: 1e-12, "\(path)")
            XCTAssertEqual(percentage[0, 0], 94.915, accuracy: 0.001)   // the notes' 94.9 %
            XCTAssertEqual(percentage[1, 0], 2.034, accuracy: 0.001)    // 2.03 %
            XCTAssertEqual(percentage[2, 0], 3.051, accuracy: 0.001)    // 3.05 %
            // keepdims gives the same (1, 4) without a reshape
            XCTAssertEqual(A.sum(axis: 0, keepingDimensions: true).shape, [1, 4])
        }
    }

    /// TC-B6: x / ‖x‖ row-wise, with ‖x‖ = [[5], [√56]].
    func testRowNormalization() {
        onBothPaths { path in
            let x = Tensor<Double>([[0, 3, 4], [2, 6, 4]])
            let norms = x.norm(axis: 1, keepingDimensions: true)
            assertClose(norms, [5, 56.0.squareRoot()], shape: [2, 1], relative: 1e-14, "\(path)")
            let s = 56.0.squareRoot()
            assertClose(x / norms, [0, 0.6, 0.8, 2 / s, 6 / s, 4 / s], shape: [2, 3], relative: 1e-14, "\(path)")
        }
    }

    /// TC-B7/B8: the rank-1 pitfall. `dot` of the printed (5,) vector is the
    /// scalar 4.06570109; the (5,1)·(1,5) product is the printed 5×5 matrix.
    func testRankOnePitfall() {
        onBothPaths { _ in
            let a = Tensor<Double>([0.50290632, -0.29691149, 0.95429604, -0.82126861, -1.46269164])
            XCTAssertEqual(a.shape, [5])
            XCTAssertEqual(dot(a, a), 4.06570109321, accuracy: 1e-8)
            let c = Tensor<Double>([-0.0967311, -2.38617377, -0.3243588, -0.96216349, 0.54410384]).asColumn()
            XCTAssertEqual(c.shape, [5, 1])
            XCTAssertEqual(c.transposed().shape, [1, 5])
            let product = outer(c, c)
            XCTAssertEqual(product.shape, [5, 5])
            XCTAssertEqual(product[0, 0], 0.00935691, accuracy: 1e-8)
            XCTAssertEqual(product[1, 1], 5.69382526, accuracy: 1e-8)
            XCTAssertEqual(product[0, 1], 0.23081721, accuracy: 1e-8)
            XCTAssertEqual(product[4, 4], 0.29604898, accuracy: 1e-8)
            // Broadcasting (5,1) * (1,5) is the same outer product.
            XCTAssertEqual(c * c.transposed(), product)
        }
    }

    func testShapeRuleErrors() {
        XCTAssertEqual(try broadcastShape([2, 3], [1, 3]), [2, 3])
        XCTAssertEqual(try broadcastShape([4, 1], []), [4, 1])
        XCTAssertEqual(try broadcastShape([5, 1, 4], [3, 1]), [5, 3, 4])
        XCTAssertThrowsError(try broadcastShape([2, 3], [4], operation: "add")) { error in
            XCTAssertEqual((error as? ShapeError)?.description,
                           "add: shapes [2, 3] and [4] cannot be broadcast (axis -1: 3 vs 4)")
        }
        XCTAssertThrowsError(try broadcastShape([2, 3], [3, 3]))
        XCTAssertThrowsError(try Tensor<Float>(validatingShape: [2, 2], scalars: [1, 2, 3])) { error in
            XCTAssertEqual((error as? ShapeError)?.description, "Tensor.init: shape [2, 2] needs 4 scalars, got 3")
        }
    }

    func testNumpyReferenceCases() {
        for (index, c) in Reference.shared.broadcasting.enumerated() {
            onBothPaths { path in
                let a = Tensor<Double>(shape: c.a_shape, scalars: c.a), b = Tensor<Double>(shape: c.b_shape, scalars: c.b)
                let tag = "case \(index) \(c.a_shape) ⊕ \(c.b_shape) (\(path))"
                assertClose(a + b, c.add, shape: c.out_shape, relative: 1e-15, tag)
                assertClose(a - b, c.sub, shape: c.out_shape, relative: 1e-15, tag)
                assertClose(a * b, c.mul, shape: c.out_shape, relative: 1e-15, tag)
                assertClose(a / b, c.div, shape: c.out_shape, relative: 1e-15, tag)
                assertClose(min(a, b), c.minimum, shape: c.out_shape, relative: 0, absolute: 0, tag)
                assertClose(max(a, b), c.maximum, shape: c.out_shape, relative: 0, absolute: 0, tag)
                let af = Tensor<Float>(shape: c.a_shape, scalars: c.a.map(Float.init))
                let bf = Tensor<Float>(shape: c.b_shape, scalars: c.b.map(Float.init))
                assertClose(af * bf, c.mul, shape: c.out_shape, relative: 2e-6, absolute: 1e-6, tag)
            }
        }
    }

    func testInPlaceCompoundAssignmentWritesIntoStorage() {
        onBothPaths { path in
            var Z = Tensor<Float>([[1, 2, 3], [4, 5, 6]])
            Z += Tensor<Float>([[10], [20]])
            assertClose(Z, [11, 12, 13, 24, 25, 26], "\(path)")
            Z *= 2
            assertClose(Z, [22, 24, 26, 48, 50, 52], "\(path)")
            Z -= Tensor<Float>([2, 4, 6])
            Z /= 2
            assertClose(Z, [10, 10, 10, 23, 23, 23], "\(path)")
            // Copy-on-write: a copy taken before the update keeps its values.
            let before = Z
            Z += 1
            XCTAssertEqual(before[0, 0], 10)
            XCTAssertEqual(Z[0, 0], 11)
        }
    }

    func testComparisonMasksAndNaN() {
        onBothPaths { path in
            let x = Tensor<Float>([-1, 0, 2, .nan])
            assertClose(x .> 0, [0, 0, 1, 0], "\(path)")
            assertClose(x .<= 0, [1, 1, 0, 0], "\(path)")
            assertClose(x .== Tensor<Float>([-1, 1, 2, 3]), [1, 0, 1, 0], "\(path)")
            let m = max(x, 0)
            XCTAssertTrue(m[3].isNaN, "numpy.maximum propagates NaN (\(path))")
            assertClose(min(Tensor<Float>([1, 5]), Tensor<Float>([3, 2])), [1, 2])
        }
    }
}
