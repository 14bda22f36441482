import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Beam search against brute-force enumeration on fixed next-token tables,
/// beam-search error attribution (C5W3-07), and BLEU against nltk
/// (`Reference/bleu.py`) and the notes' worked examples (C5W3-08).
final class SequenceToSequenceTests: XCTestCase {
    // MARK: Beam search

    /// `P(y⟨t⟩ | prefix)` for listed prefixes, `fallback` for the rest; token 0 is the end token.
    struct TokenTable {
        var rows: [[Int]: [Double]]
        var fallback: [Double]

        func logProbabilities(_ prefix: [Int]) -> [Double] { (rows[prefix] ?? fallback).map { Foundation.log($0) } }

        /// The step: the state is the prefix already consumed, which must be
        /// the given prefix without its last token (as an RNN decoder's state
        /// before it reads the last token); the step returns the whole prefix.
        func step(_ states: [[Int]], _ prefixes: [[Int]]) -> [(logProbabilities: [Double], state: [Int])] {
            XCTAssertEqual(states.count, prefixes.count)
            for (state, prefix) in zip(states, prefixes) { XCTAssertEqual(state, Array(prefix.dropLast()), "state routed to the wrong hypothesis") }
            return prefixes.map { (logProbabilities($0), $0) }
        }

        /// A seeded random table over `vocabulary` tokens: cubed uniforms, normalized, per prefix.
        static func random(seed: UInt64, vocabulary: Int) -> (_ prefix: [Int]) -> [Double] {
            { prefix in
                var h: UInt64 = 1_469_598_103_934_665_603 ^ seed
                for t in prefix { h = (h ^ UInt64(t + 1)) &* 1_099_511_628_211 }
                var g = RandomGenerator(seed: h)
                let p = (0..<vocabulary).map { _ in Foundation.pow(g.nextUniform(), 3) + 1e-3 }
                let total = p.reduce(0, +)
                return p.map { Foundation.log($0 / total) }
            }
        }
    }

    /// Every sequence of at most `maximumLength` tokens that ends with the end
    /// token 0, or reaches the length, and the best by `search`'s normalized score.
    func bruteForce(_ search: BeamSearch, _ logProbabilities: ([Int]) -> [Double]) -> (tokens: [Int], score: Double, count: Int) {
        var best: (tokens: [Int], score: Double) = ([], -.infinity), count = 0
        func visit(_ prefix: [Int], _ sum: Double) {
            for (k, lp) in logProbabilities(prefix).enumerated() where lp > -.infinity {
                let tokens = prefix + [k]
                if k == search.endToken || tokens.count == search.maximumLength {
                    count += 1
                    let score = (sum + lp) / Foundation.pow(Double(tokens.count), search.lengthNormalization)
                    if score > best.score { best = (tokens, score) }
                } else {
                    visit(tokens, sum + lp)
                }
            }
        }
        visit([], 0)
        return (best.tokens, best.score, count)
    }

    /// C5W3-03: greedy takes "a" (0.5) and then ends (0.15 in all); the best
    /// sequence is "b <end>" (0.45 · 0.9 = 0.405), which B = 3 keeps.
    let greedyMisses = TokenTable(rows: [[]: [0.01, 0.5, 0.45, 0.04], [1]: [0.3, 0.25, 0.25, 0.2], [2]: [0.9, 0.05, 0.03, 0.02]],
                                  fallback: [0.25, 0.25, 0.25, 0.25])

    func testBeamWidthThreeFindsWhatGreedyMisses() {
        let table = greedyMisses
        let search = BeamSearch(width: 3, maximumLength: 3, endToken: 0)
        let exact = bruteForce(search, table.logProbabilities)
        XCTAssertEqual(exact.tokens, [2, 0])
        XCTAssertEqual(exact.count, 1 + 3 + 9 * 4, "<end>, 3 × <end>, and all 9 × 4 of 3 tokens")
        let greedy = search.greedyDecode(initial: [Int](), step: table.step)
        XCTAssertEqual(greedy.tokens, [1, 0], "greedy is wrong here")
        XCTAssertEqual(greedy.logProbability, Foundation.log(0.5) + Foundation.log(0.3), accuracy: 1e-15)
        XCTAssertTrue(greedy.isFinished)
        let beam = search.search(initial: [Int](), step: table.step)
        XCTAssertEqual(beam.first?.tokens, exact.tokens)
        XCTAssertEqual(beam.first!.score, exact.score, accuracy: 1e-15)
        XCTAssertEqual(beam.first!.logProbability, Foundation.log(0.45) + Foundation.log(0.9), accuracy: 1e-15)
        XCTAssertEqual(beam.first!.score, beam.first!.logProbability / Foundation.pow(2, 0.7), accuracy: 1e-15, "(1/T_y^α) Σ log P")
        // Step 2 keeps "b <end>", "a <end>" (finished) and "a a" (ties to the earlier token); "a a <end>" fills the beam.
        XCTAssertEqual(beam.map(\.tokens), [[2, 0], [1, 0], [1, 1, 0]])
        XCTAssertEqual(BeamSearch(width: 1, maximumLength: 3, endToken: 0).search(initial: [Int](), step: table.step), [greedy])
    }

