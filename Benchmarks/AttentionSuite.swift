import Foundation
import NeuralNetworks
import Tensors

/// Attention, named like `shared/bench/seq.py`'s cases: scaled dot-product
/// attention on `(B, h, T, d)` = (8, 8, 128, 64) with the causal mask; "fwd"
/// records nothing, "fwd+bwd" is the forward pass and the gradients of q, k
/// and v for a fixed `dO`. GFLOPS use the peer's count, `4·B·h·T²·d` per
/// forward (masked half included) and 3× that for forward+backward.
///
/// One transformer encoder layer as seq.py times PyTorch's
/// `TransformerEncoderLayer(256, 8, 1024, dropout=0)` (post-LN, ReLU) on a
/// batch of 16 sequences of 128 tokens: "fwd" in inference, "train step" =
/// forward + mean squared error against a fixed target + backward + one
/// AdamW step (α = 10⁻³, λ = 0.01). GFLOPS count the matrix products only,
/// `2·B·T·(4d² + 2d·d_ff) + 4·B·T²·d` per forward, 3× for a step.
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

    // Transformer encoder layer.
    let (d, heads, ff, batch, tokens) = (256, 8, 1024, 16, 128)
    let layer = TransformerEncoderLayer<Float>(modelDimensions: d, heads: heads, feedForwardDimensions: ff, dropoutRate: 0, generator: &g)
    let x = Tensor<Float>(randomNormal: [d, batch, tokens], generator: &g), target = Tensor<Float>(randomNormal: [d, batch, tokens], generator: &g)
    let layerFlops = Double(2 * batch * tokens * (4 * d * d + 2 * d * ff) + 4 * batch * tokens * tokens * d)
    let layerShape = "[\(d), \(batch), \(tokens)]"
    let inference = ForwardContext(training: false)
    h.measure("attention", "transformer encoder layer fwd d\(d) h\(heads) ff\(ff) B\(batch) T\(tokens)", variant: "vectorized, \(threads)",
              shape: layerShape, metric: .gflops, work: layerFlops) {
        consume(withoutGradients { layer.forward(Variable(x), context: inference) })
    }
    let adamW = Adam<Float>.adamW(learningRate: 1e-3, weightDecay: 0.01)
    let training = ForwardContext(training: true)
    h.measure("attention", "transformer encoder layer train step AdamW d\(d) h\(heads) ff\(ff) B\(batch) T\(tokens)",
              variant: "vectorized, \(threads)", shape: layerShape, metric: .gflops, work: 3 * layerFlops) {
        for p in layer.parameters { p.gradient = nil }
        let J = GradientTape.$isRecording.withValue(true) { square(layer.forward(Variable(x), context: training) - Variable(target)).mean() }
        J.backward()
        adamW.step(layer.parameters)
    }

    // CTC loss as seq.py times it: random logits (C 28 with blank 0, batch 16, T 100), targets of 30 labels from 1…27,
    // full input lengths, PyTorch's default reduction (mean over target lengths); "fwd+bwd" includes the log-softmax
    // (inside the node) and the logits' gradient.
    let (ctcT, ctcB, ctcC, ctcS) = (100, 16, 28, 30)
    let logits = Tensor<Float>(randomNormal: [ctcC, ctcB, ctcT], generator: &g)
    let labels = (0..<ctcB).map { _ in (0..<ctcS).map { _ in 1 + g.nextIndex(below: ctcC - 1) } }
    let ctcShape = "[\(ctcC), \(ctcB), \(ctcT)]"
    h.measure("attention", "CTC loss fwd T\(ctcT) B\(ctcB) C\(ctcC) S\(ctcS)", variant: "vectorized, \(threads)", shape: ctcShape,
              metric: .itemsPerSecond, work: Double(ctcB)) {
        consume(withoutGradients { ctcLoss(logits: Variable(logits), targets: labels) })
    }
    let logitsVariable = Variable(logits, requiresGradient: true)
    h.measure("attention", "CTC loss fwd+bwd T\(ctcT) B\(ctcB) C\(ctcC) S\(ctcS)", variant: "vectorized, \(threads)", shape: ctcShape,
              metric: .itemsPerSecond, work: Double(ctcB)) {
        logitsVariable.gradient = nil
        GradientTape.$isRecording.withValue(true) { ctcLoss(logits: logitsVariable, targets: labels) }.backward()
        consume(logitsVariable.gradient)
    }
}
