import Tensors

/// The triplet loss (C4W4-04) on encodings `(d, m)`, one example per column:
///
///     L(A, P, N) = max(‖f(A) − f(P)‖² − ‖f(A) − f(N)‖² + α, 0),   J = Σᵢ L(A⁽ⁱ⁾, P⁽ⁱ⁾, N⁽ⁱ⁾)
///
/// summed over the batch as the notes write it (not averaged), with the
/// margin `α` (the notes' slide prints λ for it). One fused node; for a
/// triplet whose hinge is active (`L > 0`) the gradient is
/// `∂L/∂f(A) = 2(f(N) − f(P))`, `∂L/∂f(P) = 2(f(P) − f(A))`, `∂L/∂f(N) = 2(f(A) − f(N))`,
/// and zero otherwise (also when `L` is exactly at the hinge).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func tripletLoss<S: TensorScalar>(anchor: Variable<S>, positive: Variable<S>, negative: Variable<S>, margin: S = 0.2) -> Variable<S> {
    let (a, p, n) = (anchor.value, positive.value, negative.value)
    require(a.rank == 2 && a.shape == p.shape && a.shape == n.shape,
            "tripletLoss: anchor \(a.shape), positive \(p.shape) and negative \(n.shape) must be equal (d, m)")
    let dp = square(a - p).sum(axis: 0), dn = square(a - n).sum(axis: 0)    // (m)
    let hinge = dp - dn + margin
    let active = hinge .> 0                                                // 1 where L > 0
    let cost = Tensor(relu(hinge).sum())
    return Variable(cost, derivedFrom: [anchor, positive, negative]) { g, needs in
        let weight = active.reshaped(to: [1, a.shape[1]]) * (2 * g.scalar)   // (1, m), broadcast over d
        return [needs[0] ? (n - p) * weight : nil,
                needs[1] ? (p - a) * weight : nil,
                needs[2] ? (a - n) * weight : nil]
    }
}

/// Squared distances `‖x_i − y_j‖²` between the columns of `x (d, m)` and `y (d, n)`: `(m, n)`.
public func squaredDistances<S: TensorScalar>(_ x: Tensor<S>, _ y: Tensor<S>) -> Tensor<S> {
    require(x.rank == 2 && y.rank == 2 && x.shape[0] == y.shape[0],
            "squaredDistances: encodings \(x.shape) and \(y.shape) must be (d, m) and (d, n)")
    // ‖x‖² + ‖y‖² − 2xᵀy, clamped at 0 against rounding.
    let xx = square(x).sum(axis: 0).reshaped(to: [x.shape[1], 1]), yy = square(y).sum(axis: 0).reshaped(to: [1, y.shape[1]])
    return max(xx + yy - 2 * matmul(x, y, transposingA: true), 0)
}

/// How ``selectTriplets(encodings:labels:margin:strategy:)`` picks each anchor's negative.
public enum TripletSelection: Sendable {
    /// The closest negative farther than the positive that still violates the
    /// margin, `d(A,P) < d(A,N) < d(A,P) + α` (FaceNet); the closest negative
    /// overall when there is none.
    case semiHard
    /// The closest negative overall, `argmin d(A,N)`.
    case hardest
}

/// Hard triplets from a batch of encodings (C4W4-04, "choose triplets that
/// are hard to train on", `d(A,P) ≈ d(A,N)`): for every anchor `i` and every
/// other example `j` of the same label as positive, one negative by
/// `strategy`. Distances are squared Euclidean on the columns of
/// `encodings (d, m)`; ties go to the lower index. Returns `(anchor,
/// positive, negative)` column indices; labels with one example give no triplet.
public func selectTriplets<S: TensorScalar>(
    encodings: Tensor<S>, labels: [Int], margin: Double = 0.2, strategy: TripletSelection = .semiHard
) -> [(anchor: Int, positive: Int, negative: Int)] {
    require(encodings.rank == 2 && encodings.shape[1] == labels.count,
            "selectTriplets: \(labels.count) labels for encodings \(encodings.shape)")
    let m = labels.count
    let d = squaredDistances(encodings, encodings).scalars.map(Double.init)
    var triplets: [(anchor: Int, positive: Int, negative: Int)] = []
    for a in 0..<m {
        let negatives = (0..<m).filter { labels[$0] != labels[a] }
        guard !negatives.isEmpty else { continue }
        let hardest = negatives.min { d[a * m + $0] < d[a * m + $1] }!
        for p in 0..<m where p != a && labels[p] == labels[a] {
            let dp = d[a * m + p]
            var chosen = hardest
            if strategy == .semiHard,
               let semi = negatives.filter({ d[a * m + $0] > dp && d[a * m + $0] < dp + margin }).min(by: { d[a * m + $0] < d[a * m + $1] }) {
                chosen = semi
            }
            triplets.append((a, p, chosen))
        }
    }
    return triplets
}

