import Dispatch
import Foundation

// The fused sequence kernel behind `recurrentSequence`'s vectorized path.
//
// Layout: strips of the batch, then steps, then batch rows. The batch is
// split into strips of `strip` examples (8 with the AVX-512 kernels, 4
// otherwise; `m` padded to `m̄`, whole strips). Every saved buffer holds, per
// strip, a sequence of step blocks `(strip, width)` in processing order (a
// reversed run is stored back to front): row `j` of a block belongs to
// example `σ·strip + j`. Block `s` of `H` holds the notes' stacked
// `[a⟨s−1⟩; x⟨s⟩]` of each example as a row `(n + n_x)`, so the step's gate
// pre-activations are `Z_s = H_s·Wᵀ` (`(strip, G·n)`, the transpose of the
// notes' `W·[a; x]`); the cell writes `a⟨s⟩` straight into block `s + 1`, so
// states are saved for free, and a strip's blocks of all steps are one
// contiguous matrix with rows `(s, j)`.
//
// An example never reads another example, so each strip is a whole problem
// of its own, run by one thread on its own data from start to end: forward,
// `X_σ·W_xᵀ` for all its steps as one GEMM, then per step `Z += H·W_aᵀ` on a
// tile of the strip's rows × two vectors of gate rows (each row broadcast
// from its own memory, the indirect-convolution idea; `Wᵀ` packed once per
// sequence), then the cell while the rows are in cache; backward, per step
// the cell's `δz` and `δa⟨t−1⟩ += δz·W_a`, then `δX_σ = δZ_σ·W_x` and the
// strip's partial `δW_σ = δZ_σᵀ·H_σ` as two GEMMs. `δW = Σ_σ δW_σ` and
// `δb = Σ_σ δb_σ` are added in strip order, so the bits never depend on the
// thread count. No step waits for another thread, and no cache line one core
// writes is read by the other, except the inputs, the outputs and the `δW_σ`.
//
// Why (LSTM I64 H128 T50 B32 on the 2-vCPU machine, ms): the cores' cache-line
// round trip alternates between ~80–130 ns and ~340–400 ns as the host places
// the vCPUs. The previous design split the hidden units across threads (every
// chunk needs the whole `a⟨t−1⟩`, a barrier per step) and ran the products
// off the recurrence over all examples on all threads: fwd+bwd 2.7–3.0 near,
// 4.0–4.2 far (one thread alone did not slow: the cost was data produced on
// one core and consumed on the other). This design: 2.6–2.7 near, 2.9–3.2 far;
// forward 0.88–0.92 near, 1.06–1.09 far (was 0.92–0.98 and 1.31–1.36). A
// transposed layout with strips but with the off-recurrence GEMMs still shared
// by both threads measured 4.0–4.2 far, so the gain is the ownership, not the
// missing barrier. (Strips of 16 columns in the old layout needed a 12-row,
// one-vector tile, a broadcast per multiply-add: forward 0.96 → 1.52.) The
// cost: a batch of at most `strip` examples runs its recurrence on one thread.

/// The sizes of one fused recurrent problem and its strips.
struct RecurrentPlan {
    let cell: RecurrentCell
    let nx: Int, n: Int, m: Int, T: Int
    let reversed: Bool
    let kernel: GEMMKernel
    /// Examples per strip: the rows of the recurrent tile (8 with the wide
    /// kernels: 8 × 2 vector accumulators; 4 with the 6-row family's narrower
    /// registers).
    let strip: Int
    /// `m` rounded up to whole strips.
    let mPad: Int

    init(cell: RecurrentCell, nx: Int, n: Int, m: Int, T: Int, reversed: Bool, scalarType: ScalarType) {
        (self.cell, self.nx, self.n, self.m, self.T, self.reversed) = (cell, nx, n, m, T, reversed)
        kernel = GEMMConfiguration.kernel
        strip = kernel.isWide ? 8 : 4
        mPad = (m + strip - 1) / strip * strip
    }

    var G: Int { cell.gates }
    /// Width of a stacked row `[a; x]`, the depth of `W`.
    var K: Int { n + nx }
    var strips: Int { mPad / strip }
    /// Time position of processing step `s`.
    @inline(__always) func time(_ s: Int) -> Int { reversed ? T - 1 - s : s }
    /// Offset of strip `strip`'s step block `s` in a strip-major buffer of
    /// `blocks` step blocks per strip, rows `width` wide.
    @inline(__always) func offset(strip: Int, block s: Int, blocks: Int, width: Int) -> Int {
        (strip * blocks + s) * self.strip * width
    }
    /// Offset of example `j`'s row in step block `s` (see ``offset(strip:block:blocks:width:)``).
    @inline(__always) func offset(block s: Int, row j: Int, blocks: Int, width: Int) -> Int {
        offset(strip: j / strip, block: s, blocks: blocks, width: width) + j % strip * width
    }
    /// Multiply-adds of the whole problem: strips go to other threads above
    /// the library's parallel threshold (one job per thread for the whole sequence).
    var work: Int { G * n * K * mPad * T }
}