    /// C5W3-06: beam search is not exact. "d <end>" (0.1 · 0.99) beats every
    /// other sequence (at most 0.3 · 0.2), but "d" is only the 4th first token,
    /// so B = 3 never keeps it; B ≥ 4 does.
    func testBeamWidthThreeMissesWhatAWiderBeamFinds() {
        let table = TokenTable(rows: [[]: [0.01, 0.3, 0.3, 0.29, 0.1], [4]: [0.99, 0.0025, 0.0025, 0.0025, 0.0025]],
                               fallback: [0.2, 0.2, 0.2, 0.2, 0.2])
        let exact = bruteForce(BeamSearch(maximumLength: 3, endToken: 0), table.logProbabilities)
        XCTAssertEqual(exact.tokens, [4, 0])
        for width in [1, 2, 3] {
            let best = BeamSearch(width: width, maximumLength: 3, endToken: 0).search(initial: [Int](), step: table.step)[0]
            XCTAssertEqual(best.tokens, [1, 0], "B = \(width)")
            XCTAssertLessThan(best.score, exact.score - 0.1)
        }
        for width in [4, 5, 100] {
            let best = BeamSearch(width: width, maximumLength: 3, endToken: 0).search(initial: [Int](), step: table.step)[0]
            XCTAssertEqual(best.tokens, exact.tokens, "B = \(width)")
            XCTAssertEqual(best.score, exact.score, accuracy: 1e-15)
        }
    }

    /// C5W3-05: "a <end>" has P = 0.98 · 0.5 = 0.49, "a b <end>" 0.98 · 0.45 · 0.95 ≈ 0.419.
    /// Without normalization (α = 0) the shorter wins (log 0.49 > log 0.419);
    /// divided by T_y (α = 1) the longer does (−0.290 > −0.357), and at the notes' α = 0.7 too.
    func testLengthNormalizationChangesTheWinner() {
        let table = TokenTable(rows: [[]: [0.01, 0.98, 0.01], [1]: [0.5, 0.05, 0.45], [1, 2]: [0.95, 0.025, 0.025]],
                               fallback: [1.0 / 3, 1.0 / 3, 1.0 / 3])
        for (alpha, winner) in [(0.0, [1, 0]), (1.0, [1, 2, 0]), (0.7, [1, 2, 0])] {
            let search = BeamSearch(width: 3, maximumLength: 4, lengthNormalization: alpha, endToken: 0)
            XCTAssertEqual(bruteForce(search, table.logProbabilities).tokens, winner, "α = \(alpha)")
            let result = search.search(initial: [Int](), step: table.step)
            XCTAssertEqual(result.first?.tokens, winner, "α = \(alpha)")
            XCTAssertEqual(Set(result.map(\.tokens)), [[0], [1, 0], [1, 2, 0]], "α only reorders the same finished hypotheses")
        }
        let short = BeamSearch(width: 3, maximumLength: 4, lengthNormalization: 0, endToken: 0).search(initial: [Int](), step: table.step)
        XCTAssertEqual(short[0].score, Foundation.log(0.98) + Foundation.log(0.5), accuracy: 1e-15, "α = 0 scores Σ log P")
    }

