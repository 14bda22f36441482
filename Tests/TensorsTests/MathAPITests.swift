import Foundation
import Tensors
import XCTest

/// The reference values written by `Reference/tensor_math.py` (numpy, and
/// mpmath for correctly rounded sines and cosines); NaN and ±∞ are stored as strings.
struct MathReference: Decodable {
    struct Axis: Decodable {
        let axis: Int
        let std: [Double], std1: [Double], cumsum: [Double], cumsum32: [Double]
        let sorted: [Double], argsort: [Int], sorted_descending: [Double], argsort_descending: [Int]
        let k: Int, topk_values: [Double], topk_indices: [Int]
    }
    struct Case: Decodable {
        let shape: [Int], x: [Double], sin: [Double], cos: [Double], sin32: [Double], cos32: [Double]
        let std: [Double], t: [Double], axes: [Axis]
    }
    struct Power: Decodable {
        let x_shape: [Int], x: [Double], y_shape: [Int], y: [Double], out_shape: [Int], pow: [Double], pow32: [Double]
    }
    struct HardTrig: Decodable {
        let float: [Double], double: [Double]
        let float_sin: [Double], float_cos: [Double], double_sin: [Double], double_cos: [Double]
    }
    let cases: [Case], pow: [Power], hard_trig: HardTrig

    static let shared: MathReference = {
        let url = Bundle.module.url(forResource: "tensor_math", withExtension: "json", subdirectory: "Reference")!
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        return try! decoder.decode(MathReference.self, from: Data(contentsOf: url))
    }()
}

/// Asserts that every element of `actual` is within `ulps` units in the last
/// place (of `S`, at the expected value) of `expected`; NaN must match NaN.
func assertWithinUlps<S: TensorScalar>(
    _ actual: Tensor<S>, _ expected: [Double], ulps: Double, shape: [Int]? = nil,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    if let shape { XCTAssertEqual(actual.shape, shape, "shape " + message(), file: file, line: line) }
    XCTAssertEqual(actual.count, expected.count, "count " + message(), file: file, line: line)
    for (i, (a, e)) in zip(actual.scalars, expected).enumerated() {
        if (e.isNaN && a.isNaN) || Double(a) == e { continue }
        let unit = Swift.max(Double(S(e).ulp), Double(S.leastNonzeroMagnitude))
        let error = Swift.abs(Double(a) - e) / unit
        if !(error <= ulps) {
            XCTFail("element \(i): \(a) vs expected \(e), \(error) ulp \(message())", file: file, line: line)
            return
        }
    }
}

/// The math operations against numpy (`Reference/tensor_math.py`) on both
/// compute paths, in Float and Double, and the loop path against the
/// vectorized path on random shapes.
final class MathAPITests: XCTestCase {
    static var reference: MathReference { .shared }

    // MARK: sin, cos

    /// Both paths within 1 ulp of the correctly rounded values (the loop path
    /// rounds libm's Double result once; the vectorized path is ≤ 1 ulp).
    func testSineAndCosineMatchCorrectlyRoundedValues() {
        onBothPaths { path in
            for (n, c) in Self.reference.cases.enumerated() {
                let tag = "case \(n) \(c.shape) (\(path))"
                let x = Tensor<Double>(shape: c.shape, scalars: c.x)
                assertWithinUlps(sin(x), c.sin, ulps: 1, shape: c.shape, tag)
                assertWithinUlps(cos(x), c.cos, ulps: 1, shape: c.shape, tag)
                let x32 = Tensor<Float>(x)
                assertWithinUlps(sin(x32), c.sin32, ulps: 1, shape: c.shape, "Float " + tag)
                assertWithinUlps(cos(x32), c.cos32, ulps: 1, shape: c.shape, "Float " + tag)
                var out = Tensor<Float>.zeros(c.shape)
                sin(x32, into: &out)
                XCTAssertEqual(out, sin(x32), "sin(into:) " + tag)
                cos(x32, into: &out)
                XCTAssertEqual(out, cos(x32), "cos(into:) " + tag)
            }
        }
    }

