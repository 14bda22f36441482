import Tensors
import XCTest

/// Every operation on the loop path and on the vectorized path, on random
/// shapes whose sizes are not multiples of the SIMD width, must agree within
/// the stated tolerances (summation order differs between paths).
final class PathAgreementTests: XCTestCase {
    static let shapes: [[Int]] = [[1], [7], [17], [33, 5], [3, 1, 19], [2, 3, 4, 5], [1, 1], [0, 3], [130, 9], [4, 300]]

    func bothPaths<S: TensorScalar>(_ f: () -> Tensor<S>) -> (Tensor<S>, Tensor<S>) {
        (withComputePath(.loop, f), withComputePath(.vectorized, f))
    }

    func compare<S: TensorScalar>(_ name: String, relative: Double, _ f: () -> Tensor<S>) {
        let (l, v) = bothPaths(f)
        assertClose(v, l.scalars.map(Double.init), shape: l.shape, relative: relative, absolute: relative, name)
    }

    func testUnaryOperations() {
        var g = RandomGenerator(seed: 1)
        for shape in Self.shapes {
            let x: Tensor<Float> = randomTensor(shape, &g, scale: 3)
            let positive = abs(x) + 0.01
            let tag = "\(shape)"
            compare("exp \(tag)", relative: 3e-7) { exp(x) }
            compare("log \(tag)", relative: 3e-7) { log(positive) }
            compare("sqrt \(tag)", relative: 1.2e-7) { sqrt(positive) }
            compare("tanh \(tag)", relative: 3e-7) { tanh(x) }
            compare("sigmoid \(tag)", relative: 3e-7) { sigmoid(x) }
            compare("relu \(tag)", relative: 0) { relu(x) }
            compare("leakyRelu \(tag)", relative: 0) { leakyRelu(x, slope: 0.2) }
            compare("square \(tag)", relative: 0) { square(x) }
            compare("abs \(tag)", relative: 0) { abs(x) }
            compare("reciprocal \(tag)", relative: 0) { reciprocal(positive) }
            compare("negate \(tag)", relative: 0) { -x }
            compare("clip \(tag)", relative: 0) { clip(x, lower: -1, upper: 0.5) }
            compare("pow 3 \(tag)", relative: 1e-6) { pow(x, 3) }
            compare("pow -2 \(tag)", relative: 1e-6) { pow(positive, -2) }
            compare("pow 1.7 \(tag)", relative: 2e-6) { pow(positive, 1.7) }
            compare("sigmoid' \(tag)", relative: 1e-6) { sigmoidDerivative(x) }
            compare("tanh' \(tag)", relative: 1e-5) { tanhDerivative(x) }
            compare("relu' \(tag)", relative: 0) { reluDerivative(x) }
            compare("leakyRelu' \(tag)", relative: 0) { leakyReluDerivative(x) }
        }
    }

    func testBroadcastingOnRandomShapes() {
        var g = RandomGenerator(seed: 2)
        let pairs: [([Int], [Int])] = [
            ([37], [37]), ([5, 19], [5, 1]), ([5, 19], [19]), ([1, 19], [7, 1]), ([3, 4, 17], [4, 1]),
            ([2, 1, 17], [1, 5, 1]), ([300, 70], [300, 1]), ([], [9, 3]), ([1030], []), ([6, 0], [6, 1]),
        ]
        for (sa, sb) in pairs {
            let a: Tensor<Double> = randomTensor(sa, &g), b: Tensor<Double> = randomTensor(sb, &g) + 3
            compare("+ \(sa) \(sb)", relative: 0) { a + b }
            compare("- \(sa) \(sb)", relative: 0) { a - b }
            compare("* \(sa) \(sb)", relative: 0) { a * b }
            compare("/ \(sa) \(sb)", relative: 0) { a / b }
            compare("max \(sa) \(sb)", relative: 0) { max(a, b) }
            compare("< \(sa) \(sb)", relative: 0) { a .< b }
        }
    }