    /// B = 1 is greedy search, and a beam wider than the number of sequences is
    /// exhaustive, on seeded random tables; every hypothesis's log P equals
    /// the teacher-forced sum, and the results are ranked and at most B.
    func testBeamSearchAgainstGreedyAndBruteForceOnRandomTables() {
        for seed in UInt64(0)..<12 {
            let table = TokenTable.random(seed: seed, vocabulary: 4)
            let step = { (states: [Int], prefixes: [[Int]]) in prefixes.map { (logProbabilities: table($0), state: $0.count) } }
            for alpha in [0.0, 0.7, 1.0] {
                let search = { (width: Int) in BeamSearch(width: width, maximumLength: 4, lengthNormalization: alpha, endToken: 0) }
                let exact = bruteForce(search(1), table)
                XCTAssertEqual(exact.count, 1 + 3 + 9 + 27 * 4)
                let greedy = search(1).greedyDecode(initial: 0, step: step)
                XCTAssertEqual(search(1).search(initial: 0, step: step), [greedy], "seed \(seed), α = \(alpha)")
                let all = search(exact.count).search(initial: 0, step: step)
                XCTAssertEqual(all.count, exact.count, "a beam as wide as every sequence keeps them all")
                XCTAssertEqual(all[0].tokens, exact.tokens, "seed \(seed), α = \(alpha)")
                XCTAssertEqual(all[0].score, exact.score, accuracy: 1e-12)
                for width in [2, 3] {
                    let result = search(width).search(initial: 0, step: step)
                    XCTAssertLessThanOrEqual(result.count, width)
                    XCTAssertLessThanOrEqual(result[0].score, exact.score + 1e-12)
                    XCTAssertEqual(result.map(\.score), result.map(\.score).sorted(by: >), "ranked by score")
                    for h in result {
                        XCTAssertEqual(h.isFinished, h.tokens.last == 0)
                        XCTAssertTrue(h.isFinished || h.tokens.count == 4, "unfinished only at the maximum length")
                        XCTAssertEqual(h.logProbability, BeamSearch.logProbability(of: h.tokens, initial: 0, step: step), accuracy: 1e-12)
                        XCTAssertEqual(h.score, search(width).normalizedScore(logProbability: h.logProbability, length: h.tokens.count))
                    }
                }
            }
        }
    }

    /// Ties go to the lower token, and at the maximum length unfinished hypotheses compete.
    func testTiesAndUnfinishedHypotheses() {
        let uniform = TokenTable(rows: [:], fallback: [0.25, 0.25, 0.25, 0.25])
        let ties = BeamSearch(width: 2, maximumLength: 3, lengthNormalization: 0, endToken: 0).search(initial: [Int](), step: uniform.step)
        XCTAssertEqual(ties.map(\.tokens), [[0], [1, 0]])
        let endless = TokenTable(rows: [:], fallback: [0.001, 0.5, 0.499])
        let result = BeamSearch(width: 2, maximumLength: 2, endToken: 0).search(initial: [Int](), step: endless.step)
        XCTAssertEqual(result.map(\.tokens), [[1, 1], [1, 2]])
        XCTAssertEqual(result.map(\.isFinished), [false, false])
        XCTAssertFalse(BeamSearch(maximumLength: 2, endToken: 0).greedyDecode(initial: [Int](), step: endless.step).isFinished)
    }

    // MARK: Error attribution (C5W3-07)

