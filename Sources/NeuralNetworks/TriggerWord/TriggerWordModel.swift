import Foundation
import Tensors

/// The course's trigger-word model (C5W3-12), small:
///
///     X (n_freq, m, T_x) → Conv1D(f, s, filters) → BatchNorm → ReLU → Dropout
///       → GRU(n_a) → Dropout → [GRU(n_a) → Dropout] → TimeDistributed(Dense(1)) → logits (1, m, T_y)
///
/// with `T_y = ⌊(T_x − f)/s⌋ + 1` (valid padding) and `ŷ⟨t⟩ = σ(logit⟨t⟩)`
/// (``predict(_:)``). The GRUs are unidirectional, as the course's: a
/// detector that runs live cannot look ahead. ``Conv1D`` takes sequences
/// `(m, T, channels)`, so the input is permuted to that layout before it and
/// back to `(filters, m, T_y)` after the activation; BatchNorm normalizes each
/// filter over all `m·T_y` positions. Trained with
/// ``SequenceBinaryCrossEntropyWithLogits`` in Keras's form, the course's
/// per-step binary cross-entropy averaged over steps and clips. Parameters are named
/// `conv.W`, `norm.gamma`, `gru1.W`, `gru2.W`, `output.W`, ….
public final class TriggerWordModel<Scalar: TensorScalar>: Model {
    public let conv: Conv1D<Scalar>
    public let norm: BatchNorm<Scalar>?
    public let recurrent: [Recurrent<Scalar>]
    public let output: Dense<Scalar>
    public let dropout: Dropout<Scalar>
    public let frequencies: Int
    public var outputActivation: OutputActivation { .sigmoid }
    public let namedModules: [(naming: ModuleNaming, module: any Module<Scalar>)]

    /// A model for `frequencies` bins with a Conv1D of `filters` filters of
    /// size `filterSize` and stride `stride` (He initialization), `gruLayers`
    /// GRUs of `units` units (Xavier), and dropout keeping `keepProbability`
    /// (the course keeps 0.8; 1 turns it off).
    public init(frequencies: Int, filters: Int = 32, filterSize: Int = 7, stride: Int = 2, units: Int = 32, gruLayers: Int = 2,
                batchNorm: Bool = true, keepProbability: Double = 1, generator: inout RandomGenerator) {
        require(frequencies >= 1 && filters >= 1 && units >= 1 && gruLayers >= 1,
                "TriggerWordModel: \(frequencies) bins, \(filters) filters, \(gruLayers) GRUs of \(units) units")
        self.frequencies = frequencies
        conv = Conv1D(filterSize: filterSize, inputChannels: frequencies, filters: filters, stride: stride, generator: &generator)
        norm = batchNorm ? BatchNorm(channels: filters) : nil
        recurrent = (0..<gruLayers).map { l in Recurrent(.gru, inputs: l == 0 ? filters : units, units: units, generator: &generator) }
        output = Dense(inputs: units, outputs: 1, initializer: .xavier, generator: &generator)
        dropout = Dropout(keepProbability: keepProbability)
        var modules: [(naming: ModuleNaming, module: any Module<Scalar>)] = [(.path("conv"), conv)]
        if let norm { modules.append((.path("norm"), norm)) }
        for (l, layer) in recurrent.enumerated() { modules.append((.path("gru\(l + 1)"), layer)) }
        modules.append((.path("output"), output))
        namedModules = modules
        assignNames()
    }

    /// The input-to-output mapping for clips of `inputSteps` steps with `labelSteps` ones per trigger.
    public func geometry(inputSteps: Int, labelSteps: Int) -> TriggerWordGeometry {
        TriggerWordGeometry(inputSteps: inputSteps, filterSize: conv.W.value.shape[0], stride: conv.stride, labelSteps: labelSteps)
    }

