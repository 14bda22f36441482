import Foundation

// Scaled dot-product attention (C5W4-02), for N = batch·heads independent
// problems at once:
//
//   S = scale·Q·Kᵀ (T_q × T_k),   P = softmax over each row of S (masked keys excluded),   O = P·V
//
// and its backward rule, for incoming dO:
//
//   dV = Pᵀ·dO,   dP = dO·Vᵀ,   dS = P ⊙ (dP − D) with D_i = Σ_j P_ij dP_ij,
//   dQ = scale·dS·K,   dK = scale·dSᵀ·Q.
//
// The vectorized path works on blocks of query rows (`queryRows`): with a
// causal mask, block [i₀, i₁) only meets keys [0, i₁), so about half of the
// products are skipped (without one, a block holds as many queries as fit a
// fixed number of scores); each block's scores live in a small row-major buffer
// (or in the saved weights) while they are masked, exponentiated and multiplied
// with V. The products run on the GEMM's register micro-kernel (`DirectGEMM`);
// the heads of one layout need no copy because each operand is described by
// its two strides. Work is split by (batch, head) item, and each item is
// computed the same way whatever thread runs it: results are bitwise identical
// for any thread count. The loop path is the notes' per-query formula
// `A(q, K, V) = Σ_i softmax_i(q·k⟨i⟩·scale)·v⟨i⟩`, accumulated in Double.

/// Where the heads of an attention operand are stored.
enum AttentionLayout: Sendable {
    /// `(…, T, d)` row-major (PyTorch's `(B, h, T, d)`): each item's matrix is
    /// contiguous, token `t`'s channels at `t·d`.
    case tokenMajor
    /// `(h·d, m, T)`, the notes' sequence layout with the heads stacked along
    /// the features: channel `c` of head `h`, example `b`, token `t` at
    /// `((h·d + c)·m + b)·T + t`.
    case featureMajor
}

/// One (batch, head) item's matrix `(tokens × channels)` inside an operand:
/// element `(t, c)` at `base[t·tokenStride + c·channelStride]`, one of the
/// strides being 1.
struct HeadMatrix<S: TensorScalar> {
    var base: UnsafeMutablePointer<S>
    var tokenStride: Int, channelStride: Int

    /// The rows from token `t` on, as a GEMM operand `(tokens × channels)`
    /// (`transposed == false`) or `(channels × tokens)` (`true`).
    @inline(__always) func operand(from t: Int, transposed: Bool) -> (UnsafePointer<S>, ld: Int, trans: Bool) {
        let rowMajor = channelStride == 1
        return (UnsafePointer(base + t * tokenStride), rowMajor ? tokenStride : channelStride, rowMajor == transposed)
    }

    @inline(__always) subscript(t: Int, c: Int) -> S {
        get { base[t * tokenStride + c * channelStride] }
        nonmutating set { base[t * tokenStride + c * channelStride] = newValue }
    }
}

/// The sizes, layout and mask of one attention call.
struct AttentionProblem<S: TensorScalar>: @unchecked Sendable {
    var batch: Int, heads: Int
    var queryTokens: Int, keyTokens: Int
    var keyChannels: Int, valueChannels: Int
    var layout: AttentionLayout
    var scale: S
    var causal: Bool
    /// Per batch item, how many leading keys are real (the rest is padding).
    var keyLengths: [Int]?

    var items: Int { batch * heads }

    /// The keys query `i` of batch item `b` may attend to: `0..<validKeys(b, i)`.
    @inline(__always) func validKeys(_ b: Int, _ i: Int) -> Int {
        var n = keyTokens
        if causal { n = Swift.min(n, i + 1) }
        if let keyLengths { n = Swift.min(n, keyLengths[b]) }
        return n
    }

    /// Item `n`'s matrix in an operand of `tokens × channels` per head.
    @inline(__always) func head<T>(_ base: UnsafeMutablePointer<T>, _ n: Int, tokens: Int, channels: Int) -> HeadMatrix<T> {
        let b = n / heads, h = n % heads
        switch layout {
        case .tokenMajor:
            return HeadMatrix(base: base + n * tokens * channels, tokenStride: channels, channelStride: 1)
        case .featureMajor:
            return HeadMatrix(base: base + h * channels * batch * tokens + b * tokens, tokenStride: 1, channelStride: batch * tokens)
        }
    }
}

