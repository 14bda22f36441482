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

    /// The proxy for Bayes error among several human-level errors (C3W1-10): the
    /// lowest, since Bayes error is at most the best any human reaches. TC-M10:
    /// a typical human 3 %, a typical doctor 1 %, an experienced doctor 0.7 %, a
    /// team of experienced doctors 0.5 % → 0.5 %.
    public static func bayesProxy(humanLevels: [Double]) -> Double {
        require(!humanLevels.isEmpty && !humanLevels.contains(where: \.isNaN), "bayesProxy: human-level errors \(humanLevels) must be given and not NaN")
        return humanLevels.min()!
    }

    /// The error report with the lowest of several human-level errors as the
    /// Bayes proxy (``bayesProxy(humanLevels:)``).
    public static func errorReport(humanLevels: [Double], train: Double, trainDev: Double? = nil, dev: Double, test: Double? = nil) -> ErrorReport {
        errorReport(humanLevel: bayesProxy(humanLevels: humanLevels), train: train, trainDev: trainDev, dev: dev, test: test)
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

    /// A metric averaged over slices of the data (C3W1-04): the mean of the
    /// per-slice values, one number to rank models by. TC-M2: errors over US,
    /// China, India and other regions of 2/3/4/5 % → 3.5 % (algorithm C, the
    /// best of the notes' six; A's 3/7/5/9 → 6).
    public static func sliceAverage(_ values: [Double]) -> Double {
        require(!values.isEmpty, "sliceAverage: no slices given")
        return values.reduce(0, +) / Double(values.count)
    }

    /// The linear combined metric of C3W1-05, `Σ weightᵢ·metricᵢ`, e.g.
    /// `accuracy − 0.5·runningTime` is `["accuracy": 1, "runningTime": -0.5]`.
    /// (The notes recommend satisficing limits instead, ``select(_:optimizing:maximize:satisficing:)``:
    /// a combined cost depends on the metrics' units — TC-M4.) Nil when the
    /// candidate lacks one of the weighted metrics; the terms are added in the
    /// order of the metrics' names, so the bits do not depend on dictionary order.
    public static func combinedScore(_ candidate: Candidate, weights: [String: Double]) -> Double? {
        var score = 0.0
        for (name, weight) in weights.sorted(by: { $0.key < $1.key }) {
            guard let value = candidate.metrics[name] else { return nil }
            score += weight * value
        }
        return score
    }

    /// How the dev error splits between incorrect labels and everything else
    /// (C3W2-03): `labels = devError × mislabeledFraction` (the fraction of the
    /// misclassified dev examples whose label is wrong, from the error-analysis
    /// tally) and `other = devError − labels`. TC-M8: 10 % with 6 % of the
    /// errors mislabeled → 0.6 % and 9.4 % (fixing the labels is not worth it
    /// yet); 2 % with 0.6 % from labels → 0.6 % and 1.4 % (it is).
    public static func labelNoise(devError: Double, mislabeledFraction: Double) -> (incorrectLabels: Double, otherCauses: Double) {
        require(mislabeledFraction >= 0 && mislabeledFraction <= 1,
                "labelNoise: the mislabeled fraction must be in [0, 1], got \(mislabeledFraction)")
        let labels = devError * mislabeledFraction
        return (labels, devError - labels)
    }

    /// The smallest difference in an error rate that a dev set of `n` examples
    /// resolves (C3W1-07): one example, `1/n` (100 examples → 1 %).
    public static func resolution(devSetSize n: Int) -> Double {
        require(n > 0, "resolution: the dev set size must be positive, got \(n)")
        return 1 / Double(n)
    }

    /// The dev set size whose resolution is `difference` (a fraction): `⌈1/difference⌉`.
    /// TC-M14: telling 97 % from 97.1 % (0.001) takes at least 1,000 examples —
    /// the notes suggest 1,000–10,000, since one example's worth is only the
    /// granularity, not a confident comparison.
    public static func devSetSize(resolving difference: Double) -> Int {
        require(difference >= 1e-12 && difference <= 1, "devSetSize: the difference must be in [1e-12, 1], got \(difference)")
        let examples = 1 / difference
        return Int((examples * (1 - 1e-12)).rounded(.up))   // 1/d can land a hair above a whole number
    }

    /// The expected make-up of a dev set of `devSize` examples drawn from the
    /// shuffled union of several sources (C3W2-05's option 1): each source's
    /// share, `devSize × countₛ / Σ count`. TC-M9: 200,000 web and 10,000 app
    /// images, a dev set of 2,500 → 2,380.95 web and 119.05 app: the dev set
    /// would be mostly the distribution you do not care about, which is why the
    /// notes take dev and test from the app data only (option 2).
    public static func expectedComposition(sources: [String: Int], devSize: Int) -> [String: Double] {
        let total = sources.values.reduce(0, +)
        require(total > 0 && sources.values.allSatisfy { $0 >= 0 }, "expectedComposition: the source counts must be non-negative and not all zero")
        return sources.mapValues { Double(devSize) * Double($0) / Double(total) }
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