    /// Logits `(1, m, T_y)` for spectrograms `(n_freq, m, T_x)`.
    public func forward(_ inputs: [Variable<Scalar>], context: ForwardContext) -> [Variable<Scalar>] {
        require(inputs.count == 1, "TriggerWordModel: takes one input, got \(inputs.count)")
        let x = inputs[0]
        require(x.shape.count == 3 && x.shape[0] == frequencies,
                "TriggerWordModel: input \(x.shape) must be (n_freq = \(frequencies), m, T_x)")
        var a = conv.forward(x.permuted([1, 2, 0]), context: context)            // (m, T_y, filters)
        if let norm { a = norm.forward(a, context: context) }
        a = dropout.forward(relu(a).permuted([2, 0, 1]), context: context)       // (filters, m, T_y)
        for layer in recurrent { a = dropout.forward(layer.forward(a, context: context), context: context) }
        let (n, m, T) = (a.shape[0], a.shape[1], a.shape[2])
        return [output.forward(a.reshaped(to: [n, m * T]), context: context).reshaped(to: [1, m, T])]
    }

    /// Trains on `data` with the library's loop (``Model/fit(_:_:loss:optimizer:configuration:validation:metrics:onEpoch:)``:
    /// mini-batches of clips, shuffled from `configuration.seed`).
    @discardableResult
    public func fit<O: Optimizer>(_ data: TriggerWordData<Scalar>, optimizer: O, configuration: TrainingConfiguration,
                                  validation: TriggerWordData<Scalar>? = nil,
                                  onEpoch: ((EpochRecord) -> Bool)? = nil) throws -> History where O.Scalar == Scalar {
        try checkGeometry(data)
        if let validation { try checkGeometry(validation) }
        return try fit(data.X, data.Y, loss: SequenceBinaryCrossEntropyWithLogits(reduction: .meanOverOutputs), optimizer: optimizer, configuration: configuration,
                       validation: validation.map { ($0.X, $0.Y) }, onEpoch: onEpoch)
    }

    /// The per-step loss on `data` in inference mode.
    public func loss(_ data: TriggerWordData<Scalar>) throws -> Double {
        try checkGeometry(data)
        return Double(SequenceBinaryCrossEntropyWithLogits<Scalar>(reduction: .meanOverOutputs)(logits(data.X), data.Y).cost)
    }

    /// Each clip's detections (output steps, ``triggerDetections(_:threshold:refractory:)``) in `data`.
    public func detections(_ data: TriggerWordData<Scalar>, threshold: Double = 0.5, refractory: Int? = nil) -> [[Int]] {
        detections(data.X, threshold: threshold, refractory: refractory ?? data.geometry.labelSteps)
    }

    /// Each clip's detections in spectrograms `X` `(n_freq, m, T_x)`.
    public func detections(_ X: Tensor<Scalar>, threshold: Double = 0.5, refractory: Int) -> [[Int]] {
        let p = predict(X)
        let (m, T) = (p.shape[1], p.shape[2])
        let values = p.scalars.map(Double.init)
        return (0..<m).map { triggerDetections(Array(values[$0 * T..<($0 + 1) * T]), threshold: threshold, refractory: refractory) }
    }

    /// Precision and recall of the detections on `data` (``TriggerDetectionScore``), summed over clips.
    public func score(_ data: TriggerWordData<Scalar>, threshold: Double = 0.5, refractory: Int? = nil, tolerance: Int = 2) -> TriggerDetectionScore {
        zip(detections(data, threshold: threshold, refractory: refractory), data.triggerOutputSteps).reduce(TriggerDetectionScore()) {
            $0.adding(TriggerDetectionScore(detections: $1.0, triggers: $1.1, labelSteps: data.geometry.labelSteps, tolerance: tolerance))
        }
    }

    private func checkGeometry(_ data: TriggerWordData<Scalar>) throws {
        let expected = geometry(inputSteps: data.geometry.inputSteps, labelSteps: data.geometry.labelSteps)
        guard data.geometry == expected, data.X.shape[0] == frequencies else {
            throw TrainingError.invalidInput("trigger-word data with \(data.X.shape[0]) bins and \(data.geometry) does not fit the model's \(frequencies) bins and \(expected)")
        }
    }
}