/// What the forward pass saves for the backward pass, as step blocks (see the
/// file's header). One pooled allocation, returned with the trace.
final class RecurrentTrace<S: TensorScalar>: @unchecked Sendable {
    let plan: RecurrentPlan
    /// Per strip, `T + 1` blocks `(strip, n + n_x)`: block `s` is `[a⟨s−1⟩; x⟨s⟩]`, block `T` holds the last state.
    let stacked: UnsafeMutablePointer<S>
    /// Per strip, `T` blocks `(strip, G·n)` of activated gates: `[Γ_u; Γ_f; Γ_o; c̃]`, `[Γ_u; Γ_r; c̃]` or `a`.
    let gates: UnsafeMutablePointer<S>
    /// LSTM: per strip, `T + 1` blocks `(strip, n)`, `c⟨0⟩` then `c⟨s⟩`.
    let cells: UnsafeMutablePointer<S>?
    /// GRU: per strip, `T` blocks `(strip, n + n_x)` of `[Γ_r ∗ c⟨s−1⟩; x⟨s⟩]`, the candidate's operand.
    let resetStacked: UnsafeMutablePointer<S>?
    /// `T` rows of `m̄`: 1 where step `s` of example `j` is real (`j < m`, `t < length_j`), else 0.
    let masks: UnsafeMutablePointer<S>

    private let block: UnsafeMutableRawPointer, blockBytes: Int

    init(plan: RecurrentPlan) {
        self.plan = plan
        let (n, K, T, mPad) = (plan.n, plan.K, plan.T, plan.mPad)
        let lstm = plan.cell == .lstm, gru = plan.cell == .gru
        let count = ((T + 1) * K + T * plan.G * n + (lstm ? (T + 1) * n : 0) + (gru ? T * K : 0) + T) * mPad
        blockBytes = count * MemoryLayout<S>.stride
        block = PackingBufferPool.shared.take(bytes: blockBytes)
        var next = block.bindMemory(to: S.self, capacity: count)
        func buffer(_ elements: Int) -> UnsafeMutablePointer<S> {
            defer { next += elements }
            return next
        }
        stacked = buffer((T + 1) * K * mPad)
        gates = buffer(T * plan.G * n * mPad)
        cells = lstm ? buffer((T + 1) * n * mPad) : nil
        resetStacked = gru ? buffer(T * K * mPad) : nil
        masks = buffer(T * mPad)
    }

    deinit { PackingBufferPool.shared.give(block, bytes: blockBytes) }

    /// Strip `strip`'s block 0 of the stacked `[a; x]` buffer (its blocks follow, `strip·(n + n_x)` apart).
    @inline(__always) func stackedStrip(_ strip: Int) -> UnsafeMutablePointer<S> {
        stacked + plan.offset(strip: strip, block: 0, blocks: plan.T + 1, width: plan.K)
    }
}

/// Runs `body(σ)` for every strip of `plan`: strips in parallel, each thread
/// a contiguous range of them, so that (as far as the pool's order of claims
/// allows) the thread that wrote a strip's trace in the forward pass reads it
/// back in the backward pass. Which thread runs a strip never changes its bits.
func forEachStrip(_ plan: RecurrentPlan, _ body: (Int) -> Void) {
    let groups = Swift.max(1, Swift.min(Parallelism.maxThreads, plan.strips))
    parallelFor(chunks: groups, work: plan.work) { group in
        for σ in group * plan.strips / groups..<(group + 1) * plan.strips / groups { body(σ) }
    }
}

/// A pooled scratch allocation of `count` elements for the duration of `body`.
@inline(__always)
func withScratch<S, R>(_ count: Int, of _: S.Type, _ body: (UnsafeMutablePointer<S>) -> R) -> R {
    PackingBufferPool.shared.withBuffer(bytes: Swift.max(1, count) * MemoryLayout<S>.stride) { raw in
        body(raw.bindMemory(to: S.self, capacity: count))
    }
}

enum RecurrentKernels {
    // MARK: Forward

