/// The implementable parts of the notes' ML strategy (course 3).
public enum MLStrategy {
    /// A candidate model with named metrics (e.g. `"accuracy": 0.92, "runningTime": 95`).
    public struct Candidate: Sendable, Equatable {
        public var name: String
        public var metrics: [String: Double]
        public init(name: String, metrics: [String: Double]) {
            self.name = name
            self.metrics = metrics
        }
    }

    /// Single-number selection (C3W1-05): among candidates meeting every
    /// satisficing limit (`metric ≤ limit`), the best by the optimizing metric
    /// (`maximize` true: highest). TC-M3: accuracy 90/92/95 % with running time
    /// 80/95/1500 ms and `runningTime ≤ 100` selects the 92 % classifier.
    public static func select(
        _ candidates: [Candidate], optimizing metric: String, maximize: Bool = true, satisficing limits: [String: Double] = [:]
    ) -> Candidate? {
        let feasible = candidates.filter { c in limits.allSatisfy { (c.metrics[$0.key] ?? .infinity) <= $0.value } }
        return feasible.max { a, b in
            let (x, y) = (a.metrics[metric] ?? -.infinity, b.metrics[metric] ?? -.infinity)
            return maximize ? x < y : x > y
        }
    }

    /// Where the error comes from (C3W1-09, C3W2-06), all in the same units (e.g. %).
    public struct ErrorReport: Sendable, Equatable, CustomStringConvertible {
        /// train − human-level (human level as the proxy for Bayes error)
        public var avoidableBias: Double
        /// train-dev − train (or dev − train without a train-dev set)
        public var variance: Double
        /// dev − train-dev (nil without a train-dev set)
        public var dataMismatch: Double?
        /// test − dev: the degree of overfitting to the dev set
        public var devOverfitting: Double?

        public init(avoidableBias: Double, variance: Double, dataMismatch: Double?, devOverfitting: Double?) {
            self.avoidableBias = avoidableBias
            self.variance = variance
            self.dataMismatch = dataMismatch
            self.devOverfitting = devOverfitting
        }

        /// The largest component, the notes' next thing to work on.
        public var largestProblem: String {
            let parts: [(String, Double)] = [("avoidable bias", avoidableBias), ("variance", variance),
                                             ("data mismatch", dataMismatch ?? -.infinity), ("overfitting the dev set", devOverfitting ?? -.infinity)]
            return parts.max { $0.1 < $1.1 }!.0
        }

        public var description: String {
            var text = "avoidable bias \(avoidableBias), variance \(variance)"
            if let dataMismatch { text += ", data mismatch \(dataMismatch)" }
            if let devOverfitting { text += ", dev overfitting \(devOverfitting)" }
            return text + "; largest: \(largestProblem)"
        }
    }

    /// TC-M11: human 4, train 7, train-dev 10, dev 12, test 12 → avoidable bias 3,
    /// variance 3, data mismatch 2, dev overfitting 0.
    public static func errorReport(humanLevel: Double, train: Double, trainDev: Double? = nil, dev: Double, test: Double? = nil) -> ErrorReport {
        ErrorReport(avoidableBias: train - humanLevel,
                    variance: (trainDev ?? dev) - train,
                    dataMismatch: trainDev.map { dev - $0 },
                    devOverfitting: test.map { $0 - dev })
    }

    /// Error-analysis tally (C3W2-01/02): for misclassified examples each tagged
    /// with the categories that apply (several may apply), the fraction of
    /// examples per category, and the best error reachable by fixing that
    /// category entirely (`overallError × (1 − fraction)`, the ceiling analysis).
    public static func errorTally(_ tags: [[String]], overallError: Double) -> [(category: String, fraction: Double, ceiling: Double)] {
        var counts: [String: Int] = [:]
        for example in tags { for category in Set(example) { counts[category, default: 0] += 1 } }
        return counts.map { category, count in
            let fraction = Double(count) / Double(Swift.max(tags.count, 1))
            return (category, fraction, overallError * (1 - fraction))
        }.sorted { $0.fraction > $1.fraction }
    }

    /// Weighted error (C3W1-08): `Σ wᵢ·1[ŷᵢ ≠ yᵢ] / Σ wᵢ`.
    public static func weightedError(predicted: [Int], actual: [Int], weights: [Double]) -> Double {
        require(predicted.count == actual.count && actual.count == weights.count,
                     "weightedError: \(predicted.count) predictions, \(actual.count) labels, \(weights.count) weights")
        let total = weights.reduce(0, +)
        let wrong = zip(zip(predicted, actual), weights).reduce(0.0) { $0 + ($1.0.0 != $1.0.1 ? $1.1 : 0) }
        return total == 0 ? 0 : wrong / total
    }
}
