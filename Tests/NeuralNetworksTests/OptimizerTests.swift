import NeuralNetworks
import Tensors
import XCTest

/// Optimizer updates against numpy (`Reference/optimizers.py`), three steps
/// each, so Adam's bias correction is exercised at t = 1, 2, 3.
final class OptimizerTests: XCTestCase {
    static let gradients: [[Double]] = [[0.1, -0.2, 0.3], [-0.4, 0.5, 0.05], [0.2, 0.2, -0.1]]

    func steps<O: Optimizer>(_ optimizer: O, parameter: Parameter<Double>? = nil) -> [[Double]] where O.Scalar == Double {
        let w = parameter ?? Parameter(key: "W", value: Tensor<Double>([[1.0, -2.0, 0.5]]), isRegularized: true)
        return Self.gradients.map { g in
            w.gradient = Tensor([g])
            optimizer.step([w], learningRate: 0.01)
            return w.value.scalars
        }
    }

    func check(_ actual: [[Double]], _ expected: [[Double]], _ name: String) {
        for (step, (a, e)) in zip(actual, expected).enumerated() {
            for (x, y) in zip(a, e) { XCTAssertEqual(x, y, accuracy: 1e-12, "\(name) step \(step + 1)") }
        }
    }

    func testGradientDescent() {
        check(steps(GradientDescent<Double>()), [[0.999, -1.998, 0.497], [1.003, -2.003, 0.4965], [1.001, -2.005, 0.4975]], "GD")
    }

    func testMomentum() {
        check(steps(Momentum<Double>()),
              [[0.9999, -1.9998, 0.4997], [1.00021, -2.00012, 0.49938], [1.000289, -2.000608, 0.499192]], "momentum")
    }

    /// The notes' alternative `v = β·v + dW` (PyTorch's `SGD(momentum: 0.9)`), by
    /// hand: v₁ = (0.1, −0.2, 0.3); v₂ = 0.9·v₁ + g₂ = (−0.31, 0.32, 0.32);
    /// v₃ = 0.9·v₂ + g₃ = (−0.079, 0.488, 0.188); W −= 0.01·v each step. It is
    /// the averaged form with α/(1 − β) = 0.1: those steps, times 10.
    func testMomentumAccumulatedForm() {
        check(steps(Momentum<Double>(form: .accumulated)),
              [[0.999, -1.998, 0.497], [1.0021, -2.0012, 0.4938], [1.00289, -2.00608, 0.49192]], "accumulated momentum")
        let start = [1.0, -2.0, 0.5]
        let averaged = steps(Momentum<Double>()).map { w in zip(w, start).map { $1 + ($0 - $1) / (1 - 0.9) } }
        check(steps(Momentum<Double>(form: .accumulated)), averaged, "the averaged form's steps × 1/(1 − β)")
    }

    /// TC-E1: β = 0.9 on 40, 49, 45 °F; TC-E3: β = 0.98 at t = 2.
    func testExponentiallyWeightedAverages() {
        let plain = exponentiallyWeightedAverages([40, 49, 45], beta: 0.9)
        let corrected = exponentiallyWeightedAverages([40, 49, 45], beta: 0.9, biasCorrected: true)
        for (x, y) in zip(plain, [4.0, 8.5, 12.15]) { XCTAssertEqual(x, y, accuracy: 1e-12) }
        for (x, y) in zip(corrected, [40.0, 44.736842, 44.833948]) { XCTAssertEqual(x, y, accuracy: 1e-6) }
        var average = ExponentialAverage(beta: 0.98)
        XCTAssertEqual(average.biasCorrected, 0)
        average.add(1)   // θ₁ = 1, θ₂ = 0: v₂ = 0.0196
        average.add(0)
        XCTAssertEqual(average.value, 0.0196, accuracy: 1e-15)
        XCTAssertEqual(average.biasCorrected, 0.0196 / 0.0396, accuracy: 1e-15)
        XCTAssertEqual(average.count, 2)
        // A constant series is its own bias-corrected average from the first value on.
        XCTAssertTrue(exponentiallyWeightedAverages([7, 7, 7, 7], beta: 0.5, biasCorrected: true).allSatisfy { Swift.abs($0 - 7) < 1e-14 })
    }

    func testRMSpropWithEpsilonInsideTheRoot() {
        check(steps(RMSprop<Double>()), [
            [0.6839302293794931, -1.6838117550438698, 0.18378980072850343],
            [0.9907162249184411, -1.9774370527094187, 0.13177978055298056],
            [0.852647219950565, -2.0875868414544305, 0.23063591562965952],
        ], "RMSprop")
    }