    /// Special values on both paths: signed zeros, ±∞ and NaN, and inputs past
    /// the SIMD range (taken from libm lane by lane on the vectorized path).
    func testSineAndCosineSpecialValues() {
        onBothPaths { path in
            let f = Tensor<Float>([0, -0.0, .infinity, -.infinity, .nan, 1e6, -3e38, 25736, Float.leastNonzeroMagnitude])
            let s = sin(f).scalars, c = cos(f).scalars
            XCTAssertEqual(s[0].bitPattern, Float(0).bitPattern, "sin(0) = +0 (\(path))")
            XCTAssertEqual(s[1].bitPattern, Float(-0.0).bitPattern, "sin(−0) = −0 (\(path))")
            XCTAssertEqual(Array(c[0..<2]), [1, 1], "\(path)")
            XCTAssertTrue(s[2].isNaN && s[3].isNaN && s[4].isNaN && c[2].isNaN && c[3].isNaN && c[4].isNaN, "\(path)")
            for i in 5..<9 {
                XCTAssertEqual(s[i], Float(Foundation.sin(Double(f.scalars[i]))), "sin(\(f.scalars[i])) (\(path))")
                XCTAssertEqual(c[i], Float(Foundation.cos(Double(f.scalars[i]))), "cos(\(f.scalars[i])) (\(path))")
            }
            let d = Tensor<Double>([-0.0, .nan, -.infinity, 1e10, -1e300, 1.7e9, Double.leastNonzeroMagnitude])
            let sd = sin(d).scalars, cd = cos(d).scalars
            XCTAssertEqual(sd[0].bitPattern, Double(-0.0).bitPattern, "sin(−0) = −0 (\(path))")
            XCTAssertEqual(cd[0], 1)
            XCTAssertTrue(sd[1].isNaN && sd[2].isNaN && cd[1].isNaN && cd[2].isNaN, "\(path)")
            for i in 3..<7 {
                XCTAssertEqual(sd[i], Foundation.sin(d.scalars[i]), "sin(\(d.scalars[i])) (\(path))")
                XCTAssertEqual(cd[i], Foundation.cos(d.scalars[i]), "cos(\(d.scalars[i])) (\(path))")
            }
        }
    }

    // MARK: std

    /// numpy's `std` (ddof 0 and 1) over everything and along every axis, negative axes too.
    func testStandardDeviationMatchesNumpy() {
        onBothPaths { path in
            for (n, c) in Self.reference.cases.enumerated() {
                let tag = "case \(n) \(c.shape) (\(path))"
                let x = Tensor<Double>(shape: c.shape, scalars: c.x), x32 = Tensor<Float>(x)
                XCTAssertEqual(x.std(), c.std[0], accuracy: 1e-12 * c.std[0], tag)
                XCTAssertEqual(Double(x32.std()), c.std[0], accuracy: 1e-5 * c.std[0], "Float " + tag)
                if c.std[1].isNaN {
                    XCTAssertTrue(x.std(correction: 1).isNaN, "one element, n − 1 = 0: " + tag)
                } else {
                    XCTAssertEqual(x.std(correction: 1), c.std[1], accuracy: 1e-12 * c.std[1], tag)
                }
                for r in c.axes {
                    var kept = c.shape
                    kept[r.axis] = 1
                    var dropped = c.shape
                    dropped.remove(at: r.axis)
                    let t = "\(tag) axis \(r.axis)"
                    assertClose(x.std(axis: r.axis), r.std, shape: dropped, relative: 1e-12, absolute: 1e-14, t)
                    assertClose(x.std(axis: r.axis - c.shape.count, keepingDimensions: true), r.std, shape: kept,
                                relative: 1e-12, absolute: 1e-14, t)
                    assertClose(x.std(axis: r.axis, correction: 1), r.std1, shape: dropped, relative: 1e-12, absolute: 1e-14, t)
                    assertClose(x32.std(axis: r.axis), r.std, shape: dropped, relative: 1e-5, absolute: 1e-6, "Float " + t)
                    assertClose(x32.std(axis: r.axis, keepingDimensions: true, correction: 1), r.std1, shape: kept,
                                relative: 1e-5, absolute: 1e-6, "Float " + t)
                }
            }
        }
    }

