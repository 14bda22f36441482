import Tensors

/// Performance against the amount of training data (C1W1-04, the notes'
/// "scale drives deep learning" curve): `evaluate` trains and scores a model
/// on the first `size` examples of one seeded shuffle of the columns of `X`
/// and `Y`, for each of `sizes` — so every set holds the smaller ones. The
/// score is whatever `evaluate` returns (e.g. dev accuracy, higher better, or
/// dev error, lower better): a curve still improving at the largest size says
/// more data would still help. Returns `(size, score)` in the order of `sizes`.
public func learningCurve<S: TensorScalar>(
    _ X: Tensor<S>, _ Y: Tensor<S>, sizes: [Int], seed: UInt64,
    evaluate: (_ X: Tensor<S>, _ Y: Tensor<S>) throws -> Double
) rethrows -> [(size: Int, score: Double)] {
    require(X.rank == 2 && Y.rank == 2 && Y.shape[1] == X.shape[1], "learningCurve: X \(X.shape) and Y \(Y.shape) must be (n, m) with the same m")
    let m = X.shape[1], bad = sizes.first { $0 < 1 || $0 > m }
    require(bad == nil, "learningCurve: size \(bad ?? 0) is outside 1…\(m)")
    let take = seededColumnSlices(X, Y, seed: seed)
    return try sizes.map { size in
        let (x, y) = take(0..<size)
        return (size, try evaluate(x, y))
    }
}