    /// Runs the sequence; the output is read from the trace's blocks.
    static func forward<S: TensorScalar>(
        _ plan: RecurrentPlan, x: Tensor<S>, weight: Tensor<S>, bias: Tensor<S>,
        initialState: Tensor<S>?, initialCell: Tensor<S>?, lengths: [Int]?
    ) -> RecurrentTrace<S> {
        let trace = RecurrentTrace<S>(plan: plan)
        let (nx, n, m, T, mPad, K) = (plan.nx, plan.n, plan.m, plan.T, plan.mPad, plan.K)
        // x (n_x, m, T) → the x part of each stacked row; padding rows' x and block 0
        // zero; a⟨0⟩ and c⟨0⟩ (or zeros) in block 0. (Block T's x part is never read.)
        let strip = plan.strip
        for σ in 0..<plan.strips { trace.stackedStrip(σ).initialize(repeating: 0, count: strip * K) }
        if m < mPad {
            for s in 1..<T {
                for j in m..<mPad {
                    (trace.stacked + plan.offset(block: s, row: j, blocks: T + 1, width: K) + n).initialize(repeating: 0, count: nx)
                }
            }
        }
        x.withUnsafeBufferPointer { xs in
            scatterToSteps(xs.baseAddress!, rows: nx, plan, trace.stacked, blocks: T + 1, rowWidth: K, firstColumn: n)
        }
        initialState?.withUnsafeBufferPointer { a0 in
            for σ in 0..<plan.strips {
                TileTranspose.transpose(a0.baseAddress! + σ * strip, sourceStride: m, rows: n, columns: Swift.min(strip, m - σ * strip),
                          trace.stackedStrip(σ), targetStride: K)
            }
        }
        if let cells = trace.cells {
            for σ in 0..<plan.strips {
                let block = cells + plan.offset(strip: σ, block: 0, blocks: T + 1, width: n)
                block.initialize(repeating: 0, count: strip * n)
                initialCell?.withUnsafeBufferPointer { c0 in
                    TileTranspose.transpose(c0.baseAddress! + σ * strip, sourceStride: m, rows: n, columns: Swift.min(strip, m - σ * strip),
                              block, targetStride: n)
                }
            }
        }
        if let reset = trace.resetStacked {   // x parts of the candidate's operand (the rest is written per step)
            for s in 0..<T {
                for j in 0..<mPad {
                    (reset + plan.offset(block: s, row: j, blocks: T, width: K) + n)
                        .update(from: trace.stacked + plan.offset(block: s, row: j, blocks: T + 1, width: K) + n, count: nx)
                }
            }
        }
        for s in 0..<T {
            let t = plan.time(s)
            for j in 0..<mPad { trace.masks[s * mPad + j] = j < m && t < (lengths?[j] ?? T) ? 1 : 0 }
        }
        weight.withUnsafeBufferPointer { w in
            bias.withUnsafeBufferPointer { b in
                let initial = (w.baseAddress!, b.baseAddress!)
                switch S.scalarType {
                case .float32:
                    let (w, b) = (cast(initial.0, to: Float.self), cast(initial.1, to: Float.self))
                    let t = unsafeDowncast(trace, to: RecurrentTrace<Float>.self)
                    plan.kernel.isWide ? recur(plan, w, b, t, FloatVector.self, SIMD16<Float>.self)
                                       : recur(plan, w, b, t, FloatVector.self, SIMD8<Float>.self)
                case .float64:
                    let (w, b) = (cast(initial.0, to: Double.self), cast(initial.1, to: Double.self))
                    let t = unsafeDowncast(trace, to: RecurrentTrace<Double>.self)
                    plan.kernel.isWide ? recur(plan, w, b, t, DoubleVector.self, SIMD8<Double>.self)
                                       : recur(plan, w, b, t, DoubleVector.self, SIMD4<Double>.self)
                }
            }
        }
        return trace
    }

    /// Packs `op(B)[depth, columns]` of the problem `b`/`transB` over `W` (row
    /// stride `K`) as panels of `2·M.scalarCount` columns, each `depth` rows of
    /// one panel width (zero beyond the last column): the recurrent tile's `B̃`.
    static func packPanels<S: TensorScalar>(
        _ w: UnsafePointer<S>, K: Int, transposed: Bool, depth: Range<Int>, columns: Range<Int>, panelWidth: Int,
        _ out: UnsafeMutablePointer<S>
    ) {
        let problem = GEMMProblem<S>(m: 0, n: 0, k: 0, a: w, lda: 0, transA: false, b: w, ldb: K, transB: transposed,
                                     c: UnsafeMutablePointer(mutating: w), ldc: 0, alpha: 1, beta: 0)
        BlockedGEMM.packB(problem, depth.lowerBound, depth.count, columns.lowerBound, columns.count, panelWidth, out)
    }

    /// Elements of the panels of ``packPanels(_:K:transposed:depth:columns:panelWidth:_:)``.
    static func panelSize(depth: Int, columns: Int, panelWidth: Int) -> Int {
        (columns + panelWidth - 1) / panelWidth * panelWidth * depth
    }

    /// `c[0..<rows, 0..<columns] (+)= a[0..<rows, 0..<depth]·B̃` for one strip:
    /// `a`'s rows `lda` apart, `c`'s `ldc` apart, `B̃` packed by `packPanels`.
    @inline(__always)
    static func stripProduct<M: SIMD>(
        _ plan: RecurrentPlan, _ a: UnsafePointer<M.Scalar>, lda: Int, _ panels: UnsafePointer<M.Scalar>, depth: Int, columns: Int,
        _ c: UnsafeMutablePointer<M.Scalar>, ldc: Int, accumulate: Bool, _: M.Type
    ) where M.Scalar: TensorScalar {
        let width = 2 * M.scalarCount
        var j = 0, b = panels
        while j < columns {
            let count = Swift.min(width, columns - j)
            switch (plan.strip, plan.kernel.isFused) {
            case (8, true):
                MicroKernels.rowsKernel8x2(depth, a, lda, b, c + j, ldc, columns: count, accumulate: accumulate, M.self, FusedMultiplyAdd.self)
            case (8, false):
                MicroKernels.rowsKernel8x2(depth, a, lda, b, c + j, ldc, columns: count, accumulate: accumulate, M.self, SeparateMultiplyAdd.self)
            case (_, true):
                MicroKernels.rowsKernel4x2(depth, a, lda, b, c + j, ldc, columns: count, accumulate: accumulate, M.self, FusedMultiplyAdd.self)
            default:
                MicroKernels.rowsKernel4x2(depth, a, lda, b, c + j, ldc, columns: count, accumulate: accumulate, M.self, SeparateMultiplyAdd.self)
            }
            b += depth * width
            j += width
        }
    }