/// Per-step binary cross-entropy from logits `(n_y, m, T)`, each step's
/// `L⟨t⟩ = max(z, 0) − z·y + log(1 + e^−|z|)` summed over its outputs. By
/// default the notes' BPTT loss (C5W1-06), summed over time and averaged over
/// the `m` sequences: `J = (1/m) Σ_i Σ_t L⟨t⟩`, `∂J/∂z = (σ(z) − y)/m`.
/// ``Reduction/meanOverOutputs`` is Keras's `binary_crossentropy` on the
/// course's `(m, T_y, 1)` output, `J = (1/(n_y·m·T)) Σ L`, what
/// ``TriggerWordModel`` trains with. (``BinaryCrossEntropyWithLogits``
/// divides by the last axis, `T` here, instead.)
public struct SequenceBinaryCrossEntropyWithLogits<Scalar: TensorScalar>: Loss {
    /// What the summed per-step losses are divided by.
    public enum Reduction: Sendable {
        /// `m`: summed over time, averaged over sequences (the notes).
        case sumOverTime
        /// `n_y·m·T`: averaged over every output (Keras).
        case meanOverOutputs
    }

    public let reduction: Reduction

    public init(reduction: Reduction = .sumOverTime) { self.reduction = reduction }

    public func callAsFunction(_ Z: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("SequenceBinaryCrossEntropyWithLogits", Z.value, Y)
        require(Y.rank == 3, "SequenceBinaryCrossEntropyWithLogits: targets \(Y.shape) must be (n_y, m, T)")
        let z = Z.value
        let n = Scalar(Swift.max(reduction == .sumOverTime ? Y.shape[1] : Y.count, 1))
        return lossNode(Z, cost: logisticLosses(z, Y).sum() / n) { (sigmoid(z) - Y) / n }
    }
}

/// The course's detector (`chime_on_activate`), on one clip's per-step
/// probabilities: a detection at output step `t` when `ŷ⟨t⟩` crosses the
/// threshold (`ŷ⟨t⟩ > threshold` and `t = 0` or `ŷ⟨t−1⟩ ≤ threshold`) and at
/// least `refractory` steps have passed since the last detection (the course
/// waits 75 of 1375 steps; flicker around the threshold inside one trigger's
/// window then counts once).
public func triggerDetections(_ probabilities: [Double], threshold: Double = 0.5, refractory: Int) -> [Int] {
    require(refractory >= 0, "triggerDetections: refractory gap \(refractory) must not be negative")
    var detections: [Int] = []
    for (t, p) in probabilities.enumerated() where p > threshold && (t == 0 || probabilities[t - 1] <= threshold) {
        if let last = detections.last, t - last < refractory { continue }
        detections.append(t)
    }
    return detections
}

/// Detections scored against the inserted triggers.
///
/// A trigger heard completely at output step `e_y` is labelled at
/// `e_y + 1 … e_y + k`; a detection at `t` is correct for it when
/// `e_y + 1 − tolerance ≤ t ≤ e_y + k + tolerance`. Detections are taken in
/// time order, each matched to the earliest unmatched trigger whose window
/// holds it, so a trigger is found at most once and a second detection of it
/// is a false alarm. `precision = correct/detections` (1 without detections),
/// `recall = correct/triggers` (1 without triggers). Scores of clips add up.
public struct TriggerDetectionScore: Sendable, Equatable, CustomStringConvertible {
    public var detections = 0
    public var triggers = 0
    public var correct = 0

    public init(detections: Int = 0, triggers: Int = 0, correct: Int = 0) {
        (self.detections, self.triggers, self.correct) = (detections, triggers, correct)
    }

    /// One clip: `detections` and trigger ends `triggers` (`e_y`), both in output steps.
    public init(detections: [Int], triggers: [Int], labelSteps: Int, tolerance: Int = 2) {
        require(labelSteps >= 1 && tolerance >= 0, "TriggerDetectionScore: k = \(labelSteps), tolerance \(tolerance)")
        let ends = triggers.sorted()
        var matched = [Bool](repeating: false, count: ends.count), correct = 0
        for t in detections.sorted() {
            if let i = ends.indices.first(where: { !matched[$0] && ends[$0] + 1 - tolerance <= t && t <= ends[$0] + labelSteps + tolerance }) {
                matched[i] = true
                correct += 1
            }
        }
        self.init(detections: detections.count, triggers: triggers.count, correct: correct)
    }

