import Foundation
@testable import Tensors
import XCTest

/// Values from `Reference/make_ctc.py` (PyTorch float64, `ctc_loss` of
/// `log_softmax(logits)`, gradients with respect to the logits by autograd).
struct CTCReference: Decodable {
    struct Case: Decodable {
        let C: Int, m: Int, T: Int, blank: Int
        let logits: [Double], targets: [[Int]], input_lengths: [Int]
        let loss_sum: Double, loss_mean: Double, loss_none: [Double]
        let grad_sum: [Double], grad_mean: [Double]
    }
    let cases: [Case]

    static let shared: CTCReference = {
        let url = Bundle.module.url(forResource: "ctc", withExtension: "json", subdirectory: "Reference")!
        return try! JSONDecoder().decode(CTCReference.self, from: Data(contentsOf: url))
    }()
}

final class CTCTests: XCTestCase {
    /// The loss and `∂loss/∂logits` of one call.
    func lossAndGradient<S: TensorScalar>(
        _ logits: Tensor<S>, _ targets: [[Int]], _ lengths: [Int]? = nil, blank: Int = 0,
        _ reduction: CTCReduction = .meanOverTargetLengths, zeroInfinity: Bool = false, seed: S = 1
    ) -> (loss: S, gradient: Tensor<S>) {
        let z = Variable(logits, requiresGradient: true)
        let loss = ctcLoss(logits: z, targets: targets, inputLengths: lengths, blank: blank, reduction: reduction, zeroInfinity: zeroInfinity)
        loss.backward(seed: Tensor(seed))
        return (loss.value.scalar, z.gradient!)
    }

    func randomLogits(_ shape: [Int], seed: UInt64, scale: Double = 1.5) -> Tensor<Double> {
        var g = RandomGenerator(seed: seed)
        return randomTensor(shape, &g, scale: scale)
    }

    func assertRelative(_ a: Double, _ e: Double, _ tolerance: Double, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThanOrEqual(Swift.abs(a - e), tolerance * Swift.abs(e), "\(message): \(a) vs \(e)", file: file, line: line)
    }

    // MARK: PyTorch references

    func testMatchesPyTorchInDouble() {
        for (n, c) in CTCReference.shared.cases.enumerated() {
            let logits = Tensor(shape: [c.C, c.m, c.T], scalars: c.logits)
            onBothPaths { path in
                let what = "case \(n) \(path)"
                let sum = lossAndGradient(logits, c.targets, c.input_lengths, blank: c.blank, .sum)
                assertRelative(sum.loss, c.loss_sum, 1e-12, "sum " + what)
                assertClose(sum.gradient, c.grad_sum, shape: [c.C, c.m, c.T], relative: 1e-10, absolute: 1e-13, "sum gradient " + what)
                let mean = lossAndGradient(logits, c.targets, c.input_lengths, blank: c.blank, .meanOverTargetLengths)
                assertRelative(mean.loss, c.loss_mean, 1e-12, "meanOverTargetLengths " + what)
                assertClose(mean.gradient, c.grad_mean, relative: 1e-10, absolute: 1e-13, "meanOverTargetLengths gradient " + what)
                let batchMean = lossAndGradient(logits, c.targets, c.input_lengths, blank: c.blank, .mean)
                assertRelative(batchMean.loss, c.loss_none.reduce(0, +) / Double(c.m), 1e-12, "mean " + what)
                assertClose(batchMean.gradient, c.grad_sum.map { $0 / Double(c.m) }, relative: 1e-10, absolute: 1e-13, "mean gradient " + what)
                for b in 0..<c.m {   // reduction "none": one example at a time
                    let single = ctcLoss(logits: Variable(logits.slice(axis: 1, b..<b + 1)), targets: [c.targets[b]],
                                         inputLengths: [c.input_lengths[b]], blank: c.blank, reduction: .sum)
                    assertRelative(single.value.scalar, c.loss_none[b], 1e-12, "example \(b) " + what)
                }
            }
        }
    }