    /// The variance's correction by hand: [1, 2, 3, 4] has Σ(x − 2.5)² = 5.
    func testVarianceCorrection() {
        let x = Tensor<Double>([1, 2, 3, 4])
        XCTAssertEqual(x.variance(), 1.25)
        XCTAssertEqual(x.variance(correction: 1), 5.0 / 3)
        XCTAssertEqual(x.std(correction: 1), (5.0 / 3).squareRoot())
        XCTAssertEqual(x.reshaped(to: [2, 2]).variance(axis: 1, correction: 1), [0.5, 0.5])
    }

    // MARK: cumulativeSum, cumulativeProduct

    /// numpy's `cumsum` along every axis, bit for bit: numpy adds in order, as both paths do.
    func testCumulativeSumMatchesNumpyBitForBit() {
        onBothPaths { path in
            for (n, c) in Self.reference.cases.enumerated() {
                let x = Tensor<Double>(shape: c.shape, scalars: c.x), x32 = Tensor<Float>(x)
                for r in c.axes {
                    let tag = "case \(n) \(c.shape) axis \(r.axis) (\(path))"
                    let y = x.cumulativeSum(axis: r.axis)
                    XCTAssertEqual(y.shape, c.shape, tag)
                    XCTAssertEqual(y.scalars.map(\.bitPattern), r.cumsum.map(\.bitPattern), tag)
                    XCTAssertEqual(x.cumulativeSum(axis: r.axis - c.shape.count), y, "negative axis " + tag)
                    let y32 = x32.cumulativeSum(axis: r.axis)
                    XCTAssertEqual(y32.scalars.map(\.bitPattern), r.cumsum32.map { Float($0).bitPattern }, "Float " + tag)
                }
            }
        }
    }

    func testCumulativeSumAndProductByHand() {
        onBothPaths { path in
            let x = Tensor<Float>([[1, 2, 3], [4, 5, 6]])
            XCTAssertEqual(x.cumulativeSum(axis: 1), Tensor([[1, 3, 6], [4, 9, 15]]), "\(path)")
            XCTAssertEqual(x.cumulativeSum(axis: 0), Tensor([[1, 2, 3], [5, 7, 9]]), "\(path)")
            XCTAssertEqual(x.cumulativeProduct(axis: -1), Tensor([[1, 2, 6], [4, 20, 120]]), "\(path)")
            XCTAssertEqual(x.cumulativeProduct(axis: 0), Tensor([[1, 2, 3], [4, 10, 18]]), "\(path)")
            // The first element is copied, not added to 0: −0 stays −0 (as numpy's cumsum).
            XCTAssertEqual(Tensor<Double>([-0.0, 1]).cumulativeSum(axis: 0).scalars[0].sign, .minus, "\(path)")
            XCTAssertEqual(Tensor<Double>.zeros([2, 0, 3]).cumulativeSum(axis: 1).shape, [2, 0, 3])
        }
    }

    // MARK: sorted, argsort, topK

    /// Values equal element for element, bit for bit (−0 is not +0), any NaN matching any NaN.
    func assertSameValues<S: TensorScalar>(
        _ actual: Tensor<S>, _ expected: [Double], shape: [Int], _ message: String, file: StaticString = #filePath, line: UInt = #line
    ) {
        func bits(_ d: Double) -> UInt64 { d.isNaN ? Double.nan.bitPattern : d.bitPattern }
        XCTAssertEqual(actual.shape, shape, message, file: file, line: line)
        XCTAssertEqual(actual.scalars.map { bits(Double($0)) }, expected.map { bits(Double(S($0))) }, message, file: file, line: line)
    }

