import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// The embedding layer: lookups equal the notes' `E·o_j`, gradients go to the
/// rows used (repeats add up), and optimizers update only those rows.
final class EmbeddingTests: XCTestCase {
    func testLookupEqualsTheOneHotProductAndItsGradient() {
        var g = RandomGenerator(seed: 31)
        let table = Tensor<Double>(randomNormal: [6, 3], generator: &g)
        let indices = [4, 1, 4, 0, 4]                          // word 4 three times
        let weights = Tensor<Double>(randomNormal: [3, 5], generator: &g)
        // The notes' form: e_j = E·o_j with E (d, V) = tableᵀ and one-hot columns O (V, m).
        let E = Variable(table, requiresGradient: true)
        let oneHot = Tensor<Double>.oneHot(indices, classes: 6)
        let dense = GradientTape.$isRecording.withValue(true) { (matmul(E, Variable(oneHot), transposingA: true) * Variable(weights)).sum() }
        dense.backward()
        let lookedUp = Variable(table, requiresGradient: true)
        let sparse = GradientTape.$isRecording.withValue(true) { (rowLookup(lookedUp, indices: indices) * Variable(weights)).sum() }
        sparse.backward()
        XCTAssertEqual(sparse.value.scalar, dense.value.scalar, accuracy: 1e-14)
        XCTAssertNil(lookedUp.gradient, "no dense (V, d) gradient")
        let rows = lookedUp.rowGradient!.coalesced()
        XCTAssertEqual(rows.indices, [0, 1, 4], "each used row once")
        let expected = E.gradient!
        for (k, r) in rows.indices.enumerated() {
            for j in 0..<3 { XCTAssertEqual(rows.rows.scalars[k * 3 + j], expected.scalars[r * 3 + j], accuracy: 1e-14) }
        }
        // Row 4's gradient is the sum of its three uses.
        XCTAssertEqual(rows.rows.scalars[2 * 3], weights.scalars[0] + weights.scalars[2] + weights.scalars[4], accuracy: 1e-14)
    }

    func testEmbeddingFeedsARecurrentModelAndGradientChecks() {
        var g = RandomGenerator(seed: 32)
        let model = Sequential<Double>([Embedding(vocabulary: 7, dimensions: 3, generator: &g),
                                        Recurrent(.lstm, inputs: 3, units: 2, returnsSequences: false, generator: &g),
                                        Dense(inputs: 2, outputs: 2, generator: &g)])
        let X = Tensor<Double>(shape: [1, 3, 4], scalars: [1, 5, 5, 2, 0, 6, 1, 1, 3, 3, 3, 4])   // (1, m = 3, T = 4)
        let Y = Tensor<Double>.oneHot([0, 1, 1], classes: 2)
        XCTAssertEqual(model.logits(X).shape, [2, 3])
        assertGreat(gradientCheck(model, X, Y, loss: SoftmaxCrossEntropy()), "embedding → LSTM → dense")
    }

    func testSparseUpdatesEqualDenseOnesOnTheRowsUsed() {
        var g = RandomGenerator(seed: 33)
        let start = Tensor<Double>(randomNormal: [5, 2], generator: &g)
        for makeOptimizer in [{ Adam<Double>(learningRate: 0.1) as any Optimizer<Double> }, { GradientDescent<Double>(learningRate: 0.1) },
                              { Momentum<Double>(learningRate: 0.1) }, { RMSprop<Double>(learningRate: 0.1) }] {
            let sparse = Parameter(key: "E", value: start, isRegularized: false)
            let dense = Parameter(key: "E", value: start, isRegularized: false)
            let (sparseOptimizer, denseOptimizer) = (makeOptimizer(), makeOptimizer())
            for step in 0..<3 {
                let gradient = Tensor<Double>(randomNormal: [2, 2], generator: &g)
                var rows = RowGradient<Double>(width: 2)
                rows.add(gradient.scalars, at: [3, 1])
                sparse.rowGradient = rows
                dense.gradient = rows.dense(rows: 5)
                sparseOptimizer.step([sparse])
                denseOptimizer.step([dense])
                sparse.rowGradient = nil
                XCTAssertEqual(sparse.value.scalars, dense.value.scalars, "\(type(of: sparseOptimizer)) step \(step)")
            }
            XCTAssertEqual(sparse.value.rows(0..<1).scalars, start.rows(0..<1).scalars, "untouched rows keep their values")
        }
    }
}

