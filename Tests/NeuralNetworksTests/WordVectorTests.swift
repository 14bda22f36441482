import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Similarities, analogies and debiasing against `Reference/embeddings.py`,
/// and the GloVe / word2vec text formats.
final class WordVectorTests: XCTestCase {
    typealias R = EmbeddingReference
    let vectors = try! WordVectors(words: EmbeddingReference.words, vectors: Tensor(shape: [10, 6], scalars: EmbeddingReference.vectors))

    func testCosineSimilarityAndAnalogyMatchReference() {
        XCTAssertEqual(cosineSimilarity(vectors["man"]!, vectors["woman"]!), R.cosineManWoman[0], accuracy: 1e-14)
        let answer = vectors.analogy("man", isTo: "woman", as: "king")!
        XCTAssertEqual(answer[0].word, R.analogyManWomanKing)
        XCTAssertEqual(answer[0].similarity, R.analogySimilarity[0], accuracy: 1e-14)
        XCTAssertNil(vectors.analogy("man", isTo: "woman", as: "emperor"))
        XCTAssertEqual(cosineSimilarity([1.0, 0], [0, 0]), 0, "a zero vector is similar to nothing")
        // The notes' table (C5W2-02, Food 0.04): e_man − e_woman ≈ e_king − e_queen, so man:woman :: king:queen.
        let table = try! WordVectors(words: ["man", "woman", "king", "queen", "apple", "orange"], vectors: Tensor<Double>(shape: [6, 4], scalars: [
            -1, 0.01, 0.03, 0.04, 1, 0.02, 0.02, 0.01, -0.95, 0.93, 0.7, 0.02, 0.97, 0.95, 0.69, 0.01, 0, -0.01, 0.03, 0.95, 0.01, 0, -0.02, 0.97]))
        XCTAssertEqual(table.analogy("man", isTo: "woman", as: "king")?.first?.word, "queen")
    }

    func testDebiasingMatchesReference() {
        let g = Debiasing.biasDirection(pairs: [("woman", "man"), ("girl", "boy")], in: vectors)!
        assertClose(g, R.biasDirection, "g")
        let doctor = vectors["doctor"]!
        let neutral = Debiasing.neutralize(doctor, direction: g)
        assertClose(neutral, R.neutralizedDoctor, "neutralize")
        XCTAssertEqual(cosineSimilarity(neutral, g), 0, accuracy: 1e-14, "nothing left along g")
        let (king, queen) = Debiasing.equalize(vectors["king"]!, vectors["queen"]!, direction: g)
        assertClose(king, R.equalizedKing, "equalize king")
        assertClose(queen, R.equalizedQueen, "equalize queen")
        XCTAssertEqual(cosineSimilarity(king, neutral), cosineSimilarity(queen, neutral), accuracy: 1e-12,
                       "equalized words are equally similar to a neutralized one")
    }

    func testTextFormatsRoundTripAndBadFilesNameTheLine() throws {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vectors-\(ProcessInfo.processInfo.processIdentifier).txt")
        defer { try? FileManager.default.removeItem(at: url) }
        for header in [false, true] {
            try vectors.write(to: url, word2vecHeader: header)
            let back = try WordVectors<Double>.read(from: url)
            XCTAssertEqual(back.words, vectors.words)
            XCTAssertEqual(back.vectors, vectors.vectors, "Double's description round-trips exactly")
        }
        func error(_ text: String) -> WordVectorFileError? {
            do { _ = try WordVectors<Float>.parse(text); return nil } catch { return error as? WordVectorFileError }
        }
        XCTAssertEqual(error("a 1 2\nb 3\n"), .malformedLine(line: 2, detail: "1 values where the file has 2"))
        XCTAssertEqual(error("2 2\na 1 2\nb 3 x\n"), .malformedLine(line: 3, detail: "value 2 \"x\" is not a finite number"))
        XCTAssertEqual(error("3 2\na 1 2\nb 3 4\n"), .countMismatch(header: 3, found: 2))
        XCTAssertEqual(error("a 1 2\nb 3 4\na 5 6\n"), .duplicateWord(line: 3, word: "a"))
        XCTAssertEqual(error("2 2\na 1 2\na 3 4\n"), .duplicateWord(line: 3, word: "a"))
        XCTAssertEqual(error("a 1 2\nlonely\n"), .malformedLine(line: 2, detail: "expected a word and its values, found \"lonely\""))
        XCTAssertEqual(error(""), .empty)
        XCTAssertEqual(error("a nan 1\n"), .malformedLine(line: 1, detail: "value 1 \"nan\" is not a finite number"))
        XCTAssertEqual(WordVectorFileError.malformedLine(line: 7, detail: "x").description, "line 7: x")
    }
}

/// word2vec and GloVe costs and gradients against `Reference/embeddings.py` (PyTorch autograd).
final class Word2VecTests: XCTestCase {
    typealias R = EmbeddingReference

    func skipGram() -> SkipGram<Double> {
        var g = RandomGenerator(seed: 1)
        let model = SkipGram<Double>(vocabulary: 7, dimensions: 3, generator: &g)
        model.centers.E.value = Tensor(shape: [7, 3], scalars: R.sgCenters)
        model.contexts.E.value = Tensor(shape: [7, 3], scalars: R.sgContexts)
        return model
    }

