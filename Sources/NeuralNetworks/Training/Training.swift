import Foundation
import Tensors

/// Why training stopped with an error.
public enum TrainingError: Error, CustomStringConvertible, Equatable {
    /// The cost or a gradient was NaN or infinite; no update was applied, so
    /// the model holds the parameters of the last good step.
    case nonFinite(epoch: Int, batch: Int, cost: Double, parameter: String?)
    /// The data or the settings cannot be trained on (shapes, batch size).
    case invalidInput(String)

    public var description: String {
        switch self {
        case let .nonFinite(epoch, batch, cost, parameter):
            "training diverged in epoch \(epoch), batch \(batch): cost \(cost)"
                + (parameter.map { ", non-finite gradient of \($0)" } ?? "")
                + "; the update was not applied and the parameters are those of the last good step"
        case .invalidInput(let detail):
            "cannot train: \(detail)"
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
    /// How the optimizer's learning rate `α₀` changes from epoch to epoch.
    /// (`α₀` itself is the optimizer's ``Optimizer/learningRate``.)
    public var schedule: LearningRateSchedule
    /// L2 strength λ: the cost gains `λ/(2m)·Σ‖W‖²_F` and each weight gradient `λ/m·W` (C2W1-06).
    public var l2: Double
    /// L1 strength λ (C2W1-05): the cost gains the notes' `λ/(2m)·Σ‖W‖₁` and
    /// each weight gradient `λ/(2m)·sign(W)` (0 where a weight is exactly 0): a
    /// constant pull toward zero whatever a weight's size, hence the notes' "w
    /// will be sparse" — with plain gradient steps small weights end up
    /// oscillating within `α·λ/(2m)` of zero rather than exactly at it (a
    /// proximal step, soft thresholding, would set them to 0). Keras's `l1(λ)`
    /// adds `λ·‖W‖₁` to the cost, without the `1/(2m)`.
    public var l1: Double
    public var clipping: GradientClipping
    /// The one seed of the run's random generator: the per-epoch shuffles and
    /// every dropout mask are drawn from it, so a run is reproducible.
    public var seed: UInt64
    /// Whether each epoch visits the examples in a new random order.
    public var shuffles: Bool
    /// Stop when the validation cost has not improved for this many epochs.
    public var earlyStoppingPatience: Int?
    /// Print one progress line per epoch.
    public var verbose: Bool
    /// Whether `fit` turns on ``TensorMemory/retainsFreedBlocks`` (process-wide)
    /// so each step reuses the previous step's pages instead of faulting in
    /// fresh ones: a ResNet basic block step (N32 C64 56²) measured 488 ms
    /// without, 341 ms with. Set `false` to leave the allocator alone.
    public var retainsFreedMemory: Bool

    public init(epochs: Int, batchSize: Int? = nil, schedule: LearningRateSchedule = .constant,
                l2: Double = 0, l1: Double = 0, clipping: GradientClipping = .none, seed: UInt64 = 0, shuffles: Bool = true,
                earlyStoppingPatience: Int? = nil, verbose: Bool = false, retainsFreedMemory: Bool = true) {
        self.retainsFreedMemory = retainsFreedMemory
        self.epochs = epochs
        self.batchSize = batchSize
        self.schedule = schedule
        self.l2 = l2
        self.l1 = l1
        self.clipping = clipping
        self.seed = seed
        self.shuffles = shuffles
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

    public init(epoch: Int, cost: Double, learningRate: Double, validationCost: Double? = nil, metrics: [String: Double] = [:]) {
        self.epoch = epoch
        self.cost = cost
        self.learningRate = learningRate
        self.validationCost = validationCost
        self.metrics = metrics
    }
}

/// The record of a training run.
public struct History: Sendable {
    public var epochs: [EpochRecord]
    /// Training cost per epoch.
    public var costs: [Double] { epochs.map(\.cost) }
    /// Whether early stopping ended the run.
    public var stoppedEarly: Bool

    public init(epochs: [EpochRecord] = [], stoppedEarly: Bool = false) {
        self.epochs = epochs
        self.stoppedEarly = stoppedEarly
    }
}

/// Computes `J` (with the L2 and L1 terms) for one batch on the tape and every
/// parameter's gradient; returns the cost. Gradients are cleared first, so
/// they hold this batch's only.
func costAndGradients<M: Model, L: Loss>(
    _ model: M, _ X: Tensor<M.Scalar>, _ Y: Tensor<M.Scalar>, _ loss: L, l2: Double, l1: Double = 0, context: ForwardContext,
    parameters: [Parameter<M.Scalar>]
) -> M.Scalar where L.Scalar == M.Scalar {
    typealias S = M.Scalar
    for p in parameters { p.gradient = nil; p.rowGradient = nil }
    var cost = GradientTape.$isRecording.withValue(true) { () -> S in
        let J = loss(model.forward(Variable(X), context: context), Y)
        if J.requiresGradient { J.backward() }
        return J.value.scalar
    }
    if l2 > 0 {
        let m = S(numberOfExamples(X)), lambda = S(l2)
        for p in parameters where p.isRegularized {
            let norm = p.value.norm()   // ‖W‖_F in one pass, no W² temporary
            cost += lambda / (2 * m) * norm * norm
            if p.isTrainable {
                if p.gradient == nil { p.gradient = .zeros(p.value.shape) }
                p.gradient!.add(p.value, scaledBy: lambda / m)
            }
        }
    }
    if l1 > 0 {
        let m = S(numberOfExamples(X)), scale = S(l1) / (2 * m)
        for p in parameters where p.isRegularized {
            cost += scale * p.value.norm(.l1)
            if p.isTrainable {
                if p.gradient == nil { p.gradient = .zeros(p.value.shape) }
                p.value.withUnsafeBufferPointer { w in
                    p.gradient!.withUnsafeMutableBufferPointer { g in
                        for i in w.indices where w[i] != 0 { g[i] += w[i] > 0 ? scale : -scale }
                    }
                }
            }
        }
    }
    return cost
}

extension Model {
    /// Trains a one-input, one-output model with mini-batch gradient descent and `optimizer`.
    ///
    /// Each step runs the forward pass on the tape, backpropagates the cost of
    /// one mini-batch, checks that cost and gradients are finite — throwing
    /// ``TrainingError/nonFinite(epoch:batch:cost:parameter:)`` *before* any
    /// update or state change (BatchNorm's running averages included) otherwise —
    /// commits the layers' deferred state updates, clips, and applies the
    /// optimizer with the scheduled learning rate. `metrics` see ``predict(_:)``'s
    /// output; `onEpoch` sees each epoch's record and may return `false` to stop.
    @discardableResult
    public func fit<L: Loss, O: Optimizer>(
        _ X: Tensor<Scalar>, _ Y: Tensor<Scalar>, loss: L, optimizer: O, configuration: TrainingConfiguration,
        validation: (X: Tensor<Scalar>, Y: Tensor<Scalar>)? = nil,
        metrics: [String: (_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>) -> Double] = [:],
        onEpoch: ((EpochRecord) -> Bool)? = nil
    ) throws -> History where L.Scalar == Scalar, O.Scalar == Scalar {
        try Self.validate(X, Y, configuration)
        guard optimizer.learningRate.isFinite && optimizer.learningRate > 0 else {
            throw TrainingError.invalidInput("learning rate \(optimizer.learningRate) must be positive and finite")
        }
        if let validation { try Self.validate(validation.X, validation.Y, configuration) }
        if configuration.retainsFreedMemory && !TensorMemory.retainsFreedBlocks { TensorMemory.retainsFreedBlocks = true }
        var history = History()
        let parameters = self.parameters   // fixed for the run; built once, not per batch
        let context = ForwardContext(training: true, generator: RandomGenerator(seed: configuration.seed))
        let m = numberOfExamples(X)
        var bestValidation = Double.infinity, epochsWithoutImprovement = 0
        let interactive = configuration.verbose && isatty(STDOUT_FILENO) != 0
        for epoch in stride(from: 1, through: configuration.epochs, by: 1) {
            let rate = configuration.schedule.rate(initial: optimizer.learningRate, epoch: epoch)
            let batches = configuration.shuffles
                ? miniBatches(X, Y, size: configuration.batchSize ?? m, generator: &context.generator)
                : miniBatches(X, Y, size: configuration.batchSize ?? m)
            var total = 0.0
            for (index, batch) in batches.enumerated() {
                context.discardUpdates()
                let cost = costAndGradients(self, batch.X, batch.Y, loss, l2: configuration.l2, l1: configuration.l1, context: context,
                                            parameters: parameters)
                let bad = parameters.first { $0.isTrainable && !$0.gradientIsFinite }
                if !cost.isFinite || bad != nil {
                    throw TrainingError.nonFinite(epoch: epoch, batch: index + 1, cost: Double(cost), parameter: bad?.name)
                }
                context.commitUpdates()
                Self.clip(parameters, configuration.clipping)
                optimizer.step(parameters, learningRate: Scalar(rate))
                total += Double(cost) * Double(numberOfExamples(batch.X))
                if interactive { print("\r  epoch \(epoch): batch \(index + 1)/\(batches.count)", terminator: "") }
            }
            var record = EpochRecord(epoch: epoch, cost: total / Double(Swift.max(m, 1)), learningRate: rate,
                                     validationCost: nil, metrics: [:])
            if !metrics.isEmpty {
                let prediction = predict(X)
                for (name, metric) in metrics { record.metrics[name] = metric(prediction, Y) }
            }
            if let validation {
                let output = logits(validation.X)
                record.validationCost = withoutGradients { Double(loss(Variable(output), validation.Y).value.scalar) }
                let prediction = outputActivation(output)
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

    /// Trains with the loss that matches the model's output function on its
    /// logits (``defaultLoss``): binary cross-entropy with logits for a sigmoid
    /// output, softmax cross-entropy for a softmax output.
    @discardableResult
    public func fit<O: Optimizer>(
        _ X: Tensor<Scalar>, _ Y: Tensor<Scalar>, optimizer: O, configuration: TrainingConfiguration,
        validation: (X: Tensor<Scalar>, Y: Tensor<Scalar>)? = nil,
        metrics: [String: (_ prediction: Tensor<Scalar>, _ target: Tensor<Scalar>) -> Double] = [:],
        onEpoch: ((EpochRecord) -> Bool)? = nil
    ) throws -> History where O.Scalar == Scalar {
        try fit(X, Y, loss: defaultLoss, optimizer: optimizer, configuration: configuration, validation: validation,
                metrics: metrics, onEpoch: onEpoch)
    }

    /// Throws ``TrainingError/invalidInput(_:)`` for data or settings `fit` cannot use.
    static func validate(_ X: Tensor<Scalar>, _ Y: Tensor<Scalar>, _ configuration: TrainingConfiguration) throws {
        guard X.rank >= 2 else { throw TrainingError.invalidInput("X has shape \(X.shape); it needs one example per column, (n_x, m)") }
        guard Y.rank >= 2 else { throw TrainingError.invalidInput("Y has shape \(Y.shape); it needs one example per column, (n_y, m)") }
        guard numberOfExamples(X) == numberOfExamples(Y) else {
            throw TrainingError.invalidInput("X has \(numberOfExamples(X)) examples but Y has \(numberOfExamples(Y)): shapes \(X.shape) and \(Y.shape)")
        }
        if let size = configuration.batchSize, size <= 0 { throw TrainingError.invalidInput("batch size \(size) must be positive") }
        guard configuration.epochs >= 0 else { throw TrainingError.invalidInput("\(configuration.epochs) epochs") }
        for (name, lambda) in [("L2", configuration.l2), ("L1", configuration.l1)] where !(lambda >= 0 && lambda.isFinite) {
            throw TrainingError.invalidInput("\(name) strength \(lambda) must be non-negative and finite")
        }
    }

    static func clip(_ parameters: [Parameter<Scalar>], _ clipping: GradientClipping) {
        guard clipping != .none else { return }
        // A table used both densely and by lookups: clip the one sum, not each part.
        for p in parameters where p.gradient != nil {
            guard let rows = p.rowGradient else { continue }
            p.gradient! += rows.dense(rows: p.value.shape[0])
            p.rowGradient = nil
        }
        switch clipping {
        case .none: return
        case .value(let limit):
            for p in parameters {
                if let g = p.gradient { p.gradient = Tensors.clip(g, lower: Scalar(-limit), upper: Scalar(limit)) }
                if let rows = p.rowGradient {
                    // Clipping applies to the summed gradient of each row.
                    let (indices, summed) = rows.coalesced()
                    var clipped = RowGradient<Scalar>(width: rows.width)
                    clipped.add(Tensors.clip(summed, lower: Scalar(-limit), upper: Scalar(limit)).scalars, at: indices)
                    p.rowGradient = clipped
                }
            }
        case .norm(let limit):
            let norm = parameters.reduce(0.0) { total, p in
                let dense = Double(p.gradient?.norm() ?? 0), rows = Double(p.rowGradient?.norm ?? 0)
                return total + dense * dense + rows * rows
            }.squareRoot()
            if norm > limit {
                let scale = Scalar(limit / norm)
                for p in parameters {
                    if p.gradient != nil { p.gradient! *= scale }
                    if let rows = p.rowGradient {
                        var scaled = RowGradient<Scalar>(width: rows.width)
                        scaled.add(rows.values.map { $0 * scale }, at: rows.indices)
                        p.rowGradient = scaled
                    }
                }
            }
        }
    }
}