/// Generated text, the vocabulary, the averaged-embedding layer and the word-model training loops.
final class GeneratedTextTests: XCTestCase {
    func testVocabularyAndGeneratedDataAreSeededAndLabelledByTheirNegation() {
        let vocabulary = WordVocabulary([["a", "b", "a"], ["c", "a", "b"]])
        XCTAssertEqual(vocabulary.words, ["<pad>", "<unk>", "a", "b", "c"])
        XCTAssertEqual(vocabulary.counts, [0, 0, 3, 2, 1])
        XCTAssertEqual(vocabulary.encode(["b", "zebra"]), [3, 1])
        XCTAssertEqual(GeneratedText.corpus(sentences: 50, seed: 4), GeneratedText.corpus(sentences: 50, seed: 4))
        for review in GeneratedText.reviews(count: 300, seed: 5) {
            let positive = ["excellent", "good", "great", "delicious", "friendly", "lovely", "wonderful", "tasty"].contains { review.words.contains($0) }
            XCTAssertEqual(review.label, positive != review.words.contains("not") ? 1 : 0, review.words.joined(separator: " "))
        }
    }

    func testAverageEmbeddingLeavesOutPaddingAndGradientChecks() {
        var g = RandomGenerator(seed: 51)
        let layer = AverageEmbedding<Double>(Embedding(vocabulary: 5, dimensions: 2, generator: &g))
        let X = Tensor<Double>(shape: [1, 2, 3], scalars: [0, 2, 4, 3, 3, 1])     // example 0 is padded once
        let out = layer(X)
        let E = layer.embedding.E.value.scalars
        XCTAssertEqual(out.scalars[0], (E[4] + E[8]) / 2, accuracy: 1e-15, "the padding is not averaged in")
        XCTAssertEqual(out.scalars[1], (2 * E[6] + E[2]) / 3, accuracy: 1e-15)
        let model = Sequential<Double>([layer, Dense(inputs: 2, outputs: 2, generator: &g)])
        assertGreat(gradientCheck(model, X, Tensor.oneHot([1, 0], classes: 2), loss: SoftmaxCrossEntropy()), "averaged embeddings → dense")
    }

    func testSkipGramAndGloVeTrainingLowerTheirCosts() throws {
        let corpus = GeneratedText.corpus(sentences: 200, seed: 6)
        let vocabulary = WordVocabulary(corpus)
        let sentences = corpus.map(vocabulary.encode)
        var g = RandomGenerator(seed: 52)
        let skipGram = SkipGram<Float>(vocabulary: vocabulary.count, dimensions: 8, generator: &g)
        let costs = try skipGram.fit(pairs: sentences.flatMap { skipGramPairs($0, window: 2) }, sampler: NegativeSampler(counts: vocabulary.counts),
                                     batchSize: 128, epochs: 3, optimizer: Adam(learningRate: 0.02), seed: 1)
        XCTAssertLessThan(costs.last!, costs.first!)
        let glove = GloVe<Float>(vocabulary: vocabulary.count, dimensions: 8, generator: &g)
        let gloveCosts = try glove.fit(cooccurrences(sentences, window: 3), epochs: 10, optimizer: Adam(learningRate: 0.05), seed: 1)
        XCTAssertLessThan(gloveCosts.last!, 0.5 * gloveCosts.first!)
        XCTAssertThrowsError(try skipGram.fit(pairs: [], sampler: NegativeSampler(counts: [1]), epochs: 1, optimizer: Adam(learningRate: 0.1)))
    }