    func testBeamSearchErrorAttribution() {
        // The notes' first row: P(y*|x) = 2·10⁻¹⁰ > P(ŷ|x) = 1·10⁻¹⁰, so the beam search is at fault.
        let fault = BeamSearchErrorAnalysis.fault(human: Foundation.log(2e-10), algorithm: Foundation.log(1e-10))
        XCTAssertEqual(fault, .beamSearch)
        XCTAssertEqual(fault.rawValue, "B")
        XCTAssertEqual(BeamSearchErrorAnalysis.fault(human: Foundation.log(1e-10), algorithm: Foundation.log(2e-10)), .model)
        XCTAssertEqual(BeamSearchErrorAnalysis.fault(human: -3, algorithm: -3), .model, "P(y*|x) ≤ P(ŷ|x): the model")
        let rows: [(human: Double, algorithm: Double)] = [(2e-10, 1e-10), (1e-12, 3e-11), (5e-9, 5e-9), (1e-10, 4e-10), (3e-10, 1e-11)]
        var tally = BeamSearchErrorAnalysis(rows.map { (Foundation.log($0.human), Foundation.log($0.algorithm)) })
        XCTAssertEqual(tally.faults.map(\.rawValue).joined(), "BRRRB")
        XCTAssertEqual(tally.beamSearchFraction, 0.4, accuracy: 1e-15)
        XCTAssertEqual(tally.modelFraction, 0.6, accuracy: 1e-15)
        XCTAssertEqual(tally.record(human: -1, algorithm: -2), .beamSearch)
        XCTAssertEqual(tally.beamSearchFraction, 0.5, accuracy: 1e-15)
        XCTAssertEqual(BeamSearchErrorAnalysis().beamSearchFraction, 0)

        // With the model's own probabilities: greedy's "a <end>" (0.15) against a human "b <end>" (0.405) is
        // the search's fault, against a human "c <end>" (0.04 · 0.25 = 0.01) the model's.
        let table = greedyMisses
        let algorithm = BeamSearch(width: 1, maximumLength: 3, endToken: 0).search(initial: [Int](), step: table.step)[0]
        let good = BeamSearch.logProbability(of: [2, 0], initial: [Int](), step: table.step)
        XCTAssertEqual(good, Foundation.log(0.45) + Foundation.log(0.9), accuracy: 1e-15)
        XCTAssertEqual(BeamSearchErrorAnalysis.fault(human: good, algorithm: algorithm.logProbability), .beamSearch)
        let poor = BeamSearch.logProbability(of: [3, 0], initial: [Int](), step: table.step)
        XCTAssertEqual(poor, Foundation.log(0.04) + Foundation.log(0.25), accuracy: 1e-15)
        XCTAssertEqual(BeamSearchErrorAnalysis.fault(human: poor, algorithm: algorithm.logProbability), .model)
    }

    // MARK: BLEU (C5W3-08)

    func testBLEUMatchesNLTK() {
        for c in BLEUReference.cases {
            XCTAssertEqual(c.candidates.map { BLEU.tokenize($0) }, c.candidateTokens, c.name)
            XCTAssertEqual(c.references.map { $0.map { BLEU.tokenize($0) } }, c.referenceTokens, c.name)
            let plain = BLEU().corpusScore(c.candidateTokens, references: c.referenceTokens)
            XCTAssertEqual(plain.matches, c.matches, c.name)
            XCTAssertEqual(plain.totals, c.totals, c.name)
            XCTAssertEqual(plain.candidateLength, c.candidateLength, c.name)
            XCTAssertEqual(plain.referenceLength, c.referenceLength, c.name)
            XCTAssertEqual(plain.brevityPenalty, c.brevityPenalty, accuracy: 1e-12, c.name)
            XCTAssertEqual(plain.bleu, c.bleu, accuracy: 1e-12, c.name)
            if c.matches.contains(0) { XCTAssertEqual(plain.bleu, 0, "\(c.name): a zero p_n gives exactly 0 (nltk: ~1e-78)") }
            let smoothed = BLEU(smoothing: .method1).corpusScore(c.candidateTokens, references: c.referenceTokens)
            XCTAssertEqual(smoothed.bleu, c.bleuMethod1, accuracy: 1e-12, c.name)
            XCTAssertEqual(smoothed.matches, c.matches, "smoothing leaves the counts: \(c.name)")
            if c.candidates.count == 1 {
                XCTAssertEqual(BLEU().score(c.candidateTokens[0], references: c.referenceTokens[0]), plain, c.name)
            }
        }
    }

