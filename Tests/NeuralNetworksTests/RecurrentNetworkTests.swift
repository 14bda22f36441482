import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Recurrent layers as models: stacking, bidirectional wrappers, time-distributed
/// heads, the sequence loss, persistence and training.
final class RecurrentNetworkTests: XCTestCase {
    func oneHotSequences(_ labels: [[Int]], classes: Int) -> Tensor<Double> {
        let (m, T) = (labels.count, labels[0].count)
        var y = [Double](repeating: 0, count: classes * m * T)
        for i in 0..<m { for t in 0..<T where labels[i][t] >= 0 { y[(labels[i][t] * m + i) * T + t] = 1 } }
        return Tensor(shape: [classes, m, T], scalars: y)
    }

    func testDeepBidirectionalModelGradientChecks() {
        var g = RandomGenerator(seed: 21)
        let model = Sequential<Double>([
            Bidirectional(.lstm, inputs: 3, units: 2, generator: &g),
            Recurrent(.gru, inputs: 4, units: 3, generator: &g),
            Recurrent(.rnn, inputs: 3, units: 2, generator: &g),
            TimeDistributed(Dense(inputs: 2, outputs: 3, generator: &g)),
        ])
        let X = Tensor<Double>(randomNormal: [3, 2, 4], generator: &g)
        // Example 1's last step is padding (an all-zero target column): it costs nothing.
        let Y = oneHotSequences([[0, 2, 1, 1], [2, 0, 1, -1]], classes: 3)
        XCTAssertEqual(model.logits(X).shape, [3, 2, 4])
        assertGreat(gradientCheck(model, X, Y, loss: SequenceSoftmaxCrossEntropy()), "BiLSTM → GRU → RNN → dense per step")
        let logits = Variable(model.logits(X), requiresGradient: true)
        let J = GradientTape.$isRecording.withValue(true) { SequenceSoftmaxCrossEntropy<Double>()(logits, Y) }
        J.backward()
        XCTAssertEqual((0..<3).map { logits.gradient!.scalars[($0 * 2 + 1) * 4 + 3] }, [0, 0, 0], "no gradient on padding")
    }

    func testSequenceCrossEntropySumsOverTimeAndAveragesOverSequences() {
        // Two sequences of two steps with uniform logits over 4 classes: every labelled step costs ln 4;
        // 3 labelled steps over m = 2 sequences give 1.5 ln 4.
        let Z = Tensor<Double>.zeros([4, 2, 2])
        let Y = oneHotSequences([[1, 3], [0, -1]], classes: 4)
        XCTAssertEqual(SequenceSoftmaxCrossEntropy<Double>()(Z, Y).cost, 1.5 * Foundation.log(4), accuracy: 1e-14)
    }

    func testRecurrentLayersSaveAndLoad() throws {
        var g = RandomGenerator(seed: 22)
        let model = Sequential<Float>([
            Bidirectional(.gru, inputs: 2, units: 3, generator: &g),
            Recurrent(.lstm, inputs: 6, units: 4, returnsSequences: false, generator: &g),
            Dense(inputs: 4, outputs: 2, generator: &g),
        ], outputActivation: .softmax)
        let also = Sequential<Float>([Recurrent(.rnn, inputs: 2, units: 3, reversed: true, generator: &g),
                                      TimeDistributed(Dense(inputs: 3, outputs: 2, generator: &g))])
        let X = Tensor<Float>(randomNormal: [2, 3, 5], generator: &g)
        for m in [model, also] {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("rnn-\(ProcessInfo.processInfo.processIdentifier).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try m.save(to: url)
            let loaded = try Sequential<Float>.load(from: url)
            XCTAssertEqual(loaded.logits(X), m.logits(X))
            XCTAssertEqual(loaded.summary, m.summary)
        }
    }

    func testManyToOneLSTMLearnsTheSignOfASum() throws {
        // Sequences of 8 numbers; the label is whether their sum is positive — needs memory of every step.
        var g = RandomGenerator(seed: 23)
        let m = 256
        let X = Tensor<Float>(randomNormal: [1, m, 8], generator: &g)
        let sums = X.sum(axis: 2).scalars
        let Y = Tensor<Float>(shape: [1, m], scalars: sums.map { $0 > 0 ? 1 : 0 })
        let model = Sequential<Float>([Recurrent(.lstm, inputs: 1, units: 8, returnsSequences: false, generator: &g),
                                       Dense(inputs: 8, outputs: 1, generator: &g)], outputActivation: .sigmoid)
        let history = try model.fit(X, Y, optimizer: Adam(learningRate: 0.02),
                                    configuration: TrainingConfiguration(epochs: isReleaseBuild ? 40 : 8, batchSize: 32, seed: 1))
        XCTAssertLessThan(history.costs.last!, 0.5 * history.costs.first!)
        if isReleaseBuild { XCTAssertGreaterThan(Metrics.accuracy(model.predict(X), Y), 0.9) }
    }
}

/// The character-level language model's data layout, training and sampling.
final class CharacterLanguageModelTests: XCTestCase {
    func testBatchesShiftTargetsIntoInputsAndPadWithZeroColumns() throws {
        let vocabulary = CharacterVocabulary(["ab", "b"])
        XCTAssertEqual(vocabulary.characters, ["\n", "a", "b"])
        var g = RandomGenerator(seed: 41)
        let model = CharacterLanguageModel<Double>(vocabulary: vocabulary, units: 3, generator: &g)
        let (X, Y) = try model.batch(["ab", "b"])
        XCTAssertEqual(X.shape, [3, 2, 3])
        // "ab\n": y = a, b, \n; x = 0, a, b.  "b\n": y = b, \n, (padding); x = 0, b, \n.
        func column(_ t: Tensor<Double>, _ i: Int, _ step: Int) -> [Double] { (0..<3).map { t.scalars[($0 * 2 + i) * 3 + step] } }
        XCTAssertEqual((0..<3).map { column(Y, 0, $0) }, [[0, 1, 0], [0, 0, 1], [1, 0, 0]])
        XCTAssertEqual((0..<3).map { column(X, 0, $0) }, [[0, 0, 0], [0, 1, 0], [0, 0, 1]])
        XCTAssertEqual((0..<3).map { column(Y, 1, $0) }, [[0, 0, 1], [1, 0, 0], [0, 0, 0]])
        XCTAssertThrowsError(try model.batch(["abc"]), "c is not in the vocabulary")
    }

    func testTrainingLowersPerplexityAndSamplingIsSeeded() throws {
        let names = generatedDinosaurNames(count: 60, seed: 1)
        let vocabulary = CharacterVocabulary(names)
        var g = RandomGenerator(seed: 42)
        let model = CharacterLanguageModel<Float>(vocabulary: vocabulary, cell: .gru, units: 16, generator: &g)
        let before = try model.perplexity(names)
        try model.fit(names, optimizer: Adam(learningRate: 0.02),
                      configuration: TrainingConfiguration(epochs: isReleaseBuild ? 10 : 2, batchSize: 20, clipping: .value(5), seed: 3))
        XCTAssertLessThan(try model.perplexity(names), before)
        var a = RandomGenerator(seed: 7), b = RandomGenerator(seed: 7)
        let first = (0..<5).map { _ in model.sample(maxLength: 12, generator: &a) }
        XCTAssertEqual(first, (0..<5).map { _ in model.sample(maxLength: 12, generator: &b) }, "one seed, one sample")
        XCTAssertTrue(first.allSatisfy { $0.count <= 12 && vocabulary.encode($0) != nil })
    }
}