    func testMatchesPyTorchInFloat() {
        for (n, c) in CTCReference.shared.cases.enumerated() {
            let logits = Tensor<Float>(shape: [c.C, c.m, c.T], scalars: c.logits.map { Float($0) })
            onBothPaths { path in
                let what = "case \(n) \(path)"
                let sum = lossAndGradient(logits, c.targets, c.input_lengths, blank: c.blank, .sum)
                assertRelative(Double(sum.loss), c.loss_sum, 1e-5, "sum " + what)
                assertClose(sum.gradient, c.grad_sum, relative: 1e-4, absolute: 1e-5, "sum gradient " + what)
                let mean = lossAndGradient(logits, c.targets, c.input_lengths, blank: c.blank)
                assertRelative(Double(mean.loss), c.loss_mean, 1e-5, "meanOverTargetLengths " + what)
                assertClose(mean.gradient, c.grad_mean, relative: 1e-4, absolute: 1e-5, "meanOverTargetLengths gradient " + what)
            }
        }
    }

    // MARK: Gradients and paths

    func testGradientByCentralDifferences() {
        // A repeat that just fits (1 _ 1 in 3 of 4 steps), a shorter input, a non-zero blank.
        let logits = randomLogits([3, 3, 4], seed: 5)
        let lengths = [4, 3, 4]
        for (reduction, blank, targets) in [(CTCReduction.sum, 0, [[1, 1], [2], [1, 2, 1]]),
                                            (.meanOverTargetLengths, 2, [[1, 1], [0], [0, 1, 0]])] {
            onBothPaths { path in
                // J = 0.7·loss: the node scales by the incoming gradient.
                let analytic = lossAndGradient(logits, targets, lengths, blank: blank, reduction, seed: 0.7).gradient
                func J(_ x: Tensor<Double>) -> Double {
                    0.7 * withoutGradients { ctcLoss(logits: Variable(x), targets: targets, inputLengths: lengths, blank: blank, reduction: reduction).value.scalar }
                }
                var numerator = 0.0, normA = 0.0, normN = 0.0
                for i in 0..<logits.count {
                    let epsilon = 1e-6 * Swift.max(1, Swift.abs(logits.scalars[i]))
                    var plus = logits, minus = logits
                    plus.withUnsafeMutableBufferPointer { $0[i] += epsilon }
                    minus.withUnsafeMutableBufferPointer { $0[i] -= epsilon }
                    let numeric = (J(plus) - J(minus)) / (2 * epsilon), a = analytic.scalars[i]
                    numerator += (a - numeric) * (a - numeric)
                    normA += a * a
                    normN += numeric * numeric
                }
                let relative = numerator.squareRoot() / (normA.squareRoot() + normN.squareRoot())
                XCTAssertLessThan(relative, 1e-7, "\(reduction) blank \(blank) \(path)")
                XCTAssertGreaterThan(normA, 0)
                // Steps past an input length get no gradient.
                for k in 0..<3 { XCTAssertEqual(analytic[k, 1, 3], 0) }
            }
        }
    }

    /// Target lengths that leave partial vectors of states (L = 1, 3, 11, 25, 27),
    /// repeats, odd input lengths.
    func testLoopAndVectorizedPathsAgree() {
        let logits = randomLogits([7, 5, 37], seed: 8, scale: 2)
        var g = RandomGenerator(seed: 9)
        let targets = [0, 1, 5, 12, 13].map { n in (0..<n).map { _ in 1 + g.nextIndex(below: 6) } }
        let lengths = [37, 3, 20, 37, 33]
        for reduction in [CTCReduction.sum, .meanOverTargetLengths] {
            let loop = withComputePath(.loop) { lossAndGradient(logits, targets, lengths, reduction) }
            let vectorized = withComputePath(.vectorized) { lossAndGradient(logits, targets, lengths, reduction) }
            XCTAssert(loop.loss.isFinite)
            assertRelative(vectorized.loss, loop.loss, 1e-13, "\(reduction) loss")
            assertClose(vectorized.gradient, loop.gradient.scalars, relative: 1e-12, absolute: 1e-14, "\(reduction) gradient")
            let float = Tensor<Float>(shape: logits.shape, scalars: logits.scalars.map { Float($0) })
            let loopFloat = withComputePath(.loop) { lossAndGradient(float, targets, lengths, reduction) }
            let vectorizedFloat = withComputePath(.vectorized) { lossAndGradient(float, targets, lengths, reduction) }
            assertRelative(Double(vectorizedFloat.loss), Double(loopFloat.loss), 1e-6, "Float \(reduction) loss")
            assertClose(vectorizedFloat.gradient, loopFloat.gradient.scalars.map(Double.init), relative: 1e-5, absolute: 1e-7, "Float gradient")
        }
    }

