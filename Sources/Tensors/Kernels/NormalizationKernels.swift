import Foundation

// Layer normalization over the features of each example (Ba et al. 2016; the
// transformer's "Add & Norm", C5W4-04), on the notes' layout: `x` is
// `(d, n)` — d features along axis 0, one column per example or token — so
// column j is normalized with its own statistics:
//
//   μ_j = (1/d) Σ_i x_ij,   σ²_j = (1/d) Σ_i (x_ij − μ_j)²,   r_j = 1/√(σ²_j + ε),
//   x̂_ij = (x_ij − μ_j)·r_j,   y_ij = γ_i x̂_ij + β_i,
//
// backward, for incoming g = ∂J/∂y:
//
//   ∂J/∂β_i = Σ_j g_ij,   ∂J/∂γ_i = Σ_j g_ij x̂_ij,
//   ∂J/∂x_ij = r_j·(γ_i g_ij − (1/d) Σ_k γ_k g_kj − x̂_ij·(1/d) Σ_k γ_k g_kj x̂_kj).
//
// The columns are contiguous along a row, so the vectorized path runs SIMD
// lanes across columns: a block of columns is swept row by row, accumulating
// each column's sums in registers' worth of lanes. Blocks are split between
// threads by a fixed size, and ∂γ, ∂β are summed block by block in order:
// results are bitwise identical for any thread count.
enum NormalizationKernels {
    /// Columns per block of the vectorized path.
    static let columnBlock = 256

    // MARK: Loop path