    /// numpy's stable sort and argsort (NaN last), the stable descending order
    /// (NaN first; checked against torch.sort by the script) and topK, along
    /// every axis, on data with ties, −0, 0 and a NaN, Float and Double, both paths.
    func testSortingMatchesNumpy() {
        onBothPaths { path in
            for (n, c) in Self.reference.cases.enumerated() {
                let t = Tensor<Double>(shape: c.shape, scalars: c.t), t32 = Tensor<Float>(t)
                for r in c.axes {
                    let tag = "case \(n) \(c.shape) axis \(r.axis) (\(path))"
                    let negative = r.axis - c.shape.count
                    assertSameValues(t.sorted(axis: r.axis), r.sorted, shape: c.shape, tag)
                    assertSameValues(t32.sorted(axis: negative), r.sorted, shape: c.shape, "Float " + tag)
                    XCTAssertEqual(t.argsort(axis: r.axis), IntegerTensor(shape: c.shape, scalars: r.argsort), tag)
                    XCTAssertEqual(t32.argsort(axis: r.axis).scalars, r.argsort, "Float " + tag)
                    assertSameValues(t.sorted(axis: negative, descending: true), r.sorted_descending, shape: c.shape, tag)
                    assertSameValues(t32.sorted(axis: r.axis, descending: true), r.sorted_descending, shape: c.shape, "Float " + tag)
                    XCTAssertEqual(t.argsort(axis: negative, descending: true).scalars, r.argsort_descending, tag)
                    XCTAssertEqual(t32.argsort(axis: r.axis, descending: true).scalars, r.argsort_descending, "Float " + tag)
                    var topShape = c.shape
                    topShape[r.axis] = r.k
                    let (values, indices) = t.topK(r.k, axis: r.axis)
                    assertSameValues(values, r.topk_values, shape: topShape, "topK \(r.k) " + tag)
                    XCTAssertEqual(indices, IntegerTensor(shape: topShape, scalars: r.topk_indices), "topK \(r.k) " + tag)
                    let (values32, indices32) = t32.topK(r.k, axis: negative)
                    assertSameValues(values32, r.topk_values, shape: topShape, "Float topK \(r.k) " + tag)
                    XCTAssertEqual(indices32.scalars, r.topk_indices, "Float topK \(r.k) " + tag)
                }
            }
        }
    }

    /// The documented examples, and the defaults: the last axis, ascending.
    func testSortingByHand() {
        onBothPaths { path in
            let x = Tensor<Float>([[3, 1, 2], [0, .nan, -1]])
            assertSameValues(x.sorted(), [1, 2, 3, -1, 0, .nan], shape: [2, 3], "\(path)")
            assertSameValues(x.sorted(descending: true), [3, 2, 1, .nan, 0, -1], shape: [2, 3], "\(path)")
            assertSameValues(x.sorted(axis: 0), [0, 1, -1, 3, .nan, 2], shape: [2, 3], "\(path)")
            XCTAssertEqual(Tensor<Float>([2, 1, 2, 0]).argsort(), [3, 1, 0, 2], "\(path)")
            XCTAssertEqual(Tensor<Float>([2, 1, 2, 0]).argsort(descending: true), [0, 2, 1, 3], "\(path)")
            XCTAssertEqual(Tensor<Double>([0, -0.0, 0]).argsort(), [0, 1, 2], "−0 = +0: stable (\(path))")
            let (values, indices) = Tensor<Float>([0.1, 0.5, 0.2, 0.5]).topK(2)
            XCTAssertEqual(values, [0.5, 0.5], "\(path)")
            XCTAssertEqual(indices, [1, 3], "ties to the lower position (\(path))")
            let (v, i) = Tensor<Double>([1, .nan, 3, .nan]).topK(3)
            assertSameValues(v, [.nan, .nan, 3], shape: [3], "NaN is the largest (\(path))")
            XCTAssertEqual(i, [1, 3, 2], "\(path)")
            XCTAssertEqual(Tensor<Float>.zeros([3, 0]).argsort().shape, [3, 0])
            XCTAssertEqual(Tensor<Float>.zeros([0, 4]).topK(4).indices.shape, [0, 4])
        }
    }

