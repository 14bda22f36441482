import NeuralNetworks
import Tensors
import XCTest

final class StrategyTests: XCTestCase {
    /// TC-O3: α = 10^r, r ∈ [−4, 0]; β = 1 − 10^r, r ∈ [−3, −1].
    func testLogScaleSampling() {
        var g = RandomGenerator(seed: 1)
        let alphas = (0..<4000).map { _ in HyperparameterDistribution.logUniform(low: 1e-4, high: 1).sample(&g) }
        XCTAssertTrue(alphas.allSatisfy { $0 >= 1e-4 && $0 <= 1 })
        // Each decade gets about a quarter of the samples (±3σ of a binomial(4000, ¼) ≈ ±82).
        for decade in 0..<4 {
            let low = pow(10, Double(-4 + decade)), high = low * 10
            XCTAssertEqual(Double(alphas.filter { $0 >= low && $0 < high }.count), 1000, accuracy: 90)
        }
        let betas = (0..<4000).map { _ in HyperparameterDistribution.oneMinusLogUniform(low: 0.9, high: 0.999).sample(&g) }
        XCTAssertTrue(betas.allSatisfy { $0 >= 0.9 && $0 <= 0.999 })
        XCTAssertEqual(Double(betas.filter { $0 > 0.99 }.count), 2000, accuracy: 110, "windows 100…1000 are half the log range")
        let units = (0..<200).map { _ in HyperparameterDistribution.integer(low: 50, high: 100).sample(&g) }
        XCTAssertEqual(Set(units).isSubset(of: Set((50...100).map(Double.init))), true)
    }

    func testRandomSearchFindsTheMinimum() {
        let trials = randomSearch(trials: 60, space: ["alpha": .logUniform(low: 1e-4, high: 1)], seed: 2) { p in
            abs(log10(p["alpha"]!) - log10(0.01))     // best near α = 0.01
        }
        XCTAssertEqual(trials.count, 60)
        XCTAssertEqual(log10(trials[0].hyperparameters["alpha"]!), -2, accuracy: 0.15)
        XCTAssertLessThanOrEqual(trials[0].score, trials[1].score)
    }

    func testSatisficingSelection() {
        let candidates = [
            MLStrategy.Candidate(name: "A", metrics: ["accuracy": 90, "runningTime": 80]),
            MLStrategy.Candidate(name: "B", metrics: ["accuracy": 92, "runningTime": 95]),
            MLStrategy.Candidate(name: "C", metrics: ["accuracy": 95, "runningTime": 1500]),
        ]
        XCTAssertEqual(MLStrategy.select(candidates, optimizing: "accuracy", satisficing: ["runningTime": 100])?.name, "B")
        XCTAssertEqual(MLStrategy.select(candidates, optimizing: "accuracy")?.name, "C")
        XCTAssertNil(MLStrategy.select(candidates, optimizing: "accuracy", satisficing: ["runningTime": 10]))
    }

    func testErrorReportsFromTheNotes() {
        let r = MLStrategy.errorReport(humanLevel: 4, train: 7, trainDev: 10, dev: 12, test: 12)
        XCTAssertEqual(r, .init(avoidableBias: 3, variance: 3, dataMismatch: 2, devOverfitting: 0))
        // TC-M12: human ≈ 0, train 1 %, train-dev 9 %, dev 10 % → a variance problem.
        let m12 = MLStrategy.errorReport(humanLevel: 0, train: 1, trainDev: 9, dev: 10)
        XCTAssertEqual(m12.variance, 8)
        XCTAssertEqual(m12.dataMismatch, 1)
        XCTAssertEqual(m12.largestProblem, "variance")
        XCTAssertEqual(MLStrategy.errorReport(humanLevel: 1, train: 8, dev: 10).largestProblem, "avoidable bias")
    }

    /// TC-M6: 10 % error, 5 of 100 mistakes are dogs → best case 9.5 %; 50 of 100 → 5 %.
    func testErrorAnalysisTallyAndCeiling() {
        let fewDogs = (0..<100).map { $0 < 5 ? ["dog"] : ["blurry"] }
        let dog = MLStrategy.errorTally(fewDogs, overallError: 10).first { $0.category == "dog" }!
        XCTAssertEqual(dog.fraction, 0.05)
        XCTAssertEqual(dog.ceiling, 9.5, accuracy: 1e-12)
        let manyDogs = (0..<100).map { $0 < 50 ? ["dog", "blurry"] : ["great cat"] }
        let tally = MLStrategy.errorTally(manyDogs, overallError: 10)
        XCTAssertEqual(tally.first { $0.category == "dog" }!.ceiling, 5, accuracy: 1e-12)
        XCTAssertEqual(tally.map(\.fraction).reduce(0, +), 1.5, accuracy: 1e-12, "categories overlap, so fractions sum past 1")
    }

    /// TC-M5: weight 10 for the examples that must not be misclassified.
    func testWeightedError() {
        XCTAssertEqual(MLStrategy.weightedError(predicted: [1, 0, 1, 1], actual: [1, 1, 1, 0], weights: [1, 1, 10, 10]), 11.0 / 22, accuracy: 1e-15)
    }
}
