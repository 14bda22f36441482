import Tensors

/// Mini-batches of a data set in the notes' layout (C2W2-01): `X` is
/// `(n_x, m)` and `Y` is `(n_y, m)`; the columns are shuffled with
/// `generator`, then cut into batches of `size` columns — the last one keeps
/// the remainder. `size = m` is batch gradient descent, `size = 1` stochastic
/// gradient descent.
public func miniBatches<S>(
    _ X: Tensor<S>, _ Y: Tensor<S>, size: Int, generator: inout RandomGenerator
) -> [(X: Tensor<S>, Y: Tensor<S>)] {
    checkBatchable(X, Y, size: size)
    // Permute all columns at once: each row of X is reordered while it sits in cache,
    // where gathering every batch's columns would be scattered reads across all of X.
    let order = generator.permutation(X.shape[1])
    return miniBatches(X.gathering(order, axis: 1), Y.gathering(order, axis: 1), size: size)
}

/// Mini-batches of `size` columns in the data's own order.
public func miniBatches<S>(_ X: Tensor<S>, _ Y: Tensor<S>, size: Int) -> [(X: Tensor<S>, Y: Tensor<S>)] {
    checkBatchable(X, Y, size: size)
    let m = X.shape[1]
    if size >= m { return [(X, Y)] }
    return stride(from: 0, to: m, by: size).map { start in
        let end = Swift.min(m, start + size)
        return (X.columns(start..<end), Y.columns(start..<end))
    }
}

private func checkBatchable<S>(_ X: Tensor<S>, _ Y: Tensor<S>, size: Int) {
    require(X.rank == 2 && Y.rank == 2 && Y.shape[1] == X.shape[1],
                 "miniBatches: X (n_x, m) and Y (n_y, m) must share m; got \(X.shape) and \(Y.shape)")
    require(size > 0, "miniBatches: size must be positive, got \(size)")
}