    func testBLEUWorkedExamplesFromTheNotes() {
        let references = ["The cat is on the mat.", "There is a cat on the mat."]
        func precisions(_ candidate: String, keepsPunctuation: Bool) -> [Double] {
            BLEU().score(BLEU.tokenize(candidate, keepsPunctuation: keepsPunctuation),
                         references: references.map { BLEU.tokenize($0, keepsPunctuation: keepsPunctuation) }).precisions
        }
        // Papineni's "the" ×7: each reference has "the" at most twice, so Count_clip = 2 and p₁ = 2/7.
        XCTAssertEqual(precisions("the the the the the the the", keepsPunctuation: false)[0], 2.0 / 7, accuracy: 1e-15)
        // The notes print six "the"s and a period: 2/6 without punctuation; the "." token would match a reference's "." (3/7).
        XCTAssertEqual(precisions("the the the the the the.", keepsPunctuation: false)[0], 2.0 / 6, accuracy: 1e-15)
        XCTAssertEqual(precisions("the the the the the the.", keepsPunctuation: true)[0], 3.0 / 7, accuracy: 1e-15)
        // "The cat the cat on the mat.": the notes' p₁ = 5/7 and p₂ = 4/6 count words only (the period removed);
        // with "." as a token (matching the references' ".") they are 6/8 and 5/7.
        let words = precisions("The cat the cat on the mat.", keepsPunctuation: false)
        XCTAssertEqual(words[0], 5.0 / 7, accuracy: 1e-15)
        XCTAssertEqual(words[1], 4.0 / 6, accuracy: 1e-15)
        let withPeriod = precisions("The cat the cat on the mat.", keepsPunctuation: true)
        XCTAssertEqual(withPeriod[0], 6.0 / 8, accuracy: 1e-15)
        XCTAssertEqual(withPeriod[1], 5.0 / 7, accuracy: 1e-15)
        // The bigram table: "the cat" 2 → 1, "cat the" 1 → 0, "cat on", "on the", "the mat" 1 → 1.
        let candidate = BLEU.tokenize("The cat the cat on the mat", keepsPunctuation: false)
        let refs = references.map { BLEU.tokenize($0, keepsPunctuation: false) }
        XCTAssertTrue(BLEU.modifiedPrecision(["the", "cat", "the", "cat"], references: refs, order: 2) == (1, 3), "the cat ×2 → 1, cat the → 0")
        XCTAssertTrue(BLEU.modifiedPrecision(candidate, references: refs, order: 2) == (4, 6))
        // "P₁, P₂ = 1.0" when the output is a reference; BLEU-2 is the geometric mean √(p₁p₂) (BP = 1, c = r = 7).
        let exact = BLEU().score(refs[1], references: refs)
        XCTAssertEqual(exact.precisions, [1, 1, 1, 1])
        XCTAssertEqual(exact.bleu, 1, accuracy: 1e-15)
        XCTAssertEqual(BLEU(maximumOrder: 2).score(candidate, references: refs).bleu, (5.0 / 7 * 4.0 / 6).squareRoot(), accuracy: 1e-15)
    }

    func testBrevityPenaltyPunishesShortOutput() {
        // Papineni: BP = exp(1 − r/c) for c ≤ r; the notes' printed exp(1 − c/r) would give exp(1/3) > 1 here.
        XCTAssertEqual(BLEU.brevityPenalty(candidateLength: 4, referenceLength: 6), Foundation.exp(-0.5), accuracy: 1e-15)
        XCTAssertLessThan(BLEU.brevityPenalty(candidateLength: 4, referenceLength: 6), 1)
        XCTAssertEqual(BLEU.brevityPenalty(candidateLength: 6, referenceLength: 6), 1)
        XCTAssertEqual(BLEU.brevityPenalty(candidateLength: 9, referenceLength: 6), 1)
        XCTAssertEqual(BLEU.brevityPenalty(candidateLength: 0, referenceLength: 6), 0)
        let refs = [["a", "b", "c", "d"], ["a", "b", "c", "d", "e", "f"], ["a"]]
        XCTAssertEqual(BLEU.closestReferenceLength(5, references: refs), 4, "a tie goes to the shorter reference")
        XCTAssertEqual(BLEU.closestReferenceLength(6, references: refs), 6)
        XCTAssertEqual(BLEU.closestReferenceLength(2, references: refs), 1)
        XCTAssertEqual(BLEU().score([], references: refs).bleu, 0)
    }

    func testTokenizer() {
        XCTAssertEqual(BLEU.tokenize("  Well, the  cat... sat!\n3.5 \"mats\""),
                       ["well", ",", "the", "cat", ".", ".", ".", "sat", "!", "3.5", "\"mats", "\""])
        XCTAssertEqual(BLEU.tokenize("Well, the cat... sat!", keepsPunctuation: false), ["well", "the", "cat", "sat"])
        XCTAssertEqual(BLEU.tokenize(" \n "), [])
    }
}

/// nltk's values for `testBLEUMatchesNLTK`: the output of `Reference/bleu.py`
/// (nltk's `sentence_bleu` for one candidate, `corpus_bleu` for several,
/// BLEU-4 unsmoothed and with `SmoothingFunction().method1`), pasted verbatim.
private enum BLEUReference {
    struct Case {
        var name: String
        var candidates: [String]
        var references: [[String]]
        var candidateTokens: [[String]]
        var referenceTokens: [[[String]]]
        var matches: [Int], totals: [Int]
        var candidateLength: Int, referenceLength: Int
        var brevityPenalty: Double, bleu: Double, bleuMethod1: Double
    }