    /// The forward pass, strip by strip on its own thread: `Z = X·W_xᵀ` for all
    /// the strip's steps, then per step `Z_s += H_s[a part]·W_aᵀ` on its rows
    /// and the cell on those rows while they are in cache.
    static func recur<V: KernelVector, M: SIMD>(
        _ plan: RecurrentPlan, _ w: UnsafePointer<V.Scalar>, _ bias: UnsafePointer<V.Scalar>,
        _ trace: RecurrentTrace<V.Scalar>, _: V.Type, _: M.Type
    ) where M.Scalar == V.Scalar {
        typealias S = V.Scalar
        let (n, K, G, mPad, T) = (plan.n, plan.K, plan.G, plan.mPad, plan.T)
        let width = V.scalarCount, gateRows = G * n, panelWidth = 2 * M.scalarCount
        // W_aᵀ packed once per sequence, per gate: op(B)[p, u] = W[g·n + u, p], p < n.
        let gatePanels = panelSize(depth: n, columns: n, panelWidth: panelWidth)
        withScratch(G * gatePanels, of: S.self) { packed in
            for g in 0..<G {
                packPanels(w, K: K, transposed: true, depth: 0..<n, columns: g * n..<(g + 1) * n, panelWidth: panelWidth,
                           packed + g * gatePanels)
            }
            let shared = UncheckedSendable((trace, UnsafePointer(packed), bias, w))

            /// `z[strip rows, gate g] += a[strip rows, 0..<n]·W_{g,a}ᵀ`.
            @inline(__always) func product(_ g: Int, _ a: UnsafePointer<S>, _ z: UnsafeMutablePointer<S>) {
                stripProduct(plan, a, lda: K, shared.value.1 + g * gatePanels, depth: n, columns: n,
                             z + g * n, ldc: gateRows, accumulate: true, M.self)
            }

            forEachStrip(plan) { σ in
                let (trace, _, bias, w) = shared.value
                let strip = plan.strip
                let stacked = trace.stackedStrip(σ), gates = trace.gates + plan.offset(strip: σ, block: 0, blocks: T, width: gateRows)
                // The input part x⟨t⟩·W_xᵀ of every gate for every step of the strip, as one product
                // before its recurrence: rows (s, j) of the strip's stacked x parts.
                if plan.nx == 0 {
                    gates.initialize(repeating: 0, count: T * strip * gateRows)
                } else {
                    let inputs = GEMMProblem<S>(m: T * strip, n: gateRows, k: plan.nx, a: UnsafePointer(stacked + n), lda: K, transA: false,
                                                b: w + n, ldb: K, transB: true, c: gates, ldc: gateRows, alpha: 1, beta: 0)
                    Parallelism.withMaxThreads(1) { gemm(inputs, rung: nil, path: .vectorized, kernel: plan.kernel) }
                }
                let cells = trace.cells.map { $0 + plan.offset(strip: σ, block: 0, blocks: T + 1, width: n) }
                let resets = trace.resetStacked.map { $0 + plan.offset(strip: σ, block: 0, blocks: T, width: K) }
                for s in 0..<T {
                    // This step's blocks of the strip; `j` runs over its rows, `σ·strip + j` is the example.
                    let h = stacked + s * strip * K, hNext = h + strip * K
                    let z = gates + s * strip * gateRows, mask = trace.masks + s * mPad + σ * strip
                    let rows = 0..<strip, first = 0
                    switch plan.cell {
                    case .rnn:
                        product(0, h + first * K, z + first * gateRows)
                        for j in rows {
                            let keep = mask[j] != 0, zj = z + j * gateRows, hj = h + j * K, nj = hNext + j * K
                            var i = 0
                            while i < n {
                                let c = Swift.min(width, n - i)
                                let a = V.tanh(load(zj + i, c, V.self) + load(bias + i, c, V.self))
                                store(a, zj + i, c)
                                store(keep ? a : load(hj + i, c, V.self), nj + i, c)
                                i += width
                            }
                        }
                    case .lstm:
                        for g in 0..<4 { product(g, h + first * K, z + first * gateRows) }
                        let cPrevious = cells! + s * strip * n, cNext = cPrevious + strip * n
                        for j in rows {
                            let keep = mask[j] != 0, zj = z + j * gateRows, hj = h + j * K, nj = hNext + j * K
                            let cj = cPrevious + j * n, cNj = cNext + j * n
                            var i = 0
                            while i < n {
                                let c = Swift.min(width, n - i)
                                let u = V.sigmoid(load(zj + i, c, V.self) + load(bias + i, c, V.self))
                                let f = V.sigmoid(load(zj + n + i, c, V.self) + load(bias + n + i, c, V.self))
                                let o = V.sigmoid(load(zj + 2 * n + i, c, V.self) + load(bias + 2 * n + i, c, V.self))
                                let candidate = V.tanh(load(zj + 3 * n + i, c, V.self) + load(bias + 3 * n + i, c, V.self))
                                store(u, zj + i, c); store(f, zj + n + i, c); store(o, zj + 2 * n + i, c); store(candidate, zj + 3 * n + i, c)
                                let cp = load(cj + i, c, V.self)
                                let cell = u * candidate + f * cp
                                store(keep ? cell : cp, cNj + i, c)
                                store(keep ? o * V.tanh(cell) : load(hj + i, c, V.self), nj + i, c)
                                i += width
                            }
                        }
                    case .gru:
                        // Γ_u, Γ_r and Γ_r ∗ c⟨t−1⟩ for the strip's rows, then the candidate.
                        let reset = resets! + s * strip * K
                        product(0, h + first * K, z + first * gateRows)
                        product(1, h + first * K, z + first * gateRows)
                        for j in rows {
                            let zj = z + j * gateRows, hj = h + j * K, rj = reset + j * K
                            var i = 0
                            while i < n {
                                let c = Swift.min(width, n - i)
                                let u = V.sigmoid(load(zj + i, c, V.self) + load(bias + i, c, V.self))
                                let r = V.sigmoid(load(zj + n + i, c, V.self) + load(bias + n + i, c, V.self))
                                store(u, zj + i, c); store(r, zj + n + i, c)
                                store(r * load(hj + i, c, V.self), rj + i, c)
                                i += width
                            }
                        }
                        product(2, reset + first * K, z + first * gateRows)
                        for j in rows {
                            let keep = mask[j] != 0, zj = z + j * gateRows, hj = h + j * K, nj = hNext + j * K
                            var i = 0
                            while i < n {
                                let c = Swift.min(width, n - i)
                                let candidate = V.tanh(load(zj + 2 * n + i, c, V.self) + load(bias + 2 * n + i, c, V.self))
                                store(candidate, zj + 2 * n + i, c)
                                let u = load(zj + i, c, V.self), ap = load(hj + i, c, V.self)
                                store(keep ? u * candidate + (1 - u) * ap : ap, nj + i, c)
                                i += width
                            }
                        }
                    }
                }
            }
        }
    }

