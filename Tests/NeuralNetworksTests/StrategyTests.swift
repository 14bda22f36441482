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

    /// Coarse to fine (C2W3-01): every trial of a later round lies within the
    /// span of the best trials before it, and three rounds of 20 land closer
    /// to the optimum than the first round alone.
    func testCoarseToFineSamplesTheRegionOfTheBestPoints() {
        var evaluated: [[String: Double]] = []
        let objective: ([String: Double]) -> Double = { p in
            evaluated.append(p)
            return Swift.abs(log10(p["alpha"]!) + 2) + Swift.abs(p["units"]! - 70) / 50
        }
        let space: [String: HyperparameterDistribution] = ["alpha": .logUniform(low: 1e-4, high: 1), "units": .integer(low: 50, high: 100)]
        let trials = coarseToFineSearch(rounds: 3, trialsPerRound: 20, keep: 3, space: space, seed: 5, evaluate: objective)
        XCTAssertEqual(trials.count, 60)
        XCTAssertEqual(evaluated.count, 60)
        for round in 1..<3 {
            let before = evaluated[..<(round * 20)].sorted { objective0($0) < objective0($1) }.prefix(3)
            for name in ["alpha", "units"] {
                let values = before.map { $0[name]! }
                for point in evaluated[(round * 20)..<((round + 1) * 20)] {
                    XCTAssert(point[name]! >= values.min()! - 1e-12 && point[name]! <= values.max()! + 1e-12, "round \(round + 1): \(name) \(point[name]!) outside \(values)")
                }
            }
        }
        let firstRound = evaluated[..<20].map(objective0).min()!
        XCTAssertLessThan(trials[0].score, firstRound)
        XCTAssertEqual(HyperparameterDistribution.oneMinusLogUniform(low: 0.9, high: 0.999).narrowed(to: [0.95, 0.99, 0.93]),
                       .oneMinusLogUniform(low: 0.93, high: 0.99))
        XCTAssertEqual(HyperparameterDistribution.integer(low: 1, high: 9).narrowed(to: [3, 7]), .integer(low: 3, high: 7))
    }

    private func objective0(_ p: [String: Double]) -> Double { Swift.abs(log10(p["alpha"]!) + 2) + Swift.abs(p["units"]! - 70) / 50 }

    /// TC-M2 (slice averages), TC-M4 (the combined cost's units), TC-M8 (label
    /// noise), TC-M9 (shuffled mismatched dev set), TC-M10 (Bayes proxy),
    /// TC-M14 (dev-set resolution).
    func testStrategyNumbersOfTheNotes() {
        let regions: [String: [Double]] = ["A": [3, 7, 5, 9], "B": [5, 6, 5, 10], "C": [2, 3, 4, 5],
                                           "D": [5, 8, 7, 2], "E": [4, 5, 2, 4], "F": [7, 11, 8, 12]]
        let averages = regions.mapValues(MLStrategy.sliceAverage)
        XCTAssertEqual(averages, ["A": 6, "B": 6.5, "C": 3.5, "D": 5.5, "E": 3.75, "F": 9.5])
        XCTAssertEqual(averages.min { $0.value < $1.value }?.key, "C")

        let percentAndMilliseconds = [("A", 90.0, 80.0), ("B", 92, 95), ("C", 95, 1500)].map {
            MLStrategy.Candidate(name: $0.0, metrics: ["accuracy": $0.1, "runningTime": $0.2])
        }
        let fractionAndSeconds = percentAndMilliseconds.map {
            MLStrategy.Candidate(name: $0.name, metrics: ["accuracy": $0.metrics["accuracy"]! / 100, "runningTime": $0.metrics["runningTime"]! / 1000])
        }
        let weights = ["accuracy": 1.0, "runningTime": -0.5]
        func best(_ candidates: [MLStrategy.Candidate]) -> String {
            candidates.max { MLStrategy.combinedScore($0, weights: weights)! < MLStrategy.combinedScore($1, weights: weights)! }!.name
        }
        XCTAssertEqual(best(percentAndMilliseconds), "A")   // 50, 44.5, −655
        XCTAssertEqual(best(fractionAndSeconds), "B")       // 0.86, 0.8725, 0.2
        XCTAssertNil(MLStrategy.combinedScore(percentAndMilliseconds[0], weights: ["memory": 1]), "a metric the candidate lacks")

        let (labels, other) = MLStrategy.labelNoise(devError: 10, mislabeledFraction: 0.06)
        XCTAssertEqual(labels, 0.6, accuracy: 1e-12)
        XCTAssertEqual(other, 9.4, accuracy: 1e-12)
        let (labels2, other2) = MLStrategy.labelNoise(devError: 2, mislabeledFraction: 0.3)
        XCTAssertEqual(labels2, 0.6, accuracy: 1e-12)
        XCTAssertEqual(other2, 1.4, accuracy: 1e-12)

        let composition = MLStrategy.expectedComposition(sources: ["web": 200_000, "app": 10_000], devSize: 2500)
        XCTAssertEqual(composition["web"]!, 2380.95, accuracy: 0.005)
        XCTAssertEqual(composition["app"]!, 119.05, accuracy: 0.005)

        XCTAssertEqual(MLStrategy.bayesProxy(humanLevels: [3, 1, 0.7, 0.5]), 0.5)
        let report = MLStrategy.errorReport(humanLevels: [3, 1, 0.7, 0.5], train: 0.7, dev: 0.8)
        XCTAssertEqual(report.avoidableBias, 0.2, accuracy: 1e-12)
        XCTAssertEqual(report.variance, 0.1, accuracy: 1e-12)

        XCTAssertEqual(MLStrategy.resolution(devSetSize: 100), 0.01)
        XCTAssertEqual(MLStrategy.devSetSize(resolving: 0.001), 1000)
        XCTAssertEqual(MLStrategy.devSetSize(resolving: 0.01), 100)
        XCTAssertEqual(MLStrategy.devSetSize(resolving: 0.003), 334)
    }

    /// C1W1-04: each size trains on a prefix of one seeded shuffle (nested
    /// sets, X and Y together), and on the two-moons data a small network's
    /// dev accuracy rises with the amount of training data.
    func testLearningCurveTrainsOnNestedSubsets() throws {
        let (X, Y): (Tensor<Double>, Tensor<Double>) = Datasets.moons(count: 400, seed: 3)
        var seen: [Set<Double>] = []
        let sizes = learningCurve(X, Y, sizes: [5, 50, 400], seed: 4) { x, y in
            XCTAssertEqual(x.shape[1], y.shape[1])
            seen.append(Set(x.rows(0..<1).scalars))
            return Double(x.shape[1])
        }
        XCTAssertEqual(sizes.map(\.size), [5, 50, 400])
        XCTAssertEqual(sizes.map(\.score), [5, 50, 400])
        XCTAssertTrue(seen[0].isSubset(of: seen[1]) && seen[1].isSubset(of: seen[2]), "every set holds the smaller ones")

        let (devX, devY): (Tensor<Double>, Tensor<Double>) = Datasets.moons(count: 400, seed: 5)
        let curve = try learningCurve(X, Y, sizes: [8, 400], seed: 6) { x, y in
            var g = RandomGenerator(seed: 7)
            let model = Sequential<Double>.deepNetwork(layerSizes: [2, 16, 16, 1], generator: &g)
            try model.fit(x, y, optimizer: Adam(learningRate: 0.01), configuration: TrainingConfiguration(epochs: 150))
            return Metrics.accuracy(model.predict(devX), devY)
        }
        XCTAssertGreaterThan(curve[1].score, curve[0].score + 0.05, "\(curve)")
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
