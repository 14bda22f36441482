import Tensors

/// The axis that counts examples in the notes' layouts, by rank: the last
/// for `(n_x, m)` data, axis 1 for sequences `(n_x, m, T_x)`, axis 0 for
/// images `(m, n_H, n_W, n_C)` and volumes `(m, n_D, n_H, n_W, n_C)`.
public func exampleAxis(ofRank rank: Int) -> Int {
    switch rank {
    case ...2: return Swift.max(rank - 1, 0)
    case 3: return 1
    default: return 0
    }
}

/// The number of examples in `t` (its size along ``exampleAxis(ofRank:)``).
func numberOfExamples<S>(_ t: Tensor<S>) -> Int { t.rank == 0 ? 1 : t.shape[exampleAxis(ofRank: t.rank)] }

/// Mini-batches of a data set in the notes' layout (C2W2-01): `X` is
/// `(n_x, m)` (or images `(m, n_H, n_W, n_C)`, sequences `(n_x, m, T_x)`) and
/// `Y` is `(n_y, m)`; the examples are shuffled with `generator`, then cut
/// into batches of `size` — the last one keeps the remainder. `size = m` is
/// batch gradient descent, `size = 1` stochastic gradient descent.
public func miniBatches<S>(
    _ X: Tensor<S>, _ Y: Tensor<S>, size: Int, generator: inout RandomGenerator
) -> [(X: Tensor<S>, Y: Tensor<S>)] {
    checkBatchable(X, Y, size: size)
    // Permute all examples at once: each row of X is reordered while it sits in cache,
    // where gathering every batch's columns would be scattered reads across all of X.
    // Not kept (twenty-fourth session): cutting each batch out of the permuted X only when
    // `fit` reaches it (a lazy collection; one batch alive instead of a second copy of X).
    // MLP 784-256-128-10 epoch, m = 60,000, two threads, one build switched by the
    // environment, three alternations: 536–637 ms built here first against 610–905 ms
    // cut on demand. Each batch reads 784 runs of 512 bytes that lie 240 KB apart;
    // cut back to back, consecutive batches share those pages, cut between training
    // steps they do not (our reading of it: page walks; not measured separately).
    let order = generator.permutation(numberOfExamples(X))
    return miniBatches(X.gathering(order, axis: exampleAxis(ofRank: X.rank)),
                       Y.gathering(order, axis: exampleAxis(ofRank: Y.rank)), size: size)
}

/// Mini-batches of `size` examples in the data's own order.
public func miniBatches<S>(_ X: Tensor<S>, _ Y: Tensor<S>, size: Int) -> [(X: Tensor<S>, Y: Tensor<S>)] {
    checkBatchable(X, Y, size: size)
    let m = numberOfExamples(X)
    if size >= m { return [(X, Y)] }
    return stride(from: 0, to: m, by: size).map { start in
        let range = start..<Swift.min(m, start + size)
        return (X.slice(axis: exampleAxis(ofRank: X.rank), range), Y.slice(axis: exampleAxis(ofRank: Y.rank), range))
    }
}

private func checkBatchable<S>(_ X: Tensor<S>, _ Y: Tensor<S>, size: Int) {
    require(X.rank >= 2 && Y.rank >= 2 && numberOfExamples(X) == numberOfExamples(Y),
            "miniBatches: X and Y must hold the same number of examples; got \(X.shape) and \(Y.shape)")
    require(size > 0, "miniBatches: size must be positive, got \(size)")
}