    /// The vectorized path runs in scaled probability space and falls back to log
    /// space per example: ordinary logits stay in probability space; logits spread by
    /// thousands (emissions of e^−2000 underflow Double) take the fallback, and both
    /// agree with the loop path's log-space recursions.
    func testScaledProbabilitiesAndTheLogSpaceFallback() {
        var g = RandomGenerator(seed: 13)
        let targets = (0..<4).map { n in (0..<(3 + 2 * n)).map { _ in 1 + g.nextIndex(below: 5) } }
        let lengths = [30, 24, 30, 19]
        for (scale, staysScaled) in [(2.0, true), (1500.0, false)] {
            let logits = randomLogits([6, 4, 30], seed: 14, scale: scale)
            let problem = CTCProblem(classes: 6, batch: 4, steps: 30, blank: 0, targets: targets, inputLengths: lengths)
            var nll = [Double](repeating: 0, count: 4), gradient = [Double](repeating: 0, count: logits.count)
            let scaled = logits.withUnsafeBufferPointer { z in
                nll.withUnsafeMutableBufferPointer { n in
                    gradient.withUnsafeMutableBufferPointer { g in
                        (0..<4).map { CTCKernels.scaledExample(problem, $0, z.baseAddress!, n.baseAddress!, g.baseAddress!) }
                    }
                }
            }
            XCTAssertEqual(scaled, [Bool](repeating: staysScaled, count: 4), "scale \(scale)")
            let loop = withComputePath(.loop) { lossAndGradient(logits, targets, lengths, .sum) }
            let vectorized = withComputePath(.vectorized) { lossAndGradient(logits, targets, lengths, .sum) }
            XCTAssert(loop.loss.isFinite, "scale \(scale)")
            assertRelative(vectorized.loss, loop.loss, 1e-13, "scale \(scale) loss")
            assertClose(vectorized.gradient, loop.gradient.scalars, relative: 1e-12, absolute: 1e-14, "scale \(scale) gradient")
        }
    }

    /// Enough work for two threads (above the parallel threshold), one example per task.
    func testOneThreadAndTwoThreadsGiveTheSameBits() {
        let (C, m, T) = (12, 6, 128)
        let logits = randomLogits([C, m, T], seed: 10)
        var g = RandomGenerator(seed: 11)
        let targets = (0..<m).map { b in (0..<(16 - b)).map { _ in 1 + g.nextIndex(below: C - 1) } }
        let lengths = (0..<m).map { T - 7 * $0 }
        let one = Parallelism.withMaxThreads(1) { lossAndGradient(logits, targets, lengths) }
        let two = Parallelism.withMaxThreads(2) { lossAndGradient(logits, targets, lengths) }
        XCTAssert(one.loss.isFinite)
        XCTAssertEqual(one.loss.bitPattern, two.loss.bitPattern)
        XCTAssertEqual(one.gradient.scalars.map(\.bitPattern), two.gradient.scalars.map(\.bitPattern))
    }

    func testImpossibleAlignmentIsInfiniteOrDropped() {
        // [1, 1, 2] needs 4 steps (a blank between the 1s): 3 is too few; [3] fits in 2.
        let logits = randomLogits([4, 2, 5], seed: 12)
        let targets = [[1, 1, 2], [3]], lengths = [3, 2]
        onBothPaths { path in
            let plain = lossAndGradient(logits, targets, lengths, .sum)
            XCTAssertEqual(plain.loss, .infinity, "\(path)")
            let alone = lossAndGradient(logits.slice(axis: 1, 1..<2), [[3]], [2], .sum)
            for k in 0..<4 {
                for t in 0..<5 {
                    XCTAssert(t < 3 ? plain.gradient[k, 0, t].isNaN : plain.gradient[k, 0, t] == 0, "\(path) NaN gradient like PyTorch's")
                    XCTAssertEqual(plain.gradient[k, 1, t], alone.gradient[k, 0, t], "\(path)")
                }
            }
            for reduction in [CTCReduction.sum, .mean, .meanOverTargetLengths] {
                let dropped = lossAndGradient(logits, targets, lengths, reduction, zeroInfinity: true)
                let weight = reduction == .sum ? 1.0 : 0.5
                assertRelative(dropped.loss, weight * alone.loss, 1e-15, "\(path) zeroInfinity \(reduction)")
                for k in 0..<4 {
                    for t in 0..<5 {
                        XCTAssertEqual(dropped.gradient[k, 0, t], 0, "\(path) zeroInfinity \(reduction)")
                        XCTAssertEqual(dropped.gradient[k, 1, t], weight * alone.gradient[k, 0, t], accuracy: 1e-16)
                    }
                }
            }
            // One more step and it fits.
            XCTAssert(lossAndGradient(logits, targets, [4, 2], .sum).loss.isFinite, "\(path)")
        }
    }