    /// PyTorch's placement (`torch.optim.RMSprop(alpha=0.999, eps=1e-8)` gives the same three
    /// vectors in float64; `Reference/optimizers.py` computes them with numpy).
    func testRMSpropWithEpsilonOutsideTheRoot() {
        check(steps(RMSprop<Double>(epsilonPlacement: .outsideRoot)), [
            [0.68377323398, -1.6837727339823716, 0.1837725673161441],
            [0.9905680177267833, -1.9774029223702958, 0.13175978723291393],
            [0.8524958179405797, -2.08755432104255, 0.23062065530426895],
        ], "RMSprop, ε outside")
    }

    func testAdamBiasCorrection() {
        let adam = Adam<Double>()
        check(steps(adam), [
            [0.9900000009999999, -1.9900000005, 0.4900000003333333],
            [0.9955950357485128, -1.9944221530217234, 0.4821667272150606],
            [0.9966967723464267, -1.9998515828128194, 0.4784121864182727],
        ], "Adam")
    }

    /// Adam's t counts per parameter: a head added after three steps starts at
    /// t = 1 (its first update is exactly a fresh Adam's), and the state lives
    /// with the parameter, not in a table inside the optimizer.
    func testAdamStepCountIsPerParameter() {
        let adam = Adam<Double>()
        let old = Parameter(key: "W", value: Tensor<Double>([[1.0, -2.0, 0.5]]), isRegularized: true)
        _ = steps(adam, parameter: old)
        XCTAssertEqual(old.optimizerState.step, 3)
        XCTAssertNotNil(old.optimizerState.firstMoment)
        let head = Parameter(key: "W", value: Tensor<Double>([[1.0, -2.0, 0.5]]), isRegularized: true)
        head.gradient = Tensor([Self.gradients[0]])
        old.gradient = Tensor([Self.gradients[0]])
        adam.step([old, head], learningRate: 0.01)
        XCTAssertEqual(head.optimizerState.step, 1)
        XCTAssertEqual(old.optimizerState.step, 4)
        XCTAssertEqual(head.value.scalars, [0.9900000009999999, -1.9900000005, 0.4900000003333333])
        // Another optimizer does not inherit Adam's moments.
        let momentum = Momentum<Double>()
        momentum.step([old], learningRate: 0.01)
        XCTAssertEqual(old.optimizerState.step, 1)
        XCTAssertNil(old.optimizerState.secondMoment)
    }

    func testFrozenParametersAreNotUpdated() {
        let w = Parameter(key: "W", value: Tensor<Double>([[1.0]]), isRegularized: true)
        w.gradient = Tensor([[5.0]])
        w.isTrainable = false
        Adam<Double>().step([w], learningRate: 0.1)
        XCTAssertEqual(w.value.scalars, [1.0])
    }

    /// TC-O2: α₀ = 0.2, decay rate 1 → 0.1, 0.0667, 0.05, 0.04 (the notes' table, decimals restored).
    func testLearningRateSchedules() {
        let rates = (1...4).map { LearningRateSchedule.inverseTime(decayRate: 1).rate(initial: 0.2, epoch: $0) }
        for (r, e) in zip(rates, [0.1, 0.2 / 3, 0.05, 0.04]) { XCTAssertEqual(r, e, accuracy: 1e-15) }
        XCTAssertEqual(LearningRateSchedule.exponential(base: 0.95).rate(initial: 1, epoch: 2), 0.9025, accuracy: 1e-15)
        XCTAssertEqual(LearningRateSchedule.inverseSquareRoot(k: 0.5).rate(initial: 2, epoch: 4), 0.5, accuracy: 1e-15)
        XCTAssertEqual(LearningRateSchedule.staircase(factor: 0.5, every: 10).rate(initial: 1, epoch: 25), 0.25)
        let intervals = LearningRateSchedule.intervals([.init(untilEpoch: 5, factor: 1), .init(untilEpoch: 10, factor: 0.1)])
        XCTAssertEqual(intervals.rate(initial: 0.3, epoch: 5), 0.3)
        XCTAssertEqual(intervals.rate(initial: 0.3, epoch: 6), 0.3 * 0.1, accuracy: 1e-15)
        XCTAssertEqual(intervals.rate(initial: 0.3, epoch: 60), 0.3 * 0.1, accuracy: 1e-15)
        XCTAssertEqual(LearningRateSchedule.intervals([]).rate(initial: 0.3, epoch: 4), 0.3, "no intervals: α₀")
    }
}
