import Foundation
import Tensors

/// What a date-normalization run measured (``DateTranslation``).
public struct DateTranslationReport: Sendable {
    public var model: String
    public var trainingExamples: Int, testExamples: Int, epochs: Int
    public var trainingSeconds: Double
    /// The last epoch's mean training cost (summed over the 10 output steps).
    public var finalCost: Double
    /// Test dates translated exactly, every one of the 10 characters right.
    public var exactMatchAccuracy: Double
    /// Test characters right, over all positions.
    public var characterAccuracy: Double
}

/// Trains and evaluates the two sequence-to-sequence models of course 5 on
/// ``DateNormalization`` — the notes' attention model (C5W3-09, -10) and the
/// transformer (C5W4) — on the same generated data, so they can be compared.
/// One seed controls the data, the initialization, the shuffling and dropout.
public enum DateTranslation {
    /// `(V_x, m, T_x)` one-hot inputs of encoded dates.
    static func oneHot(_ sources: [[Int]], vocabulary: Int) -> Tensor<Float> {
        let (m, t) = (sources.count, DateNormalization.inputLength)
        var values = [Float](repeating: 0, count: vocabulary * m * t)
        for (i, source) in sources.enumerated() { for (step, k) in source.enumerated() { values[(k * m + i) * t + step] = 1 } }
        return Tensor(shape: [vocabulary, m, t], scalars: values)
    }

    /// `(V_y, m, T_y)` one-hot targets.
    static func targets(_ outputs: [[Int]]) -> Tensor<Float> {
        let (m, t, v) = (outputs.count, DateNormalization.outputLength, DateNormalization.machineVocabulary.count)
        var values = [Float](repeating: 0, count: v * m * t)
        for (i, output) in outputs.enumerated() { for (step, k) in output.enumerated() { values[(k * m + i) * t + step] = 1 } }
        return Tensor(shape: [v, m, t], scalars: values)
    }

    /// The argmax over axis 0 of logits `(V, m, T)`, per example.
    static func argmax(_ logits: Tensor<Float>) -> [[Int]] {
        let (v, m, t) = (logits.shape[0], logits.shape[1], logits.shape[2])
        return logits.withUnsafeBufferPointer { z in
            (0..<m).map { i in
                (0..<t).map { step in (0..<v).max { z[($0 * m + i) * t + step] < z[($1 * m + i) * t + step] }! }
            }
        }
    }

    static func score(_ predicted: [[Int]], _ truth: [[Int]]) -> (exact: Double, characters: Double) {
        var exact = 0, characters = 0
        for (p, y) in zip(predicted, truth) {
            if p == y { exact += 1 }
            characters += zip(p, y).filter { $0 == $1 }.count
        }
        return (Double(exact) / Double(truth.count), Double(characters) / Double(truth.count * DateNormalization.outputLength))
    }

    /// Mini-batch training with `optimizer`: `cost(batch)` for the examples at
    /// `indices`; stops with ``TrainingError/nonFinite(epoch:batch:cost:parameter:)``
    /// before any update when the cost or a gradient is not finite.
    static func train(parameters: [Parameter<Float>], count: Int, epochs: Int, batchSize: Int, optimizer: some Optimizer<Float>,
                      generator: inout RandomGenerator, cost: ([Int], inout RandomGenerator) -> Variable<Float>) throws -> Double {
        var last = 0.0
        for epoch in 0..<epochs {
            let order = generator.permutation(count)
            var total = 0.0, batches = 0
            for (batch, start) in stride(from: 0, to: count, by: batchSize).enumerated() {
                for p in parameters { p.gradient = nil; p.rowGradient = nil }
                let J = GradientTape.$isRecording.withValue(true) { cost(Array(order[start..<min(count, start + batchSize)]), &generator) }
                let value = Double(J.value.scalar)
                guard value.isFinite else { throw TrainingError.nonFinite(epoch: epoch, batch: batch, cost: value, parameter: nil) }
                J.backward()
                if let bad = parameters.first(where: { !$0.gradientIsFinite }) {
                    throw TrainingError.nonFinite(epoch: epoch, batch: batch, cost: value, parameter: bad.name)
                }
                optimizer.step(parameters)
                total += value
                batches += 1
            }
            last = total / Double(batches)
        }
        return last
    }

    static func data(seed: UInt64, training: Int, test: Int) -> (train: [DateNormalizationExample], test: [DateNormalizationExample]) {
        var generator = RandomGenerator(seed: seed ^ 0xDA7E)
        let all = DateNormalization.examples(count: training + test, generator: &generator)
        return (Array(all[..<training]), Array(all[training...]))
    }