    func testReductionsSoftmaxAndDataMovement() {
        var g = RandomGenerator(seed: 3)
        for shape in Self.shapes where !shape.contains(0) {
            let x: Tensor<Float> = randomTensor(shape, &g)
            for axis in 0..<shape.count {
                let tag = "\(shape) axis \(axis)"
                compare("sum \(tag)", relative: 1e-5) { x.sum(axis: axis) }
                compare("max \(tag)", relative: 0) { x.max(axis: axis, keepingDimensions: true) }
                compare("min \(tag)", relative: 0) { x.min(axis: axis) }
                XCTAssertEqual(withComputePath(.loop) { x.argmax(axis: axis) }, x.argmax(axis: axis), "argmax \(tag)")
                XCTAssertEqual(withComputePath(.loop) { x.argmin(axis: axis) }, x.argmin(axis: axis), "argmin \(tag)")
                compare("variance \(tag)", relative: 1e-5) { x.variance(axis: axis) }
                compare("norm \(tag)", relative: 1e-5) { x.norm(axis: axis) }
                compare("norm1 \(tag)", relative: 1e-5) { x.norm(.l1, axis: axis) }
                compare("normInf \(tag)", relative: 0) { x.norm(.infinity, axis: axis) }
                compare("softmax \(tag)", relative: 1e-6) { softmax(x, axis: axis) }
                compare("logSoftmax \(tag)", relative: 1e-5) { logSoftmax(x, axis: axis) }
                compare("slice \(tag)", relative: 0) { x.slice(axis: axis, 0..<Swift.max(1, shape[axis] / 2)) }
                compare("gather \(tag)", relative: 0) { x.gathering([shape[axis] - 1, 0], axis: axis) }
                compare("concatenate \(tag)", relative: 0) { Tensor.concatenate([x, x], axis: axis) }
            }
            if shape.count >= 2 {
                compare("transpose \(shape)", relative: 0) { x.transposed() }
                compare("permute \(shape)", relative: 0) { x.permuted(Array((1..<shape.count)) + [0]) }
            }
            let (l, v) = (withComputePath(.loop) { x.sum() }, withComputePath(.vectorized) { x.sum() })
            // Float summation error is bounded relative to Σ|xᵢ| (not to the sum, which may cancel): the
            // SIMD path adds 16 interleaved partial sums, each ≲ 1e5/16 terms; 1e-6·Σ|xᵢ| is ~16 units of roundoff.
            let magnitudes = x.norm(.l1)
            XCTAssertEqual(Double(v), Double(l), accuracy: 1e-6 * Double(magnitudes), "sum \(shape)")
            let (dl, dv) = (withComputePath(.loop) { dot(x, x) }, withComputePath(.vectorized) { dot(x, x) })
            XCTAssertEqual(dv, dl, accuracy: 1e-5 * dl, "dot \(shape)")
        }
    }

    /// The fused optimizer updates against their scalar loops (Adam's and
    /// RMSprop's square roots differ by ≤ 1 ulp between the paths).
    func testOptimizerStepsAgree() {
        var g = RandomGenerator(seed: 6)
        for n in [1, 17, 1000, 70_001] {
            let p: Tensor<Float> = randomTensor([n], &g), grad: Tensor<Float> = randomTensor([n], &g)
            let v: Tensor<Float> = randomTensor([n], &g), s = abs(randomTensor([n], &g, scale: Float(1))) + 0.01
            compare("average \(n)", relative: 0) { var a = v; a.formExponentialAverage(with: grad, beta: 0.9); return a }
            compare("average² \(n)", relative: 0) { var a = s; a.formExponentialAverage(with: grad, beta: 0.999, squared: true); return a }
            compare("accumulation \(n)", relative: 0) { var a = v; a.formAccumulation(with: grad, beta: 0.9); return a }
            compare("adam \(n)", relative: 1e-6) {
                var q = p
                q.applyAdamUpdate(firstMoment: v, secondMoment: s, learningRate: 0.1, firstCorrection: 0.19,
                                  secondCorrection: 0.002997, epsilon: 1e-8)
                return q
            }
            // The fused step: loop and vectorized twins, and bitwise the three passes above on each path.
            func fusedStep() -> Tensor<Float> {
                var (q, v2, s2) = (p, v, s)
                q.applyAdamStep(gradient: grad, firstMoment: &v2, secondMoment: &s2, beta1: 0.9, beta2: 0.999,
                                learningRate: 0.1, firstCorrection: 0.19, secondCorrection: 0.002997, epsilon: 1e-8)
                return Tensor(shape: [3 * n], scalars: q.scalars + v2.scalars + s2.scalars)
            }
            func threePasses() -> Tensor<Float> {
                var (q, v2, s2) = (p, v, s)
                v2.formExponentialAverage(with: grad, beta: 0.9)
                s2.formExponentialAverage(with: grad, beta: 0.999, squared: true)
                q.applyAdamUpdate(firstMoment: v2, secondMoment: s2, learningRate: 0.1, firstCorrection: 0.19,
                                  secondCorrection: 0.002997, epsilon: 1e-8)
                return Tensor(shape: [3 * n], scalars: q.scalars + v2.scalars + s2.scalars)
            }
            compare("fused adam \(n)", relative: 1e-6, fusedStep)
            for path in [ComputePath.loop, .vectorized] {
                let (fused, reference) = withComputePath(path) { (fusedStep(), threePasses()) }
                XCTAssertEqual(fused.scalars.map(\.bitPattern), reference.scalars.map(\.bitPattern), "fused vs three passes \(path) \(n)")
            }
            let oneThread = Parallelism.withMaxThreads(1, fusedStep), twoThreads = Parallelism.withMaxThreads(2, fusedStep)
            XCTAssertEqual(oneThread.scalars.map(\.bitPattern), twoThreads.scalars.map(\.bitPattern), "fused adam threads \(n)")
            // axpy: both paths, and bitwise the two-step `y + (a * x)` it replaces.
            compare("add scaledBy \(n)", relative: 0) { var y = p; y.add(grad, scaledBy: -0.37); return y }
            for path in [ComputePath.loop, .vectorized] {
                let (fused, twoSteps) = withComputePath(path) { () -> (Tensor<Float>, Tensor<Float>) in
                    var y = p
                    y.add(grad, scaledBy: -0.37)
                    return (y, p + (-0.37) * grad)
                }
                XCTAssertEqual(fused.scalars.map(\.bitPattern), twoSteps.scalars.map(\.bitPattern), "axpy \(path) \(n)")
            }
            compare("rmsprop \(n)", relative: 1e-6) {
                var q = p
                q.applyRMSpropUpdate(gradient: grad, squareAverage: s, learningRate: 0.1, epsilon: 1e-8)
                return q
            }
        }
    }

