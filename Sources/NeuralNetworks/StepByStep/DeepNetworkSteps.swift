import Tensors

/// The notes' deep network built step by step (C1W4-05/06), with explicit
/// caches and hand-written backward passes — the readable reference the tape
/// is tested against (`DeepNetworkStepsTests` shows both give the same
/// gradients on the same network).
///
/// Shapes: `A[l]` is `(n[l], m)`, `W[l]` is `(n[l], n[l−1])`, `b[l]` is `(n[l], 1)`.
/// Parameters live in a dictionary with the notes' keys `"W1"`, `"b1"`, ….
public enum DeepNetworkSteps {
    /// The hidden or output function of one layer.
    public enum Activation: Sendable { case relu, sigmoid }

    /// What ``linearForward(_:_:_:)`` keeps for backward: `(A_prev, W, b)`.
    public struct LinearCache<Scalar: TensorScalar> {
        public var Aprev: Tensor<Scalar>, W: Tensor<Scalar>, b: Tensor<Scalar>
    }

    /// What ``linearActivationForward(_:_:_:activation:)`` keeps: the linear cache and `Z`.
    public struct LayerCache<Scalar: TensorScalar> {
        public var linear: LinearCache<Scalar>
        public var Z: Tensor<Scalar>
        public var activation: Activation
    }

    /// `W[l] = randn(n[l], n[l−1]) · √(2/n[l−1])` (He), `b[l] = 0`, for `layerDimensions = [n[0], …, n[L]]`.
    public static func initializeParameters<Scalar>(layerDimensions: [Int], generator: inout RandomGenerator) -> [String: Tensor<Scalar>] {
        var parameters: [String: Tensor<Scalar>] = [:]
        for l in 1..<layerDimensions.count {
            parameters["W\(l)"] = Initializer.he.weights(rows: layerDimensions[l], columns: layerDimensions[l - 1], generator: &generator)
            parameters["b\(l)"] = .zeros([layerDimensions[l], 1])
        }
        return parameters
    }

    /// `Z = W·A_prev + b`.
    public static func linearForward<Scalar>(_ Aprev: Tensor<Scalar>, _ W: Tensor<Scalar>, _ b: Tensor<Scalar>) -> (Z: Tensor<Scalar>, cache: LinearCache<Scalar>) {
        (matmul(W, Aprev) + b, LinearCache(Aprev: Aprev, W: W, b: b))
    }

    /// `A = g(W·A_prev + b)`.
    public static func linearActivationForward<Scalar>(
        _ Aprev: Tensor<Scalar>, _ W: Tensor<Scalar>, _ b: Tensor<Scalar>, activation: Activation
    ) -> (A: Tensor<Scalar>, cache: LayerCache<Scalar>) {
        let (Z, linear) = linearForward(Aprev, W, b)
        let A = activation == .relu ? relu(Z) : sigmoid(Z)
        return (A, LayerCache(linear: linear, Z: Z, activation: activation))
    }

    /// `[LINEAR → RELU] × (L − 1) → LINEAR → SIGMOID`; returns `A[L]` and every layer's cache.
    public static func modelForward<Scalar>(_ X: Tensor<Scalar>, parameters: [String: Tensor<Scalar>]) -> (AL: Tensor<Scalar>, caches: [LayerCache<Scalar>]) {
        let L = parameters.count / 2
        var A = X, caches: [LayerCache<Scalar>] = []
        for l in 1...L {
            let (next, cache) = linearActivationForward(A, parameters["W\(l)"]!, parameters["b\(l)"]!, activation: l == L ? .sigmoid : .relu)
            A = next
            caches.append(cache)
        }
        return (A, caches)
    }

    /// `J = −(1/m) Σ [y log a + (1 − y) log(1 − a)]`.
    public static func computeCost<Scalar>(_ AL: Tensor<Scalar>, _ Y: Tensor<Scalar>) -> Scalar {
        let m = Scalar(Y.shape[1])
        return -(Y * log(AL) + (1 - Y) * log(1 - AL)).sum() / m
    }

    /// `dW = (1/m) dZ·A_prevᵀ`, `db = (1/m) Σ_columns dZ`, `dA_prev = Wᵀ·dZ`.
    public static func linearBackward<Scalar>(_ dZ: Tensor<Scalar>, _ cache: LinearCache<Scalar>) -> (dAprev: Tensor<Scalar>, dW: Tensor<Scalar>, db: Tensor<Scalar>) {
        let m = Scalar(cache.Aprev.shape[1])
        return (matmul(cache.W, dZ, transposingA: true),
                matmul(dZ, cache.Aprev, transposingB: true) / m,
                dZ.sum(axis: 1, keepingDimensions: true) / m)
    }

    /// `dZ = dA ⊙ g′(Z)`, then ``linearBackward(_:_:)``.
    public static func linearActivationBackward<Scalar>(_ dA: Tensor<Scalar>, _ cache: LayerCache<Scalar>) -> (dAprev: Tensor<Scalar>, dW: Tensor<Scalar>, db: Tensor<Scalar>) {
        let dZ = dA * (cache.activation == .relu ? reluDerivative(cache.Z) : sigmoidDerivative(cache.Z))
        return linearBackward(dZ, cache.linear)
    }

    /// Backward through the whole network from `dA[L] = −(Y/A[L] − (1 − Y)/(1 − A[L]))`;
    /// returns `dW1`, `db1`, … (and `dA0`, …) by the notes' keys.
    public static func modelBackward<Scalar>(_ AL: Tensor<Scalar>, _ Y: Tensor<Scalar>, caches: [LayerCache<Scalar>]) -> [String: Tensor<Scalar>] {
        var gradients: [String: Tensor<Scalar>] = [:]
        var dA = -(Y / AL - (1 - Y) / (1 - AL))
        for l in stride(from: caches.count, through: 1, by: -1) {
            let (dAprev, dW, db) = linearActivationBackward(dA, caches[l - 1])
            gradients["dW\(l)"] = dW
            gradients["db\(l)"] = db
            gradients["dA\(l - 1)"] = dAprev
            dA = dAprev
        }
        return gradients
    }

    /// `W[l] := W[l] − α·dW[l]`, `b[l] := b[l] − α·db[l]`.
    public static func updateParameters<Scalar>(_ parameters: inout [String: Tensor<Scalar>], gradients: [String: Tensor<Scalar>], learningRate: Scalar) {
        for (key, value) in parameters { parameters[key] = value - learningRate * gradients["d" + key]! }
    }
}
