import Foundation

/// Beam search (C5W3-03 … 06) for `argmax_y P(y|x)` over a next-token model:
/// a caller's `step` gives, for a batch of live hypotheses (their token
/// prefixes and caller-defined states), `log P(y⟨t⟩ | x, y⟨<t⟩)` for every
/// token of the vocabulary and each hypothesis's next state.
///
/// Each step extends every live hypothesis by every token and keeps the
/// `B − (finished so far)` best extensions by `Σ_t log P(y⟨t⟩ | x, y⟨<t⟩)` (ties:
/// earlier hypothesis, then higher `log P` of the token, then lower token
/// index; impossible tokens, `log P = −∞`, are never kept). An extension by
/// ``endToken`` is finished and set aside. The search stops when `B`
/// hypotheses have finished, none is live, or they reached ``maximumLength``
/// tokens (the unfinished ones then compete too). The result is ranked by the
/// length-normalized score `(1/T_y^α) Σ_{t=1}^{T_y} log P(y⟨t⟩ | x, y⟨<t⟩)`, `T_y`
/// the tokens emitted including the end token (α = 1 full normalization, α = 0
/// none). `B = 1` is greedy search, ``greedyDecode(initial:step:)``. Beam search
/// is fast but not exact: it can miss the most probable `y` (C5W3-06).
public struct BeamSearch: Sendable, Equatable {
    /// The model: `step(states, prefixes)[i]` is `(log P(· | x, prefixes[i])` over
    /// the vocabulary, a new state`), where `states[i]` is the state the step
    /// returned for `prefixes[i]` without its last token (`initial` for the
    /// empty prefix), so an RNN decoder feeds `prefixes[i].last` to it.
    public typealias Step<State> = (_ states: [State], _ prefixes: [[Int]]) throws -> [(logProbabilities: [Double], state: State)]

    /// A decoded sequence.
    public struct Hypothesis: Sendable, Equatable {
        /// The tokens emitted, ending with the end token if ``isFinished``.
        public let tokens: [Int]
        /// `log P(y|x) = Σ_t log P(y⟨t⟩ | x, y⟨<t⟩)`.
        public let logProbability: Double
        /// `logProbability / T_y^α`.
        public let score: Double
        /// Whether the hypothesis emitted the end token (else it stopped at the maximum length).
        public let isFinished: Bool
    }

    /// `B`, the beam width.
    public var width: Int
    /// The most tokens a hypothesis may emit, end token included.
    public var maximumLength: Int
    /// `α` of the length normalization `1/T_y^α` (the notes' 0.7).
    public var lengthNormalization: Double
    public var endToken: Int

    public init(width: Int = 3, maximumLength: Int = 30, lengthNormalization: Double = 0.7, endToken: Int) {
        require(width >= 1 && maximumLength >= 1, "BeamSearch: width \(width) and maximumLength \(maximumLength) must be positive")
        require(lengthNormalization.isFinite && endToken >= 0, "BeamSearch: α \(lengthNormalization) must be finite and endToken \(endToken) an index")
        (self.width, self.maximumLength, self.lengthNormalization, self.endToken) = (width, maximumLength, lengthNormalization, endToken)
    }

    /// `logProbability / length^α`.
    public func normalizedScore(logProbability: Double, length: Int) -> Double {
        logProbability / Foundation.pow(Double(length), lengthNormalization)
    }

    /// The finished and (at the maximum length) unfinished hypotheses, at most
    /// ``width``, best ``Hypothesis/score`` first (ties: finished before unfinished, earlier first).
    public func search<State>(initial: State, step: Step<State>) rethrows -> [Hypothesis] {
        var live: [(tokens: [Int], logProbability: Double, state: State)] = [([], 0, initial)]
        var finished: [Hypothesis] = []
        while !live.isEmpty && finished.count < width && live[0].tokens.count < maximumLength {
            let rows = try checked(step(live.map(\.state), live.map(\.tokens)), count: live.count)
            var candidates: [(hypothesis: Int, token: Int, logProbability: Double, sum: Double)] = []
            for (i, row) in rows.enumerated() {
                for (token, lp) in row.logProbabilities.enumerated() where lp > -.infinity {
                    candidates.append((i, token, lp, live[i].logProbability + lp))
                }
            }
            candidates.sort {
                ($0.sum, -$0.hypothesis, $0.logProbability, -$0.token) > ($1.sum, -$1.hypothesis, $1.logProbability, -$1.token)
            }
            var next: [(tokens: [Int], logProbability: Double, state: State)] = []
            for c in candidates.prefix(width - finished.count) {
                let tokens = live[c.hypothesis].tokens + [c.token]
                if c.token == endToken {
                    finished.append(hypothesis(tokens, c.sum, isFinished: true))
                } else {
                    next.append((tokens, c.sum, rows[c.hypothesis].state))
                }
            }
            live = next
        }
        let all = finished + live.map { hypothesis($0.tokens, $0.logProbability, isFinished: false) }
        return all.enumerated().sorted { ($0.element.score, -$0.offset) > ($1.element.score, -$1.offset) }.map(\.element)
    }

