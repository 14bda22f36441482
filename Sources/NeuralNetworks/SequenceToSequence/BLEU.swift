import Foundation

/// BLEU, the bilingual evaluation understudy (C5W3-08; Papineni et al. 2002),
/// on tokenized text, computed as nltk's `sentence_bleu` and `corpus_bleu` do.
///
/// - Modified (clipped) n-gram precision for `n = 1 … N`:
///   `p_n = Σ_{n-gram ∈ ŷ} Count_clip(n-gram) / Σ_{n-gram ∈ ŷ} Count(n-gram)`, with
///   `Count_clip = min(count in the candidate, largest count in any single reference)`.
/// - Combined: `BLEU = BP · exp(Σ_n w_n log p_n)`, uniform `w_n = 1/N` (the notes
///   print `exp(¼ Σ p_n)`; the log is intended).
/// - Brevity penalty: `BP = 1` if `c > r`, else `exp(1 − r/c)` (0 when `c = 0`),
///   with `c` the candidate length and `r` the reference length closest to `c`
///   (a tie goes to the shorter reference). This is Papineni's and nltk's
///   penalty; the course notes print the exponent the other way round,
///   `exp(1 − c/r)`, which would be above 1 for short output and reward it.
///
/// The corpus form sums clipped counts and totals over all sentences before
/// dividing, and sums `c` and `r` over sentences. As in nltk, each sentence
/// adds at least 1 to every total (a candidate shorter than `n` gives
/// `p_n = 0/1`, not `0/0`), and BLEU is 0 when no unigram matches. A zero
/// `p_n` makes the unsmoothed BLEU 0 (nltk warns and returns about 1e-78,
/// `float_info.min^(1/N)` times the rest); ``Smoothing/epsilon(_:)``
/// is nltk's `method1`.
public struct BLEU: Sendable, Equatable {
    /// What to do with a zero clipped count.
    public enum Smoothing: Sendable, Equatable {
        /// A zero `p_n` makes BLEU 0.
        case none
        /// Chen and Cherry's (2014) method 1, nltk's `SmoothingFunction(epsilon).method1`:
        /// `p_n = ε / Σ Count(n-gram)` when `Σ Count_clip = 0`.
        case epsilon(Double)

        /// nltk's default `method1`, `ε = 0.1`.
        public static let method1 = Smoothing.epsilon(0.1)
    }

    /// A BLEU score and what it was computed from; index `n − 1` of the arrays is the n-grams.
    public struct Score: Sendable, Equatable {
        /// `BP · exp(Σ_n (1/N) log p_n)`, with `p_n` smoothed as asked.
        public let bleu: Double
        /// `Σ Count_clip` per n.
        public let matches: [Int]
        /// `Σ Count` per n (at least 1 per sentence).
        public let totals: [Int]
        public let brevityPenalty: Double
        /// `c`: candidate tokens (summed over a corpus).
        public let candidateLength: Int
        /// `r`: closest reference lengths (summed over a corpus).
        public let referenceLength: Int

        /// The unsmoothed modified precisions `p_n = matches / totals`.
        public var precisions: [Double] { zip(matches, totals).map { Double($0) / Double($1) } }
    }

    /// `N`, the longest n-grams counted (BLEU-4 by default).
    public var maximumOrder: Int
    public var smoothing: Smoothing

    public init(maximumOrder: Int = 4, smoothing: Smoothing = .none) {
        require(maximumOrder >= 1, "BLEU: maximumOrder \(maximumOrder) must be at least 1")
        if case .epsilon(let e) = smoothing { require(e > 0 && e.isFinite, "BLEU: smoothing epsilon \(e) must be positive") }
        (self.maximumOrder, self.smoothing) = (maximumOrder, smoothing)
    }

    /// Sentence BLEU of `candidate` against one or more `references`.
    public func score(_ candidate: [String], references: [[String]]) -> Score {
        corpusScore([candidate], references: [references])
    }