/// The features of a pair of encodings for verification as binary
/// classification (C4W4-05), `ŷ = σ(Σ_k w_k·feature_k + b)`.
public enum PairFeature: Sendable {
    /// `|f(x_i)_k − f(x_j)_k|`, the notes' main form.
    case absoluteDifference
    /// `(f(x_i)_k − f(x_j)_k)² / (f(x_i)_k + f(x_j)_k)`, the notes' χ² form
    /// (0 where the denominator is 0).
    case chiSquared

    /// The features of column pairs of `x` and `y` `(d, m)`: `(d, m)`, ready for a ``Dense`` layer.
    public func callAsFunction<S: TensorScalar>(_ x: Tensor<S>, _ y: Tensor<S>) -> Tensor<S> {
        require(x.shape == y.shape, "PairFeature: encodings \(x.shape) and \(y.shape) differ")
        switch self {
        case .absoluteDifference: return abs(x - y)
        case .chiSquared:
            let sum = x + y
            return select(sum .== 0, Tensor(shape: x.shape, repeating: 0), square(x - y) / select(sum .== 0, Tensor(shape: x.shape, repeating: 1), sum))
        }
    }
}

/// One-shot recognition (C4W4-01, -02): a database holding one encoding per
/// identity, and the notes' similarity rule `d(img1, img2) ≤ τ` → "same".
/// Distances are squared Euclidean, `‖f(x⁽ⁱ⁾) − f(x⁽ʲ⁾)‖²` as the notes write them.
public struct FaceDatabase<Scalar: TensorScalar> {
    /// One column per identity, `(d, K)`.
    public private(set) var encodings: Tensor<Scalar>
    /// The identities' names, one per column.
    public private(set) var identities: [String]
    /// `τ`: the largest distance still called the same person.
    public var threshold: Double

    /// A database of `identities` with their encodings `(d, K)`.
    public init(encodings: Tensor<Scalar>, identities: [String], threshold: Double) {
        require(encodings.rank == 2 && encodings.shape[1] == identities.count,
                "FaceDatabase: \(identities.count) identities for encodings \(encodings.shape)")
        (self.encodings, self.identities, self.threshold) = (encodings, identities, threshold)
    }

    /// Verification (1:1): whether `encoding (d)` or `(d, 1)` is within `τ` of `identity`'s.
    public func verify(_ encoding: Tensor<Scalar>, as identity: String) -> (same: Bool, distance: Double)? {
        guard let k = identities.firstIndex(of: identity) else { return nil }
        let distance = Double(squaredDistances(encoding.reshaped(to: [encoding.count, 1]), encodings.columns(k..<k + 1)).scalar)
        return (distance <= threshold, distance)
    }

    /// Recognition (1:K): the nearest identity if it is within `τ`, else `nil`
    /// ("not recognized"), with the distance to the nearest.
    public func identify(_ encoding: Tensor<Scalar>) -> (identity: String?, distance: Double) {
        guard !identities.isEmpty else { return (nil, .infinity) }
        let distances = squaredDistances(encoding.reshaped(to: [encoding.count, 1]), encodings).scalars.map(Double.init)
        let nearest = argmax(distances.map { -$0 })
        return (distances[nearest] <= threshold ? identities[nearest] : nil, distances[nearest])
    }
}