    // MARK: pow

    /// Within `3 + 3·|y·ln x|` ulp of `expected` elementwise (the vectorized
    /// path's `e^(y·ln|x|)`); NaN must match NaN, ±∞ and zeros exactly.
    func assertPowerClose<S: TensorScalar>(
        _ actual: Tensor<S>, _ x: Tensor<S>, _ y: Tensor<S>, _ expected: [Double], _ message: String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        let xs = x.broadcasted(toShape: actual.shape).scalars, ys = y.broadcasted(toShape: actual.shape).scalars
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        for (i, (a, e)) in zip(actual.scalars, expected).enumerated() where Double(a) != e {
            let bound = 3 + 3 * Swift.abs(Double(ys[i]) * Foundation.log(Swift.abs(Double(xs[i]))))
            let unit = Swift.max(Double(S(e).ulp), Double(S.leastNonzeroMagnitude))
            let ok = e.isNaN ? a.isNaN : (e.isInfinite || e == 0 ? Double(a) == e : Swift.abs(Double(a) - e) <= bound * unit)
            if !ok {
                XCTFail("element \(i): pow(\(xs[i]), \(ys[i])) = \(a) vs expected \(e) \(message)", file: file, line: line)
                return
            }
        }
    }

    /// numpy's `power` with broadcasting (zeros, a negative base, integer and
    /// zero exponents included): the loop path within 1 ulp (libm in Double,
    /// rounded once), the vectorized path within its stated bound.
    func testPowMatchesNumpy() {
        for (n, c) in Self.reference.pow.enumerated() {
            let x = Tensor<Double>(shape: c.x_shape, scalars: c.x), y = Tensor<Double>(shape: c.y_shape, scalars: c.y)
            let x32 = Tensor<Float>(x), y32 = Tensor<Float>(y)
            let tag = "case \(n) \(c.x_shape) ^ \(c.y_shape)"
            withComputePath(.loop) {
                assertWithinUlps(pow(x, y), c.pow, ulps: 1, shape: c.out_shape, "loop " + tag)
                assertWithinUlps(pow(x32, y32), c.pow32, ulps: 1, shape: c.out_shape, "Float loop " + tag)
            }
            let v = pow(x, y), v32 = pow(x32, y32)
            XCTAssertEqual(v.shape, c.out_shape, tag)
            assertPowerClose(v, x, y, c.pow, "vectorized " + tag)
            assertPowerClose(v32, x32, y32, c.pow32, "Float vectorized " + tag)
        }
    }

    /// C's special cases on both paths, bit for bit where the result is NaN, ±∞ or ±0.
    func testPowSpecialCases() {
        let pairs: [(Double, Double)] = [
            (2, 3), (-2, 3), (-2, -3), (-2, 2), (-2, 0.5), (-8, 1.0 / 3), (0, 2), (0, -1), (-0.0, 3), (-0.0, -1), (-0.0, 2),
            (-0.0, 0.5), (1, .nan), (-1, .infinity), (-1, -.infinity), (-1, .nan), (.nan, 0), (0, 0), (.infinity, 0), (4, 0.5),
            (-.infinity, 3), (-.infinity, 0.5), (-.infinity, -3), (.infinity, -2), (2, .nan), (.nan, 1), (0.5, .infinity),
            (2, -.infinity), (2, .infinity), (-0.5, .infinity), (-3, 1e300), (10, 400), (10, -400), (-1, 9007199254740991),
        ]
        for path in [ComputePath.loop, .vectorized] {
            withComputePath(path) {
                let x = Tensor<Double>(pairs.map(\.0)), y = Tensor<Double>(pairs.map(\.1))
                let expected = pairs.map { Foundation.pow($0.0, $0.1) }
                assertPowerClose(pow(x, y), x, y, expected, "Double \(path)")
                for (i, (a, e)) in zip(pow(x, y).scalars, expected).enumerated() where e == 0 || e.isInfinite {
                    XCTAssertEqual(a.sign, e.sign, "pow\(pairs[i]) sign (\(path))")
                }
                let xf = Tensor<Float>(x), yf = Tensor<Float>(y)
                let expectedFloat = zip(xf.scalars, yf.scalars).map { Double(Float(Foundation.pow(Double($0), Double($1)))) }
                assertPowerClose(pow(xf, yf), xf, yf, expectedFloat, "Float \(path)")
            }
        }
    }