    // MARK: Decoding

    /// C5W3-11: `ttt_h_eee___ ___qqq` (`_` blank, ` ` space) decodes to `the q`.
    func testGreedyDecodingOfTheNotesExample() {
        let alphabet = Array("_ ehqt")   // class 0 is the blank
        let path = "ttt_h_eee___ ___qqq".map { alphabet.firstIndex(of: $0)! }
        let second = "_hh_e__e_".map { alphabet.firstIndex(of: $0)! }
        let (C, T) = (alphabet.count, path.count)
        // Example 0 scores its path's class highest at each step; example 1 the same for its 9 steps (and then noise).
        var g = RandomGenerator(seed: 13)
        var scores = [Double](repeating: 0, count: C * 2 * T)
        for k in 0..<C {
            for b in 0..<2 {
                for t in 0..<T {
                    let chosen = b == 0 ? path[t] : (t < second.count ? second[t] : 3)
                    scores[(k * 2 + b) * T + t] = (k == chosen ? 3 : 0) + g.nextUniform()
                }
            }
        }
        let decoded = ctcGreedyDecode(Tensor(shape: [C, 2, T], scalars: scores), inputLengths: [T, second.count])
        XCTAssertEqual(decoded.map { String($0.map { alphabet[$0] }) }, ["the q", "hee"])
        XCTAssertEqual(ctcCollapse([1, 1, 0, 1, 2, 2, 0, 0], blank: 0), [1, 1, 2])
        XCTAssertEqual(ctcCollapse([1, 1, 0, 1, 2, 2, 0, 0], blank: 1), [0, 2, 0])
    }

    /// Every alignment of a C = 3, T = 4 problem (3⁴ = 81 paths), collapsed and
    /// summed per labelling: a wide beam finds every labelling with its exact
    /// probability, most probable first.
    func testBeamDecodingMatchesBruteForce() {
        let (C, T) = (3, 4)
        for seed in UInt64(20)..<UInt64(25) {
            for blank in [0, 2] {
                let y = logSoftmax(randomLogits([C, T], seed: seed), axis: 0)
                var exact: [[Int]: Double] = [:]
                for n in 0..<81 {
                    let alignment = (0..<T).map { t in n / [1, 3, 9, 27][t] % 3 }
                    let logP = (0..<T).reduce(0.0) { $0 + y[alignment[$1], $1] }
                    exact[ctcCollapse(alignment, blank: blank), default: 0] += exp(logP)
                }
                let beam = ctcBeamDecode(logProbabilities: y, width: 100, blank: blank)
                XCTAssertEqual(beam.count, exact.count, "every labelling")
                let best = exact.max { $0.value < $1.value }!
                XCTAssertEqual(beam[0].labels, best.key, "seed \(seed) blank \(blank)")
                for (labels, logP) in beam { assertRelative(exp(logP), exact[labels, default: 0], 1e-12, "p(\(labels))") }
                XCTAssertEqual(beam.map(\.logProbability), beam.map(\.logProbability).sorted(by: >))
                // A narrow beam keeps the best ones it can reach, never more probability than there is.
                for (labels, logP) in ctcBeamDecode(logProbabilities: y, width: 2, blank: blank) {
                    XCTAssertLessThanOrEqual(exp(logP), exact[labels, default: 0] * (1 + 1e-12))
                }
            }
        }
        // The most probable path (blank, blank) is not the most probable labelling [1]: 0.35² + 2·0.35·0.4 > 0.4².
        let y = Tensor<Double>(shape: [3, 2], scalars: [0.4, 0.4, 0.35, 0.35, 0.25, 0.25].map { log($0) })
        XCTAssertEqual(ctcGreedyDecode(y.reshaped(to: [3, 1, 2])), [[]])
        let beam = ctcBeamDecode(logProbabilities: y, width: 3)
        XCTAssertEqual(beam[0].labels, [1])
        XCTAssertEqual(beam[0].logProbability, log(0.35 * 0.35 + 2 * 0.35 * 0.4), accuracy: 1e-14)
    }
}
