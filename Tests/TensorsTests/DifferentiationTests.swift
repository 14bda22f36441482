import Foundation
@testable import Tensors
import XCTest

/// The gradient tape: the notes' worked examples, and every backward rule
/// against two-sided finite differences in Double, on both compute paths.
final class DifferentiationTests: XCTestCase {
    var generator = RandomGenerator(seed: 11)

    func random(_ shape: [Int], _ lower: Double = -2, _ upper: Double = 2) -> Tensor<Double> {
        Tensor(randomUniform: shape, lower: lower, upper: upper, generator: &generator)
    }

    /// Checks `∂/∂inputs Σ f(inputs) ⊙ R` (R random, so every output element
    /// carries its own weight) from the tape against `(J(x + ε) − J(x − ε))/2ε`,
    /// with the notes' relative difference below 1e-7; and checks that the loop
    /// path's tape gives the vectorized path's gradients.
    func checkGradient(_ name: String, _ inputs: [Tensor<Double>], file: StaticString = #filePath, line: UInt = #line,
                       _ f: @escaping ([Variable<Double>]) -> Variable<Double>) {
        let outputShape = withoutGradients { f(inputs.map { Variable($0) }).shape }
        let R = random(outputShape, 0.5, 1.5)
        func J(_ xs: [Tensor<Double>]) -> Double { withoutGradients { (f(xs.map { Variable($0) }).value * R).sum() } }
        func analytic() -> [Tensor<Double>] {
            let variables = inputs.map { Variable($0, requiresGradient: true) }
            let y = f(variables)
            y.backward(seed: R)
            return variables.map { $0.gradient ?? .zeros($0.shape) }
        }
        let tape = analytic()
        var numerator = 0.0, normA = 0.0, normN = 0.0
        for (k, x) in inputs.enumerated() {
            for i in 0..<x.count {
                let epsilon = 1e-6 * Swift.max(1, Swift.abs(x.scalars[i]))
                var plus = inputs, minus = inputs
                plus[k].withUnsafeMutableBufferPointer { $0[i] += epsilon }
                minus[k].withUnsafeMutableBufferPointer { $0[i] -= epsilon }
                let numeric = (J(plus) - J(minus)) / (2 * epsilon)
                let a = tape[k].scalars[i]
                numerator += (a - numeric) * (a - numeric)
                normA += a * a
                normN += numeric * numeric
            }
        }
        let relative = numerator.squareRoot() / Swift.max(normA.squareRoot() + normN.squareRoot(), 1e-300)
        XCTAssertLessThan(relative, 1e-7, "\(name): relative difference \(relative)", file: file, line: line)
        XCTAssertGreaterThan(normA, 0, "\(name): all-zero gradient checks nothing", file: file, line: line)
        let loop = withComputePath(.loop) { analytic() }
        for (l, v) in zip(loop, tape) {
            XCTAssertEqual(l.shape, v.shape, file: file, line: line)
            for (a, b) in zip(l.scalars, v.scalars) {
                XCTAssertEqual(a, b, accuracy: 1e-11 * Swift.max(1, Swift.abs(b)), "\(name): loop vs vectorized", file: file, line: line)
            }
        }
    }

    // MARK: The notes' examples

    /// C1W2-11: J = 3(a + bc), a = 5, b = 3, c = 2: u = bc = 6, v = a + u = 11, J = 33;
    /// dJ/dv = 3, dJ/da = 3, dJ/du = 3, dJ/db = 3c = 6, dJ/dc = 3b = 9.
    func testComputationGraphOfTheNotes() {
        let a = Variable<Double>(5, requiresGradient: true)
        let b = Variable<Double>(3, requiresGradient: true)
        let c = Variable<Double>(2, requiresGradient: true)
        let J = 3 * (a + b * c)
        XCTAssertEqual(J.value.scalar, 33)
        J.backward()
        XCTAssertEqual(a.gradient?.scalar, 3)
        XCTAssertEqual(b.gradient?.scalar, 6)
        XCTAssertEqual(c.gradient?.scalar, 9)
    }

