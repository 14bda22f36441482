import Tensors
import XCTest

final class ShapeOperationTests: XCTestCase {
    func testConstruction() {
        XCTAssertEqual(Tensor<Float>.zeros([2, 3]).scalars, [0, 0, 0, 0, 0, 0])
        XCTAssertEqual(Tensor<Float>.identity(3).scalars, [1, 0, 0, 0, 1, 0, 0, 0, 1])
        XCTAssertEqual(Tensor<Double>.arange(0, 1, step: 0.25).scalars, [0, 0.25, 0.5, 0.75])
        XCTAssertEqual(Tensor<Double>.linspace(0, 1, count: 5).scalars, [0, 0.25, 0.5, 0.75, 1])
        let v: Tensor<Float> = [1, 2, 3]
        XCTAssertEqual(v.shape, [3])
        XCTAssertEqual(Tensor<Float>(2.5).shape, [])
        XCTAssertEqual(Tensor<Float>([[[1, 2], [3, 4]], [[5, 6], [7, 8]]]).shape, [2, 2, 2])
        var t = Tensor<Float>([[1, 2], [3, 4]])
        t[1, 0] = 9
        XCTAssertEqual(t.scalars, [1, 2, 9, 4])
        XCTAssertEqual(Tensor<Float>(shape: [2], repeating: 7).scalars, [7, 7])
    }

    /// TC-F1: (209, 64, 64, 3) → `reshape(209, -1).T` → (12288, 209), one image per column.
    func testImageUnrolling() {
        let images = Tensor<Float>(shape: [209, 64, 64, 3], scalars: (0..<(209 * 12288)).map { Float($0 % 1000) })
        let X = images.reshaped(to: [209, -1]).transposed()
        XCTAssertEqual(X.shape, [12288, 209])
        XCTAssertEqual(X[5, 1], images[1, 0, 1, 2])   // element 5 of image 1 is (row 0, column 1, channel 2)
    }

    func testTransposeAndPermute() {
        onBothPaths { _ in
            let a = Tensor<Float>([[1, 2, 3], [4, 5, 6]])
            XCTAssertEqual(a.transposed(), Tensor<Float>([[1, 4], [2, 5], [3, 6]]))
            let b = Tensor<Float>(shape: [2, 3, 4], scalars: (0..<24).map(Float.init))
            let p = b.permuted([2, 0, 1])
            XCTAssertEqual(p.shape, [4, 2, 3])
            XCTAssertEqual(p[3, 1, 2], b[1, 2, 3])
            let q = b.permuted([0, 2, 1])
            XCTAssertEqual(q[1, 3, 0], b[1, 0, 3])
            XCTAssertEqual(b.transposed()[3, 2, 1], b[1, 2, 3])
        }
    }

    func testSlicingJoiningAndEncoding() {
        onBothPaths { _ in
            let X = Tensor<Float>([[1, 2, 3, 4], [5, 6, 7, 8]])
            XCTAssertEqual(X.columns(1..<3), Tensor<Float>([[2, 3], [6, 7]]))
            XCTAssertEqual(X.rows(1..<2), Tensor<Float>([[5, 6, 7, 8]]))
            XCTAssertEqual(X.gathering([3, 0], axis: 1), Tensor<Float>([[4, 1], [8, 5]]))
            XCTAssertEqual(Tensor.concatenate([X, X.columns(0..<1)], axis: 1), Tensor<Float>([[1, 2, 3, 4, 1], [5, 6, 7, 8, 5]]))
            XCTAssertEqual(Tensor.stack([Tensor<Float>([1, 2]), Tensor<Float>([3, 4])], axis: 1), Tensor<Float>([[1, 3], [2, 4]]))
            XCTAssertEqual(X.flattened().shape, [8])
            XCTAssertEqual(X.asColumn().shape, [8, 1])
            XCTAssertEqual(X.reshaped(to: [-1, 2]).shape, [4, 2])
            // TC-SM1: labels 3 1 2 0 3 2 0 1 with C = 4 → (4, 8)
            let Y = Tensor<Float>.oneHot([3, 1, 2, 0, 3, 2, 0, 1], classes: 4)
            XCTAssertEqual(Y.shape, [4, 8])
            XCTAssertEqual(Y.sum(axis: 0).scalars, [Float](repeating: 1, count: 8))
            XCTAssertEqual(Y.argmax(axis: 0), [3, 1, 2, 0, 3, 2, 0, 1])
        }
    }

    func testDescriptionLooksLikeNumpy() {
        let small = Tensor<Float>([[1, 2, 3], [4, 5, 6]])
        XCTAssertEqual(small.description, "[[1, 2, 3], [4, 5, 6]]", "one line when it fits")
        XCTAssertEqual("x = \(small)", "x = [[1, 2, 3], [4, 5, 6]]")
        XCTAssertEqual(small.debugDescription, "Tensor<Float> [2, 3] [[1, 2, 3], [4, 5, 6]]")
        XCTAssertEqual(Tensor<Double>([0.5, -1.25]).description, "[0.5, -1.25]")
        XCTAssertEqual(Tensor<Double>(2.5).description, "2.5", "rank 0 prints its value")
        let wide = Tensor<Float>(shape: [3, 12], scalars: (0..<36).map { Float($0) * 10 })
        XCTAssertEqual(wide.description.split(separator: "\n").count, 3, "rows on their own lines when the line would be long")
        XCTAssertTrue(wide.description.hasPrefix("[[  0,  10,"), "aligned columns: \(wide)")
        XCTAssertTrue(wide.debugDescription.hasPrefix("Tensor<Float> [3, 12]\n[[  0,"))
        let big = Tensor<Float>(shape: [40, 40], repeating: 1).description
        XCTAssertTrue(big.contains("..."), "large tensors are elided")
        XCTAssertLessThan(big.count, 400)
    }
}