enum AttentionKernels {
    /// Query rows per block of the vectorized path: four micro-tiles of rows
    /// (24 with the 6-row kernel), so that only a sequence's last block has a
    /// partial tile, and small enough that a causal mask skips most of the
    /// upper triangle (59 % of the full products remain at T = 128).
    static var queryBlock: Int { 4 * GEMMConfiguration.kernel.rows }

    /// Scores a block without a causal mask may hold (128 KiB in Float).
    static let blockScores = 1 << 15

    /// Query rows per block for `p`: ``queryBlock`` with a causal mask; without
    /// one no keys are skipped, so all the queries at once while their scores
    /// fit ``blockScores``, else the most whole `queryBlock`s that fit. Each
    /// block packs K's panels anew (and V's in the token-major layout); in the
    /// feature-major layout its `·V` product has the block's rows as columns
    /// (a transformer layer's 128 queries at 32 channels per head, in blocks
    /// of 24, computed 32 columns for 24 and packed K six times). The block
    /// size depends on the shape and the kernel, never on the thread count.
    static func queryRows<S>(_ p: AttentionProblem<S>) -> Int {
        let block = queryBlock, tq = p.queryTokens, tk = Swift.max(1, p.keyTokens)
        if p.causal || tq <= block { return block }
        if tq * tk <= blockScores { return tq }
        return Swift.max(block, blockScores / tk / block * block)
    }

    // MARK: Loop path

