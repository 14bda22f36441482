import Foundation
import Tensors

/// Draws negative words for word2vec (C5W2-08) from the unigram distribution
/// raised to a power: `P(w_i) = f(w_i)^{3/4} / Σ_j f(w_j)^{3/4}` — between
/// sampling by frequency (power 1: "the, of, and, …") and uniformly (power 0).
public struct NegativeSampler: Sendable {
    /// The cumulative distribution, `cumulative[i] = P(w ≤ i)`.
    public let cumulative: [Double]

    /// A sampler for words seen `counts[i]` times.
    public init(counts: [Int], power: Double = 0.75) {
        require(!counts.isEmpty && counts.allSatisfy { $0 >= 0 } && counts.contains { $0 > 0 },
                "NegativeSampler: counts must be non-negative with at least one positive")
        let weights = counts.map { $0 > 0 ? Foundation.pow(Double($0), power) : 0 }
        let total = weights.reduce(0, +)
        var running = 0.0
        cumulative = weights.map { running += $0 / total; return running }
    }

    /// The probability of drawing word `i`.
    public func probability(_ i: Int) -> Double { cumulative[i] - (i > 0 ? cumulative[i - 1] : 0) }

    /// `count` words drawn independently with `generator`.
    public func sample(_ count: Int, generator: inout RandomGenerator) -> [Int] {
        (0..<count).map { _ in
            let u = generator.nextUniform()
            var (low, high) = (0, cumulative.count - 1)
            while low < high {   // the first index whose cumulative probability exceeds u
                let mid = (low + high) / 2
                if cumulative[mid] > u { high = mid } else { low = mid + 1 }
            }
            return low
        }
    }
}

/// word2vec's skip-gram (C5W2-07, -08; Mikolov et al. 2013): a centre word's
/// embedding `e_c` (table ``centers``) predicts a context word `t` through the
/// context embeddings `θ_t` (table ``contexts``), both `(V, d)`.
public final class SkipGram<Scalar: TensorScalar> {
    /// `E`: the embeddings kept after training.
    public let centers: Embedding<Scalar>
    /// `θ`: the output ("context") vectors.
    public let contexts: Embedding<Scalar>

    /// Centre vectors `N(0, 1)/√d`, context vectors zero (as word2vec's C code starts them).
    public init(vocabulary: Int, dimensions: Int, generator: inout RandomGenerator) {
        centers = Embedding(vocabulary: vocabulary, dimensions: dimensions, scale: 1 / Double(dimensions).squareRoot(), generator: &generator)
        contexts = Embedding(table: .zeros([vocabulary, dimensions]))
    }

    public var parameters: [Parameter<Scalar>] { [centers.E, contexts.E] }

    /// The full-softmax cost (C5W2-07): `p(t|c) = e^{θ_tᵀe_c} / Σ_j e^{θ_jᵀe_c}`,
    /// `J = −(1/B) Σ_i log p(t_i|c_i)` over the `B` (centre, context) pairs —
    /// a `V`-way softmax per pair, the cost negative sampling avoids. The
    /// context table takes a dense gradient here.
    public func softmaxCost(centers c: [Int], contexts t: [Int]) -> Variable<Scalar> {
        require(c.count == t.count && !c.isEmpty, "SkipGram.softmaxCost: \(c.count) centres and \(t.count) contexts")
        let e = centers.lookup(c, shape: [c.count])                                     // (d, B)
        let logits = matmul(contexts.E.variable, e)                                    // (V, B)
        return SoftmaxCrossEntropy<Scalar>()(logits, Tensor.oneHot(t, classes: centers.vocabulary))
    }

    /// The negative-sampling cost (C5W2-08): each (centre, context) pair is a
    /// positive example of `P(y = 1 | c, t) = σ(θ_tᵀe_c)` and its `k` negatives
    /// `n_{i1…ik}` (`negatives`, `B·k` words, pair by pair) are negative ones:
    /// `J = −(1/B) Σ_i [log σ(θ_{t_i}ᵀe_{c_i}) + Σ_k log σ(−θ_{n_ik}ᵀe_{c_i})]`.
    /// Only the rows used receive gradients.
    public func negativeSamplingCost(centers c: [Int], contexts t: [Int], negatives n: [Int]) -> Variable<Scalar> {
        let B = c.count
        require(B > 0 && t.count == B && n.count % B == 0 && !n.isEmpty,
                "SkipGram.negativeSamplingCost: \(B) centres, \(t.count) contexts, \(n.count) negatives (k per pair)")
        // One fused node (Tensors' `negativeSamplingCost`): the scores, softplus and
        // the row gradients without the lookups' and products' intermediate tensors.
        return Tensors.negativeSamplingCost(centerTable: centers.E.variable, contextTable: contexts.E.variable,
                                            centers: c, contexts: t, negatives: n)
    }
}

