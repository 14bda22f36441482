import Foundation
import Tensors

/// Scales each column to unit Euclidean length: `f(x) / √(‖f(x)‖² + ε)` for
/// encodings `(d, m)` — FaceNet's embedding on the unit sphere, which gives the
/// triplet margin `α` a fixed scale (squared distances lie in [0, 4]).
public final class L2Normalize<Scalar: TensorScalar>: Layer {
    public let epsilon: Double

    public init(epsilon: Double = 1e-12) { self.epsilon = epsilon }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        require(input.value.rank == 2, "L2Normalize: input \(input.shape) must be (d, m)")
        return input / sqrt(square(input).sum(axis: 0, keepingDimensions: true) + Scalar(epsilon))
    }

    public var summary: String { "L2Normalize" }
    public static var typeName: String { "L2Normalize" }
    public var configuration: LayerConfiguration { LayerConfiguration(["epsilon": .double(epsilon)]) }
    public convenience init(configuration: LayerConfiguration) throws { self.init(epsilon: try configuration.double("epsilon")) }
}

/// How ``Model/fitTriplets(_:labels:optimizer:configuration:onStep:)`` trains.
public struct TripletTrainingConfiguration: Sendable {
    /// Optimizer steps.
    public var steps: Int
    /// Identities drawn for each batch, and examples drawn for each of them
    /// (every anchor needs a positive, so at least 2).
    public var identitiesPerBatch: Int
    public var examplesPerIdentity: Int
    /// The margin `α`.
    public var margin: Double
    public var selection: TripletSelection
    /// Seeds the batch draws.
    public var seed: UInt64

    public init(steps: Int, identitiesPerBatch: Int = 8, examplesPerIdentity: Int = 4, margin: Double = 0.2,
                selection: TripletSelection = .semiHard, seed: UInt64 = 0) {
        (self.steps, self.identitiesPerBatch, self.examplesPerIdentity) = (steps, identitiesPerBatch, examplesPerIdentity)
        (self.margin, self.selection, self.seed) = (margin, selection, seed)
    }
}