    /// Corpus BLEU: `references[i]` are the references of `candidates[i]`.
    public func corpusScore(_ candidates: [[String]], references: [[[String]]]) -> Score {
        require(candidates.count == references.count, "BLEU: \(candidates.count) candidates with \(references.count) reference sets")
        var matches = [Int](repeating: 0, count: maximumOrder), totals = matches
        var c = 0, r = 0
        for (candidate, refs) in zip(candidates, references) {
            require(!refs.isEmpty, "BLEU: a candidate needs at least one reference")
            for n in 1...maximumOrder {
                let (m, t) = Self.modifiedPrecision(candidate, references: refs, order: n)
                matches[n - 1] += m
                totals[n - 1] += Swift.max(1, t)
            }
            c += candidate.count
            r += Self.closestReferenceLength(candidate.count, references: refs)
        }
        let bp = Self.brevityPenalty(candidateLength: c, referenceLength: r)
        var logMean = 0.0
        for (m, t) in zip(matches, totals) {
            let numerator: Double
            switch (m, smoothing) {
            case (0, .epsilon(let e)) where matches[0] > 0: numerator = e
            case (0, _): numerator = 0
            default: numerator = Double(m)
            }
            logMean += Foundation.log(numerator / Double(t)) / Double(maximumOrder)
        }
        return Score(bleu: bp * Foundation.exp(logMean), matches: matches, totals: totals,
                     brevityPenalty: bp, candidateLength: c, referenceLength: r)
    }

    /// `(Σ Count_clip, Σ Count)` over the `n`-grams of `candidate`, clipped by
    /// the largest count of each n-gram in any single reference.
    public static func modifiedPrecision(_ candidate: [String], references: [[String]], order n: Int) -> (matches: Int, total: Int) {
        require(n >= 1, "BLEU.modifiedPrecision: order \(n) must be at least 1")
        let counts = ngramCounts(candidate, n)
        var largest: [[String]: Int] = [:]
        for reference in references {
            for (gram, count) in ngramCounts(reference, n) where counts[gram] != nil {
                largest[gram] = Swift.max(largest[gram] ?? 0, count)
            }
        }
        let matches = counts.reduce(0) { $0 + Swift.min($1.value, largest[$1.key] ?? 0) }
        return (matches, Swift.max(0, candidate.count - n + 1))
    }

    /// `r`: the reference length closest to `candidateLength`, the shorter on a tie.
    public static func closestReferenceLength(_ candidateLength: Int, references: [[String]]) -> Int {
        references.map(\.count).min { (abs($0 - candidateLength), $0) < (abs($1 - candidateLength), $1) } ?? 0
    }

    /// `BP = 1` if `c > r`, 0 if `c = 0`, else `exp(1 − r/c)` (Papineni; not the notes' `exp(1 − c/r)`).
    public static func brevityPenalty(candidateLength c: Int, referenceLength r: Int) -> Double {
        c > r ? 1 : c == 0 ? 0 : Foundation.exp(1 - Double(r) / Double(c))
    }

    /// Lowercases `text`, splits it on whitespace and splits trailing
    /// punctuation off each piece, one token per character (`"mat."` → `"mat"`,
    /// `"."`); without `keepsPunctuation` those tokens are dropped.
    public static func tokenize(_ text: String, keepsPunctuation: Bool = true) -> [String] {
        var tokens: [String] = []
        for piece in text.lowercased().split(whereSeparator: \.isWhitespace) {
            var word = Substring(piece), trailing: [String] = []
            while let last = word.last, last.isPunctuation {
                trailing.insert(String(last), at: 0)
                word = word.dropLast()
            }
            if !word.isEmpty { tokens.append(String(word)) }
            if keepsPunctuation { tokens += trailing }
        }
        return tokens
    }

    private static func ngramCounts(_ tokens: [String], _ n: Int) -> [[String]: Int] {
        var counts: [[String]: Int] = [:]
        if tokens.count >= n {
            for i in 0...(tokens.count - n) { counts[Array(tokens[i..<i + n]), default: 0] += 1 }
        }
        return counts
    }
}
