import Foundation
import NeuralNetworks
import Tensors

/// Attention, named like `shared/bench/seq.py`'s cases: scaled dot-product
/// attention on `(B, h, T, d)` = (8, 8, 128, 64) with the causal mask; "fwd"
/// records nothing, "fwd+bwd" is the forward pass and the gradients of q, k
/// and v for a fixed `dO`. GFLOPS use the peer's count, `4·B·h·T²·d` per
/// forward (masked half included) and 3× that for forward+backward.
func attentionSuite(_ h: inout Harness) {
    h.note("\n== attention: scaled dot-product attention, fused forward and backward (seq.py's cases) ==")
    let (B, H, T, D) = (8, 8, 128, 64)
    let threads = "\(Parallelism.maxThreads) threads"
    var g = RandomGenerator(seed: 6)
    let q = Tensor<Float>(randomNormal: [B, H, T, D], generator: &g), k = Tensor<Float>(randomNormal: [B, H, T, D], generator: &g)
    let v = Tensor<Float>(randomNormal: [B, H, T, D], generator: &g), dO = Tensor<Float>(randomNormal: [B, H, T, D], generator: &g)
    let flops = Double(4 * B * H * T * T * D)
    let shape = "[\(B), \(H), \(T), \(D)]"
    h.measure("attention", "attention fused causal fwd B\(B) h\(H) T\(T) d\(D)", variant: "vectorized, \(threads)", shape: shape,
              metric: .gflops, work: flops) {
        consume(withoutGradients { scaledDotProductAttention(query: Variable(q), key: Variable(k), value: Variable(v), mask: .causal) })
    }
    let variables = [q, k, v].map { Variable($0, requiresGradient: true) }
    h.measure("attention", "attention fused causal fwd+bwd B\(B) h\(H) T\(T) d\(D)", variant: "vectorized, \(threads)", shape: shape,
              metric: .gflops, work: 3 * flops) {
        for x in variables { x.gradient = nil }
        let out = GradientTape.$isRecording.withValue(true) {
            scaledDotProductAttention(query: variables[0], key: variables[1], value: variables[2], mask: .causal)
        }
        out.backward(seed: dO)
        consume(variables[0].gradient)
    }
}
