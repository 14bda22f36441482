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

/// Batch normalization (Ioffe & Szegedy 2015; C2W3-04) as one fused node: each
/// feature is normalized with the statistics of its samples in the batch,
///
///     μ = (1/m) Σᵢ xᵢ,   σ² = (1/m) Σᵢ (xᵢ − μ)²,   y = γ (x − μ)/√(σ² + ε) + β.
///
/// - `x`: rank ≥ 2 with the features on `featureAxis`, which is either the
///   last axis — feature maps `(m, n_H, n_W, n_C)`, statistics per channel over
///   all `m·n_H·n_W` positions — or axis 0 — dense units `(n, m)`, statistics
///   per unit over the examples (and over time for `(n, m, T)`).
/// - `gamma`, `beta`: one value per feature, any shape with that many elements
///   (the layer uses `(1, n_C)` and `(n, 1)`).
/// - `statistics`: nil in training (the batch's μ and biased σ² are used and
///   returned, for the running averages); the running averages at inference,
///   where they are constants of the node.
///
/// Backward, with `r = 1/√(σ² + ε)` and `x̂ = (x − μ) r` (x̂ is recomputed
/// from `x`, not saved): `∂J/∂β = Σ g`, `∂J/∂γ = Σ g x̂`, and
/// `∂J/∂x = (γ r/m)(m g − Σ g − x̂ Σ g x̂)` in training, `γ r g` at inference.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func batchNormalization<S: TensorScalar>(
    _ x: Variable<S>, gamma: Variable<S>, beta: Variable<S>, featureAxis: Int,
    statistics: (mean: Tensor<S>, variance: Tensor<S>)? = nil, epsilon: Double = 1e-5
) -> (output: Variable<S>, mean: Tensor<S>, variance: Tensor<S>) {
    let shape = x.value.shape
    let rank = shape.count
    let features = rank >= 2 && (featureAxis == 0 || featureAxis == rank - 1 || featureAxis == -1) ? shape[featureAxis < 0 ? rank - 1 : featureAxis] : -1
    let statisticsMatch = statistics.map { $0.mean.count == features && $0.variance.count == features } ?? true
    guard features >= 0, gamma.value.count == features, beta.value.count == features, statisticsMatch, epsilon >= 0 else {
        shapeFailure(ShapeError(operation: "batchNormalization",
                                message: "needs x of rank ≥ 2 with its features on axis 0 or the last axis, and gamma, beta (and running statistics) with one value per feature; got x \(format(shape)), feature axis \(featureAxis), gamma \(format(gamma.value.shape)), beta \(format(beta.value.shape))\(statistics.map { ", mean \(format($0.mean.shape)), variance \(format($0.variance.shape))" } ?? ""), ε \(epsilon)"))
    }
    let layout: BatchNormalizationKernels.Layout = featureAxis == 0 ? .rows : .columns
    let samples = features == 0 ? 0 : x.value.count / features
    let path = ComputePath.current
    let parameterShape = gamma.value.shape
    let training = statistics == nil
    var mean = statistics?.mean.reshaped(to: parameterShape) ?? Tensor<S>.zeros(parameterShape)
    var variance = statistics?.variance.reshaped(to: parameterShape) ?? Tensor<S>.zeros(parameterShape)
    let xv = x.value
    if training && samples > 0 {
        xv.withUnsafeBufferPointer { xp in
            mean.withUnsafeMutableBufferPointer { mp in
                variance.withUnsafeMutableBufferPointer { vp in
                    let (a, m, v) = (xp.baseAddress!, mp.baseAddress!, vp.baseAddress!)
                    path.run(loop: { BatchNormalizationKernels.statisticsLoop(a, layout, features: features, samples: samples, m, v) },
                             vectorized: { BatchNormalizationKernels.statistics(a, layout, features: features, samples: samples, m, v) })
                }
            }
        }
    }
    // r = 1/√(σ² + ε) and a = γ r, per feature (in Double).
    let rstd = Tensor<S>(shape: parameterShape, scalars: variance.scalars.map { S(1 / (Double($0) + epsilon).squareRoot()) })
    let γ = gamma.value
    // Every element is written below (no zero fill: a pass over memory saved); empty when samples = 0.
    var y = Tensor<S>(shape: shape, unsafeUninitialized: { _ in })
    if samples > 0 {
        let scale = Tensor<S>(shape: parameterShape, scalars: zip(γ.scalars, rstd.scalars).map { S(Double($0) * Double($1)) })
        xv.withUnsafeBufferPointer { xp in
            mean.withUnsafeBufferPointer { mp in
                rstd.withUnsafeBufferPointer { rp in
                    γ.withUnsafeBufferPointer { gp in
                        beta.value.withUnsafeBufferPointer { bp in
                            scale.withUnsafeBufferPointer { sp in
                                y.withUnsafeMutableBufferPointer { yp in
                                    let (a, m, r, g, b, s, out) = (xp.baseAddress!, mp.baseAddress!, rp.baseAddress!, gp.baseAddress!,
                                                                   bp.baseAddress!, sp.baseAddress!, yp.baseAddress!)
                                    path.run(loop: {
                                        BatchNormalizationKernels.normalizeLoop(a, layout, features: features, samples: samples,
                                                                                mean: m, rstd: r, gamma: g, beta: b, out)
                                    }, vectorized: {
                                        BatchNormalizationKernels.normalize(a, layout, features: features, samples: samples,
                                                                            mean: m, scale: s, beta: b, out)
                                    })
                                }
                            }
                        }
                    }
                }
            }
        }
    }
    let recording = GradientTape.isRecording && [x, gamma, beta].contains { $0.requiresGradient }
    guard recording else { return (Variable(y), mean, variance) }
    // γ and β may have different shapes of F elements: each gradient takes its own.
    let savedMean = mean, betaShape = beta.value.shape
    let output = Variable(y, derivedFrom: [x, gamma, beta]) { g, needs in
        if samples == 0 { return [needs[0] ? .zeros(shape) : nil, needs[1] ? .zeros(parameterShape) : nil, needs[2] ? .zeros(betaShape) : nil] }
        var dx = needs[0] ? Tensor<S>(shape: shape, unsafeUninitialized: { _ in }) : nil   // written whole by either path
        var dGamma = needs[1] ? Tensor<S>.zeros(parameterShape) : nil
        var dBeta = needs[2] ? Tensor<S>.zeros(betaShape) : nil
        func pointer(_ t: inout Tensor<S>?, _ body: (UnsafeMutablePointer<S>?) -> Void) {
            if t == nil { body(nil) } else { t!.withUnsafeMutableBufferPointer { body($0.baseAddress!) } }
        }
        g.withUnsafeBufferPointer { gp in
            xv.withUnsafeBufferPointer { xp in
                savedMean.withUnsafeBufferPointer { mp in
                    rstd.withUnsafeBufferPointer { rp in
                        γ.withUnsafeBufferPointer { γp in
                            pointer(&dx) { dxp in
                                pointer(&dGamma) { dgp in
                                    pointer(&dBeta) { dbp in
                                        let (gg, a, m, r, c) = (gp.baseAddress!, xp.baseAddress!, mp.baseAddress!, rp.baseAddress!, γp.baseAddress!)
                                        path.run(loop: {
                                            BatchNormalizationKernels.backwardLoop(gg, a, layout, features: features, samples: samples, mean: m,
                                                                                   rstd: r, gamma: c, training: training, dxp, dgp, dbp)
                                        }, vectorized: {
                                            batchNormalizationBackward(gg, a, layout, features: features, samples: samples, mean: m, rstd: r,
                                                                       gamma: c, training: training, dxp, dgp, dbp)
                                        })
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return [dx, dGamma, dBeta]
    }
    return (output, mean, variance)
}

/// The vectorized backward: the two sums per feature (skipped when only
/// an inference-mode ∂J/∂x is wanted), the per-feature constants, then one
/// pass writing ∂J/∂x = a g + c (x − μ) + d.
private func batchNormalizationBackward<S: TensorScalar>(
    _ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ layout: BatchNormalizationKernels.Layout, features: Int, samples: Int,
    mean: UnsafePointer<S>, rstd: UnsafePointer<S>, gamma: UnsafePointer<S>, training: Bool,
    _ dx: UnsafeMutablePointer<S>?, _ dGamma: UnsafeMutablePointer<S>?, _ dBeta: UnsafeMutablePointer<S>?
) {
    let needsSums = dGamma != nil || dBeta != nil || (dx != nil && training)
    var sumG = [S](repeating: 0, count: features), sumGX = [S](repeating: 0, count: features)
    if needsSums {
        BatchNormalizationKernels.gradientSums(g, x, layout, features: features, samples: samples, mean: mean, &sumG, &sumGX)
    }
    for f in 0..<features {
        dBeta?[f] = sumG[f]
        dGamma?[f] = S(Double(sumGX[f]) * Double(rstd[f]))
    }
    guard let dx else { return }
    // a = γ r; c = −a r² Σ g (x − μ)/m; d = −a Σ g/m.
    let m = Double(samples)
    var a = [S](repeating: 0, count: features), c = a, d = a
    for f in 0..<features {
        let r = Double(rstd[f]), af = Double(gamma[f]) * r
        a[f] = S(af)
        c[f] = S(-af * r * r * Double(sumGX[f]) / m)
        d[f] = S(-af * Double(sumG[f]) / m)
    }
    if training {
        BatchNormalizationKernels.inputGradient(g, x, layout, features: features, samples: samples, mean: mean, a: a, c: c, d: d, dx)
    } else {
        BatchNormalizationKernels.inputGradient(g, x, layout, features: features, samples: samples, mean: mean, a: a, c: nil, d: nil, dx)
    }
}
