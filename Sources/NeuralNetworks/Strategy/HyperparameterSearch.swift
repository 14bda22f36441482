import Foundation
import Tensors

/// How one hyperparameter is sampled in a random search (C2W3-01/02): random
/// points, not a grid, on the scale where the hyperparameter matters.
public enum HyperparameterDistribution: Sendable, Equatable {
    /// Uniform in `[low, high]` (e.g. number of hidden units).
    case uniform(low: Double, high: Double)
    /// `10^r` with `r` uniform in `[log₁₀ low, log₁₀ high]`: α in [1e-4, 1] samples
    /// each decade equally.
    case logUniform(low: Double, high: Double)
    /// `1 − 10^r` with `r` uniform in `[log₁₀(1 − high), log₁₀(1 − low)]`: β in
    /// [0.9, 0.999] samples the averaging windows 10…1000 evenly in log scale.
    case oneMinusLogUniform(low: Double, high: Double)
    /// A uniformly chosen integer in `[low, high]`.
    case integer(low: Int, high: Int)

    /// One sample from `generator`.
    public func sample(_ generator: inout RandomGenerator) -> Double {
        let u = generator.nextUniform()
        switch self {
        case let .uniform(low, high): return low + (high - low) * u
        case let .logUniform(low, high): return pow(10, log10(low) + (log10(high) - log10(low)) * u)
        case let .oneMinusLogUniform(low, high):
            let (a, b) = (log10(1 - high), log10(1 - low))
            return 1 - pow(10, a + (b - a) * u)
        case let .integer(low, high): return Double(low + generator.nextIndex(below: high - low + 1))
        }
    }
}

/// One evaluated point of a search.
public struct SearchTrial: Sendable {
    public var hyperparameters: [String: Double]
    /// The score returned by the evaluation (lower is better, e.g. dev error).
    public var score: Double
}

/// Random search: `trials` points drawn from `space` with a seeded generator,
/// each scored by `evaluate` (lower is better); returns the trials best first.
public func randomSearch(
    trials: Int, space: [String: HyperparameterDistribution], seed: UInt64,
    evaluate: ([String: Double]) throws -> Double
) rethrows -> [SearchTrial] {
    var generator = RandomGenerator(seed: seed)
    var results: [SearchTrial] = []
    try appendTrials(trials, from: space, to: &results, generator: &generator, evaluate: evaluate)
    return results.sorted { $0.score < $1.score }
}

/// `count` points drawn from `space` (the hyperparameters in name order, so a
/// seed gives the same points whatever the dictionary's order), each scored.
private func appendTrials(
    _ count: Int, from space: [String: HyperparameterDistribution], to results: inout [SearchTrial],
    generator: inout RandomGenerator, evaluate: ([String: Double]) throws -> Double
) rethrows {
    for _ in 0..<count {
        var point: [String: Double] = [:]
        for name in space.keys.sorted() { point[name] = space[name]!.sample(&generator) }
        results.append(SearchTrial(hyperparameters: point, score: try evaluate(point)))
    }
}

extension HyperparameterDistribution {
    /// The same kind of distribution over the smallest range that holds
    /// `values` (samples of this one): the region of the best points.
    public func narrowed(to values: [Double]) -> HyperparameterDistribution {
        guard let low = values.min(), let high = values.max() else { return self }
        switch self {
        case .uniform: return .uniform(low: low, high: high)
        case .logUniform: return .logUniform(low: low, high: high)
        case .oneMinusLogUniform: return .oneMinusLogUniform(low: low, high: high)
        case .integer: return .integer(low: Int(low.rounded()), high: Int(high.rounded()))
        }
    }
}

/// Coarse-to-fine random search (C2W3-01): `rounds` rounds of
/// `trialsPerRound` random points; after each round every hyperparameter's
/// range shrinks to the span of the `keep` (at least 2) best trials so far, on the scale it
/// is sampled on, so the next round samples the region of the best points more
/// densely. One seeded generator draws every round. Returns all trials, best
/// (lowest score) first.
public func coarseToFineSearch(
    rounds: Int, trialsPerRound: Int, keep: Int = 3, space: [String: HyperparameterDistribution], seed: UInt64,
    evaluate: ([String: Double]) throws -> Double
) rethrows -> [SearchTrial] {
    require(rounds >= 1 && trialsPerRound >= 1 && keep >= 2,
            "coarseToFineSearch: rounds (\(rounds)) and trials per round (\(trialsPerRound)) must be positive and keep (\(keep)) at least 2")
    var generator = RandomGenerator(seed: seed)
    var region = space
    var results: [SearchTrial] = []
    for round in 0..<rounds {
        if round > 0 {
            let best = results.sorted { $0.score < $1.score }.prefix(keep)
            for (name, distribution) in space {
                region[name] = distribution.narrowed(to: best.compactMap { $0.hyperparameters[name] })
            }
        }
        try appendTrials(trialsPerRound, from: region, to: &results, generator: &generator, evaluate: evaluate)
    }
    return results.sorted { $0.score < $1.score }
}
