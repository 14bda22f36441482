import Foundation

// Connectionist temporal classification (C5W3-11): a speech model emits one
// character (or a blank `_`) per input step, and the labelling is what is left
// after collapsing repeated characters not separated by a blank and dropping
// the blanks: `ttt_h_eee___ ___qqq` → `the q`. The loss is −ln of the total
// probability of all alignments that collapse to the target; the decoders find
// a likely labelling from the per-step class scores.

/// How ``ctcLoss(logits:targets:inputLengths:blank:reduction:zeroInfinity:)``
/// combines the per-example losses `ℓ_b = −ln p(l_b | x_b)` of a batch of `m`.
public enum CTCReduction: Sendable, Equatable {
    /// `Σ_b ℓ_b`.
    case sum
    /// `(1/m) Σ_b ℓ_b`.
    case mean
    /// `(1/m) Σ_b ℓ_b / max(S_b, 1)` with `S_b` the target length — PyTorch's
    /// `reduction="mean"` (its default) for `ctc_loss`.
    case meanOverTargetLengths
}

/// The CTC loss of a batch, as one fused node that applies the log-softmax
/// over the classes itself.
///
/// - `logits`: `(C, m, T)` = (classes, batch, time), the library's sequence
///   layout `(n_x, m, T_x)`: element `(k, b, t)` is the unnormalized score of
///   class `k` for example `b` at step `t`.
/// - `targets`: `m` label sequences `l_b` (any lengths, labels in `0..<C`,
///   never `blank`).
/// - `inputLengths`: the steps each example uses (`0...T`, default all `T`);
///   later steps get zero gradient.
///
/// With `y_{k,t} = softmax(z_{·,t})_k` and the extended labels
/// `l' = (blank, l₁, blank, …, l_S, blank)` of length `L = 2S + 1`, the
/// forward and backward variables are computed in log space,
/// `α_t(s) = y_{l'_s,t} (α_{t−1}(s) + α_{t−1}(s−1) + [l'_s ≠ blank, l'_s ≠ l'_{s−2}] α_{t−1}(s−2))`
/// and `β` symmetrically from the end (both include step t's `y`), and
/// `p(l|x) = α_{T−1}(L−1) + α_{T−1}(L−2)`. The gradient of `ℓ = −ln p` is
/// `∂ℓ/∂z_{k,t} = y_{k,t} − (1/p) Σ_{s: l'_s = k} α_t(s) β_t(s) / y_{k,t}`
/// (softmax minus the posterior occupancy of class `k` at step `t`), scaled
/// by the reduction's weight of the example.
///
/// An example whose target cannot fit its input length (it needs `S` steps
/// plus one per pair of equal adjacent labels) has `p = 0`: its loss is `+∞`
/// and its logit gradient NaN, as PyTorch's; with `zeroInfinity` it adds 0 to
/// the loss and gets zero gradient (PyTorch's `zero_infinity=True`).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func ctcLoss<S: TensorScalar>(
    logits: Variable<S>, targets: [[Int]], inputLengths: [Int]? = nil, blank: Int = 0,
    reduction: CTCReduction = .meanOverTargetLengths, zeroInfinity: Bool = false
) -> Variable<S> {
    func fail(_ message: String) -> Never { shapeFailure(ShapeError(operation: "ctcLoss", message: message)) }
    let shape = logits.value.shape
    if shape.count != 3 || shape[0] < 1 || shape[1] < 1 { fail("logits \(format(shape)) must be (C, m, T) with C, m ≥ 1") }
    let (C, m, T) = (shape[0], shape[1], shape[2])
    if blank < 0 || blank >= C { fail("blank \(blank) outside the 0..<\(C) classes") }
    if targets.count != m { fail("\(targets.count) targets for a batch of \(m)") }
    for target in targets {
        if let bad = target.first(where: { $0 < 0 || $0 >= C || $0 == blank }) {
            fail("label \(bad) in target \(target) is outside 0..<\(C) or the blank \(blank)")
        }
    }
    let lengths = inputLengths ?? [Int](repeating: T, count: m)
    if lengths.count != m { fail("\(lengths.count) input lengths for a batch of \(m)") }
    if let bad = lengths.first(where: { $0 < 0 || $0 > T }) { fail("input length \(bad) outside 0...\(T)") }

    let problem = CTCProblem(classes: C, batch: m, steps: T, blank: blank, targets: targets, inputLengths: lengths)
    let recording = GradientTape.isRecording && logits.requiresGradient
    var nll = [Double](repeating: 0, count: m)
    var unit: Tensor<S>? = recording ? .zeros(shape) : nil   // ∂ℓ_b/∂z, example by example
    logits.value.withUnsafeBufferPointer { z in
        nll.withUnsafeMutableBufferPointer { nll in
            func run(_ gradient: UnsafeMutablePointer<S>?) {
                ComputePath.current.run(
                    loop: { CTCKernels.loop(problem, z.baseAddress!, nll.baseAddress!, gradient) },
                    vectorized: { CTCKernels.vectorized(problem, z.baseAddress!, nll.baseAddress!, gradient) })
            }
            if unit == nil { run(nil) } else { unit!.withUnsafeMutableBufferPointer { run($0.baseAddress!) } }
        }
    }
    // The weight of each example's loss in the reduction; 0 for a dropped infinite one.
    let weights = (0..<m).map { b -> Double in
        if zeroInfinity && nll[b] == .infinity { return 0 }
        switch reduction {
        case .sum: return 1
        case .mean: return 1 / Double(m)
        case .meanOverTargetLengths: return 1 / (Double(m) * Double(Swift.max(targets[b].count, 1)))
        }
    }
    let loss = (0..<m).reduce(0.0) { $0 + (weights[$1] == 0 ? 0 : weights[$1] * nll[$1]) }
    guard let unit else { return Variable(Tensor(S(loss))) }
    return Variable(Tensor(S(loss)), derivedFrom: [logits]) { g, needs in
        guard needs[0] else { return [nil] }
        var gradient = unit
        gradient.withUnsafeMutableBufferPointer { d in
            for b in 0..<m {
                let infinite = nll[b] == .infinity, scale = S(weights[b] * Double(g.scalars[0]))
                for k in 0..<C {
                    for t in 0..<lengths[b] {
                        let i = (k * m + b) * T + t
                        d[i] = infinite ? (zeroInfinity ? 0 : .nan) : d[i] * scale
                    }
                }
            }
        }
        return [gradient]
    }
}