extension Model {
    /// Trains an encoder — a model whose output is encodings `(d, m)` — with the
    /// triplet loss (C4W4-03, -04). Each step draws `identitiesPerBatch`
    /// identities with at least two examples and `examplesPerIdentity` examples
    /// of each (without replacement where there are enough), encodes the batch,
    /// picks triplets on those encodings with ``selectTriplets(encodings:labels:margin:strategy:)``
    /// (every anchor–positive pair, a semi-hard or hardest negative), and
    /// minimizes their summed loss ``tripletLoss(anchor:positive:negative:margin:)``
    /// divided by the number of triplets (so the step size does not grow with
    /// the batch). `X` is in the model's input layout (examples on the example
    /// axis, e.g. images `(m, n_H, n_W, n_C)`); `labels` has one identity per example.
    ///
    /// Throws ``TrainingError`` for unusable inputs, and before any update when
    /// a cost or gradient is not finite. Returns each step's mean triplet loss.
    @discardableResult
    public func fitTriplets<O: Optimizer>(
        _ X: Tensor<Scalar>, labels: [Int], optimizer: O, configuration: TripletTrainingConfiguration,
        onStep: ((_ step: Int, _ loss: Double) -> Void)? = nil
    ) throws -> [Double] where O.Scalar == Scalar {
        let axis = exampleAxis(ofRank: X.rank)
        guard X.rank >= 2, X.shape[axis] == labels.count else {
            throw TrainingError.invalidInput("fitTriplets: \(labels.count) labels for inputs \(X.shape)")
        }
        var byIdentity: [Int: [Int]] = [:]
        for (i, label) in labels.enumerated() { byIdentity[label, default: []].append(i) }
        let usable = byIdentity.keys.filter { byIdentity[$0]!.count >= 2 }.sorted()
        guard usable.count >= 2 else {
            throw TrainingError.invalidInput("fitTriplets: needs two identities with at least two examples each; \(usable.count) have")
        }
        guard configuration.examplesPerIdentity >= 2, configuration.identitiesPerBatch >= 2 else {
            throw TrainingError.invalidInput("fitTriplets: batches need at least 2 identities of at least 2 examples")
        }
        let parameters = self.parameters
        var generator = RandomGenerator(seed: configuration.seed)
        let context = ForwardContext(training: true, generator: RandomGenerator(seed: configuration.seed &+ 1))
        var losses: [Double] = []
        for step in 1...Swift.max(configuration.steps, 1) where step <= configuration.steps {
            var identities = usable
            generator.shuffle(&identities)
            var batch: [Int] = [], batchLabels: [Int] = []
            for identity in identities.prefix(configuration.identitiesPerBatch) {
                var pool = byIdentity[identity]!
                generator.shuffle(&pool)
                for k in 0..<configuration.examplesPerIdentity { batch.append(pool[k % pool.count]) }
                batchLabels += Array(repeating: identity, count: configuration.examplesPerIdentity)
            }
            for p in parameters { p.gradient = nil; p.rowGradient = nil }
            context.discardUpdates()
            let cost: Scalar = GradientTape.$isRecording.withValue(true) {
                let encodings = forward(Variable(X.gathering(batch, axis: axis)), context: context)
                let triplets = selectTriplets(encodings: encodings.value, labels: batchLabels, margin: configuration.margin,
                                              strategy: configuration.selection)
                guard !triplets.isEmpty else { return 0 }
                let J = tripletLoss(anchor: encodings.gathering(triplets.map(\.anchor), axis: 1),
                                    positive: encodings.gathering(triplets.map(\.positive), axis: 1),
                                    negative: encodings.gathering(triplets.map(\.negative), axis: 1),
                                    margin: Scalar(configuration.margin)) / Scalar(triplets.count)
                if J.requiresGradient { J.backward() }
                return J.value.scalar
            }
            let bad = parameters.first { $0.isTrainable && !$0.gradientIsFinite }
            if !cost.isFinite || bad != nil {
                throw TrainingError.nonFinite(epoch: 1, batch: step, cost: Double(cost), parameter: bad?.name)
            }
            context.commitUpdates()
            optimizer.step(parameters)
            losses.append(Double(cost))
            onStep?(step, Double(cost))
        }
        return losses
    }
}

/// Verification by a distance threshold (C4W4-02): the threshold `τ` on
/// squared distances that classifies the most `pairs` correctly as same
/// (`d ≤ τ`) or different, chosen among midpoints between consecutive sorted
/// distances, and that accuracy.
public func bestVerificationThreshold(distances: [Double], same: [Bool]) -> (threshold: Double, accuracy: Double) {
    require(distances.count == same.count && !distances.isEmpty, "bestVerificationThreshold: \(distances.count) distances, \(same.count) labels")
    let order = distances.indices.sorted { distances[$0] < distances[$1] }
    // With τ below every distance, everything is "different": correct for every different pair.
    var correct = same.filter { !$0 }.count
    var best = (threshold: distances[order[0]] - 1, correct: correct)
    for (rank, i) in order.enumerated() {
        correct += same[i] ? 1 : -1    // pair i becomes "same"
        let next = rank + 1 < order.count ? distances[order[rank + 1]] : distances[i] + 1
        if correct > best.correct && next > distances[i] { best = ((distances[i] + next) / 2, correct) }
    }
    return (best.threshold, Double(best.correct) / Double(distances.count))
}

/// The fraction of pairs classified correctly by `d ≤ threshold` → same.
public func verificationAccuracy(distances: [Double], same: [Bool], threshold: Double) -> Double {
    require(distances.count == same.count && !distances.isEmpty, "verificationAccuracy: \(distances.count) distances, \(same.count) labels")
    return Double(zip(distances, same).filter { ($0 <= threshold) == $1 }.count) / Double(distances.count)
}
