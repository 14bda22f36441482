import Tensors
import XCTest

/// Reductions against numpy (`Reference/make_reference.py`) on both paths.
final class ReductionTests: XCTestCase {
    func testNumpyReferenceCases() {
        for (index, c) in Reference.shared.reductions.enumerated() {
            onBothPaths { path in
                let x = Tensor<Double>(shape: c.shape, scalars: c.x)
                let tag = "case \(index) \(c.shape) (\(path))"
                XCTAssertEqual(x.sum(), c.sum, accuracy: 1e-12, tag)
                XCTAssertEqual(x.mean(), c.mean, accuracy: 1e-12, tag)
                XCTAssertEqual(x.max(), c.max, tag)
                XCTAssertEqual(x.variance(), c.var, accuracy: 1e-12, tag)
                XCTAssertEqual(x.norm(), c.norm, accuracy: 1e-12, tag)
                for r in c.axes {
                    var kept = c.shape
                    kept[r.axis] = 1
                    var dropped = c.shape
                    dropped.remove(at: r.axis)
                    let t = "\(tag) axis \(r.axis)"
                    assertClose(x.sum(axis: r.axis, keepingDimensions: true), r.sum, shape: kept, relative: 1e-12, t)
                    assertClose(x.sum(axis: r.axis), r.sum, shape: dropped, relative: 1e-12, t)
                    assertClose(x.mean(axis: r.axis, keepingDimensions: true), r.mean, shape: kept, relative: 1e-12, t)
                    assertClose(x.max(axis: r.axis, keepingDimensions: true), r.max, shape: kept, relative: 0, absolute: 0, t)
                    assertClose(x.min(axis: r.axis, keepingDimensions: true), r.min, shape: kept, relative: 0, absolute: 0, t)
                    XCTAssertEqual(x.argmax(axis: r.axis).scalars, r.argmax, t)
                    assertClose(x.variance(axis: r.axis, keepingDimensions: true), r.var, shape: kept, relative: 1e-12, absolute: 1e-12, t)
                    assertClose(x.norm(axis: r.axis, keepingDimensions: true), r.norm, shape: kept, relative: 1e-12, t)
                }
            }
        }
    }

    func testSoftmaxValues() {
        onBothPaths { path in
            // Columns are examples: softmax over axis 0. By hand: e^[1,2,3] / Σ.
            let z = Tensor<Double>([[1, 1000], [2, 1000], [3, -1000]])
            let s = softmax(z, axis: 0)
            let e = [1.0, 2, 3].map { Foundation.exp($0 - 3) }
            let total = e.reduce(0, +)
            assertClose(s, [e[0] / total, 0.5, e[1] / total, 0.5, e[2] / total, 0], shape: [3, 2], relative: 1e-14, "\(path)")
            // Stable at ±1000 where a naive exp overflows.
            let ls = logSoftmax(z, axis: 0)
            XCTAssertEqual(ls[0, 1], -Foundation.log(2.0), accuracy: 1e-14)
            XCTAssertEqual(ls[2, 1], -2000 - Foundation.log(2.0), accuracy: 1e-10)
            assertClose(s.sum(axis: 0), [1, 1], relative: 1e-14, "\(path)")
        }
    }

    func testIsFinite() {
        onBothPaths { path in
            XCTAssertTrue(Tensor<Float>([1, -2, 3e38]).isFinite, "\(path)")
            XCTAssertFalse(Tensor<Float>(shape: [40], scalars: (0..<40).map { $0 == 33 ? .nan : Float($0) }).isFinite)
            XCTAssertFalse(Tensor<Double>([1, -.infinity]).isFinite)
            XCTAssertTrue(Tensor<Double>.zeros([0, 3]).isFinite)
        }
    }

    func testArgmaxTiesAndNaN() {
        onBothPaths { path in
            let x = Tensor<Float>([[1, 5, 5, 0], [.nan, 2, .nan, 9]])
            XCTAssertEqual(x.argmax(axis: 1), [1, 0], "first maximum; first NaN (\(path))")
            XCTAssertEqual(x.argmax(), 4)
            XCTAssertEqual(Tensor<Float>([3, -1, 7, -1]).argmin(), 1)
        }
    }

    /// Positions are integers: Float counts exactly only to 2^24, so a maximum
    /// at 16,777,217 would come back as 16,777,216 if returned in the scalar type.
    func testArgmaxPositionsAreExactIntegers() {
        var x = Tensor<Float>.zeros([16_777_218])
        x[16_777_217] = 1
        XCTAssertEqual(x.argmax(), 16_777_217)
        XCTAssertEqual(withComputePath(.loop) { x.argmax(axis: 0) }, IntegerTensor(16_777_217), "a rank-0 result, as numpy's")
        let columns = Tensor<Float>([[0, 5, 1], [3, 2, 7]])
        XCTAssertEqual(columns.argmax(axis: 0), [1, 0, 1])
        XCTAssertEqual(columns.argmin(axis: 1), [0, 1])
    }

    /// Tall matrices with few columns (a bias gradient's (pixels, channels))
    /// take the lane-folding kernel: sums within rounding of the loop path
    /// (the order differs), maxima and minima exactly, with NaN propagated,
    /// and the same bits for any thread count. 40,000 rows, so several blocks.
    func testColumnReductionsOfTallNarrowMatrices() {
        var g = RandomGenerator(seed: 41)
        for columns in [2, 4, 8, 16] {
            var x = Tensor<Float>(randomNormal: [40_000, columns], generator: &g)
            let sum = x.sum(axis: 0), loopSum = withComputePath(.loop) { x.sum(axis: 0) }
            assertClose(sum, loopSum.scalars.map(Double.init), relative: 1e-4, absolute: 1e-3, "sum, \(columns) columns")
            XCTAssertEqual(Parallelism.withMaxThreads(1) { x.sum(axis: 0) }, sum, "threads, \(columns) columns")
            XCTAssertEqual(x.max(axis: 0), withComputePath(.loop) { x.max(axis: 0) }, "max, \(columns) columns")
            XCTAssertEqual(x.min(axis: 0), withComputePath(.loop) { x.min(axis: 0) }, "min, \(columns) columns")
            x[30_001, columns - 1] = Float.nan
            let withNaN = x.max(axis: 0)
            let last: Float = withNaN[columns - 1], first: Float = withNaN[0]
            XCTAssertTrue(last.isNaN, "NaN reaches the maximum of its column")
            XCTAssertFalse(first.isNaN, "other columns unaffected")
        }
    }
}
