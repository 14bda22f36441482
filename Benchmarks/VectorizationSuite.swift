import Foundation
import Tensors

/// The notes' loop-versus-vectorized pairs (scope.md §2.2, L1–L7): the same
/// tensor code on `ComputePath.loop` (scalar loops, one thread) and
/// `ComputePath.vectorized` (SIMD kernels, threads above a threshold).
func vectorizationSuite(_ h: inout Harness) {
    h.note("\n== vectorization: loop path vs vectorized path ==")
    var g = RandomGenerator(seed: 1)
    func pair(_ name: String, shape: String, metric: Metric, work: Double, _ body: @escaping () -> Void) {
        let loop = h.measure("vectorization", name, variant: "loop", shape: shape, metric: metric, work: work) {
            withComputePath(.loop, body)
        }
        let vectorized = h.measure("vectorization", name, variant: "vectorized", shape: shape, metric: metric, work: work) {
            withComputePath(.vectorized, body)
        }
        h.speedup(loop, vectorized)
    }

    let n = 1_000_000
    let a = Tensor<Float>(randomNormal: [n], generator: &g), b = Tensor<Float>(randomNormal: [n], generator: &g)
    pair("dot product z = wᵀx", shape: "1000000", metric: .gflops, work: 2 * Double(n)) { consume(dot(a, b)) }

    let A = Tensor<Float>(randomNormal: [1000, 1000], generator: &g), v = Tensor<Float>(randomNormal: [1000, 1], generator: &g)
    pair("matrix-vector u = Av", shape: "1000x1000 · 1000x1", metric: .gflops, work: 2e6) { consume(matmul(A, v)) }

    var u = Tensor<Float>.zeros([n])
    // Both paths evaluate the same polynomial (the loop path's is its scalar twin, bit for bit),
    // so the ratio is vectorization alone; libm's expf per element is timed separately.
    pair("exp over a vector", shape: "1000000", metric: .gbPerSecond, work: 8 * Double(n)) { exp(a, into: &u) }
    h.measure("vectorization", "exp over a vector", variant: "libm expf per element", shape: "1000000", metric: .gbPerSecond,
              work: 8 * Double(n)) {
        a.withUnsafeBufferPointer { x in
            u.withUnsafeMutableBufferPointer { y in for i in 0..<n { y[i] = Foundation.exp(x[i]) } }
        }
    }

    let Z = Tensor<Float>(randomNormal: [256, 4096], generator: &g), bias = Tensor<Float>(randomNormal: [256, 1], generator: &g)
    pair("bias broadcast (n,1)+(n,m)", shape: "256x1 + 256x4096", metric: .gbPerSecond, work: 4 * (2 * 256 * 4096 + 256)) {
        consume(Z + bias)
    }

    // C1W2-18…20: one forward + backward pass of logistic regression, m = 10,000, n = 100.
    let (features, m) = (100, 10_000)
    let X = Tensor<Float>(randomNormal: [features, m], generator: &g)
    let Y = Tensor<Float>(randomUniform: [1, m], generator: &g) .> 0.5
    let w = Tensor<Float>(randomNormal: [features, 1], standardDeviation: 0.01, generator: &g)
    pair("logistic regression fwd+bwd", shape: "n=100, m=10000", metric: .itemsPerSecond, work: Double(m)) {
        let A = sigmoid(matmul(w, X, transposingA: true) + 0.1)
        let dZ = A - Y
        let dw = matmul(X, dZ, transposingB: true) / Float(m)
        consume((dw, dZ.sum() / Float(m)))
    }
}