/// Shuffled mini-batch steps shared by the word-vector trainers: each epoch
/// shuffles `0..<count` with a generator seeded by `seed`, and each batch's
/// `cost` (given the batch's indices and that generator, for further draws)
/// is backpropagated and stepped, after a NaN/Inf check. Returns each epoch's
/// (total cost, batches).
func wordVectorEpochs<S: TensorScalar, O: Optimizer>(
    count: Int, batchSize: Int, epochs: Int, seed: UInt64, parameters: [Parameter<S>], optimizer: O,
    cost: (_ batch: [Int], _ generator: inout RandomGenerator) -> Variable<S>
) throws -> [(total: Double, batches: Int)] where O.Scalar == S {
    var g = RandomGenerator(seed: seed)
    var order = Array(0..<count)
    var history: [(total: Double, batches: Int)] = []
    for epoch in 1...Swift.max(epochs, 1) where epoch <= epochs {
        g.shuffle(&order)
        var total = 0.0, batches = 0
        for start in stride(from: 0, to: order.count, by: batchSize) {
            let batch = Array(order[start..<Swift.min(start + batchSize, order.count)])
            for p in parameters { p.gradient = nil; p.rowGradient = nil }
            let J = GradientTape.$isRecording.withValue(true) { cost(batch, &g) }
            guard J.value.scalar.isFinite else {
                throw TrainingError.nonFinite(epoch: epoch, batch: batches + 1, cost: Double(J.value.scalar), parameter: nil)
            }
            J.backward()
            optimizer.step(parameters)
            total += Double(J.value.scalar)
            batches += 1
        }
        history.append((total, batches))
    }
    return history
}

extension SkipGram {
    /// Trains with negative sampling: each epoch shuffles `pairs` (seeded),
    /// and each batch of `batchSize` pairs draws `negatives` words per pair from
    /// `sampler` and takes one `optimizer` step on the rows used. Throws
    /// ``TrainingError/nonFinite(epoch:batch:cost:parameter:)`` before an update
    /// whose cost is not finite. Returns each epoch's mean cost per batch.
    @discardableResult
    public func fit<O: Optimizer>(pairs: [(center: Int, context: Int)], sampler: NegativeSampler, negatives: Int = 5,
                                  batchSize: Int = 256, epochs: Int, optimizer: O, seed: UInt64 = 0) throws -> [Double] where O.Scalar == Scalar {
        guard !pairs.isEmpty, batchSize >= 1, negatives >= 1 else {
            throw TrainingError.invalidInput("SkipGram.fit: \(pairs.count) pairs, batch size \(batchSize), \(negatives) negatives")
        }
        return try wordVectorEpochs(count: pairs.count, batchSize: batchSize, epochs: epochs, seed: seed, parameters: parameters,
                                    optimizer: optimizer) { batch, g in
            negativeSamplingCost(centers: batch.map { pairs[$0].center }, contexts: batch.map { pairs[$0].context },
                                 negatives: sampler.sample(batch.count * negatives, generator: &g))
        }.map { $0.total / Double($0.batches) }
    }
}

extension GloVe {
    /// Trains on the non-zero co-occurrence entries with mini-batches of
    /// `batchSize` (shuffled each epoch, seeded); each step minimizes the
    /// batch's share of the cost. Returns each epoch's total cost.
    @discardableResult
    public func fit<O: Optimizer>(_ entries: [(word: Int, context: Int, count: Double)], batchSize: Int = 256, epochs: Int,
                                  optimizer: O, seed: UInt64 = 0) throws -> [Double] where O.Scalar == Scalar {
        guard !entries.isEmpty, batchSize >= 1 else { throw TrainingError.invalidInput("GloVe.fit: \(entries.count) entries, batch size \(batchSize)") }
        return try wordVectorEpochs(count: entries.count, batchSize: batchSize, epochs: epochs, seed: seed, parameters: parameters,
                                    optimizer: optimizer) { batch, _ in cost(batch.map { entries[$0] }) }.map(\.total)
    }
}