    /// The notes' attention model (bidirectional LSTM encoder, additive
    /// attention, post-attention LSTM), trained with Adam (α = 0.005, the
    /// course's) and evaluated by exact match on `testExamples` held-out dates.
    public static func trainAttentionModel(seed: UInt64 = 0, trainingExamples: Int = 10_000, testExamples: Int = 1_000, epochs: Int = 10,
                                           batchSize: Int = 100) throws -> (model: AttentionModel<Float>, report: DateTranslationReport) {
        let (train, test) = data(seed: seed, training: trainingExamples, test: testExamples)
        var generator = RandomGenerator(seed: seed)
        let vx = DateNormalization.humanVocabulary.count, vy = DateNormalization.machineVocabulary.count
        let model = AttentionModel<Float>(inputVocabulary: vx, outputVocabulary: vy, outputLength: DateNormalization.outputLength,
                                          generator: &generator)
        let sources = train.map { DateNormalization.encodeHuman($0.human) }, outputs = train.map { DateNormalization.encodeMachine($0.machine) }
        let loss = SequenceSoftmaxCrossEntropy<Float>()
        let start = Date()
        let cost = try Self.train(parameters: model.parameters, count: train.count, epochs: epochs, batchSize: batchSize,
                                  optimizer: Adam<Float>(learningRate: 0.005), generator: &generator) { batch, _ in
            let x = Variable(oneHot(batch.map { sources[$0] }, vocabulary: vx))
            let lengths = batch.map { max(1, DateNormalization.length(of: sources[$0])) }
            return loss(model.forward(x, lengths: lengths).logits, targets(batch.map { outputs[$0] }))
        }
        let seconds = Date().timeIntervalSince(start)
        let predicted = predictions(model, test.map(\.human))
        let (exact, characters) = score(predicted.map(DateNormalization.encodeMachine), test.map { DateNormalization.encodeMachine($0.machine) })
        return (model, DateTranslationReport(model: "attention model (BiLSTM 32 + additive attention + LSTM 64)", trainingExamples: train.count,
                                             testExamples: test.count, epochs: epochs, trainingSeconds: seconds, finalCost: cost,
                                             exactMatchAccuracy: exact, characterAccuracy: characters))
    }

    /// The attention model's translations of `dates`, and its attention weights `(m, T_y, T_x)`.
    public static func translateWithAttention(_ model: AttentionModel<Float>, _ dates: [String]) -> (dates: [String], attention: Tensor<Float>) {
        withoutGradients {
            let sources = dates.map(DateNormalization.encodeHuman)
            let (logits, attention) = model.forward(Variable(oneHot(sources, vocabulary: DateNormalization.humanVocabulary.count)),
                                                    lengths: sources.map { max(1, DateNormalization.length(of: $0)) })
            return (argmax(logits.value).map(DateNormalization.decodeMachine), attention)
        }
    }

    static func predictions(_ model: AttentionModel<Float>, _ dates: [String]) -> [String] {
        stride(from: 0, to: dates.count, by: 500).flatMap { translateWithAttention(model, Array(dates[$0..<min(dates.count, $0 + 500)])).dates }
    }

    /// The notes' plain encoder–decoder (LSTM 64 → LSTM 64, embeddings of 32, no
    /// attention) trained with teacher forcing and Adam (α = 0.005), decoded
    /// with beam search of width `beamWidth` (1: greedy).
    public static func trainEncoderDecoder(seed: UInt64 = 0, trainingExamples: Int = 10_000, testExamples: Int = 1_000, epochs: Int = 10,
                                           batchSize: Int = 100, beamWidth: Int = 3) throws -> (model: EncoderDecoder<Float>, report: DateTranslationReport) {
        let (train, test) = data(seed: seed, training: trainingExamples, test: testExamples)
        var generator = RandomGenerator(seed: seed)
        let start = DateNormalization.machineVocabulary.count - 1
        let model = EncoderDecoder<Float>(sourceVocabulary: DateNormalization.humanVocabulary.count,
                                          targetVocabulary: DateNormalization.machineVocabulary.count, generator: &generator)
        let sources = train.map { DateNormalization.encodeHuman($0.human) }, outputs = train.map { DateNormalization.encodeMachine($0.machine) }
        let loss = SequenceSoftmaxCrossEntropy<Float>()
        let began = Date()
        let cost = try Self.train(parameters: model.parameters, count: train.count, epochs: epochs, batchSize: batchSize,
                                  optimizer: Adam<Float>(learningRate: 0.005), generator: &generator) { batch, _ in
            let y = batch.map { outputs[$0] }
            let initial = model.encode(batch.map { sources[$0] }, lengths: batch.map { max(1, DateNormalization.length(of: sources[$0])) })
            return loss(model.decode(y.map { [start] + $0.dropLast() }, from: initial), targets(y))
        }
        let seconds = Date().timeIntervalSince(began)
        let predicted = translateWithEncoderDecoder(model, test.map(\.human), beamWidth: beamWidth)
        let (exact, characters) = score(predicted.map(DateNormalization.encodeMachine), test.map { DateNormalization.encodeMachine($0.machine) })
        return (model, DateTranslationReport(model: "encoder–decoder (LSTM 64 → LSTM 64, beam width \(beamWidth))", trainingExamples: train.count,
                                             testExamples: test.count, epochs: epochs, trainingSeconds: seconds, finalCost: cost,
                                             exactMatchAccuracy: exact, characterAccuracy: characters))
    }

