import Tensors

/// The Gram ("style") matrix of one image's activation (C4W4-09):
/// `G_kk' = Σ_i Σ_j a_ijk · a_ijk'`, `(n_C, n_C)`.
///
/// `activation` is `(1, n_H, n_W, n_C)` or `(n_H, n_W, n_C)`. With the
/// activation unrolled to `A (n_C, n_H·n_W)` this is `G = A·Aᵀ`; channels-last
/// storage is already `Aᵀ (n_H·n_W, n_C)`, so it is computed as `(Aᵀ)ᵀ·Aᵀ`, one
/// GEMM with no copy. Differentiable: `∂J/∂Aᵀ = Aᵀ·(∂J/∂G + ∂J/∂Gᵀ)`.
public func gramMatrix<S: TensorScalar>(_ activation: Variable<S>) -> Variable<S> {
    let unrolled = unrolledActivation(activation, "gramMatrix")
    return matmul(unrolled, unrolled, transposingA: true)
}

/// `(n_H·n_W, n_C)` view of one image's activation.
func unrolledActivation<S: TensorScalar>(_ activation: Variable<S>, _ operation: String) -> Variable<S> {
    let s = activation.shape
    require((s.count == 4 && s[0] == 1) || s.count == 3,
            "\(operation): activation \(s) must be one image, (1, n_H, n_W, n_C) or (n_H, n_W, n_C)")
    let c = s.last!
    return activation.reshaped(to: [activation.value.count / c, c])
}

/// The normalization of the content cost.
public enum ContentCostNormalization: Sendable {
    /// The notes' `½‖a⁽ᶜ⁾ − a⁽ᴳ⁾‖²` (C4W4-08).
    case notes
    /// The programming assignment's `1/(4·n_H·n_W·n_C) · ‖a⁽ᶜ⁾ − a⁽ᴳ⁾‖²`.
    case assignment
}

/// The content cost (C4W4-08) between the generated image's activation at
/// one layer and the content image's (a constant): `½‖a⁽ᶜ⁾ − a⁽ᴳ⁾‖²` summed
/// over the whole activation volume (or the assignment's normalization).
public func contentCost<S: TensorScalar>(generated: Variable<S>, content: Tensor<S>,
                                          normalization: ContentCostNormalization = .notes) -> Variable<S> {
    require(generated.shape == content.shape,
            "contentCost: generated activation \(generated.shape) and content activation \(content.shape) differ")
    let scale: S = normalization == .notes ? 0.5 : 1 / S(4 * content.count)
    return square(generated - Variable(content)).sum() * scale
}

/// The style cost of one layer (C4W4-09):
/// `J_style^[l](S, G) = 1/(2·n_H·n_W·n_C)² · Σ_k Σ_k' (G^(S)_kk' − G^(G)_kk')²`,
/// with `styleGram` the style image's ``gramMatrix(_:)`` at that layer (a
/// constant, computed once). The notes' second line drops the square of the
/// normalizer; the first line, the assignment and Gatys et al. have it.
public func styleLayerCost<S: TensorScalar>(generated: Variable<S>, styleGram: Tensor<S>) -> Variable<S> {
    let s = generated.shape, c = s.last ?? 0
    require(styleGram.shape == [c, c], "styleLayerCost: style Gram matrix \(styleGram.shape) for an activation \(s) of \(c) channels")
    let normalizer = S(2 * generated.value.count)
    return square(gramMatrix(generated) - Variable(styleGram)).sum() / (normalizer * normalizer)
}

/// The weighted style cost over several layers (C4W4-09): `J_style = Σ_l λ^[l] J_style^[l]`.
public func styleCost<S: TensorScalar>(generated: [Variable<S>], styleGrams: [Tensor<S>], weights: [S]) -> Variable<S> {
    require(generated.count == styleGrams.count && generated.count == weights.count && !generated.isEmpty,
            "styleCost: \(generated.count) activations, \(styleGrams.count) Gram matrices and \(weights.count) weights must match")
    var total = styleLayerCost(generated: generated[0], styleGram: styleGrams[0]) * weights[0]
    for l in 1..<generated.count { total = total + styleLayerCost(generated: generated[l], styleGram: styleGrams[l]) * weights[l] }
    return total
}
