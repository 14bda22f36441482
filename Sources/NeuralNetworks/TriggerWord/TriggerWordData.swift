import Foundation
import Tensors

// Trigger-word detection (C5W3-12), on spectrograms the project generates
// instead of recorded speech: a background with a few "activate" words and a
// few other words pasted in, and per-step labels that turn on right after each
// "activate" ends. Everything is drawn from one seed; nothing is downloaded.

/// How input steps map to the model's output steps, and how many output steps
/// a trigger labels (the course: 5511 input steps, a Conv1D with `f = 15`,
/// `s = 4`, 1375 output steps, 50 ones after each "activate").
///
/// The model's valid, stride-`s` Conv1D gives `T_y = ⌊(T_x − f)/s⌋ + 1`;
/// output step `j` has read input steps `0…j·s + f − 1` (its window, and
/// through the unidirectional GRUs everything before it). A word ending at
/// input step `e` (inclusive) has been heard completely at output step
/// `e_y = max(0, ⌈(e − f + 1)/s⌉)`, and, as in the course's `insert_ones`, the
/// label is 1 at output steps `e_y + 1 … e_y + k` (those inside `0..<T_y`).
public struct TriggerWordGeometry: Sendable, Equatable {
    /// `T_x`.
    public var inputSteps: Int
    /// The Conv1D's filter size `f`.
    public var filterSize: Int
    /// The Conv1D's stride `s`.
    public var stride: Int
    /// `k`, the ones after each trigger.
    public var labelSteps: Int

    public init(inputSteps: Int = 200, filterSize: Int = 7, stride: Int = 2, labelSteps: Int = 6) {
        require(filterSize >= 1 && stride >= 1 && labelSteps >= 1 && inputSteps >= filterSize,
                "TriggerWordGeometry: T_x = \(inputSteps), f = \(filterSize), s = \(stride), k = \(labelSteps)")
        (self.inputSteps, self.filterSize, self.stride, self.labelSteps) = (inputSteps, filterSize, stride, labelSteps)
    }

    /// `T_y = ⌊(T_x − f)/s⌋ + 1`.
    public var outputSteps: Int { (inputSteps - filterSize) / stride + 1 }

    /// `e_y`: the first output step that has read input step `t`, `max(0, ⌈(t − f + 1)/s⌉)`.
    public func outputStep(hearing t: Int) -> Int {
        let n = t - filterSize + 1
        return n <= 0 ? 0 : (n + stride - 1) / stride
    }

    /// The output steps labelled 1 for a trigger ending at input step `end`: `e_y + 1 … e_y + k`, clipped to `0..<T_y`.
    public func labelRange(triggerEnd end: Int) -> Range<Int> {
        let first = outputStep(hearing: end) + 1
        return Swift.min(first, outputSteps)..<Swift.min(first + labelSteps, outputSteps)
    }
}

/// The kind of a word pasted into a clip.
public enum TriggerWordKind: Sendable, Hashable {
    /// The trigger ("activate").
    case trigger
    /// Negative word `i` (`0..<TriggerWordData.negativeWordCount`).
    case negative(Int)
}

/// One pasted word: input steps `start…end` (inclusive, as the course's segments).
public struct TriggerWordSegment: Sendable, Equatable {
    public var kind: TriggerWordKind
    public var start: Int
    public var length: Int
    public var end: Int { start + length - 1 }
}

/// Generated spectrogram clips for trigger-word detection, in the library's
/// sequence layout: `X` `(n_freq, m, T_x)`, `Y` `(1, m, T_y)`.
///
/// Each clip (all draws from one ``RandomGenerator``):
/// - Background: bin `f` has a level `b_f ~ U(0.1, 0.3)` (a "room tone"
///   spectrum) plus a slowly varying part, an AR(1) process per bin
///   `n⟨t⟩ = 0.9·n⟨t−1⟩ + 0.1·√(1 − 0.9²)·N(0, 1)` (standard deviation 0.1),
///   plus white noise `noise·N(0, 1)` (0.1 by default); negative values are clipped to 0.
/// - Words: `0…maxTriggers` triggers, then `0…maxNegatives` negative words, each
///   `wordLengths` steps long, put at uniformly drawn starts that overlap no
///   word already placed (up to 100 tries, then the word is left out, where the
///   course retries forever). A trigger is only put where its first label step
///   lies inside the output, so every trigger can be detected.
/// - A word adds `A·template(u, f)·(1 + 0.2·N(0, 1))` (clipped at 0) at bin
///   `f` and relative time `u = (t − start)/(length − 1)`, with the word's
///   amplitude `A` drawn uniformly from `amplitudes` (0.25…1). Templates are Gaussian ridges
///   `exp(−(f − c(u))²/(2·0.8²))` along a track `c(u)` between
///   `lo = 0.2·(n_freq − 1)` and `hi = 0.8·(n_freq − 1)`: the trigger rises,
///   `c = lo + (hi − lo)·u`; the negatives fall (`hi − (hi − lo)·u`), rise and
///   fall (`lo + (hi − lo)·sin(πu)`), hold two tones at `lo` and `hi`, or rise
///   to the middle only (`lo + (hi − lo)·u/2`: the trigger's start, slower). Every
///   template column is scaled to sum to 2 over the bins, so the words carry
///   the same energy and differ only in shape.
/// - Labels: see ``TriggerWordGeometry``.
public struct TriggerWordData<Scalar: TensorScalar> {
    /// The number of negative word templates.
    public static var negativeWordCount: Int { 4 }

