/// Layer normalization (Ba et al. 2016; the transformer's "Add & Norm",
/// C5W4-04) as one fused node, over the features of each example:
/// `y = γ ⊙ (x − μ)/√(σ² + ε) + β`, with `μ` and `σ²` the mean and the
/// (biased) variance of each column.
///
/// - `x`: `(d, …)` — `d` features along axis 0 (the notes' layout: `(d, m)`
///   for a batch, `(d, m, T)` for sequences); every other index is one
///   example or token, normalized on its own.
/// - `gamma`, `beta`: `(d, 1)`; defaults `ε = 10⁻⁵` (PyTorch's and Keras's
///   `LayerNormalization` differ: 10⁻⁵ and 10⁻³).
///
/// Backward (`x̂` and `1/√(σ² + ε)` are saved): `∂J/∂β = Σ_columns g`,
/// `∂J/∂γ = Σ_columns g ⊙ x̂`, and per column
/// `∂J/∂x = (γ⊙g − mean(γ⊙g) − x̂ ⊙ mean(γ⊙g⊙x̂))/√(σ² + ε)`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func layerNormalization<S: TensorScalar>(
    _ x: Variable<S>, gamma: Variable<S>, beta: Variable<S>, epsilon: Double = 1e-5
) -> Variable<S> {
    let shape = x.value.shape
    guard let d = shape.first, shape.count >= 2, gamma.value.shape == [d, 1], beta.value.shape == [d, 1], epsilon >= 0 else {
        shapeFailure(ShapeError(operation: "layerNormalization",
                                message: "needs x (d, …) with gamma and beta (d, 1) and ε ≥ 0; got x \(format(shape)), gamma \(format(gamma.value.shape)), beta \(format(beta.value.shape)), ε \(epsilon)"))
    }
    let n = shape.dropFirst().reduce(1, *)
    let recording = GradientTape.isRecording && [x, gamma, beta].contains { $0.requiresGradient }
    let path = ComputePath.current
    let (xv, γ, β) = (x.value, gamma.value, beta.value)
    var y = Tensor<S>.zeros(shape)
    var normalized = recording ? Tensor<S>.zeros(shape) : nil
    var rstd = recording ? Tensor<S>.zeros([n]) : nil
    if d * n > 0 {
        xv.withUnsafeBufferPointer { xp in
            γ.withUnsafeBufferPointer { gp in
                β.withUnsafeBufferPointer { bp in
                    y.withUnsafeMutableBufferPointer { yp in
                        func run(_ xhat: UnsafeMutablePointer<S>?, _ r: UnsafeMutablePointer<S>?) {
                            let (a, g, b, out) = (xp.baseAddress!, gp.baseAddress!, bp.baseAddress!, yp.baseAddress!)
                            path.run(loop: { NormalizationKernels.layerNormLoop(a, g, b, d: d, n: n, epsilon: epsilon, out, xhat, r) },
                                     vectorized: { NormalizationKernels.layerNorm(a, g, b, d: d, n: n, epsilon: epsilon, out, xhat, r) })
                        }
                        if recording {
                            normalized!.withUnsafeMutableBufferPointer { xhat in
                                rstd!.withUnsafeMutableBufferPointer { r in run(xhat.baseAddress!, r.baseAddress!) }
                            }
                        } else {
                            run(nil, nil)
                        }
                    }
                }
            }
        }
    }
    guard recording, let normalized, let rstd else { return Variable(y) }
    return Variable(y, derivedFrom: [x, gamma, beta]) { g, needs in
        var dx = needs[0] ? Tensor<S>.zeros(shape) : nil
        var dGamma = needs[1] ? Tensor<S>.zeros([d, 1]) : nil
        var dBeta = needs[2] ? Tensor<S>.zeros([d, 1]) : nil
        if d * n == 0 { return [dx, dGamma, dBeta] }
        func pointer(_ t: inout Tensor<S>?, _ body: (UnsafeMutablePointer<S>?) -> Void) {
            if t == nil { body(nil) } else { t!.withUnsafeMutableBufferPointer { body($0.baseAddress!) } }
        }
        g.withUnsafeBufferPointer { gp in
            normalized.withUnsafeBufferPointer { xhat in
                rstd.withUnsafeBufferPointer { r in
                    γ.withUnsafeBufferPointer { gammaPointer in
                        pointer(&dx) { dxp in
                            pointer(&dGamma) { dgp in
                                pointer(&dBeta) { dbp in
                                    let (a, b, c, e) = (gp.baseAddress!, xhat.baseAddress!, r.baseAddress!, gammaPointer.baseAddress!)
                                    path.run(loop: { NormalizationKernels.layerNormBackwardLoop(a, b, c, e, d: d, n: n, dxp, dgp, dbp) },
                                             vectorized: { NormalizationKernels.layerNormBackward(a, b, c, e, d: d, n: n, dxp, dgp, dbp) })
                                }
                            }
                        }
                    }
                }
            }
        }
        return [dx, dGamma, dBeta]
    }
}