// MARK: - Decoding

/// The labelling an alignment stands for: repeated labels not separated by
/// a blank collapse into one, then the blanks are dropped —
/// `ttt_h_eee___ ___qqq` → `the q` (C5W3-11), `a_a` → `aa`, `aa` → `a`.
public func ctcCollapse(_ path: [Int], blank: Int = 0) -> [Int] {
    var labels: [Int] = [], previous: Int? = nil
    for k in path {
        if k != previous && k != blank { labels.append(k) }
        previous = k
    }
    return labels
}

/// Best-path (greedy) decoding: the most likely class at each step, collapsed
/// by ``ctcCollapse(_:blank:)``.
///
/// - `scores`: `(C, m, T)` logits, probabilities or log-probabilities (the
///   argmax is the same); the first maximum wins ties.
/// - `inputLengths`: the steps of each example (default all `T`).
///
/// Returns `m` labellings. The most likely path need not collapse to the
/// most likely labelling; ``ctcBeamDecode(logProbabilities:width:blank:)``
/// searches further.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func ctcGreedyDecode<S: TensorScalar>(_ scores: Tensor<S>, inputLengths: [Int]? = nil, blank: Int = 0) -> [[Int]] {
    func fail(_ message: String) -> Never { shapeFailure(ShapeError(operation: "ctcGreedyDecode", message: message)) }
    if scores.rank != 3 || scores.shape[0] < 1 { fail("scores \(format(scores.shape)) must be (C, m, T) with C ≥ 1") }
    let (C, m, T) = (scores.shape[0], scores.shape[1], scores.shape[2])
    let lengths = inputLengths ?? [Int](repeating: T, count: m)
    if lengths.count != m || lengths.contains(where: { $0 < 0 || $0 > T }) { fail("input lengths \(lengths) for \(m) examples of 0...\(T) steps") }
    return scores.withUnsafeBufferPointer { x in
        (0..<m).map { b in
            let path = (0..<lengths[b]).map { t in
                (0..<C).reduce(0) { best, k in x[(k * m + b) * T + t] > x[(best * m + b) * T + t] ? k : best }
            }
            return ctcCollapse(path, blank: blank)
        }
    }
}

