import Foundation
import Tensors

/// Why training stopped with an error.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The cost or a gradient was NaN or infinite; no update was applied, so
    /// the model holds the parameters of the last good step.
    case nonFinite(epoch: Int, batch: Int, cost: Double, parameter: String?)

    public var description: String {
        switch self {
        case let .nonFinite(epoch, batch, cost, parameter):
            "training diverged in epoch \(epoch), batch \(batch): cost \(cost)"
                + (parameter.map { ", non-finite gradient of \($0)" } ?? "")
                + "; the update was not applied and the parameters are those of the last good step"
        }
    }
}

/// How gradients are limited before each update.
public enum GradientClipping: Sendable, Equatable {
    case none
    /// Each gradient element is clipped to `[−limit, limit]`.
    case value(Double)
    /// All gradients are scaled down together so their global L2 norm is at most `limit`.
    case norm(Double)
}

/// The settings of a training run.
public struct TrainingConfiguration: Sendable {
    public var epochs: Int
    /// Columns per mini-batch; `nil` means batch gradient descent (all `m`).
    public var batchSize: Int?
    /// `α₀`
    public var learningRate: Double
    public var schedule: LearningRateSchedule
    /// L2 strength λ: the cost gains `λ/(2m)·Σ‖W‖²_F` and each weight gradient `λ/m·W` (C2W1-06).
    public var l2: Double
    public var clipping: GradientClipping
    /// Seed of the per-epoch shuffle; `nil` keeps the data's order.
    public var shuffleSeed: UInt64?
    /// Stop when the validation cost has not improved for this many epochs.
    public var earlyStoppingPatience: Int?
    /// Print one progress line per epoch.
    public var verbose: Bool

    public init(epochs: Int, batchSize: Int? = nil, learningRate: Double, schedule: LearningRateSchedule = .constant,
                l2: Double = 0, clipping: GradientClipping = .none, shuffleSeed: UInt64? = 0,
                earlyStoppingPatience: Int? = nil, verbose: Bool = false) {
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.schedule = schedule
        self.l2 = l2
        self.clipping = clipping
        self.shuffleSeed = shuffleSeed
        self.earlyStoppingPatience = earlyStoppingPatience
        self.verbose = verbose
    }
}

/// What one epoch produced.
public struct EpochRecord: Sendable, Equatable {
    public var epoch: Int
    /// Mean training cost over the epoch's mini-batches (weighted by batch size), regularization included.
    public var cost: Double
    public var learningRate: Double
    public var validationCost: Double?
    /// Extra metrics by name (e.g. `"accuracy"`, `"validation accuracy"`).
    public var metrics: [String: Double]
}

/// The record of a training run.
public struct History: Sendable {
    public var epochs: [EpochRecord] = []
    /// Training cost per epoch.
    public var costs: [Double] { epochs.map(\.cost) }
    /// Whether early stopping ended the run.
    public var stoppedEarly = false
}

/// Computes `J` (with the L2 term) and all gradients for one batch; returns the cost.
func costAndGradients<S, L: Loss>(
    _ model: Sequential<S>, _ X: Tensor<S>, _ Y: Tensor<S>, _ loss: L, l2: Double, training: Bool
) -> S where L.Scalar == S {
    let output = model.forward(X, training: training)
    var (cost, gradient) = loss(output, Y)
    model.backward(gradient, needsInputGradient: false)
    if l2 > 0 {
        let m = S(X.shape.last ?? 1), lambda = S(l2)
        for p in model.parameters where p.isRegularized {
            let norm = p.value.norm()   // ‖W‖_F in one pass, no W² temporary
            cost += lambda / (2 * m) * norm * norm
            p.gradient.add(p.value, scaledBy: lambda / m)
        }
    }
    return cost
}