    /// C2W3-09: minimize J(w) = (w − 5)² from w = 0, α = 0.01, 1000 steps, with
    /// only the forward cost written. Each step w ← w − α·2(w − 5), so
    /// 5 − w ← 0.98 (5 − w) and w₁₀₀₀ = 5(1 − 0.98¹⁰⁰⁰).
    func testFrameworkFindsTheGradientOfTheForwardCost() {
        var w = Tensor<Double>(0)
        for _ in 0..<1000 {
            let dJdw = gradient(at: w) { w in square(w - 5) }
            w -= 0.01 * dJdw
        }
        XCTAssertEqual(w.scalar, 5 * (1 - Foundation.pow(0.98, 1000)), accuracy: 1e-9)
        let (J, g) = valueWithGradient(at: Tensor<Double>(0)) { w in square(w - 5) }
        XCTAssertEqual(J, 25)
        XCTAssertEqual(g.scalar, -10)
    }

    // MARK: Accumulation, modes

    /// A value used on two paths receives the sum: y = x·x + x has dy/dx = 2x + 1.
    func testFanOutAccumulates() {
        let x = Variable<Double>(3, requiresGradient: true)
        let y = x * x + x
        y.backward()
        XCTAssertEqual(x.gradient?.scalar, 7)
        // A second backward adds to the leaf's gradient (reset it between steps).
        (2 * x).backward()
        XCTAssertEqual(x.gradient?.scalar, 9)
    }

    func testNoGradientModeAndDetachedStopTheGraph() {
        let x = Variable<Double>(Tensor([1, 2, 3]), requiresGradient: true)
        let y = withoutGradients { exp(x) * 2 }
        XCTAssertFalse(y.requiresGradient)
        XCTAssertTrue(y.isLeaf)
        XCTAssertEqual(GradientTape.isRecording, true)
        let z = (x * x.detached()).sum()   // d/dx of x·c with c = x held constant: c
        z.backward()
        XCTAssertEqual(x.gradient?.scalars, [1, 2, 3])
        let constant = Variable<Double>(Tensor([1, 2]))
        XCTAssertFalse((constant * 3).requiresGradient, "constants record nothing")
    }

    // MARK: Every rule against finite differences

    func testBroadcastingArithmetic() {
        for (sa, sb) in [([2, 3], [2, 3]), ([2, 3], [3]), ([2, 3], [2, 1]), ([1, 3], [4, 1]), ([2, 3], []), ([3, 2, 4], [2, 1])] {
            let a = random(sa), b = random(sb, 0.5, 2)
            checkGradient("add \(sa) \(sb)", [a, b]) { $0[0] + $0[1] }
            checkGradient("subtract \(sa) \(sb)", [a, b]) { $0[0] - $0[1] }
            checkGradient("multiply \(sa) \(sb)", [a, b]) { $0[0] * $0[1] }
            checkGradient("divide \(sa) \(sb)", [a, b]) { $0[0] / $0[1] }
        }
        let a = random([3, 4]), b = random([3, 4])
        checkGradient("max", [a, b]) { max($0[0], $0[1]) }
        checkGradient("min", [a, b]) { min($0[0], $0[1]) }
        checkGradient("max scalar", [a]) { max($0[0], 0.3) }
        checkGradient("min scalar", [a]) { min($0[0], 0.3) }
        checkGradient("scalar ops", [a]) { (xs: [Variable<Double>]) -> Variable<Double> in
            let shifted: Variable<Double> = 2 + xs[0]
            let scaled: Variable<Double> = shifted * 3 - 1
            return scaled / 4
        }
        checkGradient("scalar on the left", [random([3, 4], 0.5, 2)]) { (xs: [Variable<Double>]) -> Variable<Double> in
            let quotient: Variable<Double> = 2 / xs[0]
            return 1 - quotient
        }
        checkGradient("negate", [a]) { -$0[0] }
    }