    // MARK: Loop path against vectorized path

    /// Random values with ties (multiples of ¼), zeros of both signs and NaNs, for sorting.
    static func sortingData<S: TensorScalar>(_ shape: [Int], _ g: inout RandomGenerator) -> Tensor<S> {
        var t = Tensor<S>(randomNormal: shape, standardDeviation: 2, generator: &g)
        t.withUnsafeMutableBufferPointer { x in
            for i in x.indices {
                x[i] = (x[i] * 4).rounded() / 4
                switch g.nextIndex(below: 40) {
                case 0: x[i] = .nan
                case 1: x[i] = -0.0
                case 2: x[i] = .infinity
                default: break
                }
            }
        }
        return t
    }

    /// Every operation on both paths, on random shapes of rank 1–3 with axes
    /// of length 1, odd lengths and rows long enough for whole SIMD vectors,
    /// parallel pieces and the top-k list's skipping: cumulative sums and
    /// products, sorting and top k agree exactly, sin and cos within 2 ulp
    /// (each path within 1 ulp of the exact value), std within rounding, pow
    /// within the vectorized path's bound of libm's.
    func check<S: TensorScalar>(_: S.Type, seed: UInt64) {
        var g = RandomGenerator(seed: seed)
        var shapes: [[Int]] = [[1], [17], [1000], [3, 1500], [33, 1, 2], [2, 200], [200, 3], [5, 7, 33]]
        for _ in 0..<8 {
            shapes.append((0...g.nextIndex(below: 3)).map { _ in [1, 2, 3, 16, 17, 33][g.nextIndex(below: 6)] })
        }
        for shape in shapes {
            let x = Tensor<S>(randomNormal: shape, standardDeviation: 10, generator: &g)
            let t: Tensor<S> = Self.sortingData(shape, &g)
            let positive = abs(Tensor<S>(randomNormal: shape, generator: &g)) + 0.1
            let exponent = Tensor<S>(randomUniform: shape, lower: -3, upper: 3, generator: &g)
            let tag = "\(S.self) \(shape)"
            let (ls, lc) = withComputePath(.loop) { (sin(x), cos(x)) }
            assertWithinUlps(sin(x), ls.scalars.map(Double.init), ulps: 2, "sin " + tag)
            assertWithinUlps(cos(x), lc.scalars.map(Double.init), ulps: 2, "cos " + tag)
            let lp = withComputePath(.loop) { pow(positive, exponent) }
            assertPowerClose(pow(positive, exponent), positive, exponent, lp.scalars.map(Double.init), "pow " + tag)
            let column = positive.reshaped(to: [positive.count, 1]), row = exponent.reshaped(to: [1, exponent.count])
            if positive.count <= 200 {
                let lb = withComputePath(.loop) { pow(column, row) }
                assertPowerClose(pow(column, row), column, row, lb.scalars.map(Double.init), "pow broadcast " + tag)
            }
            for axis in 0..<shape.count {
                let a = "\(tag) axis \(axis)"
                let sum = withComputePath(.loop) { x.cumulativeSum(axis: axis) }
                XCTAssertEqual(x.cumulativeSum(axis: axis).scalars.map(Double.init).map(\.bitPattern),
                               sum.scalars.map(Double.init).map(\.bitPattern), "cumulativeSum " + a)
                let product = withComputePath(.loop) { positive.cumulativeProduct(axis: axis) }
                XCTAssertEqual(positive.cumulativeProduct(axis: axis), product, "cumulativeProduct " + a)
                let std = withComputePath(.loop) { x.std(axis: axis, correction: 1) }
                assertClose(x.std(axis: axis, correction: 1), std.scalars.map(Double.init), relative: S.self == Float.self ? 1e-5 : 1e-13,
                            absolute: 0, "std " + a)
                let length = shape[axis]
                if length * shape.reduce(1, *) <= 300_000 {   // the loop path's insertion sort is quadratic
                    for descending in [false, true] {
                        let (values, order) = withComputePath(.loop) { (t.sorted(axis: axis, descending: descending),
                                                                        t.argsort(axis: axis, descending: descending)) }
                        assertSameValues(t.sorted(axis: axis, descending: descending), values.scalars.map(Double.init),
                                         shape: shape, "sorted descending \(descending) " + a)
                        XCTAssertEqual(t.argsort(axis: axis, descending: descending), order, "argsort descending \(descending) " + a)
                    }
                }
                for k in Set([1, Swift.min(5, length), Swift.min(32, length), Swift.min(33, length), length]) {
                    let (values, indices) = withComputePath(.loop) { t.topK(k, axis: axis) }
                    let (v, i) = t.topK(k, axis: axis)
                    assertSameValues(v, values.scalars.map(Double.init), shape: values.shape, "topK \(k) " + a)
                    XCTAssertEqual(i, indices, "topK \(k) " + a)
                }
            }
        }
    }