/// (centre, context) pairs of a skip-gram window (C5W2-06): for each position,
/// every word up to `window` positions before or after it, in text order.
public func skipGramPairs(_ sentence: [Int], window: Int) -> [(center: Int, context: Int)] {
    require(window >= 1, "skipGramPairs: window \(window) must be at least 1")
    var pairs: [(center: Int, context: Int)] = []
    for (i, c) in sentence.enumerated() {
        for j in Swift.max(0, i - window)...Swift.min(sentence.count - 1, i + window) where j != i { pairs.append((c, sentence[j])) }
    }
    return pairs
}

/// GloVe (C5W2-09; Pennington et al. 2014): word vectors `e` and context
/// vectors `θ` `(V, d)` with biases `b`, `b′` fitted to the logarithms of the
/// co-occurrence counts by weighted least squares.
public final class GloVe<Scalar: TensorScalar> {
    public let words: Embedding<Scalar>
    public let contexts: Embedding<Scalar>
    public let wordBiases: Embedding<Scalar>
    public let contextBiases: Embedding<Scalar>
    public let maximumCount: Double
    public let alpha: Double

    /// Vectors `U(−½, ½)/d` as the reference implementation starts them; `x_max = 100`, `α = 3/4`.
    public init(vocabulary: Int, dimensions: Int, maximumCount: Double = 100, alpha: Double = 0.75, generator: inout RandomGenerator) {
        func table(_ d: Int) -> Tensor<Scalar> {
            Tensor(randomUniform: [vocabulary, d], lower: Scalar(-0.5 / Double(dimensions)), upper: Scalar(0.5 / Double(dimensions)), generator: &generator)
        }
        words = Embedding(table: table(dimensions))
        contexts = Embedding(table: table(dimensions))
        wordBiases = Embedding(table: .zeros([vocabulary, 1]))
        contextBiases = Embedding(table: .zeros([vocabulary, 1]))
        (self.maximumCount, self.alpha) = (maximumCount, alpha)
    }

    public var parameters: [Parameter<Scalar>] { [words.E, contexts.E, wordBiases.E, contextBiases.E] }

    /// The weighting `f(x) = (x/x_max)^α` below `x_max`, 1 above, and 0 at
    /// `x = 0` (so the notes' "0 log 0 = 0").
    public func weight(_ x: Double) -> Double { x <= 0 ? 0 : (x < maximumCount ? Foundation.pow(x / maximumCount, alpha) : 1) }

    /// `J = Σ_{(i,j)} f(X_ij)(θ_jᵀe_i + b_i + b′_j − log X_ij)²` over the given
    /// non-zero entries `(i, j, X_ij)` (the notes write `θ_iᵀe_j`; the roles
    /// are symmetric). The paper's cost is the sum over all non-zero entries;
    /// a mini-batch sums its share.
    public func cost(_ entries: [(word: Int, context: Int, count: Double)]) -> Variable<Scalar> {
        require(!entries.isEmpty && entries.allSatisfy { $0.count > 0 }, "GloVe.cost: entries need positive counts")
        let i = entries.map(\.word), j = entries.map(\.context), B = entries.count
        let dot = (words.lookup(i, shape: [B]) * contexts.lookup(j, shape: [B])).sum(axis: 0)
        let residual = dot + wordBiases.lookup(i, shape: [B]).reshaped(to: [B]) + contextBiases.lookup(j, shape: [B]).reshaped(to: [B])
            - Variable(Tensor(entries.map { Scalar(Foundation.log($0.count)) }))
        return (Variable(Tensor(entries.map { Scalar(weight($0.count)) })) * square(residual)).sum()
    }

    /// The final vectors, `(e_w + θ_w)/2` (C5W2-09: θ and e play symmetric roles).
    public var vectors: Tensor<Scalar> { (words.E.value + contexts.E.value) / 2 }
}

/// Symmetric co-occurrence counts `X_ij` (C5W2-09): how often word `j` appears
/// within `window` words of word `i`, each occurrence weighted `1/distance` as
/// GloVe counts them (`harmonic: false` counts 1). Returned as the non-zero entries.
public func cooccurrences(_ sentences: [[Int]], window: Int, harmonic: Bool = true) -> [(word: Int, context: Int, count: Double)] {
    var counts: [Int: [Int: Double]] = [:]
    for s in sentences {
        for (p, w) in s.enumerated() {
            for q in Swift.max(0, p - window)..<p {
                let weight = harmonic ? 1 / Double(p - q) : 1
                counts[w, default: [:]][s[q], default: 0] += weight
                counts[s[q], default: [:]][w, default: 0] += weight
            }
        }
    }
    return counts.keys.sorted().flatMap { i in counts[i]!.keys.sorted().map { j in (i, j, counts[i]![j]!) } }
}
