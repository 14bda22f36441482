import Tensors

/// Mini-batches of a data set in the notes' layout (C2W2-01): `X` is
/// `(n_x, m)` and `Y` is `(n_y, m)`; the columns are shuffled with
/// `generator` (skip it for a fixed order), then cut into batches of `size`
/// columns — the last one keeps the remainder. `size = m` is batch gradient
/// descent, `size = 1` stochastic gradient descent.
public func miniBatches<S>(
    _ X: Tensor<S>, _ Y: Tensor<S>, size: Int, generator: inout RandomGenerator?
) -> [(X: Tensor<S>, Y: Tensor<S>)] {
    let m = X.shape.last ?? 0
    precondition(X.rank == 2 && Y.rank == 2 && Y.shape[1] == m,
                 "miniBatches: X (n_x, m) and Y (n_y, m) must share m; got \(X.shape) and \(Y.shape)")
    precondition(size > 0, "miniBatches: size must be positive, got \(size)")
    var (shuffledX, shuffledY) = (X, Y)
    if generator != nil {
        // Permute all columns at once: each row of X is reordered while it sits in cache,
        // where gathering every batch's columns would be scattered reads across all of X.
        let order = generator!.permutation(m)
        (shuffledX, shuffledY) = (X.gathering(order, axis: 1), Y.gathering(order, axis: 1))
    }
    if size >= m { return [(shuffledX, shuffledY)] }
    return stride(from: 0, to: m, by: size).map { start in
        let end = Swift.min(m, start + size)
        return (shuffledX.columns(start..<end), shuffledY.columns(start..<end))
    }
}