    /// `y`, and (when given) `x̂` and `r` for the backward pass.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func layerNormLoop<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ gamma: UnsafePointer<S>, _ beta: UnsafePointer<S>, d: Int, n: Int, epsilon: Double,
        _ y: UnsafeMutablePointer<S>, _ normalized: UnsafeMutablePointer<S>?, _ rstd: UnsafeMutablePointer<S>?
    ) {
        for j in 0..<n {
            var mean = 0.0
            for i in 0..<d { mean += Double(x[i * n + j]) }
            mean /= Double(d)
            var variance = 0.0
            for i in 0..<d { let e = Double(x[i * n + j]) - mean; variance += e * e }
            let r = 1 / (variance / Double(d) + epsilon).squareRoot()
            for i in 0..<d {
                let xhat = (Double(x[i * n + j]) - mean) * r
                y[i * n + j] = S(Double(gamma[i]) * xhat + Double(beta[i]))
                normalized?[i * n + j] = S(xhat)
            }
            rstd?[j] = S(r)
        }
    }

    /// The gradients from the saved `x̂` and `r`; `dx`, `dGamma`, `dBeta` are overwritten (nil: not wanted).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func layerNormBackwardLoop<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ normalized: UnsafePointer<S>, _ rstd: UnsafePointer<S>, _ gamma: UnsafePointer<S>, d: Int, n: Int,
        _ dx: UnsafeMutablePointer<S>?, _ dGamma: UnsafeMutablePointer<S>?, _ dBeta: UnsafeMutablePointer<S>?
    ) {
        for i in 0..<d {
            var sg = 0.0, sgx = 0.0
            for j in 0..<n { sg += Double(g[i * n + j]); sgx += Double(g[i * n + j]) * Double(normalized[i * n + j]) }
            dBeta?[i] = S(sg)
            dGamma?[i] = S(sgx)
        }
        guard let dx else { return }
        for j in 0..<n {
            var mean = 0.0, meanX = 0.0
            for i in 0..<d {
                let gg = Double(gamma[i]) * Double(g[i * n + j])
                mean += gg
                meanX += gg * Double(normalized[i * n + j])
            }
            mean /= Double(d)
            meanX /= Double(d)
            for i in 0..<d {
                let gg = Double(gamma[i]) * Double(g[i * n + j])
                dx[i * n + j] = S(Double(rstd[j]) * (gg - mean - Double(normalized[i * n + j]) * meanX))
            }
        }
    }

    // MARK: Vectorized path

    static func layerNorm<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ gamma: UnsafePointer<S>, _ beta: UnsafePointer<S>, d: Int, n: Int, epsilon: Double,
        _ y: UnsafeMutablePointer<S>, _ normalized: UnsafeMutablePointer<S>?, _ rstd: UnsafeMutablePointer<S>?
    ) {
        switch S.scalarType {
        case .float32:
            forwardTyped(cast(x, to: Float.self), cast(gamma, to: Float.self), cast(beta, to: Float.self), d, n, Float(epsilon),
                         cast(y, to: Float.self), normalized.map { cast($0, to: Float.self) }, rstd.map { cast($0, to: Float.self) },
                         SIMD8<Float>.self)
        case .float64:
            forwardTyped(cast(x, to: Double.self), cast(gamma, to: Double.self), cast(beta, to: Double.self), d, n, epsilon,
                         cast(y, to: Double.self), normalized.map { cast($0, to: Double.self) }, rstd.map { cast($0, to: Double.self) },
                         SIMD4<Double>.self)
        }
    }

    static func layerNormBackward<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ normalized: UnsafePointer<S>, _ rstd: UnsafePointer<S>, _ gamma: UnsafePointer<S>, d: Int, n: Int,
        _ dx: UnsafeMutablePointer<S>?, _ dGamma: UnsafeMutablePointer<S>?, _ dBeta: UnsafeMutablePointer<S>?
    ) {
        switch S.scalarType {
        case .float32:
            let f = { (p: UnsafePointer<S>) in cast(p, to: Float.self) }, m = { (p: UnsafeMutablePointer<S>) in cast(p, to: Float.self) }
            backwardTyped(f(g), f(normalized), f(rstd), f(gamma), d, n, dx.map(m), dGamma.map(m), dBeta.map(m), SIMD8<Float>.self)
        case .float64:
            let f = { (p: UnsafePointer<S>) in cast(p, to: Double.self) }, m = { (p: UnsafeMutablePointer<S>) in cast(p, to: Double.self) }
            backwardTyped(f(g), f(normalized), f(rstd), f(gamma), d, n, dx.map(m), dGamma.map(m), dBeta.map(m), SIMD4<Double>.self)
        }
    }

    /// Calls `body(start, count)` for each block of columns, in parallel.
    @inline(__always)
    static func forEachBlock(_ n: Int, work: Int, _ body: (Int, Int) -> Void) {
        let blocks = (n + columnBlock - 1) / columnBlock
        parallelFor(chunks: blocks, work: work) { block in
            let start = block * columnBlock
            body(start, Swift.min(columnBlock, n - start))
        }
    }

    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<V.Scalar>, _ count: Int) -> V { PartialVector.load(p, count) }

    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>, _ count: Int) { PartialVector.store(v, p, count) }

    static func forwardTyped<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ gamma: UnsafePointer<V.Scalar>, _ beta: UnsafePointer<V.Scalar>, _ d: Int, _ n: Int,
        _ epsilon: V.Scalar, _ y: UnsafeMutablePointer<V.Scalar>, _ normalized: UnsafeMutablePointer<V.Scalar>?,
        _ rstd: UnsafeMutablePointer<V.Scalar>?, _: V.Type
    ) where V.Scalar: TensorScalar & BinaryFloatingPoint {
        let w = V.scalarCount, inverseD = 1 / V.Scalar(d)
        let ptrs = UncheckedSendable((x, gamma, beta, y, normalized, rstd))
        forEachBlock(n, work: 4 * d * n) { start, count in
            let (x, gamma, beta, y, normalized, rstd) = ptrs.value
            var j = start
            while j < start + count {
                let lanes = Swift.min(w, start + count - j)
                // Two passes for the statistics (mean, then squared deviations): as accurate as the loop twin.
                var sum = V()
                for i in 0..<d { sum += load(x + i * n + j, lanes) }
                let mean = sum * inverseD
                var squares = V()
                for i in 0..<d { let e = load(x + i * n + j, lanes) as V - mean; squares += e * e }
                let r = 1 / (squares * inverseD + epsilon).squareRoot()
                for i in 0..<d {
                    let xhat = (load(x + i * n + j, lanes) as V - mean) * r
                    store(xhat * gamma[i] + beta[i], y + i * n + j, lanes)
                    if let normalized { store(xhat, normalized + i * n + j, lanes) }
                }
                if let rstd { store(r, rstd + j, lanes) }
                j += lanes
            }
        }
    }

    static func backwardTyped<V: SIMD>(
        _ g: UnsafePointer<V.Scalar>, _ normalized: UnsafePointer<V.Scalar>, _ rstd: UnsafePointer<V.Scalar>,
        _ gamma: UnsafePointer<V.Scalar>, _ d: Int, _ n: Int,
        _ dx: UnsafeMutablePointer<V.Scalar>?, _ dGamma: UnsafeMutablePointer<V.Scalar>?, _ dBeta: UnsafeMutablePointer<V.Scalar>?,
        _: V.Type
    ) where V.Scalar: TensorScalar & BinaryFloatingPoint {
        typealias S = V.Scalar
        let w = V.scalarCount, inverseD = 1 / S(d)
        let blocks = (n + columnBlock - 1) / columnBlock
        // Per block: Σ_j g and Σ_j g·x̂ for each feature, summed over the blocks in order afterwards.
        let wantsParameters = dGamma != nil || dBeta != nil
        var partial = [S](repeating: 0, count: wantsParameters ? 2 * blocks * d : 0)
        partial.withUnsafeMutableBufferPointer { partial in
            let ptrs = UncheckedSendable((g, normalized, rstd, gamma, dx, partial.baseAddress))
            forEachBlock(n, work: 6 * d * n) { start, count in
                let (g, normalized, rstd, gamma, dx, partial) = ptrs.value
                if let partial {
                    let out = partial + 2 * (start / columnBlock) * d
                    for i in 0..<d {
                        var sg = V(), sgx = V()
                        var j = start
                        while j < start + count {
                            let lanes = Swift.min(w, start + count - j)
                            let gi: V = load(g + i * n + j, lanes)
                            sg += gi
                            sgx += gi * load(normalized + i * n + j, lanes)
                            j += lanes
                        }
                        out[i] = sg.sum()
                        out[d + i] = sgx.sum()
                    }
                }
                guard let dx else { return }
                var j = start
                while j < start + count {
                    let lanes = Swift.min(w, start + count - j)
                    var mean = V(), meanX = V()
                    for i in 0..<d {
                        let gg = load(g + i * n + j, lanes) as V * gamma[i]
                        mean += gg
                        meanX += gg * load(normalized + i * n + j, lanes)
                    }
                    mean *= inverseD
                    meanX *= inverseD
                    let r: V = load(rstd + j, lanes)
                    for i in 0..<d {
                        let gg = load(g + i * n + j, lanes) as V * gamma[i]
                        store(r * (gg - mean - load(normalized + i * n + j, lanes) * meanX), dx + i * n + j, lanes)
                    }
                    j += lanes
                }
            }
            guard let base = partial.baseAddress else { return }
            for i in 0..<d {
                var sg: S = 0, sgx: S = 0
                for block in 0..<blocks { sg += base[2 * block * d + i]; sgx += base[2 * block * d + d + i] }
                dBeta?[i] = sg
                dGamma?[i] = sgx
            }
        }
    }
}