    /// `O = softmax(scale·Q·Kᵀ + mask)·V`; `weights` (items × T_q × T_k), when
    /// given, receives P (zero at masked keys). Rows with no valid key give 0.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forwardLoop<S: TensorScalar>(
        _ p: AttentionProblem<S>, _ q: UnsafeMutablePointer<S>, _ k: UnsafeMutablePointer<S>, _ v: UnsafeMutablePointer<S>,
        _ out: UnsafeMutablePointer<S>, _ weights: UnsafeMutablePointer<S>?
    ) {
        let tq = p.queryTokens, tk = p.keyTokens
        var scores = [Double](repeating: 0, count: tk)
        for n in 0..<p.items {
            let Q = p.head(q, n, tokens: tq, channels: p.keyChannels), K = p.head(k, n, tokens: tk, channels: p.keyChannels)
            let V = p.head(v, n, tokens: tk, channels: p.valueChannels), O = p.head(out, n, tokens: tq, channels: p.valueChannels)
            for i in 0..<tq {
                let valid = p.validKeys(n / p.heads, i)
                var largest = -Double.infinity
                for j in 0..<valid {
                    var dot = 0.0
                    for c in 0..<p.keyChannels { dot += Double(Q[i, c]) * Double(K[j, c]) }
                    scores[j] = dot * Double(p.scale)
                    largest = Swift.max(largest, scores[j])
                }
                var total = 0.0
                for j in 0..<valid { scores[j] = Foundation.exp(scores[j] - largest); total += scores[j] }
                for j in 0..<tk { scores[j] = j < valid ? scores[j] / total : 0 }
                if let weights { for j in 0..<tk { weights[(n * tq + i) * tk + j] = S(scores[j]) } }
                for c in 0..<p.valueChannels {
                    var sum = 0.0
                    for j in 0..<valid { sum += scores[j] * Double(V[j, c]) }
                    O[i, c] = S(sum)
                }
            }
        }
    }

    /// The gradients of ``forwardLoop`` from the saved weights P; `dq`, `dk`,
    /// `dv` are overwritten (nil: not wanted).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardLoop<S: TensorScalar>(
        _ p: AttentionProblem<S>, _ q: UnsafeMutablePointer<S>, _ k: UnsafeMutablePointer<S>, _ v: UnsafeMutablePointer<S>,
        _ weights: UnsafeMutablePointer<S>, _ dOut: UnsafeMutablePointer<S>,
        _ dq: UnsafeMutablePointer<S>?, _ dk: UnsafeMutablePointer<S>?, _ dv: UnsafeMutablePointer<S>?
    ) {
        let tq = p.queryTokens, tk = p.keyTokens, dk_ = p.keyChannels, dv_ = p.valueChannels
        var dS = [Double](repeating: 0, count: tk)
        for n in 0..<p.items {
            let Q = p.head(q, n, tokens: tq, channels: dk_), K = p.head(k, n, tokens: tk, channels: dk_)
            let V = p.head(v, n, tokens: tk, channels: dv_), dO = p.head(dOut, n, tokens: tq, channels: dv_)
            let P = { (i: Int, j: Int) in Double(weights[(n * tq + i) * tk + j]) }
            var dQ = [Double](repeating: 0, count: tq * dk_), dK = [Double](repeating: 0, count: tk * dk_)
            var dV = [Double](repeating: 0, count: tk * dv_)
            for i in 0..<tq {
                let valid = p.validKeys(n / p.heads, i)
                var D = 0.0
                for j in 0..<valid {
                    var dP = 0.0
                    for c in 0..<dv_ { dP += Double(dO[i, c]) * Double(V[j, c]) }
                    dS[j] = dP
                    D += P(i, j) * dP
                    for c in 0..<dv_ { dV[j * dv_ + c] += P(i, j) * Double(dO[i, c]) }
                }
                for j in 0..<valid {
                    let s = P(i, j) * (dS[j] - D) * Double(p.scale)
                    for c in 0..<dk_ {
                        dQ[i * dk_ + c] += s * Double(K[j, c])
                        dK[j * dk_ + c] += s * Double(Q[i, c])
                    }
                }
            }
            if let dq { let G = p.head(dq, n, tokens: tq, channels: dk_); for i in 0..<tq { for c in 0..<dk_ { G[i, c] = S(dQ[i * dk_ + c]) } } }
            if let dk { let G = p.head(dk, n, tokens: tk, channels: dk_); for j in 0..<tk { for c in 0..<dk_ { G[j, c] = S(dK[j * dk_ + c]) } } }
            if let dv { let G = p.head(dv, n, tokens: tk, channels: dv_); for j in 0..<tk { for c in 0..<dv_ { G[j, c] = S(dV[j * dv_ + c]) } } }
        }
    }

    // MARK: Vectorized path

    /// The keys block `[i₀, i₁)` of item `n` meets: `0..<keysOfBlock`.
    @inline(__always)
    static func keysOfBlock<S>(_ p: AttentionProblem<S>, _ n: Int, _ end: Int) -> Int {
        p.validKeys(n / p.heads, end - 1)
    }

    /// ``forwardLoop`` on the micro-kernel. `out` must be zeroed by the caller
    /// (rows without a valid key stay 0).
    static func forward<S: TensorScalar>(
        _ p: AttentionProblem<S>, _ q: UnsafeMutablePointer<S>, _ k: UnsafeMutablePointer<S>, _ v: UnsafeMutablePointer<S>,
        _ out: UnsafeMutablePointer<S>, _ weights: UnsafeMutablePointer<S>?
    ) {
        switch S.scalarType {
        case .float32:
            forwardTyped(retyped(p, Float.self), cast(q, to: Float.self), cast(k, to: Float.self), cast(v, to: Float.self),
                         cast(out, to: Float.self), weights.map { cast($0, to: Float.self) }, FloatVector.self)
        case .float64:
            forwardTyped(retyped(p, Double.self), cast(q, to: Double.self), cast(k, to: Double.self), cast(v, to: Double.self),
                         cast(out, to: Double.self), weights.map { cast($0, to: Double.self) }, DoubleVector.self)
        }
    }

    /// ``backwardLoop`` on the micro-kernel; `dq`, `dk`, `dv` must be zeroed by the caller.
    static func backward<S: TensorScalar>(
        _ p: AttentionProblem<S>, _ q: UnsafeMutablePointer<S>, _ k: UnsafeMutablePointer<S>, _ v: UnsafeMutablePointer<S>,
        _ weights: UnsafeMutablePointer<S>, _ dOut: UnsafeMutablePointer<S>,
        _ dq: UnsafeMutablePointer<S>?, _ dk: UnsafeMutablePointer<S>?, _ dv: UnsafeMutablePointer<S>?
    ) {
        switch S.scalarType {
        case .float32:
            let f = { (x: UnsafeMutablePointer<S>) in cast(x, to: Float.self) }
            backwardTyped(retyped(p, Float.self), f(q), f(k), f(v), f(weights), f(dOut), dq.map(f), dk.map(f), dv.map(f), FloatVector.self)
        case .float64:
            let f = { (x: UnsafeMutablePointer<S>) in cast(x, to: Double.self) }
            backwardTyped(retyped(p, Double.self), f(q), f(k), f(v), f(weights), f(dOut), dq.map(f), dk.map(f), dv.map(f), DoubleVector.self)
        }
    }

    static func retyped<S, T: TensorScalar>(_ p: AttentionProblem<S>, _: T.Type) -> AttentionProblem<T> {
        AttentionProblem<T>(batch: p.batch, heads: p.heads, queryTokens: p.queryTokens, keyTokens: p.keyTokens,
                            keyChannels: p.keyChannels, valueChannels: p.valueChannels, layout: p.layout,
                            scale: T(Double(p.scale)), causal: p.causal, keyLengths: p.keyLengths)
    }

    /// `C (m × n) = α·op(A)·op(B) + β·C` on one thread with the direct micro-kernel path.
    @inline(__always)
    static func product<S: TensorScalar>(
        _ m: Int, _ n: Int, _ k: Int, _ a: (UnsafePointer<S>, ld: Int, trans: Bool), _ b: (UnsafePointer<S>, ld: Int, trans: Bool),
        _ c: UnsafeMutablePointer<S>, ldc: Int, cTransposed: Bool = false, alpha: S, beta: S
    ) {
        // A C stored transposed is computed as Cᵀ = op(B)ᵀ·op(A)ᵀ, row-major: the micro-kernel then stores whole
        // vectors instead of going element by element through its edge-tile path.
        let g = cTransposed
            ? GEMMProblem(m: n, n: m, k: k, a: b.0, lda: b.ld, transA: !b.trans, b: a.0, ldb: a.ld, transB: !a.trans,
                          c: c, ldc: ldc, alpha: alpha, beta: beta)
            : GEMMProblem(m: m, n: n, k: k, a: a.0, lda: a.ld, transA: a.trans, b: b.0, ldb: b.ld, transB: b.trans,
                          c: c, ldc: ldc, alpha: alpha, beta: beta)
        DirectGEMM.single(g, kernel: GEMMConfiguration.kernel)
    }

    /// An output head matrix's rows from `t` on, as a GEMM's C: `(pointer, ldc, transposed)`.
    @inline(__always)
    static func output<S>(_ h: HeadMatrix<S>, from t: Int) -> (UnsafeMutablePointer<S>, Int, Bool) {
        h.channelStride == 1 ? (h.base + t * h.tokenStride, h.tokenStride, false) : (h.base + t, h.channelStride, true)
    }

    static func forwardTyped<V: KernelVector>(
        _ p: AttentionProblem<V.Scalar>, _ q: UnsafeMutablePointer<V.Scalar>, _ k: UnsafeMutablePointer<V.Scalar>,
        _ v: UnsafeMutablePointer<V.Scalar>, _ out: UnsafeMutablePointer<V.Scalar>, _ weights: UnsafeMutablePointer<V.Scalar>?,
        _: V.Type
    ) {
        typealias S = V.Scalar
        let tq = p.queryTokens, tk = p.keyTokens, block = queryRows(p)
        let ptrs = UncheckedSendable((q, k, v, out, weights))
        let work = p.items * tq * tk * (p.keyChannels + p.valueChannels)
        parallelFor(chunks: p.items, work: work) { n in
            let (q, k, v, out, weights) = ptrs.value
            let Q = p.head(q, n, tokens: tq, channels: p.keyChannels), K = p.head(k, n, tokens: tk, channels: p.keyChannels)
            let Vh = p.head(v, n, tokens: tk, channels: p.valueChannels), O = p.head(out, n, tokens: tq, channels: p.valueChannels)
            withUnsafeTemporaryAllocation(of: S.self, capacity: weights == nil ? block * tk : 0) { scratch in
                var i0 = 0
                while i0 < tq {
                    let rows = Swift.min(block, tq - i0)
                    let keys = keysOfBlock(p, n, i0 + rows)
                    defer { i0 += rows }
                    if keys == 0 { continue }
                    let P = weights.map { $0 + (n * tq + i0) * tk } ?? scratch.baseAddress!
                    // S = scale·Q_blk·K[0..<keys]ᵀ
                    product(rows, keys, p.keyChannels, Q.operand(from: i0, transposed: false), K.operand(from: 0, transposed: true),
                            P, ldc: tk, alpha: p.scale, beta: 0)
                    for r in 0..<rows {
                        softmaxRow(P + r * tk, valid: p.validKeys(n / p.heads, i0 + r), length: keys, V.self)
                    }
                    // O_blk = P·V[0..<keys]
                    let (c, ldc, transposed) = output(O, from: i0)
                    product(rows, p.valueChannels, keys, (UnsafePointer(P), tk, false), Vh.operand(from: 0, transposed: false),
                            c, ldc: ldc, cTransposed: transposed, alpha: 1, beta: 0)
                }
            }
        }
    }

    static func backwardTyped<V: KernelVector>(
        _ p: AttentionProblem<V.Scalar>, _ q: UnsafeMutablePointer<V.Scalar>, _ k: UnsafeMutablePointer<V.Scalar>,
        _ v: UnsafeMutablePointer<V.Scalar>, _ weights: UnsafeMutablePointer<V.Scalar>, _ dOut: UnsafeMutablePointer<V.Scalar>,
        _ dq: UnsafeMutablePointer<V.Scalar>?, _ dk: UnsafeMutablePointer<V.Scalar>?, _ dv: UnsafeMutablePointer<V.Scalar>?,
        _: V.Type
    ) {
        typealias S = V.Scalar
        let tq = p.queryTokens, tk = p.keyTokens, ck = p.keyChannels, cv = p.valueChannels, block = queryRows(p)
        let ptrs = UncheckedSendable((q, k, v, weights, dOut, dq, dk, dv))
        let work = 2 * p.items * tq * tk * (ck + cv)
        parallelFor(chunks: p.items, work: work) { n in
            let (q, k, v, weights, dOut, dq, dk, dv) = ptrs.value
            let Q = p.head(q, n, tokens: tq, channels: ck), K = p.head(k, n, tokens: tk, channels: ck)
            let Vh = p.head(v, n, tokens: tk, channels: cv), dO = p.head(dOut, n, tokens: tq, channels: cv)
            let dQ = dq.map { p.head($0, n, tokens: tq, channels: ck) }, dK = dk.map { p.head($0, n, tokens: tk, channels: ck) }
            let dV = dv.map { p.head($0, n, tokens: tk, channels: cv) }
            withUnsafeTemporaryAllocation(of: S.self, capacity: block * tk) { scratch in
                let dS = scratch.baseAddress!
                var i0 = 0
                while i0 < tq {
                    let rows = Swift.min(block, tq - i0)
                    let keys = keysOfBlock(p, n, i0 + rows)
                    defer { i0 += rows }
                    if keys == 0 { continue }
                    let P = UnsafePointer(weights + (n * tq + i0) * tk)
                    let dOblk = dO.operand(from: i0, transposed: false)
                    if let dV {   // dV[0..<keys] += P_blkᵀ·dO_blk
                        let (c, ldc, transposed) = output(dV, from: 0)
                        product(keys, cv, rows, (P, tk, true), dOblk, c, ldc: ldc, cTransposed: transposed, alpha: 1, beta: 1)
                    }
                    if dQ == nil && dK == nil { continue }
                    // dP = dO_blk·V[0..<keys]ᵀ, then dS = scale·P ⊙ (dP − D)
                    product(rows, keys, cv, dOblk, Vh.operand(from: 0, transposed: true), dS, ldc: tk, alpha: 1, beta: 0)
                    for r in 0..<rows {
                        scoreGradientRow(P + r * tk, dS + r * tk, length: keys, scale: p.scale, V.self)
                    }
                    if let dQ {   // dQ_blk = dS·K[0..<keys]
                        let (c, ldc, transposed) = output(dQ, from: i0)
                        product(rows, ck, keys, (UnsafePointer(dS), tk, false), K.operand(from: 0, transposed: false),
                                c, ldc: ldc, cTransposed: transposed, alpha: 1, beta: 0)
                    }
                    if let dK {   // dK[0..<keys] += dSᵀ·Q_blk
                        let (c, ldc, transposed) = output(dK, from: 0)
                        product(keys, ck, rows, (UnsafePointer(dS), tk, true), Q.operand(from: i0, transposed: false),
                                c, ldc: ldc, cTransposed: transposed, alpha: 1, beta: 1)
                    }
                }
            }
        }
    }

    /// In place over `row[0..<length]`: the softmax of the first `valid`
    /// scores, zero for the rest (and for the whole row when `valid == 0`).
    @inline(__always)
    static func softmaxRow<V: KernelVector>(_ row: UnsafeMutablePointer<V.Scalar>, valid: Int, length: Int, _: V.Type) {
        let w = V.scalarCount
        row.advanced(by: valid).update(repeating: 0, count: length - valid)
        if valid == 0 { return }
        var largest = V(repeating: -.infinity)
        var j = 0
        while j + w <= valid { largest = V.maximum(largest, UnsafeRawPointer(row + j).loadUnaligned(as: V.self)); j += w }
        var m = largest.max()
        while j < valid { m = Swift.max(m, row[j]); j += 1 }
        let shift = V(repeating: m)
        var sums = V()
        j = 0
        while j + w <= valid {
            let e = V.exp(UnsafeRawPointer(row + j).loadUnaligned(as: V.self) - shift)
            sums += e
            UnsafeMutableRawPointer(row + j).storeBytes(of: e, as: V.self)
            j += w
        }
        var total = sums.sum()
        if j < valid {
            var tail = shift
            for l in 0..<(valid - j) { tail[l] = row[j + l] }
            let e = V.exp(tail - shift)
            for l in 0..<(valid - j) { row[j + l] = e[l]; total += e[l] }
        }
        let inverse = V(repeating: 1 / total)
        j = 0
        while j + w <= valid {
            UnsafeMutableRawPointer(row + j).storeBytes(of: UnsafeRawPointer(row + j).loadUnaligned(as: V.self) * inverse, as: V.self)
            j += w
        }
        while j < valid { row[j] *= inverse[0]; j += 1 }
    }

    /// `dS = scale·P ⊙ (dP − Σ_j P_j dP_j)` over one row, `dP` given in `dS`.
    @inline(__always)
    static func scoreGradientRow<V: KernelVector>(
        _ p: UnsafePointer<V.Scalar>, _ dS: UnsafeMutablePointer<V.Scalar>, length: Int, scale: V.Scalar, _: V.Type
    ) {
        let w = V.scalarCount
        var dots = V()
        var j = 0
        while j + w <= length {
            dots += UnsafeRawPointer(p + j).loadUnaligned(as: V.self) * UnsafeRawPointer(dS + j).loadUnaligned(as: V.self)
            j += w
        }
        var D = dots.sum()
        while j < length { D += p[j] * dS[j]; j += 1 }
        let d = V(repeating: D), s = V(repeating: scale)
        j = 0
        while j + w <= length {
            let pj = UnsafeRawPointer(p + j).loadUnaligned(as: V.self), g = UnsafeRawPointer(dS + j).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(dS + j).storeBytes(of: s * pj * (g - d), as: V.self)
            j += w
        }
        while j < length { dS[j] = scale * p[j] * (dS[j] - D); j += 1 }
    }
}