    /// Greedy search (C5W3-03): the most probable next token (the lower index
    /// on a tie) at every step, until the end token or ``maximumLength``; the
    /// same as ``search(initial:step:)`` with `width` 1.
    public func greedyDecode<State>(initial: State, step: Step<State>) rethrows -> Hypothesis {
        var tokens: [Int] = [], logProbability = 0.0, state = initial
        while tokens.count < maximumLength && tokens.last != endToken {
            let row = try checked(step([state], [tokens]), count: 1)[0]
            var best = 0
            for (k, lp) in row.logProbabilities.enumerated() where lp > row.logProbabilities[best] { best = k }
            tokens.append(best)
            logProbability += row.logProbabilities[best]
            state = row.state
        }
        return hypothesis(tokens, logProbability, isFinished: tokens.last == endToken)
    }

    /// `log P(y|x) = Σ_t log P(y⟨t⟩ | x, y⟨<t⟩)` of the given `tokens`, fed to `step` one at a time (teacher forcing).
    public static func logProbability<State>(of tokens: [Int], initial: State, step: Step<State>) rethrows -> Double {
        var sum = 0.0, state = initial
        for (t, token) in tokens.enumerated() {
            let rows = try step([state], [Array(tokens[..<t])])
            require(rows.count == 1 && rows[0].logProbabilities.indices.contains(token),
                    "BeamSearch.logProbability: step gave \(rows.count) rows, or no entry for token \(token)")
            sum += rows[0].logProbabilities[token]
            state = rows[0].state
        }
        return sum
    }

    private func hypothesis(_ tokens: [Int], _ logProbability: Double, isFinished: Bool) -> Hypothesis {
        Hypothesis(tokens: tokens, logProbability: logProbability,
                   score: normalizedScore(logProbability: logProbability, length: tokens.count), isFinished: isFinished)
    }

    /// `rows` after checking there is one per hypothesis, each a distribution with some mass and no NaN over a vocabulary holding the end token.
    private func checked<Row>(_ rows: [(logProbabilities: [Double], state: Row)], count: Int) -> [(logProbabilities: [Double], state: Row)] {
        require(rows.count == count, "BeamSearch: step gave \(rows.count) rows for \(count) hypotheses")
        for row in rows {
            let p = row.logProbabilities
            require(p.count > endToken, "BeamSearch: \(p.count) log-probabilities do not reach the end token \(endToken)")
            require(!p.contains { $0.isNaN } && p.contains { $0 > -.infinity },
                    "BeamSearch: step's log-probabilities must have no NaN and some finite value")
        }
        return rows
    }
}

/// Error analysis on beam search (C5W3-07): for a dev-set example the
/// algorithm got wrong, compare `P(y*|x)` (the human translation) with
/// `P(ŷ|x)` (the algorithm's), computed with the same model, e.g. by
/// ``BeamSearch/logProbability(of:initial:step:)``. If `P(y*|x) > P(ŷ|x)` the
/// beam search is at fault ("B": the model prefers y* but the search did not
/// find it; try a larger B), otherwise the RNN model is ("R"). The tally gives
/// the fraction of errors due to each. With length normalization, pass the
/// normalized scores (``BeamSearch/normalizedScore(logProbability:length:)``),
/// the objective the search maximizes.
public struct BeamSearchErrorAnalysis: Sendable, Equatable {
    public enum Fault: String, Sendable, Equatable {
        case beamSearch = "B"
        case model = "R"
    }

    /// One fault per example, in order.
    public private(set) var faults: [Fault] = []

    /// The tally of `examples`, each `(log P(y*|x), log P(ŷ|x))`.
    public init(_ examples: [(human: Double, algorithm: Double)] = []) {
        for e in examples { record(human: e.human, algorithm: e.algorithm) }
    }

    /// "B" if `human > algorithm` (log-probabilities or scores of y* and ŷ), else "R".
    public static func fault(human: Double, algorithm: Double) -> Fault {
        require(!human.isNaN && !algorithm.isNaN, "BeamSearchErrorAnalysis: NaN log-probability")
        return human > algorithm ? .beamSearch : .model
    }

    /// Adds one example to the tally and returns its fault.
    @discardableResult
    public mutating func record(human: Double, algorithm: Double) -> Fault {
        let f = Self.fault(human: human, algorithm: algorithm)
        faults.append(f)
        return f
    }

    /// The fraction of errors due to beam search (0 with no examples).
    public var beamSearchFraction: Double { fraction(.beamSearch) }
    /// The fraction of errors due to the model (0 with no examples).
    public var modelFraction: Double { fraction(.model) }

    private func fraction(_ f: Fault) -> Double {
        faults.isEmpty ? 0 : Double(faults.count(where: { $0 == f })) / Double(faults.count)
    }
}