    func testPathsAgreeOnRandomShapesFloat() { check(Float.self, seed: 21) }
    func testPathsAgreeOnRandomShapesDouble() { check(Double.self, seed: 22) }

    /// The new parallel kernels (scans, sorts, top k), above the size where a
    /// second thread is used, give the same bits with one thread and with two.
    /// (sin, cos and pow run in the elementwise kernels' fixed chunks, tested
    /// in PathAgreementTests.)
    func testResultsDoNotDependOnThreadCount() {
        var g = RandomGenerator(seed: 23)
        let x = Tensor<Float>(randomNormal: [600, 500], generator: &g)
        let long: Tensor<Float> = Self.sortingData([300, 900], &g), t: Tensor<Double> = Self.sortingData([128, 512], &g)
        func run() -> [[UInt64]] {
            let floats = [x.cumulativeSum(axis: 0), x.cumulativeSum(axis: 1), x.cumulativeProduct(axis: 1),
                          long.topK(7).values, Tensor(long.topK(7).indices)]
            let doubles = [t.sorted(), t.sorted(axis: 0, descending: true), Tensor(t.argsort()),
                           t.topK(40).values, Tensor(t.topK(40).indices), Tensor(t.topK(33, axis: 0).indices)]
            return floats.map { $0.scalars.map { UInt64($0.bitPattern) } } + doubles.map { $0.scalars.map(\.bitPattern) }
        }
        let one = Parallelism.withMaxThreads(1, run), two = Parallelism.withMaxThreads(2, run)
        for (n, (a, b)) in zip(one, two).enumerated() {
            XCTAssertTrue(a == b, "result \(n) differs between one and two threads")
        }
    }
}

extension MathAPITests {
    /// −(+0) = −0 and −(−0) = +0 on both paths (the SIMD prefix minus computes 0 − v).
    func testNegationFlipsTheSignOfZero() {
        let x = Tensor<Float>(shape: [35], scalars: (0..<35).map { $0 % 2 == 0 ? 0 : -0.0 })
        for path in [ComputePath.loop, .vectorized] {
            let y = withComputePath(path) { -x }
            XCTAssertEqual(y.scalars.map(\.sign), x.scalars.map { $0.sign == .plus ? .minus : .plus }, "\(path)")
        }
    }
}
