import Foundation

// Batch normalization (Ioffe & Szegedy 2015; C2W3-04, and over the channels
// of feature maps in C4) on a 2-D view with F features of M samples each:
//
//   μ_f = (1/M) Σ_i x_fi,   σ²_f = (1/M) Σ_i (x_fi − μ_f)²,   r_f = 1/√(σ²_f + ε),
//   y_fi = γ_f (x_fi − μ_f) r_f + β_f,
//
// and backward, for incoming g = ∂J/∂y, with a_f = γ_f r_f:
//
//   ∂J/∂β_f = Σ_i g_fi,   ∂J/∂γ_f = r_f Σ_i g_fi (x_fi − μ_f),
//   ∂J/∂x_fi = a_f (g_fi − (1/M) ∂J/∂β_f − (x_fi − μ_f) r_f (1/M) ∂J/∂γ_f)     (training: batch statistics),
//   ∂J/∂x_fi = a_f g_fi                                                      (inference: running statistics).
//
// The second line is the notes' `(1/m)/√(σ² + ε) · (m·g′ − Σ g′ − x̂ Σ g′x̂)`
// with g′ = γ g, regrouped so that one pass over (g, x) writes ∂J/∂x.
//
// Two layouts: `.columns` — x is (M, F), a feature per column (channels last:
// (m·n_H·n_W, n_C)); `.rows` — x is (F, M), a feature per row (dense units:
// (n, m)). Nothing is saved between forward and backward but μ and r: x̂ is
// recomputed from x, which the caller keeps anyway.
//
// Vectorized path, columns: SIMD lanes run across features; samples are cut
// into blocks of a fixed number of elements. Each block's statistics come from
// two passes over the block while it sits in cache (sums, then squared
// deviations from the block mean; sums taken relative to the tensor's first
// sample, so that values far from zero keep their low digits), and the blocks
// are merged in order with Chan, Golub & LeVeque's pairwise update (in
// Double): one pass over memory, the accuracy of a two-pass method. Rows: a
// feature's samples are contiguous; each feature is one unit of work. Block
// boundaries depend on the shape only, so results are bitwise identical for
// any thread count.
enum BatchNormalizationKernels {
    /// Which axis of the 2-D view holds the features.
    enum Layout {
        /// x is (M, F): statistics down each column (channels last, features contiguous).
        case columns
        /// x is (F, M): statistics along each row (dense units, samples contiguous).
        case rows
    }

    /// Elements per block of samples in the `.columns` layout (64 KB of Float).
    static let blockElements = 16_384

    /// At least 16 rows: very wide rows (more than 1,024 features) would
    /// otherwise make a block per row, and the partial sums as large as x.
    static func rowsPerBlock(features: Int) -> Int { Swift.max(16, blockElements / Swift.max(1, features)) }

    @inline(__always)
    static func offsets(_ layout: Layout, features: Int, samples: Int) -> (feature: Int, sample: Int) {
        layout == .columns ? (1, features) : (samples, 1)
    }

    // MARK: Loop path