/// Prefix beam search (Hannun et al. 2014, without a language model) on one
/// example's log-probabilities `(C, T)` (a log-softmax over the classes).
///
/// Each prefix (a collapsed labelling) carries the probability of the
/// alignments of steps `0…t` that collapse to it, split into those ending in
/// a blank, `p_b`, and those ending in its last label, `p_nb`. A step with
/// class probabilities `y` gives, for each kept prefix `ℓ`:
/// - blank: `p_b(ℓ) += y_blank (p_b + p_nb)(ℓ)`;
/// - `ℓ`'s last label `c` again: `p_nb(ℓ) += y_c p_nb(ℓ)` (the repeat collapses)
///   and `p_nb(ℓc) += y_c p_b(ℓ)` (a blank separated them);
/// - any other label `c`: `p_nb(ℓc) += y_c (p_b + p_nb)(ℓ)`.
///
/// Contributions to the same prefix from different parents merge, and the
/// `width` most probable prefixes are kept (ties: the smaller labelling).
/// With a width at least the number of reachable prefixes the search is
/// exact. Returns the final beam, most probable first, each labelling with
/// `ln(p_b + p_nb)`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func ctcBeamDecode<S: TensorScalar>(
    logProbabilities: Tensor<S>, width: Int, blank: Int = 0
) -> [(labels: [Int], logProbability: S)] {
    func fail(_ message: String) -> Never { shapeFailure(ShapeError(operation: "ctcBeamDecode", message: message)) }
    if logProbabilities.rank != 2 || logProbabilities.shape[0] < 1 { fail("log-probabilities \(format(logProbabilities.shape)) must be (C, T) with C ≥ 1") }
    if width < 1 { fail("beam width \(width) must be at least 1") }
    let (C, T) = (logProbabilities.shape[0], logProbabilities.shape[1])
    if blank < 0 || blank >= C { fail("blank \(blank) outside the 0..<\(C) classes") }
    func add(_ a: Double, _ b: Double) -> Double {
        let top = Swift.max(a, b)
        return top == -.infinity ? top : top + log(exp(a - top) + exp(b - top))
    }
    var beams: [(labels: [Int], blank: Double, label: Double)] = [([], 0, -.infinity)]
    let y = logProbabilities.scalars.map(Double.init)
    for t in 0..<T {
        // Candidates in order of first appearance, so the sums run in the same order in every run.
        var next: [(labels: [Int], blank: Double, label: Double)] = [], index: [[Int]: Int] = [:]
        func contribute(_ labels: [Int], blank: Double = -.infinity, label: Double = -.infinity) {
            if let i = index[labels] {
                next[i].blank = add(next[i].blank, blank)
                next[i].label = add(next[i].label, label)
            } else {
                index[labels] = next.count
                next.append((labels, blank, label))
            }
        }
        for beam in beams {
            let both = add(beam.blank, beam.label)
            for c in 0..<C {
                let p = y[c * T + t]
                if c == blank {
                    contribute(beam.labels, blank: p + both)
                } else if c == beam.labels.last {
                    contribute(beam.labels, label: p + beam.label)
                    contribute(beam.labels + [c], label: p + beam.blank)
                } else {
                    contribute(beam.labels + [c], label: p + both)
                }
            }
        }
        let scored = next.map { ($0, add($0.blank, $0.label)) }.filter { $0.1 > -.infinity }
        beams = scored.sorted { $0.1 != $1.1 ? $0.1 > $1.1 : $0.0.labels.lexicographicallyPrecedes($1.0.labels) }
            .prefix(width).map(\.0)
    }
    return beams.map { ($0.labels, S(add($0.blank, $0.label))) }
}
