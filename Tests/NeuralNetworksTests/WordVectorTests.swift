import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Similarities, analogies and debiasing against `Reference/embeddings.py`,
/// and the GloVe / word2vec text formats.
final class WordVectorTests: XCTestCase {
    typealias R = EmbeddingReference
    let vectors = try! WordVectors(words: EmbeddingReference.words, vectors: Tensor(shape: [10, 6], scalars: EmbeddingReference.vectors))

    func assertClose(_ a: [Double], _ b: [Double], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, message, file: file, line: line)
        for (x, y) in zip(a, b) { XCTAssertEqual(x, y, accuracy: 1e-12, message, file: file, line: line) }
    }

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