extension Sequential {
    /// Trains the model with mini-batch gradient descent and `optimizer`.
    ///
    /// Each step computes the cost and gradients of one mini-batch, checks that
    /// they are finite — throwing ``TrainingError/nonFinite(epoch:batch:cost:parameter:)``
    /// *before* any update otherwise — clips, and applies the optimizer with
    /// the scheduled learning rate. `onEpoch` sees each epoch's record and
    /// may return `false` to stop.
    @discardableResult
    public func fit<L: Loss, O: Optimizer>(
        _ X: Tensor<Scalar>, _ Y: Tensor<Scalar>, loss: L, optimizer: O, configuration: TrainingConfiguration,
        validation: (X: Tensor<Scalar>, Y: Tensor<Scalar>)? = nil,
        metrics: [String: (_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>) -> Double] = [:],
        onEpoch: ((EpochRecord) -> Bool)? = nil
    ) throws -> History where L.Scalar == Scalar, O.Scalar == Scalar {
        var history = History()
        let parameters = self.parameters   // fixed for the run; built once, not per batch
        var generator = configuration.shuffleSeed.map(RandomGenerator.init(seed:))
        let m = X.shape.last ?? 0
        var bestValidation = Double.infinity, epochsWithoutImprovement = 0
        let interactive = configuration.verbose && isatty(STDOUT_FILENO) != 0
        for epoch in stride(from: 1, through: configuration.epochs, by: 1) {
            let rate = configuration.schedule.rate(initial: configuration.learningRate, epoch: epoch)
            let batches = miniBatches(X, Y, size: configuration.batchSize ?? m, generator: &generator)
            var total = 0.0
            for (index, batch) in batches.enumerated() {
                let cost = costAndGradients(self, batch.X, batch.Y, loss, l2: configuration.l2, training: true)
                let bad = parameters.first { $0.isTrainable && !$0.gradient.isFinite }
                if !cost.isFinite || bad != nil {
                    throw TrainingError.nonFinite(epoch: epoch, batch: index + 1, cost: Double(cost), parameter: bad?.name)
                }
                Self.clip(parameters, configuration.clipping)
                optimizer.step(parameters, learningRate: Scalar(rate))
                total += Double(cost) * Double(batch.X.shape.last ?? 0)
                if interactive { print("\r  epoch \(epoch): batch \(index + 1)/\(batches.count)", terminator: "") }
            }
            var record = EpochRecord(epoch: epoch, cost: total / Double(Swift.max(m, 1)), learningRate: rate,
                                     validationCost: nil, metrics: [:])
            if !metrics.isEmpty {
                let prediction = forward(X, training: false)
                for (name, metric) in metrics { record.metrics[name] = metric(prediction, Y) }
            }
            if let validation {
                let prediction = forward(validation.X, training: false)
                record.validationCost = Double(loss(prediction, validation.Y).cost)
                for (name, metric) in metrics { record.metrics["validation " + name] = metric(prediction, validation.Y) }
            }
            history.epochs.append(record)
            if configuration.verbose {
                let extras = record.metrics.sorted { $0.key < $1.key }.map { "\($0.key) \(String(format: "%.4f", $0.value))" }
                let validationText = record.validationCost.map { String(format: "  validation cost %.6f", $0) } ?? ""
                print((interactive ? "\r" : "") + "epoch \(epoch)/\(configuration.epochs)  cost "
                      + String(format: "%.6f", record.cost) + validationText + "  " + extras.joined(separator: "  "))
            }
            if let onEpoch, !onEpoch(record) { break }
            if let patience = configuration.earlyStoppingPatience, let validationCost = record.validationCost {
                if validationCost < bestValidation {
                    bestValidation = validationCost
                    epochsWithoutImprovement = 0
                } else {
                    epochsWithoutImprovement += 1
                    if epochsWithoutImprovement >= patience {
                        history.stoppedEarly = true
                        break
                    }
                }
            }
        }
        return history
    }

    /// The network's output in inference mode (dropout off, BatchNorm running averages).
    public func predict(_ X: Tensor<Scalar>) -> Tensor<Scalar> { forward(X, training: false) }

    static func clip(_ parameters: [Parameter<Scalar>], _ clipping: GradientClipping) {
        switch clipping {
        case .none: return
        case .value(let limit):
            for p in parameters { p.gradient = Tensors.clip(p.gradient, lower: Scalar(-limit), upper: Scalar(limit)) }
        case .norm(let limit):
            let norm = parameters.reduce(0.0) { total, p in let n = Double(p.gradient.norm()); return total + n * n }.squareRoot()
            if norm > limit {
                let scale = Scalar(limit / norm)
                for p in parameters { p.gradient *= scale }
            }
        }
    }
}