    public var precision: Double { detections == 0 ? 1 : Double(correct) / Double(detections) }
    public var recall: Double { triggers == 0 ? 1 : Double(correct) / Double(triggers) }

    /// The counts of both scores together (the score of several clips).
    public func adding(_ other: Self) -> Self {
        Self(detections: detections + other.detections, triggers: triggers + other.triggers, correct: correct + other.correct)
    }

    public var description: String {
        String(format: "precision %.3f (%d of %d detections), recall %.3f (%d of %d triggers)",
               precision, correct, detections, recall, correct, triggers)
    }
}

/// What ``runTriggerWordExperiment(seed:trainingClips:testClips:epochs:batchSize:learningRate:onEpoch:)`` measured.
public struct TriggerWordReport: Sendable, CustomStringConvertible {
    public var trainingClips: Int
    public var testClips: Int
    /// Epochs run (fewer than asked when `onEpoch` stopped the run).
    public var epochs: Int
    public var parameterCount: Int
    /// Loss before training, on the training clips.
    public var initialLoss: Double
    /// Per-step binary cross-entropy in inference mode after training.
    public var trainLoss: Double
    public var testLoss: Double
    /// Detections on the held-out clips (threshold 0.5, refractory gap `k`, tolerance 2).
    public var testScore: TriggerDetectionScore
    public var precision: Double { testScore.precision }
    public var recall: Double { testScore.recall }
    /// Wall-clock seconds of `fit`.
    public var trainingSeconds: Double

    public var description: String {
        String(format: "%d training clips, %d epochs, %d parameters: loss %.4f → train %.4f, test %.4f; test ",
               trainingClips, epochs, parameterCount, initialLoss, trainLoss, testLoss)
            + testScore.description + String(format: "; training %.1f s", trainingSeconds)
    }
}

/// Trains a ``TriggerWordModel`` (Float; 16 bins, 200 steps, Conv1D 32×7 s = 2,
/// BatchNorm, two GRUs of 32 units, `k = 6`) with Adam on `trainingClips`
/// generated clips and scores it on `testClips` held-out ones. Training data
/// come from seed `2·seed + 1`, test data from `2·seed + 2`, weights and
/// shuffles from `seed`.
public func runTriggerWordExperiment(seed: UInt64 = 1, trainingClips: Int = 2000, testClips: Int = 500, epochs: Int = 8,
                                     batchSize: Int = 32, learningRate: Double = 0.003,
                                     onEpoch: ((EpochRecord) -> Bool)? = nil) throws -> TriggerWordReport {
    var generator = RandomGenerator(seed: seed)
    let model = TriggerWordModel<Float>(frequencies: 16, generator: &generator)
    let geometry = model.geometry(inputSteps: 200, labelSteps: 6)
    let train = TriggerWordData<Float>(count: trainingClips, geometry: geometry, seed: 2 &* seed &+ 1)
    let test = TriggerWordData<Float>(count: testClips, geometry: geometry, seed: 2 &* seed &+ 2)
    let initialLoss = try model.loss(train)
    let start = Date()
    let history = try model.fit(train, optimizer: Adam(learningRate: learningRate),
                                configuration: TrainingConfiguration(epochs: epochs, batchSize: batchSize, seed: seed), onEpoch: onEpoch)
    let seconds = Date().timeIntervalSince(start)
    return TriggerWordReport(trainingClips: trainingClips, testClips: testClips, epochs: history.epochs.count,
                             parameterCount: model.parameters.reduce(0) { $0 + $1.value.count }, initialLoss: initialLoss,
                             trainLoss: try model.loss(train), testLoss: try model.loss(test), testScore: model.score(test),
                             trainingSeconds: seconds)
}