    /// tanh, sigmoid and relu take their backward rule in one pass over the
    /// incoming gradient and the saved output (input for relu): the same
    /// values on both compute paths, bit for bit, over a vector-and-a-tail
    /// length; within a few ulps of `g ⊙ f′(z)` computed from the input; and
    /// relu′ is 1 at ±0 (the notes' convention) and 0 below.
    func testActivationRulesInOnePass() {
        func check<S: TensorScalar>(_: S.Type) {
            var generator = RandomGenerator(seed: 31)
            var z = Tensor<S>(randomUniform: [1, 1000 + 13], lower: -5, upper: 5, generator: &generator)
            z[0, 0] = 0
            z[0, 1] = -0.0
            let g = Tensor<S>(randomNormal: z.shape, generator: &generator)
            let rules: [(String, (Variable<S>) -> Variable<S>, Tensor<S>, BinaryOperation, Tensor<S>)] = [
                ("tanh", { tanh($0) }, tanhDerivative(z), .tanhGradient, tanh(z)),
                ("sigmoid", { sigmoid($0) }, sigmoidDerivative(z), .sigmoidGradient, sigmoid(z)),
                ("relu", { relu($0) }, reluDerivative(z), .reluGradient, z),
            ]
            for (name, f, derivative, rule, saved) in rules {
                let v = Variable(z, requiresGradient: true)
                f(v).backward(seed: g)
                let vectorized = v.gradient!
                // The rule on the same saved tensor: the same bits on both paths (the functions'
                // own values differ between the paths by their rounding, so the tape's do too).
                XCTAssertEqual(withComputePath(.loop) { g.broadcasting(rule, saved) }.scalars, vectorized.scalars,
                               "\(S.self) \(name): the paths differ")
                let fromInput = g * derivative
                for i in 0..<z.count {
                    let (a, e) = (Double(vectorized.scalars[i]), Double(fromInput.scalars[i]))
                    XCTAssertEqual(a, e, accuracy: 8 * Double(S.ulpOfOne) * Swift.max(abs(Double(g.scalars[i])), 1e-30),
                                   "\(S.self) \(name) at z = \(z.scalars[i])")
                }
                if name == "relu" {
                    XCTAssertEqual(vectorized.scalars[0], g.scalars[0], "relu′(+0) = 1")
                    XCTAssertEqual(vectorized.scalars[1], g.scalars[1], "relu′(−0) = 1")
                    let negative = z.scalars.indices.first { z.scalars[$0] < 0 }!
                    XCTAssertEqual(vectorized.scalars[negative], 0, "relu′ < 0")
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    func testElementwiseFunctions() {
        let x = random([4, 5]), positive = random([4, 5], 0.2, 3)
        checkGradient("exp", [x]) { exp($0[0]) }
        checkGradient("log", [positive]) { log($0[0]) }
        checkGradient("sqrt", [positive]) { sqrt($0[0]) }
        checkGradient("square", [x]) { square($0[0]) }
        checkGradient("abs", [x]) { abs($0[0]) }
        checkGradient("reciprocal", [positive]) { reciprocal($0[0]) }
        checkGradient("pow 3", [x]) { pow($0[0], 3) }
        checkGradient("pow 1.5", [positive]) { pow($0[0], 1.5) }
        checkGradient("clip", [x]) { clip($0[0], lower: -1, upper: 1) }
        checkGradient("tanh", [x]) { tanh($0[0]) }
        checkGradient("sigmoid", [x]) { sigmoid($0[0]) }
        checkGradient("relu", [x]) { relu($0[0]) }
        checkGradient("leakyRelu", [x]) { leakyRelu($0[0], slope: 0.1) }
        checkGradient("tanh, large inputs", [random([4, 5], -6, 6)]) { tanh($0[0]) }
        checkGradient("sigmoid, large inputs", [random([4, 5], -12, 12)]) { sigmoid($0[0]) }
        for axis in [0, 1] {
            checkGradient("softmax axis \(axis)", [x]) { softmax($0[0], axis: axis) }
            checkGradient("logSoftmax axis \(axis)", [x]) { logSoftmax($0[0], axis: axis) }
        }
    }

    func testReductions() {
        let x = random([3, 4, 5])
        checkGradient("sum", [x]) { $0[0].sum() }
        checkGradient("mean", [x]) { $0[0].mean() }
        checkGradient("max", [x]) { $0[0].max() }
        checkGradient("min", [x]) { $0[0].min() }
        checkGradient("variance", [x]) { $0[0].variance() }
        for kind in [Norm.l1, .l2, .infinity] { checkGradient("norm \(kind)", [x]) { $0[0].norm(kind) } }
        for axis in [0, 1, -1] {
            for keep in [false, true] {
                checkGradient("sum axis \(axis) keep \(keep)", [x]) { $0[0].sum(axis: axis, keepingDimensions: keep) }
                checkGradient("mean axis \(axis) keep \(keep)", [x]) { $0[0].mean(axis: axis, keepingDimensions: keep) }
                checkGradient("max axis \(axis) keep \(keep)", [x]) { $0[0].max(axis: axis, keepingDimensions: keep) }
                checkGradient("min axis \(axis) keep \(keep)", [x]) { $0[0].min(axis: axis, keepingDimensions: keep) }
                checkGradient("variance axis \(axis) keep \(keep)", [x]) { $0[0].variance(axis: axis, keepingDimensions: keep) }
            }
        }
    }

    /// Tied maxima share the gradient evenly (as PyTorch's `amax`).
    func testTiedMaximaShareTheGradient() {
        let x = Variable<Double>(Tensor([[1, 3, 3], [2, 0, 1]]), requiresGradient: true)
        x.max(axis: 1).sum().backward()
        XCTAssertEqual(x.gradient?.scalars, [0, 0.5, 0.5, 1, 0, 0])
    }

    func testMovements() {
        let x = random([2, 3, 4])
        checkGradient("reshape", [x]) { $0[0].reshaped(to: [6, -1]) }
        checkGradient("flatten", [x]) { $0[0].flattened() }
        checkGradient("column and row", [random([2, 3])]) { $0[0].asColumn() * $0[0].asRow() }
        checkGradient("dot", [random([2, 3]), random([6])]) { dot($0[0], $0[1]) }
        checkGradient("transpose", [x]) { $0[0].transposed() }
        checkGradient("permute", [x]) { $0[0].permuted([1, 2, 0]) }
        checkGradient("slice", [x]) { $0[0].slice(axis: 1, 1..<3) }
        checkGradient("rows", [random([5, 3])]) { $0[0].rows(1..<4) }
        checkGradient("columns", [random([3, 5])]) { $0[0].columns(0..<2) }
        checkGradient("gather with repeats", [x]) { $0[0].gathering([3, 0, 3, 1, 3], axis: 2) }
        let y = random([2, 2, 4])
        checkGradient("concatenate", [x, y]) { Variable.concatenate([$0[0], $0[1]], axis: 1) }
        checkGradient("stack", [x, random([2, 3, 4])]) { Variable.stack([$0[0], $0[1]], axis: 1) }
    }

    func testMatrixProducts() {
        let (m, k, n) = (3, 4, 5)
        for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
            let a = random(ta ? [k, m] : [m, k]), b = random(tb ? [n, k] : [k, n])
            checkGradient("matmul tA \(ta) tB \(tb)", [a, b]) { matmul($0[0], $0[1], transposingA: ta, transposingB: tb) }
            let batchA = random(ta ? [2, k, m] : [2, m, k]), batchB = random(tb ? [2, n, k] : [2, k, n])
            checkGradient("batched tA \(ta) tB \(tb)", [batchA, batchB]) { matmul($0[0], $0[1], transposingA: ta, transposingB: tb) }
            checkGradient("batched × shared tA \(ta) tB \(tb)", [batchA, b]) { matmul($0[0], $0[1], transposingA: ta, transposingB: tb) }
        }
        checkGradient("broadcast batch axes", [random([2, 1, 3, 4]), random([1, 3, 4, 2])]) { matmul($0[0], $0[1]) }
        checkGradient("matrix × vector", [random([3, 4]), random([4])]) { matmul($0[0], $0[1]) }
        checkGradient("linear", [random([4, 3]), random([3, 6]), random([4, 1])]) { linear($0[0], $0[1], $0[2]) }
    }

    /// The fused dense node gives exactly the composed ops' gradients.
    func testLinearMatchesComposition() {
        let W = random([4, 3]), X = random([3, 6]), b = random([4, 1])
        func grads(_ f: ([Variable<Double>]) -> Variable<Double>) -> [Tensor<Double>] {
            let v = [W, X, b].map { Variable($0, requiresGradient: true) }
            square(f(v)).sum().backward()
            return v.map { $0.gradient! }
        }
        let fused = grads { linear($0[0], $0[1], $0[2]) }
        let composed = grads { matmul($0[0], $0[1]) + $0[2] }
        for (f, c) in zip(fused, composed) {
            for (x, y) in zip(f.scalars, c.scalars) { XCTAssertEqual(x, y, accuracy: 1e-12 * Swift.max(1, Swift.abs(y))) }
        }
    }

    /// An input that needs no gradient is not differentiated (no Wᵀ·dZ for X).
    func testInputsThatNeedNoGradientAreSkipped() {
        let W = Variable(random([4, 3]), requiresGradient: true), X = Variable(random([3, 6]))
        let b = Variable(random([4, 1]), requiresGradient: true)
        linear(W, X, b).sum().backward()
        XCTAssertNil(X.gradient)
        XCTAssertNotNil(W.gradient)
    }

    // MARK: sin, cos, std, cumulativeSum, pow

    func testSineAndCosine() {
        let x = random([4, 5], -7, 7)
        checkGradient("sin", [x]) { sin($0[0]) }
        checkGradient("cos", [x]) { cos($0[0]) }
        checkGradient("sin ∘ cos", [x]) { sin(cos($0[0]) * 3) }
    }

    func testStandardDeviation() {
        let x = random([3, 4, 5])
        checkGradient("std", [x]) { $0[0].std() }
        checkGradient("std correction 1", [x]) { $0[0].std(correction: 1) }
        checkGradient("variance correction 1", [x]) { $0[0].variance(correction: 1) }
        for axis in [0, 1, -1] {
            for keep in [false, true] {
                checkGradient("std axis \(axis) keep \(keep)", [x]) { $0[0].std(axis: axis, keepingDimensions: keep) }
                checkGradient("std axis \(axis) correction 1", [x]) { $0[0].std(axis: axis, keepingDimensions: keep, correction: 1) }
                checkGradient("variance axis \(axis) correction 1", [x]) { $0[0].variance(axis: axis, keepingDimensions: keep, correction: 1) }
            }
        }
        // A constant row has σ = 0: its gradient is 0 rather than 0/0.
        let rows = Variable<Double>(Tensor([[2, 2, 2], [1, 2, 4]]), requiresGradient: true)
        rows.std(axis: 1).sum().backward()
        let g = rows.gradient!.scalars
        XCTAssertEqual(Array(g[0..<3]), [0, 0, 0])
        XCTAssertFalse(g.contains { $0.isNaN })
        let constant = Variable<Double>(Tensor([5, 5]), requiresGradient: true)
        constant.std().backward()
        XCTAssertEqual(constant.gradient?.scalars, [0, 0])
    }

    func testCumulativeSum() {
        let x = random([3, 4, 5])
        for axis in [0, 1, 2, -1] {
            checkGradient("cumulativeSum axis \(axis)", [x]) { $0[0].cumulativeSum(axis: axis) }
        }
        checkGradient("cumulativeSum rank 1", [random([17])]) { $0[0].cumulativeSum(axis: 0) }
        // dxⱼ = Σ_{k ≥ j} gₖ by hand: g = [1, 10, 100] gives [111, 110, 100].
        let v = Variable<Double>(Tensor([1, 2, 3]), requiresGradient: true)
        v.cumulativeSum(axis: 0).backward(seed: Tensor([1, 10, 100]))
        XCTAssertEqual(v.gradient?.scalars, [111, 110, 100])
    }

    func testPowerOfTwoTensors() {
        for (sx, sy) in [([3, 4], [3, 4]), ([3, 4], [4]), ([2, 1, 3], [4, 1]), ([5], [])] {
            let x = random(sx, 0.5, 2), y = random(sy, -2, 2)
            checkGradient("pow \(sx) \(sy)", [x, y]) { pow($0[0], $0[1]) }
        }
        // ∂/∂y at x = 0 is 0 for y ≥ 0 (xʸ·ln x → 0), as PyTorch.
        let x = Variable<Double>(Tensor([0, 2]), requiresGradient: true), y = Variable<Double>(Tensor([2, 3]), requiresGradient: true)
        pow(x, y).sum().backward()
        XCTAssertEqual(y.gradient?.scalars[0], 0)
        XCTAssertEqual(y.gradient?.scalars[1] ?? 0, 8 * Foundation.log(2.0), accuracy: 1e-14)
        XCTAssertEqual(x.gradient?.scalars[0], 0)
        XCTAssertEqual(x.gradient?.scalars[1] ?? 0, 12, accuracy: 1e-14)
    }
}