    func testNegativeSamplingCostAndRowGradientsMatchReference() {
        let model = skipGram()
        let J = GradientTape.$isRecording.withValue(true) {
            model.negativeSamplingCost(centers: [1, 4, 1], contexts: [2, 2, 5], negatives: [0, 6, 2, 3, 3, 1])
        }
        XCTAssertEqual(J.value.scalar, R.sgCost[0], accuracy: 1e-13)
        J.backward()
        XCTAssertNil(model.centers.E.gradient, "row gradients only")
        assertClose(model.centers.E.rowGradient!.dense(rows: 7), R.sgGradCenters, "∂J/∂E")
        assertClose(model.contexts.E.rowGradient!.dense(rows: 7), R.sgGradContexts, "∂J/∂θ")
        let parameters = model.parameters.map { ($0.key, $0.variable) }
        assertGreat(gradientCheck(parameters) { model.negativeSamplingCost(centers: [1, 4, 1], contexts: [2, 2, 5], negatives: [0, 6, 2, 3, 3, 1]) },
                    "negative sampling")
    }

    func testFullSoftmaxCostMatchesReference() {
        let model = skipGram()
        let J = GradientTape.$isRecording.withValue(true) { model.softmaxCost(centers: [1, 4, 1], contexts: [2, 2, 5]) }
        XCTAssertEqual(J.value.scalar, R.sgSoftmaxCost[0], accuracy: 1e-13)
        J.backward()
        assertClose(model.centers.E.rowGradient!.dense(rows: 7), R.sgSoftmaxGradCenters, "∂J/∂E")
        assertClose(model.contexts.E.gradient!, R.sgSoftmaxGradContexts, "∂J/∂θ (dense: every row is in the softmax)")
    }

    func testGloVeCostAndGradientsMatchReference() {
        var g = RandomGenerator(seed: 2)
        let glove = GloVe<Double>(vocabulary: 7, dimensions: 3, generator: &g)
        glove.words.E.value = Tensor(shape: [7, 3], scalars: R.gloveWords)
        glove.contexts.E.value = Tensor(shape: [7, 3], scalars: R.gloveContexts)
        glove.wordBiases.E.value = Tensor(shape: [7, 1], scalars: R.gloveWordBiases)
        glove.contextBiases.E.value = Tensor(shape: [7, 1], scalars: R.gloveContextBiases)
        let entries: [(word: Int, context: Int, count: Double)] = [(0, 1, 3), (1, 0, 3), (2, 5, 150), (4, 4, 0.5), (2, 1, 100)]
        let J = GradientTape.$isRecording.withValue(true) { glove.cost(entries) }
        XCTAssertEqual(J.value.scalar, R.gloveCost[0], accuracy: 1e-12)
        J.backward()
        assertClose(glove.words.E.rowGradient!.dense(rows: 7), R.gloveGradWords, "∂J/∂e")
        assertClose(glove.contexts.E.rowGradient!.dense(rows: 7), R.gloveGradContexts, "∂J/∂θ")
        assertClose(glove.wordBiases.E.rowGradient!.dense(rows: 7), R.gloveGradWordBiases, "∂J/∂b")
        assertClose(glove.contextBiases.E.rowGradient!.dense(rows: 7), R.gloveGradContextBiases, "∂J/∂b′")
        XCTAssertEqual(glove.weight(0), 0, "f(0) = 0: 0 log 0 = 0")
        XCTAssertEqual(glove.weight(100), 1)
        XCTAssertEqual(glove.weight(50), Foundation.pow(0.5, 0.75), accuracy: 1e-15)
    }

    func testNegativeSamplerFollowsTheThreeQuarterPowerAndPairsAndCounts() {
        let sampler = NegativeSampler(counts: [16, 1, 0, 81])
        // 16^¾ = 8, 1^¾ = 1, 0, 81^¾ = 27: probabilities 8/36, 1/36, 0, 27/36.
        XCTAssertEqual(sampler.probability(0), 8.0 / 36, accuracy: 1e-12)
        XCTAssertEqual(sampler.probability(2), 0)
        var g = RandomGenerator(seed: 3)
        let draws = sampler.sample(36_000, generator: &g)
        XCTAssertFalse(draws.contains(2), "a word never seen is never drawn")
        XCTAssertEqual(Double(draws.filter { $0 == 3 }.count) / 36_000, 0.75, accuracy: 0.01)
        XCTAssertEqual(skipGramPairs([5, 6, 7], window: 1).map { [$0.center, $0.context] }, [[5, 6], [6, 5], [6, 7], [7, 6]])
        let counts = cooccurrences([[1, 2, 1]], window: 2)
        XCTAssertEqual(counts.map { [$0.word, $0.context] }, [[1, 1], [1, 2], [2, 1]])
        XCTAssertEqual(counts.map(\.count), [1, 2, 2], "1–1 at distance 2 counts ½ each way; 1–2 twice at distance 1")
    }
}