    /// `count` (≤ one vector) elements from `p`, zero beyond them (``PartialVector``).
    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<V.Scalar>, _ count: Int, _: V.Type) -> V { PartialVector.load(p, count, as: V.self) }

    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafeMutablePointer<V.Scalar>, _ count: Int, _: V.Type) -> V { PartialVector.load(p, count, as: V.self) }

    /// Stores the first `count` lanes of `v` at `p` (``PartialVector``).
    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>, _ count: Int) { PartialVector.store(v, p, count) }

    // MARK: Backward

    /// The gradients `(δx (n_x, m, T), δW, δb, δa⟨0⟩ (n, m), δc⟨0⟩ (n, m))` for the
    /// incoming gradient `g` of the output, `(n, m, T)` or `(2n, m, T)` with cell states.
    static func backward<S: TensorScalar>(
        _ trace: RecurrentTrace<S>, gradient g: Tensor<S>, weight: Tensor<S>, returnsCellStates: Bool,
        needsInput: Bool, needsParameters: Bool
    ) -> (dx: Tensor<S>?, dW: Tensor<S>?, db: Tensor<S>?, da0: Tensor<S>, dc0: Tensor<S>?) {
        let plan = trace.plan
        let (nx, n, m, T, mPad, K, G) = (plan.nx, plan.n, plan.m, plan.T, plan.mPad, plan.K, plan.G)
        let rows = returnsCellStates ? 2 * n : n, gateRows = G * n
        // Strip-major step blocks: the incoming gradient (strip, rows), δZ (strip, G·n), δX
        // (strip, n_x); then δa⟨0⟩ and δc⟨0⟩ (m̄, n) each; then per strip δb's partial sums
        // (G·n) and δW's partial product (G·n, n + n_x), added in strip order at the end.
        let dXCount = needsInput ? T * nx * mPad : 0, partialCount = needsParameters ? gateRows * K : 0
        let count = T * (rows + gateRows) * mPad + dXCount + 2 * n * mPad + plan.strips * (gateRows + partialCount)
        return withScratch(count, of: S.self) { block in
            let incoming = block, dZ = block + T * rows * mPad, dX = dZ + T * gateRows * mPad, final = dX + dXCount
            let sums = final + 2 * n * mPad, partials = sums + plan.strips * gateRows
            if m < mPad { incoming.initialize(repeating: 0, count: T * rows * mPad) }
            g.withUnsafeBufferPointer { gs in
                scatterToSteps(gs.baseAddress!, rows: rows, plan, incoming, blocks: T, rowWidth: rows, firstColumn: 0)
            }
            let outputs = (dX: needsInput ? dX : nil, partials: needsParameters ? partials : nil)
            weight.withUnsafeBufferPointer { w in
                switch S.scalarType {
                case .float32:
                    let args = (cast(w.baseAddress!, to: Float.self), unsafeDowncast(trace, to: RecurrentTrace<Float>.self),
                                cast(incoming, to: Float.self), cast(dZ, to: Float.self),
                                cast(final, to: Float.self), cast(sums, to: Float.self),
                                outputs.dX.map { cast($0, to: Float.self) }, outputs.partials.map { cast($0, to: Float.self) })
                    plan.kernel.isWide ? backThroughTime(plan, args, returnsCellStates, FloatVector.self, SIMD16<Float>.self)
                                       : backThroughTime(plan, args, returnsCellStates, FloatVector.self, SIMD8<Float>.self)
                case .float64:
                    let args = (cast(w.baseAddress!, to: Double.self), unsafeDowncast(trace, to: RecurrentTrace<Double>.self),
                                cast(incoming, to: Double.self), cast(dZ, to: Double.self),
                                cast(final, to: Double.self), cast(sums, to: Double.self),
                                outputs.dX.map { cast($0, to: Double.self) }, outputs.partials.map { cast($0, to: Double.self) })
                    plan.kernel.isWide ? backThroughTime(plan, args, returnsCellStates, DoubleVector.self, SIMD8<Double>.self)
                                       : backThroughTime(plan, args, returnsCellStates, DoubleVector.self, SIMD4<Double>.self)
                }
            }
            func unpadded(_ p: UnsafeMutablePointer<S>) -> Tensor<S> {
                Tensor(shape: [n, m], unsafeUninitialized: { out in
                    TileTranspose.transpose(p, sourceStride: n, rows: m, columns: n, out.baseAddress!, targetStride: m)
                })
            }
            let da0 = unpadded(final), dc0 = plan.cell == .lstm ? unpadded(final + n * mPad) : nil
            let dx: Tensor<S>? = needsInput ? Tensor(shape: [nx, m, T], unsafeUninitialized: { out in
                gatherFromSteps(dX, rows: nx, plan, out.baseAddress!, blocks: T, rowWidth: nx, firstColumn: 0)
            }) : nil
            guard needsParameters else { return (dx, nil, nil, da0, dc0) }
            let dW = Tensor<S>(shape: [gateRows, K], unsafeUninitialized: { out in
                let o = out.baseAddress!
                o.update(from: partials, count: gateRows * K)
                for σ in 1..<plan.strips {
                    let p = partials + σ * gateRows * K
                    for e in 0..<gateRows * K { o[e] += p[e] }
                }
            })
            let db = Tensor<S>(shape: [gateRows, 1], unsafeUninitialized: { out in
                for r in 0..<gateRows {
                    var total = sums[r]
                    for σ in 1..<plan.strips { total += sums[σ * gateRows + r] }
                    out[r] = total
                }
            })
            return (dx, dW, db, da0, dc0)
        }
    }

    /// Backpropagation through time, strip by strip, each strip alone on its
    /// data: fills the strip's `δZ` blocks, its rows of the initial state's and
    /// cell's gradients (`final`, two `(m̄, n)` blocks) and its `δb` sums (`G·n`,
    /// in step order); then `δX = δZ·W_x` for its steps and rows, and its
    /// partial `δW = δZᵀ·H` (the GRU's candidate rows against `[Γ_r ∗ c; x]`).
    static func backThroughTime<V: KernelVector, M: SIMD>(
        _ plan: RecurrentPlan,
        _ args: (w: UnsafePointer<V.Scalar>, trace: RecurrentTrace<V.Scalar>, incoming: UnsafeMutablePointer<V.Scalar>,
                 dZ: UnsafeMutablePointer<V.Scalar>, final: UnsafeMutablePointer<V.Scalar>, sums: UnsafeMutablePointer<V.Scalar>,
                 dX: UnsafeMutablePointer<V.Scalar>?, partials: UnsafeMutablePointer<V.Scalar>?),
        _ returnsCellStates: Bool, _: V.Type, _: M.Type
    ) where M.Scalar == V.Scalar {
        typealias S = V.Scalar
        let (n, nx, K, T, mPad, G) = (plan.n, plan.nx, plan.K, plan.T, plan.mPad, plan.G)
        let width = V.scalarCount, gateRows = G * n, panelWidth = 2 * M.scalarCount
        let rows = returnsCellStates ? 2 * n : n
        let gru = plan.cell == .gru
        // W packed once: product 0, δa⟨t−1⟩ += δz·W[gate rows, 0..<n] over every gate row (the
        // GRU: Γ_u and Γ_r only); product 1 (GRU), δ(Γ_r ∗ c⟨t−1⟩) = δz_c·W[2n..<3n, 0..<n].
        let depth0 = gru ? 2 * n : gateRows
        let size0 = panelSize(depth: depth0, columns: n, panelWidth: panelWidth)
        let size1 = gru ? panelSize(depth: n, columns: n, panelWidth: panelWidth) : 0
        // Scratch: the panels, then δa and δc by step parity and the GRU's δa of the step and
        // δ(Γ_r ∗ c⟨t−1⟩), each (m̄, n).
        withScratch(size0 + size1 + 6 * n * mPad, of: S.self) { scratch in
            packPanels(args.w, K: K, transposed: false, depth: 0..<depth0, columns: 0..<n, panelWidth: panelWidth, scratch)
            if gru {
                packPanels(args.w, K: K, transposed: false, depth: 2 * n..<3 * n, columns: 0..<n, panelWidth: panelWidth, scratch + size0)
            }
            let base = scratch + size0 + size1
            let da = [base, base + n * mPad], dc = [base + 2 * n * mPad, base + 3 * n * mPad]
            let dAStep = base + 4 * n * mPad, dReset = base + 5 * n * mPad
            let shared = UncheckedSendable((args, UnsafePointer(scratch), da, dc, dAStep, dReset))

            forEachStrip(plan) { σ in
                let (args, panels, da, dc, dAStep, dReset) = shared.value
                let trace = args.trace, strip = plan.strip, first = σ * strip
                let sums = args.sums + σ * gateRows
                let stacked = trace.stackedStrip(σ)
                let gates = trace.gates + plan.offset(strip: σ, block: 0, blocks: T, width: gateRows)
                let dZ = args.dZ + plan.offset(strip: σ, block: 0, blocks: T, width: gateRows)
                let incomingStrip = args.incoming + plan.offset(strip: σ, block: 0, blocks: T, width: rows)
                let cells = trace.cells.map { $0 + plan.offset(strip: σ, block: 0, blocks: T + 1, width: n) }
                // δa and δc after the last step start at zero; everything else is written before it is read.
                (da[0] + first * n).initialize(repeating: 0, count: strip * n)
                (dc[0] + first * n).initialize(repeating: 0, count: strip * n)
                sums.initialize(repeating: 0, count: gateRows)
                for q in 0...T {   // backward step q is forward step T − 1 − q
                    if q >= 1 {
                        // The previous backward step's δz is complete: δa⟨t−1⟩ += δz·W_a (the GRU: Γ_u, Γ_r rows).
                        let z = dZ + (T - q) * strip * gateRows
                        stripProduct(plan, z, lda: gateRows, panels, depth: depth0, columns: n,
                                     da[q & 1] + first * n, ldc: n, accumulate: true, M.self)
                    }
                    if q == T { break }
                    let s = T - 1 - q
                    // This step's blocks of the strip; `j` runs over its rows.
                    let daCurrent = da[q & 1] + first * n, daNext = da[(q + 1) & 1] + first * n
                    let mask = trace.masks + s * mPad + first
                    let gate = gates + s * strip * gateRows, dz = dZ + s * strip * gateRows
                    let incoming = incomingStrip + s * strip * rows
                    let h = stacked + s * strip * K
                    let stripRows = 0..<strip
                    switch plan.cell {
                    case .rnn:
                        for j in stripRows {
                            let keep = mask[j] != 0, o = j * n, gj = gate + j * gateRows, dzj = dz + j * gateRows
                            let inj = incoming + j * rows
                            var i = 0
                            while i < n {
                                let c = Swift.min(width, n - i)
                                let dA = load(inj + i, c, V.self) + load(daCurrent + o + i, c, V.self)
                                let a = load(gj + i, c, V.self)
                                emit(keep ? dA * (1 - a * a) : V(), dzj, sums, i, c)
                                store(keep ? V() : dA, daNext + o + i, c)
                                i += width
                            }
                        }
                    case .lstm:
                        let dcCurrent = dc[q & 1] + first * n, dcNext = dc[(q + 1) & 1] + first * n
                        let cell = cells! + (s + 1) * strip * n, cellPrevious = cell - strip * n
                        for j in stripRows {
                            let keep = mask[j] != 0, o = j * n, gj = gate + j * gateRows, dzj = dz + j * gateRows
                            let inj = incoming + j * rows
                            var i = 0
                            while i < n {
                                let c = Swift.min(width, n - i)
                                let dA = load(inj + i, c, V.self) + load(daCurrent + o + i, c, V.self)
                                var dC = load(dcCurrent + o + i, c, V.self)
                                if returnsCellStates { dC += load(inj + n + i, c, V.self) }
                                let u = load(gj + i, c, V.self), f = load(gj + n + i, c, V.self)
                                let og = load(gj + 2 * n + i, c, V.self), candidate = load(gj + 3 * n + i, c, V.self)
                                let tanhC = V.tanh(load(cell + o + i, c, V.self)), cp = load(cellPrevious + o + i, c, V.self)
                                let dcTotal = dC + dA * og * (1 - tanhC * tanhC)
                                if keep {
                                    emit(dcTotal * candidate * u * (1 - u), dzj, sums, i, c)
                                    emit(dcTotal * cp * f * (1 - f), dzj, sums, n + i, c)
                                    emit(dA * tanhC * og * (1 - og), dzj, sums, 2 * n + i, c)
                                    emit(dcTotal * u * (1 - candidate * candidate), dzj, sums, 3 * n + i, c)
                                } else {
                                    for g in 0..<4 { emit(V(), dzj, sums, g * n + i, c) }
                                }
                                store(keep ? dcTotal * f : dC, dcNext + o + i, c)
                                store(keep ? V() : dA, daNext + o + i, c)
                                i += width
                            }
                        }
                    case .gru:
                        // δz of the candidate for the strip's rows, then δ(Γ_r ∗ c⟨t−1⟩) = δz_c·W_c,a.
                        let dAS = dAStep + first * n, dRS = dReset + first * n
                        for j in stripRows {
                            let keep = mask[j] != 0, o = j * n, gj = gate + j * gateRows, dzj = dz + j * gateRows
                            let inj = incoming + j * rows
                            var i = 0
                            while i < n {
                                let c = Swift.min(width, n - i)
                                let dA = load(inj + i, c, V.self) + load(daCurrent + o + i, c, V.self)
                                store(dA, dAS + o + i, c)
                                let candidate = load(gj + 2 * n + i, c, V.self)
                                emit(keep ? dA * load(gj + i, c, V.self) * (1 - candidate * candidate) : V(), dzj, sums, 2 * n + i, c)
                                i += width
                            }
                        }
                        stripProduct(plan, dz + 2 * n, lda: gateRows, panels + size0, depth: n, columns: n,
                                     dRS, ldc: n, accumulate: false, M.self)
                        for j in stripRows {
                            let keep = mask[j] != 0, o = j * n, gj = gate + j * gateRows, dzj = dz + j * gateRows
                            let hj = h + j * K
                            var i = 0
                            while i < n {
                                let c = Swift.min(width, n - i)
                                let dA = load(dAS + o + i, c, V.self)
                                let dState = keep ? dA : V()
                                let u = load(gj + i, c, V.self), r = load(gj + n + i, c, V.self), candidate = load(gj + 2 * n + i, c, V.self)
                                let ap = load(hj + i, c, V.self), dr = load(dRS + o + i, c, V.self)
                                emit(dState * (candidate - ap) * u * (1 - u), dzj, sums, i, c)
                                emit(dr * ap * r * (1 - r), dzj, sums, n + i, c)
                                store(dr * r + dState * (1 - u) + (keep ? V() : dA), daNext + o + i, c)
                                i += width
                            }
                        }
                    }
                }
                // δa⟨0⟩ and δc⟨0⟩ of the strip's rows.
                let last = T & 1
                (args.final + first * n).update(from: da[last] + first * n, count: strip * n)
                if plan.cell == .lstm { (args.final + (mPad + first) * n).update(from: dc[last] + first * n, count: strip * n) }
                // Off the recurrence, on the strip's own data: δX = δZ·W_x (rows (s, j)) and the
                // partial δW = δZᵀ·H with depth over the strip's steps and rows.
                Parallelism.withMaxThreads(1) {
                    if let dX = args.dX, nx > 0 {
                        let problem = GEMMProblem<S>(m: T * strip, n: nx, k: gateRows, a: UnsafePointer(dZ), lda: gateRows, transA: false,
                                                     b: args.w + n, ldb: K, transB: false,
                                                     c: dX + plan.offset(strip: σ, block: 0, blocks: T, width: nx), ldc: nx, alpha: 1, beta: 0)
                        gemm(problem, rung: nil, path: .vectorized, kernel: plan.kernel)
                    }
                    if let partials = args.partials {
                        let out = partials + σ * gateRows * K
                        func accumulate(rows: Int, from firstRow: Int, against right: UnsafePointer<S>) {
                            let problem = GEMMProblem(m: rows, n: K, k: T * strip, a: UnsafePointer(dZ + firstRow), lda: gateRows, transA: true,
                                                      b: right, ldb: K, transB: false, c: out + firstRow * K, ldc: K, alpha: 1, beta: 0)
                            gemm(problem, rung: nil, path: .vectorized, kernel: plan.kernel)
                        }
                        if let reset = trace.resetStacked {
                            accumulate(rows: 2 * n, from: 0, against: stacked)
                            accumulate(rows: n, from: 2 * n, against: reset + plan.offset(strip: σ, block: 0, blocks: T, width: K))
                        } else {
                            accumulate(rows: gateRows, from: 0, against: stacked)
                        }
                    }
                }
            }
        }
    }

    /// Stores one vector of `δz` (`count` lanes at column `column` of the row) and adds it to the strip's `δb` sums.
    @inline(__always)
    static func emit<V: SIMD>(_ v: V, _ row: UnsafeMutablePointer<V.Scalar>, _ sums: UnsafeMutablePointer<V.Scalar>, _ column: Int, _ count: Int)
    where V.Scalar: FloatingPoint {
        store(v, row + column, count)
        store(load(sums + column, count, V.self) + v, sums + column, count)
    }

    // MARK: Layout changes

    /// `steps[s][j][firstColumn + r] = planes[r][j, t(s)]` for `r < rows`, `j < m`:
    /// the notes' `(rows, m, T)` into the strip-major step blocks of a buffer
    /// with `blocks` blocks per strip, rows `rowWidth` wide (block `firstBlock`
    /// onwards), by `w × w` register tiles.
    static func scatterToSteps<S: TensorScalar>(
        _ planes: UnsafePointer<S>, rows: Int, _ plan: RecurrentPlan, _ steps: UnsafeMutablePointer<S>, blocks: Int, firstBlock: Int = 0,
        rowWidth: Int, firstColumn: Int
    ) {
        let (m, T) = (plan.m, plan.T)
        let stepStride = plan.strip * rowWidth
        let direction = plan.reversed ? -stepStride : stepStride   // from time t to t + 1
        for j in 0..<m {
            let target = steps + plan.offset(block: firstBlock + (plan.reversed ? T - 1 : 0), row: j, blocks: blocks, width: rowWidth)
                + firstColumn   // time 0's row
            TileTranspose.transpose(planes + j * T, sourceStride: m * T, rows: rows, columns: T, target, targetStride: direction)
        }
    }

    /// The inverse of ``scatterToSteps(_:rows:_:_:blocks:firstBlock:rowWidth:firstColumn:)``:
    /// `planes[r][j, t(s)] = steps[s][j][firstColumn + r]`.
    static func gatherFromSteps<S: TensorScalar>(
        _ steps: UnsafePointer<S>, rows: Int, _ plan: RecurrentPlan, _ planes: UnsafeMutablePointer<S>, blocks: Int, firstBlock: Int = 0,
        rowWidth: Int, firstColumn: Int
    ) {
        let (m, T) = (plan.m, plan.T)
        let stepStride = plan.strip * rowWidth
        let direction = plan.reversed ? -stepStride : stepStride
        for j in 0..<m {
            let source = steps + plan.offset(block: firstBlock + (plan.reversed ? T - 1 : 0), row: j, blocks: blocks, width: rowWidth)
                + firstColumn
            TileTranspose.transpose(source, sourceStride: direction, rows: T, columns: rows, planes + j * T, targetStride: m * T)
        }
    }

    @inline(__always)
    static func gatherFromSteps<S: TensorScalar>(
        _ steps: UnsafeMutablePointer<S>, rows: Int, _ plan: RecurrentPlan, _ planes: UnsafeMutablePointer<S>, blocks: Int, firstBlock: Int = 0,
        rowWidth: Int, firstColumn: Int
    ) {
        gatherFromSteps(UnsafePointer(steps), rows: rows, plan, planes, blocks: blocks, firstBlock: firstBlock, rowWidth: rowWidth,
                        firstColumn: firstColumn)
    }
}