    // Generated by Tests/NeuralNetworksTests/Reference/bleu.py with nltk 3.10.4 (Python 3.11.7).
    static let cases: [Case] = [
        Case(name: "papineni the x7",
             candidates: ["the the the the the the the"],
             references: [["The cat is on the mat.", "There is a cat on the mat."]],
             candidateTokens: [["the", "the", "the", "the", "the", "the", "the"]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat", "."], ["there", "is", "a", "cat", "on", "the", "mat", "."]]],
             matches: [2, 0, 0, 0], totals: [7, 6, 5, 4], candidateLength: 7, referenceLength: 7,
             brevityPenalty: 1.0, bleu: 1.331960397810445e-231, bleuMethod1: 0.039281465090051315),
        Case(name: "notes bigram example",
             candidates: ["The cat the cat on the mat."],
             references: [["The cat is on the mat.", "There is a cat on the mat."]],
             candidateTokens: [["the", "cat", "the", "cat", "on", "the", "mat", "."]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat", "."], ["there", "is", "a", "cat", "on", "the", "mat", "."]]],
             matches: [6, 5, 3, 2], totals: [8, 7, 6, 5], candidateLength: 8, referenceLength: 8,
             brevityPenalty: 1.0, bleu: 0.5721248424548514, bleuMethod1: 0.5721248424548514),
        Case(name: "notes example without punctuation",
             candidates: ["The cat the cat on the mat"],
             references: [["The cat is on the mat", "There is a cat on the mat"]],
             candidateTokens: [["the", "cat", "the", "cat", "on", "the", "mat"]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat"], ["there", "is", "a", "cat", "on", "the", "mat"]]],
             matches: [5, 4, 2, 1], totals: [7, 6, 5, 4], candidateLength: 7, referenceLength: 7,
             brevityPenalty: 1.0, bleu: 0.4671379777282001, bleuMethod1: 0.4671379777282001),
        Case(name: "nltk three references",
             candidates: ["It is a guide to action which ensures that the military always obeys the commands of the party."],
             references: [["It is a guide to action that ensures that the military will forever heed Party commands.", "It is the guiding principle which guarantees the military forces always being under the command of the Party.", "It is the practical guide for the army always to heed the directions of the party."]],
             candidateTokens: [["it", "is", "a", "guide", "to", "action", "which", "ensures", "that", "the", "military", "always", "obeys", "the", "commands", "of", "the", "party", "."]],
             referenceTokens: [[["it", "is", "a", "guide", "to", "action", "that", "ensures", "that", "the", "military", "will", "forever", "heed", "party", "commands", "."], ["it", "is", "the", "guiding", "principle", "which", "guarantees", "the", "military", "forces", "always", "being", "under", "the", "command", "of", "the", "party", "."], ["it", "is", "the", "practical", "guide", "for", "the", "army", "always", "to", "heed", "the", "directions", "of", "the", "party", "."]]],
             matches: [18, 11, 8, 5], totals: [19, 18, 17, 16], candidateLength: 19, referenceLength: 19,
             brevityPenalty: 1.0, bleu: 0.5401725898595141, bleuMethod1: 0.5401725898595141),
        Case(name: "shorter than every reference",
             candidates: ["the cat is on"],
             references: [["the cat is on the mat", "there is a cat on the mat"]],
             candidateTokens: [["the", "cat", "is", "on"]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat"], ["there", "is", "a", "cat", "on", "the", "mat"]]],
             matches: [4, 3, 2, 1], totals: [4, 3, 2, 1], candidateLength: 4, referenceLength: 6,
             brevityPenalty: 0.6065306597126334, bleu: 0.6065306597126334, bleuMethod1: 0.6065306597126334),
        Case(name: "zero 4-gram count",
             candidates: ["the cat sat on the mat"],
             references: [["the cat is on the mat"]],
             candidateTokens: [["the", "cat", "sat", "on", "the", "mat"]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat"]]],
             matches: [5, 3, 1, 0], totals: [6, 5, 4, 3], candidateLength: 6, referenceLength: 6,
             brevityPenalty: 1.0, bleu: 7.262123179505913e-78, bleuMethod1: 0.25406637407730737),
        Case(name: "closest-length tie takes the shorter",
             candidates: ["the cat sat on the"],
             references: [["the cat sat on the mat", "the cat sat on"]],
             candidateTokens: [["the", "cat", "sat", "on", "the"]],
             referenceTokens: [[["the", "cat", "sat", "on", "the", "mat"], ["the", "cat", "sat", "on"]]],
             matches: [5, 4, 3, 2], totals: [5, 4, 3, 2], candidateLength: 5, referenceLength: 4,
             brevityPenalty: 1.0, bleu: 1.0, bleuMethod1: 1.0),
        Case(name: "longer than every reference",
             candidates: ["well, the cat is sitting on the red mat today."],
             references: [["The cat is on the mat.", "There is a cat on the mat."]],
             candidateTokens: [["well", ",", "the", "cat", "is", "sitting", "on", "the", "red", "mat", "today", "."]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat", "."], ["there", "is", "a", "cat", "on", "the", "mat", "."]]],
             matches: [7, 3, 1, 0], totals: [12, 11, 10, 9], candidateLength: 12, referenceLength: 8,
             brevityPenalty: 1.0, bleu: 4.337579510280189e-78, bleuMethod1: 0.11530568323789493),
        Case(name: "fewer tokens than n",
             candidates: ["the cat"],
             references: [["the cat is on the mat"]],
             candidateTokens: [["the", "cat"]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat"]]],
             matches: [2, 1, 0, 0], totals: [2, 1, 1, 1], candidateLength: 2, referenceLength: 6,
             brevityPenalty: 0.1353352832366127, bleu: 2.018753310664318e-155, bleuMethod1: 0.04279677428117006),
        Case(name: "corpus of three sentences",
             candidates: ["the cat is on the mat.", "It is a guide to action which ensures that the military always obeys the commands of the party.", "he read the book because he was interested in world history."],
             references: [["The cat is on the mat.", "There is a cat on the mat."], ["It is a guide to action that ensures that the military will forever heed Party commands.", "It is the guiding principle which guarantees the military forces always being under the command of the Party.", "It is the practical guide for the army always to heed the directions of the party."], ["he was interested in world history because he read the book."]],
             candidateTokens: [["the", "cat", "is", "on", "the", "mat", "."], ["it", "is", "a", "guide", "to", "action", "which", "ensures", "that", "the", "military", "always", "obeys", "the", "commands", "of", "the", "party", "."], ["he", "read", "the", "book", "because", "he", "was", "interested", "in", "world", "history", "."]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat", "."], ["there", "is", "a", "cat", "on", "the", "mat", "."]], [["it", "is", "a", "guide", "to", "action", "that", "ensures", "that", "the", "military", "will", "forever", "heed", "party", "commands", "."], ["it", "is", "the", "guiding", "principle", "which", "guarantees", "the", "military", "forces", "always", "being", "under", "the", "command", "of", "the", "party", "."], ["it", "is", "the", "practical", "guide", "for", "the", "army", "always", "to", "heed", "the", "directions", "of", "the", "party", "."]], [["he", "was", "interested", "in", "world", "history", "because", "he", "read", "the", "book", "."]]],
             matches: [37, 26, 19, 13], totals: [38, 35, 32, 29], candidateLength: 38, referenceLength: 38,
             brevityPenalty: 1.0, bleu: 0.6623966113252748, bleuMethod1: 0.6623966113252748),
        Case(name: "corpus with no 4-gram match and a 2-token sentence",
             candidates: ["the cat sat on the mat", "the the the the the the the", "the cat"],
             references: [["the cat is on the mat"], ["The cat is on the mat.", "There is a cat on the mat."], ["the cat is on the mat"]],
             candidateTokens: [["the", "cat", "sat", "on", "the", "mat"], ["the", "the", "the", "the", "the", "the", "the"], ["the", "cat"]],
             referenceTokens: [[["the", "cat", "is", "on", "the", "mat"]], [["the", "cat", "is", "on", "the", "mat", "."], ["there", "is", "a", "cat", "on", "the", "mat", "."]], [["the", "cat", "is", "on", "the", "mat"]]],
             matches: [9, 4, 1, 0], totals: [15, 12, 10, 8], candidateLength: 15, referenceLength: 19,
             brevityPenalty: 0.7659283383646487, bleu: 3.517885864318488e-78, bleuMethod1: 0.0963103897401212),
    ]
}