    /// `(n_freq, m, T_x)`, energies ≥ 0.
    public let X: Tensor<Scalar>
    /// `(1, m, T_y)`, 1 at the `k` output steps after each trigger's end.
    public let Y: Tensor<Scalar>
    /// Each clip's words, by start.
    public let segments: [[TriggerWordSegment]]
    public let geometry: TriggerWordGeometry

    /// `count` clips of `frequencies` bins and `geometry.inputSteps` steps from `seed`.
    public init(count: Int, frequencies: Int = 16, geometry: TriggerWordGeometry = TriggerWordGeometry(),
                maxTriggers: Int = 3, maxNegatives: Int = 3, wordLengths: ClosedRange<Int> = 16...24,
                amplitudes: ClosedRange<Double> = 0.25...1, noise: Double = 0.1, seed: UInt64) {
        let (F, T, Ty) = (frequencies, geometry.inputSteps, geometry.outputSteps)
        require(count >= 0 && F >= 2 && maxTriggers >= 0 && maxNegatives >= 0 && wordLengths.lowerBound >= 2
                && wordLengths.upperBound <= T && amplitudes.lowerBound >= 0 && noise >= 0,
                "TriggerWordData: \(count) clips of \(F) bins × \(T) steps, words of \(wordLengths) steps")
        var g = RandomGenerator(seed: seed)
        var x = [Scalar](repeating: 0, count: F * count * T), y = [Scalar](repeating: 0, count: count * Ty)
        var segments: [[TriggerWordSegment]] = []
        let rho = 0.9, drive = 0.1 * (1 - 0.81).squareRoot()
        for i in 0..<count {
            var clip = [Double](repeating: 0, count: F * T)      // row-major (f, t)
            for f in 0..<F {
                let level = 0.1 + 0.2 * g.nextUniform()
                var slow = 0.1 * g.nextNormal()
                for t in 0..<T {
                    slow = rho * slow + drive * g.nextNormal()
                    clip[f * T + t] = level + slow + noise * g.nextNormal()
                }
            }
            var placed: [TriggerWordSegment] = []
            let kinds = Array(repeating: TriggerWordKind.trigger, count: g.nextIndex(below: maxTriggers + 1))
                + (0..<g.nextIndex(below: maxNegatives + 1)).map { _ in TriggerWordKind.negative(g.nextIndex(below: Self.negativeWordCount)) }
            for kind in kinds {
                let length = wordLengths.lowerBound + g.nextIndex(below: wordLengths.count)
                for _ in 0..<100 {
                    let word = TriggerWordSegment(kind: kind, start: g.nextIndex(below: T - length + 1), length: length)
                    let free = placed.allSatisfy { word.end < $0.start || word.start > $0.end }
                    let labelled = kind != .trigger || geometry.outputStep(hearing: word.end) + 1 < Ty
                    guard free && labelled else { continue }
                    placed.append(word)
                    let amplitude = amplitudes.lowerBound + (amplitudes.upperBound - amplitudes.lowerBound) * g.nextUniform()
                    for t in word.start...word.end {
                        let column = Self.template(kind, u: Double(t - word.start) / Double(length - 1), frequencies: F)
                        for f in 0..<F { clip[f * T + t] += Swift.max(0, amplitude * column[f] * (1 + 0.2 * g.nextNormal())) }
                    }
                    if kind == .trigger { for j in geometry.labelRange(triggerEnd: word.end) { y[i * Ty + j] = 1 } }
                    break
                }
            }
            segments.append(placed.sorted { $0.start < $1.start })
            for f in 0..<F { for t in 0..<T { x[(f * count + i) * T + t] = Scalar(Swift.max(0, clip[f * T + t])) } }
        }
        X = Tensor(shape: [F, count, T], scalars: x)
        Y = Tensor(shape: [1, count, Ty], scalars: y)
        self.segments = segments
        self.geometry = geometry
    }

    /// The number of clips `m`.
    public var count: Int { segments.count }

    /// Each clip's trigger ends, in input steps.
    public var triggerEnds: [[Int]] { segments.map { $0.filter { $0.kind == .trigger }.map(\.end) } }

    /// Each clip's trigger ends as output steps `e_y` (``TriggerWordGeometry/outputStep(hearing:)``).
    public var triggerOutputSteps: [[Int]] { triggerEnds.map { $0.map(geometry.outputStep(hearing:)) } }

    /// One column of a word's template at relative time `u ∈ [0, 1]`, summing to 2 over the `frequencies` bins.
    public static func template(_ kind: TriggerWordKind, u: Double, frequencies: Int) -> [Double] {
        let lo = 0.2 * Double(frequencies - 1), hi = 0.8 * Double(frequencies - 1)
        func ridge(_ c: Double) -> [Double] { (0..<frequencies).map { Foundation.exp(-(Double($0) - c) * (Double($0) - c) / (2 * 0.64)) } }
        let column: [Double]
        switch kind {
        case .trigger: column = ridge(lo + (hi - lo) * u)
        case .negative(0): column = ridge(hi - (hi - lo) * u)
        case .negative(1): column = ridge(lo + (hi - lo) * Foundation.sin(Double.pi * u))
        case .negative(2): column = zip(ridge(lo), ridge(hi)).map { $0 + $1 }
        case .negative(let n):
            require(n == 3, "TriggerWordData.template: negative word \(n) of \(negativeWordCount)")
            column = ridge(lo + (hi - lo) * u / 2)
        }
        let total = column.reduce(0, +)
        return column.map { 2 * $0 / total }
    }
}