    /// The window language model (C5W2-06): every parameter's gradient against
    /// central differences of the cost in Double (the embedding's as the rows
    /// used, a repeated word included), the windows, and training on the
    /// generated corpus lowers the cost.
    func testNeuralLanguageModelGradientsAndTraining() throws {
        var g = RandomGenerator(seed: 54)
        let model = NeuralLanguageModel<Double>(vocabulary: 6, dimensions: 2, contextLength: 3, hiddenUnits: 4, generator: &g)
        for p in model.parameters where p.key != "E" { p.value = p.value + Tensor(randomNormal: p.value.shape, standardDeviation: 0.3, generator: &g) }
        let contexts = [0, 3, 3, 5, 1, 2], targets = [4, 0]
        func cost() -> Double { model.cost(contexts: contexts, targets: targets).value.scalar }
        for p in model.parameters { p.gradient = nil; p.rowGradient = nil }
        let J = GradientTape.$isRecording.withValue(true) { model.cost(contexts: contexts, targets: targets) }
        J.backward()
        for p in model.parameters {
            let analytic = p.key == "E" ? p.rowGradient!.dense(rows: 6).scalars : p.gradient!.scalars
            let original = p.value
            for e in 0..<original.count {
                var plus = original.scalars, minus = original.scalars
                plus[e] += 1e-6
                minus[e] -= 1e-6
                p.value = Tensor(shape: original.shape, scalars: plus)
                let up = cost()
                p.value = Tensor(shape: original.shape, scalars: minus)
                let down = cost()
                p.value = original
                XCTAssertEqual(analytic[e], (up - down) / 2e-6, accuracy: 1e-8, "∂J/∂\(p.key)[\(e)]")
            }
        }
        XCTAssertEqual(Array(model.embedding.E.rowGradient!.dense(rows: 6).scalars[8...9]), [0, 0], "word 4 is no context: its row gets nothing")
        // Each column sees its own context only: a batch's logits are its examples' logits alone
        // (the first version mixed the contexts across the batch; the gradients still checked).
        let batch = model.logits(contexts: contexts).value
        for b in 0..<2 {
            let alone = model.logits(contexts: Array(contexts[3 * b..<3 * b + 3])).value
            for v in 0..<6 { XCTAssertEqual(batch[v, b], alone[v, 0], accuracy: 1e-14, "example \(b), word \(v)") }
        }
        let windows = languageModelWindows([7, 8, 9, 10], context: 2)
        XCTAssertEqual(windows.map(\.context), [[7, 8], [8, 9]])
        XCTAssertEqual(windows.map(\.target), [9, 10])
        XCTAssertTrue(languageModelWindows([1, 2], context: 2).isEmpty)
        // C5W2-06: "I want a glass of orange juice to go along with my cereal", 4 words on the left & right of juice (6).
        let sentence = Array(0..<13)
        let around = languageModelWindows(sentence, left: 4, right: 4)
        XCTAssertEqual(around.map(\.target), [4, 5, 6, 7, 8])
        XCTAssertEqual(around[2].context, [2, 3, 4, 5, 7, 8, 9, 10], "a glass of orange | to go along with")
        XCTAssertEqual(languageModelWindows(sentence, left: 2, right: 0).map(\.context), languageModelWindows(sentence, context: 2).map(\.context))
        XCTAssertEqual(languageModelWindows(sentence, left: 0, right: 1).map(\.context), (1..<13).map { [$0] })
        XCTAssertTrue(languageModelWindows([1, 2, 3], left: 2, right: 1).isEmpty)

        let corpus = GeneratedText.corpus(sentences: 200, seed: 7)
        let vocabulary = WordVocabulary(corpus)
        let examples = corpus.map(vocabulary.encode).flatMap { languageModelWindows($0, context: 3) }
        let lm = NeuralLanguageModel<Float>(vocabulary: vocabulary.count, dimensions: 8, contextLength: 3, hiddenUnits: 16, generator: &g)
        let costs = try lm.fit(examples, batchSize: 64, epochs: 4, optimizer: Adam(learningRate: 0.01), seed: 2)
        XCTAssertLessThan(costs.last!, costs.first! - 0.5, "\(costs)")   // measured 4.18 → 3.43 nats (the generated text's words are drawn at random)
        XCTAssertThrowsError(try lm.fit([(context: [1], target: 2)], epochs: 1, optimizer: Adam(learningRate: 0.1)), "a context of the wrong length")
        XCTAssertThrowsError(try lm.fit([(context: [1, 2, 3], target: vocabulary.count)], epochs: 1, optimizer: Adam(learningRate: 0.1)),
                             "a word outside the vocabulary")
    }

    func testTruncatedBackpropagationThroughTimeStopsAtTheDetachedState() {
        // Two chunks of a sequence: the second starts from the first's last state, detached, so the
        // first chunk's input gets no gradient from the second chunk's cost.
        var g = RandomGenerator(seed: 53)
        let layer = Recurrent<Double>(.gru, inputs: 2, units: 3, returnsSequences: false, generator: &g)
        let first = Variable(Tensor<Double>(randomNormal: [2, 1, 4], generator: &g), requiresGradient: true)
        let second = Variable(Tensor<Double>(randomNormal: [2, 1, 4], generator: &g), requiresGradient: true)
        let state = layer.forward(first, initialState: nil, lengths: nil)
        for (carried, reaches) in [(state.detached(), false), (state, true)] {
            first.gradient = nil
            let J = GradientTape.$isRecording.withValue(true) { layer.forward(second, initialState: carried, lengths: nil).sum() }
            J.backward()
            XCTAssertEqual(first.gradient != nil, reaches)
        }
    }
}