    /// μ and the biased σ² of every feature: the notes' two passes.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func statisticsLoop<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ layout: Layout, features: Int, samples: Int,
        _ mean: UnsafeMutablePointer<S>, _ variance: UnsafeMutablePointer<S>
    ) {
        let (fs, ss) = offsets(layout, features: features, samples: samples)
        for f in 0..<features {
            var sum = 0.0
            for i in 0..<samples { sum += Double(x[f * fs + i * ss]) }
            let mu = sum / Double(samples)
            var squares = 0.0
            for i in 0..<samples { let e = Double(x[f * fs + i * ss]) - mu; squares += e * e }
            mean[f] = S(mu)
            variance[f] = S(squares / Double(samples))
        }
    }

    /// `y = γ (x − μ) r + β`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func normalizeLoop<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ layout: Layout, features: Int, samples: Int,
        mean: UnsafePointer<S>, rstd: UnsafePointer<S>, gamma: UnsafePointer<S>, beta: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>
    ) {
        let (fs, ss) = offsets(layout, features: features, samples: samples)
        for f in 0..<features {
            let (mu, r, g, b) = (Double(mean[f]), Double(rstd[f]), Double(gamma[f]), Double(beta[f]))
            for i in 0..<samples {
                let k = f * fs + i * ss
                y[k] = S(g * ((Double(x[k]) - mu) * r) + b)
            }
        }
    }

    /// The gradients as the notes write them: g′ = γ g, then
    /// `dx = (r/M)(M g′ − Σ g′ − x̂ Σ g′x̂)` in training, `dx = r g′` at inference.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardLoop<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ layout: Layout, features: Int, samples: Int,
        mean: UnsafePointer<S>, rstd: UnsafePointer<S>, gamma: UnsafePointer<S>, training: Bool,
        _ dx: UnsafeMutablePointer<S>?, _ dGamma: UnsafeMutablePointer<S>?, _ dBeta: UnsafeMutablePointer<S>?
    ) {
        let (fs, ss) = offsets(layout, features: features, samples: samples)
        let m = Double(samples)
        for f in 0..<features {
            let (mu, r, gam) = (Double(mean[f]), Double(rstd[f]), Double(gamma[f]))
            func xhat(_ k: Int) -> Double { (Double(x[k]) - mu) * r }
            var sumG = 0.0, sumGX = 0.0
            for i in 0..<samples { let k = f * fs + i * ss; sumG += Double(g[k]); sumGX += Double(g[k]) * xhat(k) }
            dBeta?[f] = S(sumG)
            dGamma?[f] = S(sumGX)
            guard let dx else { continue }
            for i in 0..<samples {
                let k = f * fs + i * ss, gp = gam * Double(g[k])
                dx[k] = S(training ? r / m * (m * gp - gam * sumG - xhat(k) * gam * sumGX) : r * gp)
            }
        }
    }

    // MARK: Vectorized path

    static func statistics<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ layout: Layout, features: Int, samples: Int,
        _ mean: UnsafeMutablePointer<S>, _ variance: UnsafeMutablePointer<S>
    ) {
        switch S.scalarType {
        case .float32:
            statisticsTyped(cast(x, to: Float.self), layout, features, samples, cast(mean, to: Float.self), cast(variance, to: Float.self),
                            FloatVector.self)
        case .float64:
            statisticsTyped(cast(x, to: Double.self), layout, features, samples, cast(mean, to: Double.self), cast(variance, to: Double.self),
                            DoubleVector.self)
        }
    }

    /// `y = (x − μ) a + β` with `a = γ r` computed by the caller.
    static func normalize<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ layout: Layout, features: Int, samples: Int,
        mean: UnsafePointer<S>, scale: UnsafePointer<S>, beta: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>
    ) {
        switch S.scalarType {
        case .float32:
            let f = { (p: UnsafePointer<S>) in cast(p, to: Float.self) }
            affineTyped(f(x), nil, layout, features, samples, f(mean), f(scale), nil, f(beta), cast(y, to: Float.self), FloatVector.self)
        case .float64:
            let f = { (p: UnsafePointer<S>) in cast(p, to: Double.self) }
            affineTyped(f(x), nil, layout, features, samples, f(mean), f(scale), nil, f(beta), cast(y, to: Double.self), DoubleVector.self)
        }
    }

    /// `Σ_i g` and `Σ_i g (x − μ)` of every feature.
    static func gradientSums<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ layout: Layout, features: Int, samples: Int,
        mean: UnsafePointer<S>, _ sumG: UnsafeMutablePointer<S>, _ sumGX: UnsafeMutablePointer<S>
    ) {
        switch S.scalarType {
        case .float32:
            let f = { (p: UnsafePointer<S>) in cast(p, to: Float.self) }, m = { (p: UnsafeMutablePointer<S>) in cast(p, to: Float.self) }
            sumsTyped(f(g), f(x), layout, features, samples, f(mean), m(sumG), m(sumGX), FloatVector.self)
        case .float64:
            let f = { (p: UnsafePointer<S>) in cast(p, to: Double.self) }, m = { (p: UnsafeMutablePointer<S>) in cast(p, to: Double.self) }
            sumsTyped(f(g), f(x), layout, features, samples, f(mean), m(sumG), m(sumGX), DoubleVector.self)
        }
    }

    /// `dx = a g + c (x − μ) + d` per feature (training), or `dx = a g` when `c` and `d` are nil.
    static func inputGradient<S: TensorScalar>(
        _ g: UnsafePointer<S>, _ x: UnsafePointer<S>, _ layout: Layout, features: Int, samples: Int,
        mean: UnsafePointer<S>, a: UnsafePointer<S>, c: UnsafePointer<S>?, d: UnsafePointer<S>?, _ dx: UnsafeMutablePointer<S>
    ) {
        switch S.scalarType {
        case .float32:
            let f = { (p: UnsafePointer<S>) in cast(p, to: Float.self) }
            if let c, let d {
                affineTyped(f(x), f(g), layout, features, samples, f(mean), f(c), f(a), f(d), cast(dx, to: Float.self), FloatVector.self)
            } else {
                affineTyped(f(g), nil, layout, features, samples, nil, f(a), nil, nil, cast(dx, to: Float.self), FloatVector.self)
            }
        case .float64:
            let f = { (p: UnsafePointer<S>) in cast(p, to: Double.self) }
            if let c, let d {
                affineTyped(f(x), f(g), layout, features, samples, f(mean), f(c), f(a), f(d), cast(dx, to: Double.self), DoubleVector.self)
            } else {
                affineTyped(f(g), nil, layout, features, samples, nil, f(a), nil, nil, cast(dx, to: Double.self), DoubleVector.self)
            }
        }
    }

    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<V.Scalar>, _ count: Int) -> V {
        PartialVector.load(p, count)
    }

    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>, _ count: Int) {
        PartialVector.store(v, p, count)
    }

    /// Blocks of samples for the `.columns` layout: (count, rows per block).
    static func blocks(features: Int, samples: Int) -> (Int, Int) {
        let rows = rowsPerBlock(features: features)
        return ((samples + rows - 1) / rows, rows)
    }

    static func statisticsTyped<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ layout: Layout, _ F: Int, _ M: Int,
        _ mean: UnsafeMutablePointer<V.Scalar>, _ variance: UnsafeMutablePointer<V.Scalar>, _: V.Type
    ) where V.Scalar: TensorScalar & BinaryFloatingPoint {
        typealias S = V.Scalar
        let w = V.scalarCount
        if layout == .rows {
            let ptrs = UncheckedSendable((x, mean, variance))
            parallelFor(chunks: F, work: 2 * F * M) { f in
                let (x, mean, variance) = ptrs.value
                let row = x + f * M
                // Σ (x − x₀): sums of values far from zero would lose their low digits.
                let shift = row[0]
                var sum = V(), i = 0
                while i < M {
                    let n = Swift.min(w, M - i)
                    var e: V = load(row + i, n) - shift
                    if n < w { for l in n..<w { e[l] = 0 } }
                    sum += e
                    i += n
                }
                let mu = S(Double(shift) + Double(sum.sum()) / Double(M))   // rounded once
                var squares = V()
                i = 0
                while i < M {
                    let n = Swift.min(w, M - i)
                    var e: V = load(row + i, n) - mu
                    if n < w { for l in n..<w { e[l] = 0 } }
                    squares += e * e
                    i += n
                }
                mean[f] = mu
                variance[f] = squares.sum() / S(M)
            }
            return
        }
        // Columns: per block, Σ (x − x₀) of every feature, with x₀ the tensor's first
        // sample (values far from zero would otherwise lose their low digits in the
        // sums), the block's centre c = x₀ + Σ/n rounded to S, and the squared
        // deviations from c.
        let (count, rows) = blocks(features: F, samples: M)
        var partial = [S](repeating: 0, count: 3 * count * F)
        partial.withUnsafeMutableBufferPointer { partial in
            let ptrs = UncheckedSendable((x, partial.baseAddress!))
            parallelFor(chunks: count, work: 2 * F * M) { block in
                let (x, partial) = ptrs.value
                let start = block * rows, n = Swift.min(rows, M - start)
                let base = x + start * F, blockSums = partial + 3 * block * F, blockSquares = blockSums + F
                let centres = blockSquares + F
                // Row by row (sequential in memory), every feature's sums.
                blockSums.initialize(repeating: 0, count: F)
                blockSquares.initialize(repeating: 0, count: F)
                for i in 0..<n {
                    var f = 0
                    while f < F {
                        let lanes = Swift.min(w, F - f)
                        let e: V = load(base + i * F + f, lanes) - load(x + f, lanes)
                        store(load(blockSums + f, lanes) + e, blockSums + f, lanes)
                        f += lanes
                    }
                }
                let inverse = 1 / S(n)
                var f = 0
                while f < F {
                    let lanes = Swift.min(w, F - f)
                    let first: V = load(x + f, lanes), sum: V = load(blockSums + f, lanes)
                    store(first + sum * inverse, centres + f, lanes)
                    f += lanes
                }
                for i in 0..<n {
                    var f = 0
                    while f < F {
                        let lanes = Swift.min(w, F - f)
                        let e: V = load(base + i * F + f, lanes) - load(centres + f, lanes)
                        store(load(blockSquares + f, lanes) + e * e, blockSquares + f, lanes)
                        f += lanes
                    }
                }
            }
            // Chan, Golub & LeVeque, in Double: merge (n_a, μ_a, M2_a) with (n_b, μ_b, M2_b),
            // blocks in order; μ_b = x₀ + Σ_b/n_b exactly, and M2_b moved from the centre c_b
            // its squares were taken about to μ_b.
            let p = partial.baseAddress!
            for f in 0..<F {
                let first = Double(x[f])
                var n = 0.0, mu = 0.0, m2 = 0.0
                for block in 0..<count {
                    let nb = Double(Swift.min(rows, M - block * rows))
                    let sums = p + 3 * block * F
                    let mb = first + Double(sums[f]) / nb, c = Double(sums[2 * F + f])
                    let m2b = Double(sums[F + f]) - nb * (mb - c) * (mb - c)
                    let total = n + nb, delta = mb - mu
                    mu += delta * (nb / total)
                    m2 += m2b + delta * delta * (n * nb / total)
                    n = total
                }
                mean[f] = S(mu)
                variance[f] = S(Swift.max(0, m2) / Double(M))
            }
        }
    }

    /// `out = (x − μ)·p + q·h + b` per feature, each term present when its
    /// pointers are: normalize is `(x − μ)·a + β`, the training input gradient
    /// `(x − μ)·c + g·a + d`, the inference one `g·a` (x = g, no μ, no h, no b).
    static func affineTyped<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ h: UnsafePointer<V.Scalar>?, _ layout: Layout, _ F: Int, _ M: Int,
        _ mean: UnsafePointer<V.Scalar>?, _ p: UnsafePointer<V.Scalar>, _ q: UnsafePointer<V.Scalar>?, _ b: UnsafePointer<V.Scalar>?,
        _ out: UnsafeMutablePointer<V.Scalar>, _: V.Type
    ) where V.Scalar: TensorScalar & BinaryFloatingPoint {
        typealias S = V.Scalar
        let w = V.scalarCount
        let ptrs = UncheckedSendable((x, h, mean, p, q, b, out))
        if layout == .rows {
            parallelFor(chunks: F, work: 2 * F * M) { f in
                let (x, h, mean, p, q, b, out) = ptrs.value
                let mu = mean?[f] ?? 0, pf = p[f], qf = q?[f] ?? 0, bf = b?[f] ?? 0
                let row = f * M
                var i = 0
                while i < M {
                    let n = Swift.min(w, M - i)
                    var v = (load(x + row + i, n) as V - mu) * pf + bf
                    if let h { let hv: V = load(h + row + i, n); v += hv * qf }
                    store(v, out + row + i, n)
                    i += n
                }
            }
            return
        }
        // Row by row (sequential in memory); absent terms as zeros.
        let zeros = [S](repeating: 0, count: F)
        zeros.withUnsafeBufferPointer { zeros in
            let z = UncheckedSendable(zeros.baseAddress!)
            let (count, rows) = blocks(features: F, samples: M)
            parallelFor(chunks: count, work: 2 * F * M) { block in
                let (x, h, mean, p, q, b, out) = ptrs.value
                let (mu, bias) = (mean ?? z.value, b ?? z.value)
                let start = block * rows, n = Swift.min(rows, M - start)
                if let h, let q {
                    for i in start..<(start + n) {
                        var f = 0
                        while f < F {
                            let lanes = Swift.min(w, F - f), k = i * F + f
                            let xv: V = load(x + k, lanes), hv: V = load(h + k, lanes)
                            let centred = xv - load(mu + f, lanes)
                            store(centred * load(p + f, lanes) + hv * load(q + f, lanes) + load(bias + f, lanes), out + k, lanes)
                            f += lanes
                        }
                    }
                } else {
                    for i in start..<(start + n) {
                        var f = 0
                        while f < F {
                            let lanes = Swift.min(w, F - f), k = i * F + f
                            let xv: V = load(x + k, lanes)
                            let centred = xv - load(mu + f, lanes)
                            store(centred * load(p + f, lanes) + load(bias + f, lanes), out + k, lanes)
                            f += lanes
                        }
                    }
                }
            }
        }
    }

    static func sumsTyped<V: SIMD>(
        _ g: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ layout: Layout, _ F: Int, _ M: Int, _ mean: UnsafePointer<V.Scalar>,
        _ sumG: UnsafeMutablePointer<V.Scalar>, _ sumGX: UnsafeMutablePointer<V.Scalar>, _: V.Type
    ) where V.Scalar: TensorScalar & BinaryFloatingPoint {
        typealias S = V.Scalar
        let w = V.scalarCount
        if layout == .rows {
            let ptrs = UncheckedSendable((g, x, mean, sumG, sumGX))
            parallelFor(chunks: F, work: 2 * F * M) { f in
                let (g, x, mean, sumG, sumGX) = ptrs.value
                let row = f * M, mu = mean[f]
                var sg = V(), sgx = V(), i = 0
                while i < M {
                    let n = Swift.min(w, M - i)
                    let gi: V = load(g + row + i, n)
                    sg += gi
                    sgx += gi * (load(x + row + i, n) as V - mu)
                    i += n
                }
                sumG[f] = sg.sum()
                sumGX[f] = sgx.sum()
            }
            return
        }
        let (count, rows) = blocks(features: F, samples: M)
        var partial = [S](repeating: 0, count: 2 * count * F)
        partial.withUnsafeMutableBufferPointer { partial in
            let ptrs = UncheckedSendable((g, x, mean, partial.baseAddress!))
            parallelFor(chunks: count, work: 2 * F * M) { block in
                let (g, x, mean, partial) = ptrs.value
                let start = block * rows, n = Swift.min(rows, M - start)
                let sg = partial + 2 * block * F, sgx = sg + F
                sg.initialize(repeating: 0, count: 2 * F)
                for i in start..<(start + n) {   // row by row, sequential in memory
                    var f = 0
                    while f < F {
                        let lanes = Swift.min(w, F - f), k = i * F + f
                        let gi: V = load(g + k, lanes), xv: V = load(x + k, lanes)
                        store(load(sg + f, lanes) + gi, sg + f, lanes)
                        store(load(sgx + f, lanes) + gi * (xv - load(mean + f, lanes)), sgx + f, lanes)
                        f += lanes
                    }
                }
            }
            let p = partial.baseAddress!
            for f in 0..<F {
                var sg = 0.0, sgx = 0.0
                for block in 0..<count { sg += Double(p[2 * block * F + f]); sgx += Double(p[2 * block * F + F + f]) }
                sumG[f] = S(sg)
                sumGX[f] = S(sgx)
            }
        }
    }
}