    /// Large inputs cross the parallel threshold; results must not depend on the thread count.
    func testResultsDoNotDependOnThreadCount() {
        var g = RandomGenerator(seed: 4)
        let x: Tensor<Float> = randomTensor([700, 1300], &g)
        let b: Tensor<Float> = randomTensor([700, 1], &g)
        func run() -> [Tensor<Float>] {
            [x + b, exp(x), tanh(x), x.sum(axis: 1), x.sum(axis: 0), softmax(x, axis: 0), softmax(x, axis: 1),
             Tensor([x.sum(), dot(x, x), x.variance()]), x.transposed(), Tensor(x.argmax(axis: 0).scalars.map(Float.init))]
        }
        let one = Parallelism.withMaxThreads(1, run)
        let two = Parallelism.withMaxThreads(2, run)
        for (a, b) in zip(one, two) {
            XCTAssertEqual(a.scalars.map(\.bitPattern), b.scalars.map(\.bitPattern))
        }
    }

    /// The loop path's `exp` is the vector polynomial's scalar twin: the two
    /// paths give the same bits, so their speed ratio is vectorization alone.
    func testExpLoopTwinIsBitwiseTheVectorPolynomial() {
        var g = RandomGenerator(seed: 13)
        let specials: [Double] = [0, -0.0, 1, -1, 88.7, 89, 100, -87, -103.9, -104, -200, 709, 710, -745, -746, .infinity, -.infinity]
        for n in [1, 15, 16, 17, 1000] {
            let x = Tensor<Float>(randomUniform: [n], lower: -100, upper: 90, generator: &g)
            XCTAssertEqual(withComputePath(.loop) { exp(x) }.scalars.map(\.bitPattern), exp(x).scalars.map(\.bitPattern), "Float n=\(n)")
            let d = Tensor<Double>(randomUniform: [n], lower: -740, upper: 705, generator: &g)
            XCTAssertEqual(withComputePath(.loop) { exp(d) }.scalars.map(\.bitPattern), exp(d).scalars.map(\.bitPattern), "Double n=\(n)")
        }
        let f = Tensor<Float>(specials.map(Float.init)), d = Tensor<Double>(specials)
        XCTAssertEqual(withComputePath(.loop) { exp(f) }.scalars.map(\.bitPattern), exp(f).scalars.map(\.bitPattern))
        XCTAssertEqual(withComputePath(.loop) { exp(d) }.scalars.map(\.bitPattern), exp(d).scalars.map(\.bitPattern))
    }
}