    /// The encoder–decoder's beam-search translations of `dates`.
    public static func translateWithEncoderDecoder(_ model: EncoderDecoder<Float>, _ dates: [String], beamWidth: Int = 3) -> [String] {
        let start = DateNormalization.machineVocabulary.count - 1
        // Every date has 10 characters, so no end token is needed; the start mark, never a target, stands in for one.
        let search = BeamSearch(width: beamWidth, maximumLength: DateNormalization.outputLength, lengthNormalization: 0, endToken: start)
        return dates.map { date in
            let source = DateNormalization.encodeHuman(date)
            let best = model.decode(Array(source.prefix(max(1, DateNormalization.length(of: source)))), startToken: start, search: search)[0]
            return DateNormalization.decodeMachine(best.tokens.filter { $0 != start })
        }
    }

    /// A small encoder–decoder transformer (2 + 2 layers, d_model 64, 4 heads,
    /// d_ff 128, dropout 0.1) trained with teacher forcing and Adam
    /// (α = 10⁻³), evaluated with greedy decoding.
    public static func trainTransformer(seed: UInt64 = 0, trainingExamples: Int = 10_000, testExamples: Int = 1_000, epochs: Int = 10,
                                        batchSize: Int = 100) throws -> (model: Transformer<Float>, report: DateTranslationReport) {
        let (train, test) = data(seed: seed, training: trainingExamples, test: testExamples)
        var generator = RandomGenerator(seed: seed)
        let start = DateNormalization.machineVocabulary.count - 1   // "^"
        let model = Transformer<Float>(sourceVocabulary: DateNormalization.humanVocabulary.count,
                                       targetVocabulary: DateNormalization.machineVocabulary.count, generator: &generator)
        let sources = train.map { DateNormalization.encodeHuman($0.human) }, outputs = train.map { DateNormalization.encodeMachine($0.machine) }
        let loss = SequenceSoftmaxCrossEntropy<Float>()
        let began = Date()
        let cost = try Self.train(parameters: model.parameters, count: train.count, epochs: epochs, batchSize: batchSize,
                                  optimizer: Adam<Float>(learningRate: 0.001), generator: &generator) { batch, generator in
            let context = ForwardContext(training: true, generator: generator)
            defer { generator = context.generator }
            let y = batch.map { outputs[$0] }
            let logits = model.forward(source: batch.map { sources[$0] }, sourceLengths: batch.map { max(1, DateNormalization.length(of: sources[$0])) },
                                       targetInput: y.map { [start] + $0.dropLast() }, context: context)
            return loss(logits, targets(y))
        }
        let seconds = Date().timeIntervalSince(began)
        let predicted = translateWithTransformer(model, test.map(\.human))
        let (exact, characters) = score(predicted.map(DateNormalization.encodeMachine), test.map { DateNormalization.encodeMachine($0.machine) })
        return (model, DateTranslationReport(model: "transformer (2 + 2 layers, d_model 64, 4 heads)", trainingExamples: train.count,
                                             testExamples: test.count, epochs: epochs, trainingSeconds: seconds, finalCost: cost,
                                             exactMatchAccuracy: exact, characterAccuracy: characters))
    }

    /// The transformer's greedy translations of `dates`.
    public static func translateWithTransformer(_ model: Transformer<Float>, _ dates: [String]) -> [String] {
        let start = DateNormalization.machineVocabulary.count - 1
        return stride(from: 0, to: dates.count, by: 500).flatMap { first -> [String] in
            let sources = dates[first..<min(dates.count, first + 500)].map(DateNormalization.encodeHuman)
            return model.greedyDecode(sources, sourceLengths: sources.map { max(1, DateNormalization.length(of: $0)) }, startToken: start,
                                      length: DateNormalization.outputLength).map(DateNormalization.decodeMachine)
        }
    }
}
