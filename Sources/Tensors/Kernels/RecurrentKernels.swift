import Dispatch
import Foundation
import Synchronization

// The fused sequence kernel behind `recurrentSequence`'s vectorized path.
//
// Layout: step-major. Every saved buffer is a sequence of per-step blocks
// `(rows, m̄)` in processing order (so a reversed run is stored back to front),
// the batch padded to `m̄`, a whole number of micro-tile columns. Block `s` of
// `H` is the notes' stacked `[a⟨s−1⟩; x⟨s⟩]`, exactly the right operand of the
// step's product `z = W·H_s`: the cell writes `a⟨s⟩` straight into block
// `s + 1`, so states are saved for free, and every per-step access is a
// contiguous block. (A time-minor layout, one row of `T·m̄` per unit, made
// each step touch ~1,000 scattered 128-byte pieces: saving five state buffers
// that way cost as much as the step's arithmetic.)
//
// Forward: `W_x·x⟨t⟩` for every step first (steps in parallel, nothing waits),
// stored into the steps' gate blocks; then per step `z += W_a·a⟨t−1⟩` on `W`
// packed once per sequence by the register micro-kernel, and the cell's
// nonlinearities on it while it is in L1. Backward, per step: `δz` from the
// saved gates, then `δa⟨t−1⟩ += W_aᵀ·δz` on `Wᵀ` packed once; after the loop
// `δx⟨t⟩ = W_xᵀ·δz⟨t⟩` for every step in parallel; `δW = Σ_t δz⟨t⟩·H_tᵀ` is
// one GEMM over the step blocks in place (segmented depth, see
// `GEMMProblem.kSegment`), `δb` a sum. Only the recurrent part is on the
// serial path.
//
// Threads split the hidden units into chunks fixed by the problem size; a
// chunk computes all gate rows of its units, so a step needs one barrier (two
// for the GRU, whose candidate reads `Γ_r ∗ c⟨t−1⟩` of every unit). The
// barrier is a counter of finished tasks (`runPhases`), not a Dispatch round
// per step (10–30 µs each). Splitting the batch instead (each thread a strip
// of 16 columns for every unit, the whole sequence without a barrier) was
// measured at batch 32: the strip's tile is 12 rows × one vector, twelve
// broadcast loads per twelve multiply-adds, and the broadcasts halve the
// multiply-add rate on this AVX-512 core (LSTM I64 H128 T50 B32 forward 0.96 →
// 1.52 ms). The transposed layout was then built and measured too: step blocks
// of batch rows `(m̄, n + n_x)`, strips of 8 examples each running the whole
// sequence without a barrier, an 8-row × two-vector tile broadcasting each
// example's row in place, and everything off the recurrence as three plain
// GEMMs over all steps. It passed every recurrent test but was no faster
// (LSTM I64 H128 T50 B32 fwd+bwd 2.67–3.13 vs 2.66–3.16 ms with the cores'
// cache-line round trip at ~90 ns, 4.01–4.20 vs 4.06–4.18 at ~360 ns): the
// slow spells are not the barrier's doing (one thread alone does not slow in
// them), and the all-steps GEMMs with depth n_x = 64 ran no better than the
// per-step products they replaced.

/// Runs `phases` rounds of `chunks` tasks: `body(phase, chunk)` starts only
/// after every task of earlier phases has finished. Tasks are claimed in order
/// from one counter and a task waits only for tasks claimed before it, so the
/// scheme cannot deadlock even when Dispatch starts the second worker late (or
/// never, inside another parallel region): the caller then runs every task.
/// Which thread runs a task never changes what it computes.
func runPhases(_ phases: Int, chunks: Int, parallel: Bool, _ body: (_ phase: Int, _ chunk: Int) -> Void) {
    let threads = Swift.min(Parallelism.maxThreads, chunks)
    if !parallel || threads <= 1 {
        for p in 0..<phases { for k in 0..<chunks { body(p, k) } }
        return
    }
    let total = phases * chunks
    let next = Atomic<Int>(0), finished = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        let task = ChunkBody { i in body(i / chunks, i % chunks) }
        @Sendable func run(_ i: Int) {
            let needed = (i / chunks) * chunks
            var spins = 0
            while finished.load(ordering: .acquiring) < needed {
                spins += 1
                // The other worker is not running: give way. (After 4,096 spins, ~1.5 µs,
                // an LSTM step yielded most of the time and paid ~1 µs a step for it.)
                if spins > 1 << 18 { sched_yield() }
            }
            task.run(i)
            finished.add(1, ordering: .releasing)
        }
        // The pool claims tasks in order too (one counter), so the same argument holds there.
        if WorkerPool.shared.run(chunks: total, threads: threads, run) { return }
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                if i >= total { return }
                run(i)
            }
        }
    }
}

/// The sizes of one fused recurrent problem and its chunks.
struct RecurrentPlan {
    let cell: RecurrentCell
    let nx: Int, n: Int, m: Int, T: Int
    /// `m` rounded up to whole micro-tile columns.
    let mPad: Int
    let reversed: Bool
    let kernel: GEMMKernel
    /// The register tile of the forward products (`W·[a; x]`, depth n or n_x): the
    /// 6-row tile of the same vector width and multiply-add form as `kernel`. Its
    /// right operand (≤ 16 KB for a 128-unit step at batch 32) stays in L1, so
    /// reading it twice as often costs nothing, and a 128-unit cell splits into
    /// chunks of 66 + 62 units (11 + 11 panels per gate, 4 padding rows per gate)
    /// instead of 72 + 56 (the 12-row tile: 6 + 5 panels, the second chunk's
    /// last one two-thirds full, so one thread waited a panel). LSTM I64 H128
    /// T50 B32 forward 1.11–1.12 → 1.06 ms. The backward products (depth 4n:
    /// a 64 KB operand, past L1) keep `kernel`'s 12-row tile; there the 6-row
    /// tile read the operand from L2 twice as often and lost 8 %.
    let tile: GEMMKernel
    /// Unit ranges and input-row ranges (for `δx`), one of each per chunk, on
    /// `tile`'s row grid; fixed by the sizes alone, never by the thread count.
    let units: [Range<Int>], inputs: [Range<Int>]

    init(cell: RecurrentCell, nx: Int, n: Int, m: Int, T: Int, reversed: Bool, scalarType: ScalarType) {
        (self.cell, self.nx, self.n, self.m, self.T, self.reversed) = (cell, nx, n, m, T, reversed)
        kernel = GEMMConfiguration.kernel
        tile = switch kernel {
        case .fma12x32: .fma6x16
        case .mulAdd12x32: .mulAdd6x16
        default: kernel
        }
        let nr = (kernel.isWide ? 32 : 16) / (scalarType == .float32 ? 1 : 2)
        mPad = (m + nr - 1) / nr * nr
        // One chunk per 64 units (at most 4): a step of a 128-unit LSTM at batch 32 is
        // ~40 µs of single-core work, worth two threads once the barrier is ~1 µs.
        let count = Swift.max(1, Swift.min(4, n / 64))
        let mr = tile.rows
        func split(_ total: Int) -> [Range<Int>] {
            let size = Swift.max(mr, ((total + count - 1) / count + mr - 1) / mr * mr)
            return (0..<count).map { k in Swift.min(total, k * size)..<Swift.min(total, (k + 1) * size) }
        }
        units = split(n)
        inputs = split(nx)
    }

    var G: Int { cell.gates }
    /// Rows of a stacked block `[a; x]`, the depth of `W`.
    var K: Int { n + nx }
    var chunks: Int { units.count }
    /// Time position of processing step `s`.
    @inline(__always) func time(_ s: Int) -> Int { reversed ? T - 1 - s : s }
    /// Micro-tile row panels of `mr` rows covering `rows`.
    static func panels(_ rows: Range<Int>, _ mr: Int) -> Int { (rows.count + mr - 1) / mr }
    /// Whether the recurrence is worth a second thread (≥ ~10 µs of work per step).
    var isParallel: Bool { chunks > 1 && G * n * K * mPad >= 1 << 20 }
}

/// What the forward pass saves for the backward pass, as step blocks (see the
/// file's header). One pooled allocation, returned with the trace.
final class RecurrentTrace<S: TensorScalar>: @unchecked Sendable {
    let plan: RecurrentPlan
    /// `T + 1` blocks `(n + n_x, m̄)`: block `s` is `[a⟨s−1⟩; x⟨s⟩]`, block `T` holds the last state.
    let stacked: UnsafeMutablePointer<S>
    /// `T` blocks `(G·n, m̄)` of activated gates: `[Γ_u; Γ_f; Γ_o; c̃]`, `[Γ_u; Γ_r; c̃]` or `a`.
    let gates: UnsafeMutablePointer<S>
    /// LSTM: `T + 1` blocks `(n, m̄)`, `c⟨0⟩` then `c⟨s⟩`.
    let cells: UnsafeMutablePointer<S>?
    /// GRU: `T` blocks `(n + n_x, m̄)` of `[Γ_r ∗ c⟨s−1⟩; x⟨s⟩]`, the candidate's right operand.
    let resetStacked: UnsafeMutablePointer<S>?
    /// `T` rows of `m̄`: 1 where step `s` of column `j` is real (`j < m`, `t < length_j`), else 0.
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

    /// Block `s` of the stacked `[a; x]` buffer.
    @inline(__always) func stackedBlock(_ s: Int) -> UnsafeMutablePointer<S> { stacked + s * plan.K * plan.mPad }
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
        // x (n_x, m, T) → the x rows of each stacked block; pad columns and the
        // unused last block's x rows zero; a⟨0⟩ and c⟨0⟩ (or zeros) in block 0.
        trace.stacked.initialize(repeating: 0, count: K * mPad)
        if m < mPad {
            for s in 1..<T { (trace.stackedBlock(s) + n * mPad).initialize(repeating: 0, count: nx * mPad) }
        }
        x.withUnsafeBufferPointer { xs in
            scatterToSteps(xs.baseAddress!, rows: nx, plan, trace.stacked, stepStride: K * mPad, firstRow: n)
        }
        initialState?.withUnsafeBufferPointer { a0 in
            for i in 0..<n { (trace.stacked + i * mPad).update(from: a0.baseAddress! + i * m, count: m) }
        }
        if let cells = trace.cells {
            cells.initialize(repeating: 0, count: n * mPad)
            initialCell?.withUnsafeBufferPointer { c0 in
                for i in 0..<n { (cells + i * mPad).update(from: c0.baseAddress! + i * m, count: m) }
            }
        }
        if let reset = trace.resetStacked {   // x rows of the candidate's operand (the rest is written per step)
            for s in 0..<T {
                (reset + (s * K + n) * mPad).update(from: trace.stackedBlock(s) + n * mPad, count: nx * mPad)
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

    /// The recurrence: per step, `z = W·H_s` on each chunk's gate rows, then the cell.
    static func recur<V: KernelVector, M: SIMD>(
        _ plan: RecurrentPlan, _ w: UnsafePointer<V.Scalar>, _ bias: UnsafePointer<V.Scalar>,
        _ trace: RecurrentTrace<V.Scalar>, _: V.Type, _: M.Type
    ) where M.Scalar == V.Scalar {
        typealias S = V.Scalar
        let (n, K, G, mPad, mr) = (plan.n, plan.K, plan.G, plan.mPad, plan.tile.rows)
        let nr = 2 * M.scalarCount, width = V.scalarCount, gateRows = G * n
        // W packed once: per chunk, per gate block, mr-row panels over the whole depth K.
        let weights = GEMMProblem<S>(m: gateRows, n: 0, k: K, a: w, lda: K, transA: false,
                                     b: w, ldb: 0, transB: false, c: UnsafeMutablePointer(mutating: w), ldc: 0, alpha: 1, beta: 0)
        var panelOffset = [Int](), total = 0
        for units in plan.units { panelOffset.append(total); total += G * RecurrentPlan.panels(units, mr) * mr * K }
        withScratch(total, of: S.self) { packed in
            for (k, units) in plan.units.enumerated() where !units.isEmpty {
                for g in 0..<G {
                    BlockedGEMM.packA(weights, g * n + units.lowerBound, units.count, 0, K, mr,
                                      packed + panelOffset[k] + g * RecurrentPlan.panels(units, mr) * mr * K)
                }
            }
            let shared = UncheckedSendable((trace, packed, panelOffset, bias))

            @inline(__always) func load(_ p: UnsafePointer<S>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
            @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<S>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

            /// `z[gate blocks `gates`, the chunk's units] (+)= W[·, depth]·b[depth]` into
            /// step block `z`, over the depth rows `depth` of the stacked `[a; x]`
            /// (`b` points at its first row, `depth.lowerBound` rows into the block).
            @inline(__always)
            func product(_ k: Int, gates: Range<Int>, _ b: UnsafePointer<S>, _ z: UnsafeMutablePointer<S>, depth: Range<Int>, accumulate: Bool) {
                let (_, packed, panelOffset, _) = shared.value
                let units = plan.units[k], panels = RecurrentPlan.panels(units, mr)
                if depth.isEmpty {
                    if !accumulate { for g in gates { for u in units { (z + (g * n + u) * mPad).initialize(repeating: 0, count: mPad) } } }
                    return
                }
                for g in gates {
                    // Packed panels hold `mr` rows per depth index: depth p starts at `p·mr`.
                    var a = UnsafePointer(packed + panelOffset[k] + g * panels * mr * K + depth.lowerBound * mr)
                    var u = units.lowerBound
                    while u < units.upperBound {
                        let rows = Swift.min(mr, units.upperBound - u)
                        var column = 0
                        while column < mPad {
                            BlockedGEMM.microKernel(plan.tile, depth.count, a, b + column, z + (g * n + u) * mPad + column, mPad, 1,
                                                    rows: rows, columns: nr, accumulate: accumulate, M.self, bStride: mPad)
                            column += nr
                        }
                        a += mr * K
                        u += mr
                    }
                }
            }

            // The input part `W_x·x⟨t⟩` of every gate row for every step first, steps
            // in parallel (no step waits for another); the recurrence then adds
            // `W_a·a⟨t−1⟩` (the GRU's candidate: `W_c,a·(Γ_r ∗ c⟨t−1⟩)`), depth n
            // instead of n + n_x on the serial path.
            let inputs = plan.n..<K
            parallelFor(chunks: plan.T, work: plan.T * gateRows * (K - plan.n) * mPad) { s in
                let trace = shared.value.0
                let z = trace.gates + s * gateRows * mPad, x = trace.stackedBlock(s) + plan.n * mPad
                for k in 0..<plan.chunks where !plan.units[k].isEmpty {
                    product(k, gates: 0..<G, x, z, depth: inputs, accumulate: false)
                }
            }
            let recurrent = 0..<plan.n

            let phasesPerStep = plan.cell == .gru ? 2 : 1
            runPhases(plan.T * phasesPerStep, chunks: plan.chunks, parallel: plan.isParallel) { phase, k in
                let (trace, _, _, bias) = shared.value
                let units = plan.units[k]
                if units.isEmpty { return }
                let s = phase / phasesPerStep
                let h = trace.stackedBlock(s), hNext = trace.stackedBlock(s + 1)
                let z = trace.gates + s * gateRows * mPad, mask = trace.masks + s * mPad
                switch plan.cell {
                case .rnn:
                    product(k, gates: 0..<1, h, z, depth: recurrent, accumulate: true)
                    for i in units {
                        let zi = z + i * mPad, b = V(repeating: bias[i])
                        var j = 0
                        while j < mPad {
                            let keep = V.compare(.notEqual, load(mask + j), V())
                            let a = V.tanh(load(zi + j) + b)
                            store(a, zi + j)
                            store(load(h + i * mPad + j).replacing(with: a, where: keep), hNext + i * mPad + j)
                            j += width
                        }
                    }
                case .lstm:
                    product(k, gates: 0..<4, h, z, depth: recurrent, accumulate: true)
                    let cPrevious = trace.cells! + s * n * mPad, cNext = cPrevious + n * mPad
                    for i in units {
                        let zu = z + i * mPad, zf = zu + n * mPad, zo = zf + n * mPad, zc = zo + n * mPad
                        let bu = V(repeating: bias[i]), bf = V(repeating: bias[n + i])
                        let bo = V(repeating: bias[2 * n + i]), bc = V(repeating: bias[3 * n + i])
                        var j = 0
                        while j < mPad {
                            let keep = V.compare(.notEqual, load(mask + j), V())
                            let u = V.sigmoid(load(zu + j) + bu), f = V.sigmoid(load(zf + j) + bf)
                            let o = V.sigmoid(load(zo + j) + bo), candidate = V.tanh(load(zc + j) + bc)
                            store(u, zu + j); store(f, zf + j); store(o, zo + j); store(candidate, zc + j)
                            let cp = load(cPrevious + i * mPad + j), ap = load(h + i * mPad + j)
                            let c = u * candidate + f * cp
                            let a = o * V.tanh(c)
                            store(cp.replacing(with: c, where: keep), cNext + i * mPad + j)
                            store(ap.replacing(with: a, where: keep), hNext + i * mPad + j)
                            j += width
                        }
                    }
                case .gru:
                    let reset = trace.resetStacked! + s * plan.K * mPad
                    if phase % 2 == 0 {
                        // Γ_u, Γ_r, and Γ_r ∗ c⟨t−1⟩ for every unit before any candidate row.
                        product(k, gates: 0..<2, h, z, depth: recurrent, accumulate: true)
                        for i in units {
                            let zu = z + i * mPad, zr = zu + n * mPad
                            let bu = V(repeating: bias[i]), br = V(repeating: bias[n + i])
                            var j = 0
                            while j < mPad {
                                let u = V.sigmoid(load(zu + j) + bu), r = V.sigmoid(load(zr + j) + br)
                                store(u, zu + j); store(r, zr + j)
                                store(r * load(h + i * mPad + j), reset + i * mPad + j)
                                j += width
                            }
                        }
                    } else {
                        product(k, gates: 2..<3, reset, z, depth: recurrent, accumulate: true)
                        for i in units {
                            let zu = z + i * mPad, zc = zu + 2 * n * mPad, bc = V(repeating: bias[2 * n + i])
                            var j = 0
                            while j < mPad {
                                let keep = V.compare(.notEqual, load(mask + j), V())
                                let u = load(zu + j), candidate = V.tanh(load(zc + j) + bc)
                                store(candidate, zc + j)
                                let ap = load(h + i * mPad + j)
                                let a = u * candidate + (1 - u) * ap
                                store(ap.replacing(with: a, where: keep), hNext + i * mPad + j)
                                j += width
                            }
                        }
                    }
                }
            }
        }
    }

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
        // Step blocks: the incoming gradient (rows, m̄), δZ (G·n, m̄), δX (n_x, m̄);
        // then δa⟨0⟩ and δc⟨0⟩.
        let count = T * (rows + gateRows + nx) * mPad + 2 * n * mPad + gateRows
        return withScratch(count, of: S.self) { block in
            let incoming = block, dZ = block + T * rows * mPad, dX = dZ + T * gateRows * mPad, final = dX + T * nx * mPad
            let biasGradient = final + 2 * n * mPad
            if m < mPad { incoming.initialize(repeating: 0, count: T * rows * mPad) }
            g.withUnsafeBufferPointer { gs in
                scatterToSteps(gs.baseAddress!, rows: rows, plan, incoming, stepStride: rows * mPad, firstRow: 0)
            }
            weight.withUnsafeBufferPointer { w in
                switch S.scalarType {
                case .float32:
                    let args = (cast(w.baseAddress!, to: Float.self), unsafeDowncast(trace, to: RecurrentTrace<Float>.self),
                                cast(incoming, to: Float.self), cast(dZ, to: Float.self), cast(dX, to: Float.self),
                                cast(final, to: Float.self), cast(biasGradient, to: Float.self))
                    plan.kernel.isWide ? backThroughTime(plan, args, returnsCellStates, FloatVector.self, SIMD16<Float>.self)
                                       : backThroughTime(plan, args, returnsCellStates, FloatVector.self, SIMD8<Float>.self)
                case .float64:
                    let args = (cast(w.baseAddress!, to: Double.self), unsafeDowncast(trace, to: RecurrentTrace<Double>.self),
                                cast(incoming, to: Double.self), cast(dZ, to: Double.self), cast(dX, to: Double.self),
                                cast(final, to: Double.self), cast(biasGradient, to: Double.self))
                    plan.kernel.isWide ? backThroughTime(plan, args, returnsCellStates, DoubleVector.self, SIMD8<Double>.self)
                                       : backThroughTime(plan, args, returnsCellStates, DoubleVector.self, SIMD4<Double>.self)
                }
            }
            func unpadded(_ p: UnsafeMutablePointer<S>) -> Tensor<S> {
                Tensor(shape: [n, m], unsafeUninitialized: { out in
                    for i in 0..<n { (out.baseAddress! + i * m).initialize(from: p + i * mPad, count: m) }
                })
            }
            let da0 = unpadded(final), dc0 = plan.cell == .lstm ? unpadded(final + n * mPad) : nil
            let dx: Tensor<S>? = needsInput ? Tensor(shape: [nx, m, T], unsafeUninitialized: { out in
                gatherFromSteps(dX, rows: nx, plan, out.baseAddress!, stepStride: nx * mPad, firstRow: 0)
            }) : nil
            guard needsParameters else { return (dx, nil, nil, da0, dc0) }
            // δW = Σ_s δZ_s·H_sᵀ (the GRU's candidate rows against [Γ_r ∗ c⟨s−1⟩; x⟨s⟩]) as one
            // product whose depth runs over the step blocks; δb = Σ δZ.
            let dW = Tensor<S>(shape: [gateRows, K], unsafeUninitialized: { out in
                func accumulate(rows: Int, from firstRow: Int, against right: UnsafePointer<S>) {
                    var problem = GEMMProblem(m: rows, n: K, k: T * mPad, a: UnsafePointer(dZ + firstRow * mPad), lda: mPad, transA: false,
                                              b: right, ldb: mPad, transB: true, c: out.baseAddress! + firstRow * K, ldc: K,
                                              alpha: 1, beta: 0)
                    (problem.kSegment, problem.aSegmentStride, problem.bSegmentStride) = (mPad, gateRows * mPad, K * mPad)
                    BlockedGEMM.run(problem, kernel: plan.kernel, threads: true)
                }
                if let reset = trace.resetStacked {
                    accumulate(rows: 2 * n, from: 0, against: trace.stacked)
                    accumulate(rows: n, from: 2 * n, against: reset)
                } else {
                    accumulate(rows: gateRows, from: 0, against: trace.stacked)
                }
            })
            let db = Tensor<S>(shape: [gateRows, 1], unsafeUninitialized: { out in
                _ = out.initialize(from: UnsafeBufferPointer(start: biasGradient, count: gateRows))
            })
            return (dx, dW, db, da0, dc0)
        }
    }

    /// Backpropagation through time: fills the `δZ` and `δX` step blocks, the
    /// gradients of the initial state and cell (`final`, two `(n, m̄)` blocks) and
    /// `δb = Σ δz` (summed as each step's `δz` is written, row by row in step order).
    static func backThroughTime<V: KernelVector, M: SIMD>(
        _ plan: RecurrentPlan,
        _ args: (w: UnsafePointer<V.Scalar>, trace: RecurrentTrace<V.Scalar>, incoming: UnsafeMutablePointer<V.Scalar>,
                 dZ: UnsafeMutablePointer<V.Scalar>, dX: UnsafeMutablePointer<V.Scalar>, final: UnsafeMutablePointer<V.Scalar>,
                 db: UnsafeMutablePointer<V.Scalar>),
        _ returnsCellStates: Bool, _: V.Type, _: M.Type
    ) where M.Scalar == V.Scalar {
        typealias S = V.Scalar
        let (n, nx, K, T, mPad, G, mr) = (plan.n, plan.nx, plan.K, plan.T, plan.mPad, plan.G, plan.kernel.rows)
        let nr = 2 * M.scalarCount, width = V.scalarCount, gateRows = G * n
        let rows = returnsCellStates ? 2 * n : n
        let gru = plan.cell == .gru
        // Wᵀ packed once per chunk. op(A) = Wᵀ is (K × G·n), stored as W with transA:
        // product 0: the chunk's units against every gate row (the GRU: against Γ_u, Γ_r only);
        // product 1: the chunk's input rows (δx) against every gate row;
        // product 2 (GRU): the chunk's units against the candidate's rows.
        var products = [(firstColumn: 0, firstGateRow: 0, depth: gru ? 2 * n : gateRows, rows: plan.units),
                        (firstColumn: n, firstGateRow: 0, depth: gateRows, rows: plan.inputs)]
        if gru { products.append((firstColumn: 0, firstGateRow: 2 * n, depth: n, rows: plan.units)) }
        var panelOffset = [[Int]](), total = 0
        for k in 0..<plan.chunks {
            var offsets = [Int]()
            for product in products {
                offsets.append(total)
                total += RecurrentPlan.panels(product.rows[k], mr) * mr * product.depth
            }
            panelOffset.append(offsets)
        }
        // Scratch: packed panels, then δa and δc by step parity and the GRU's δa of the step
        // and δ(Γ_r ∗ c⟨t−1⟩), each (n, m̄); then one vector of δb's partial sums per gate row.
        withScratch(total + 6 * n * mPad + gateRows * width, of: S.self) { scratch in
            let da = [scratch + total, scratch + total + n * mPad]
            let dc = [da[1] + n * mPad, da[1] + 2 * n * mPad]
            let dAStep = dc[1] + n * mPad, dReset = dAStep + n * mPad, sums = dReset + n * mPad
            sums.initialize(repeating: 0, count: gateRows * width)
            // δa and δc after the last step start at zero; everything else is written before it is read.
            da[0].initialize(repeating: 0, count: n * mPad)
            dc[0].initialize(repeating: 0, count: n * mPad)
            for k in 0..<plan.chunks {
                for (d, product) in products.enumerated() {
                    let rowsRange = product.rows[k]
                    if rowsRange.isEmpty { continue }
                    let problem = GEMMProblem<S>(m: K, n: 0, k: product.depth, a: args.w + product.firstGateRow * K + product.firstColumn,
                                                 lda: K, transA: true, b: args.w, ldb: 0, transB: false,
                                                 c: UnsafeMutablePointer(mutating: args.w), ldc: 0, alpha: 1, beta: 0)
                    BlockedGEMM.packA(problem, rowsRange.lowerBound, rowsRange.count, 0, product.depth, mr, scratch + panelOffset[k][d])
                }
            }
            let depths = products.map(\.depth), rowRanges = products.map(\.rows)
            let shared = UncheckedSendable((args, scratch, da, dc, dAStep, dReset, panelOffset, sums))

            @inline(__always) func load(_ p: UnsafePointer<S>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
            @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<S>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

            /// `c[the chunk's rows of product d] (+)= op(A)·b`, `b` a `(depth, m̄)` block.
            @inline(__always)
            func transposedProduct(_ k: Int, _ d: Int, _ b: UnsafePointer<S>, _ c: UnsafeMutablePointer<S>, accumulate: Bool) {
                let (_, scratch, _, _, _, _, panelOffset, _) = shared.value
                let rowsRange = rowRanges[d][k], depth = depths[d]
                var a = UnsafePointer(scratch + panelOffset[k][d])
                var r = rowsRange.lowerBound
                while r < rowsRange.upperBound {
                    let count = Swift.min(mr, rowsRange.upperBound - r)
                    var column = 0
                    while column < mPad {
                        BlockedGEMM.microKernel(plan.kernel, depth, a, b + column, c + r * mPad + column, mPad, 1, rows: count, columns: nr,
                                                accumulate: accumulate, M.self, bStride: mPad)
                        column += nr
                    }
                    a += mr * depth
                    r += mr
                }
            }

            let phasesPerStep = gru ? 2 : 1
            runPhases(T * phasesPerStep + 1, chunks: plan.chunks, parallel: plan.isParallel) { phase, k in
                let (args, _, da, dc, dAStep, dReset, _, sums) = shared.value
                let trace = args.trace
                let units = plan.units[k]
                let q = phase / phasesPerStep            // backward step q is forward step T − 1 − q
                let second = gru && phase % 2 == 1
                if !second && q >= 1 {
                    // The previous backward step's δz is complete: δa⟨t−1⟩ += W_aᵀ·δz (the GRU: W_{u,r}ᵀ·δz_{u,r})
                    // for this chunk's units. (δx⟨t⟩ = W_xᵀ·δz is off the recurrence: after the loop.)
                    let z = args.dZ + (T - q) * gateRows * mPad
                    if !units.isEmpty { transposedProduct(k, 0, z, da[q & 1], accumulate: true) }
                }
                if q >= T || units.isEmpty { return }
                let s = T - 1 - q
                let daCurrent = da[q & 1], daNext = da[(q + 1) & 1]
                let mask = trace.masks + s * mPad
                let gate = trace.gates + s * gateRows * mPad, dz = args.dZ + s * gateRows * mPad
                let incoming = args.incoming + s * rows * mPad
                let h = trace.stackedBlock(s)
                /// Stores one vector of δz (row `row` of the step block) and adds it to δb's sum.
                @inline(__always) func emit(_ v: V, _ row: Int, _ j: Int) {
                    store(v, dz + row * mPad + j)
                    store(load(sums + row * width) + v, sums + row * width)
                }
                switch plan.cell {
                case .rnn:
                    for i in units {
                        let o = i * mPad
                        var j = 0
                        while j < mPad {
                            let keep = V.compare(.notEqual, load(mask + j), V())
                            let dA = load(incoming + o + j) + load(daCurrent + o + j)
                            let a = load(gate + o + j)
                            emit(V().replacing(with: dA * (1 - a * a), where: keep), i, j)
                            store(dA.replacing(with: 0, where: keep), daNext + o + j)
                            j += width
                        }
                    }
                case .lstm:
                    let dcCurrent = dc[q & 1], dcNext = dc[(q + 1) & 1]
                    let cell = trace.cells! + (s + 1) * n * mPad, cellPrevious = cell - n * mPad
                    for i in units {
                        let o = i * mPad, fo = o + n * mPad, oo = o + 2 * n * mPad, co = o + 3 * n * mPad
                        var j = 0
                        while j < mPad {
                            let keep = V.compare(.notEqual, load(mask + j), V())
                            let dA = load(incoming + o + j) + load(daCurrent + o + j)
                            var dC = load(dcCurrent + o + j)
                            if returnsCellStates { dC += load(incoming + n * mPad + o + j) }
                            let u = load(gate + o + j), f = load(gate + fo + j), og = load(gate + oo + j), candidate = load(gate + co + j)
                            let tanhC = V.tanh(load(cell + o + j)), cp = load(cellPrevious + o + j)
                            let dcTotal = dC + dA * og * (1 - tanhC * tanhC)
                            let zero = V()
                            emit(zero.replacing(with: dcTotal * candidate * u * (1 - u), where: keep), i, j)
                            emit(zero.replacing(with: dcTotal * cp * f * (1 - f), where: keep), n + i, j)
                            emit(zero.replacing(with: dA * tanhC * og * (1 - og), where: keep), 2 * n + i, j)
                            emit(zero.replacing(with: dcTotal * u * (1 - candidate * candidate), where: keep), 3 * n + i, j)
                            store(dC.replacing(with: dcTotal * f, where: keep), dcNext + o + j)
                            store(dA.replacing(with: 0, where: keep), daNext + o + j)
                            j += width
                        }
                    }
                case .gru:
                    if !second {
                        // δz of the candidate rows, for every unit before δ(Γ_r ∗ c⟨t−1⟩).
                        for i in units {
                            let o = i * mPad, co = o + 2 * n * mPad
                            var j = 0
                            while j < mPad {
                                let keep = V.compare(.notEqual, load(mask + j), V())
                                let dA = load(incoming + o + j) + load(daCurrent + o + j)
                                store(dA, dAStep + o + j)
                                let c = load(gate + co + j)
                                emit(V().replacing(with: dA * load(gate + o + j) * (1 - c * c), where: keep), 2 * n + i, j)
                                j += width
                            }
                        }
                    } else {
                        // δ(Γ_r ∗ c⟨t−1⟩) = W_cᵀ·δz_c for these units (every unit's δz_c is in).
                        transposedProduct(k, 2, dz + 2 * n * mPad, dReset, accumulate: false)
                        for i in units {
                            let o = i * mPad, ro = o + n * mPad, co = o + 2 * n * mPad
                            var j = 0
                            while j < mPad {
                                let keep = V.compare(.notEqual, load(mask + j), V())
                                let dA = load(dAStep + o + j)
                                let dState = V().replacing(with: dA, where: keep)
                                let u = load(gate + o + j), r = load(gate + ro + j), candidate = load(gate + co + j)
                                let ap = load(h + o + j), dr = load(dReset + o + j)
                                emit(dState * (candidate - ap) * u * (1 - u), i, j)
                                emit(dr * ap * r * (1 - r), n + i, j)
                                store(dr * r + dState * (1 - u) + dA.replacing(with: 0, where: keep), daNext + o + j)
                                j += width
                            }
                        }
                    }
                }
            }
            // δx⟨t⟩ = W_xᵀ·δz⟨t⟩ for every step, steps in parallel: no step waits for
            // another, so these products leave the serial path (LSTM I64 H128 T50
            // B32 fwd+bwd: 0.3–1 ms less with the loop's products skipped). The same
            // panels and kernel as inside the loop, so the bits are unchanged.
            if nx > 0 {
                parallelFor(chunks: T, work: T * nx * gateRows * mPad) { s in
                    let args = shared.value.0
                    for k in 0..<plan.chunks where !plan.inputs[k].isEmpty {
                        transposedProduct(k, 1, args.dZ + s * gateRows * mPad, args.dX + s * nx * mPad, accumulate: false)
                    }
                }
            }
            let last = T & 1
            args.final.update(from: da[last], count: n * mPad)
            if plan.cell == .lstm { (args.final + n * mPad).update(from: dc[last], count: n * mPad) }
            for r in 0..<gateRows { args.db[r] = load(sums + r * width).sum() }
        }
    }

    // MARK: Layout changes

    /// `steps[s][firstRow + r][j] = planes[r][j, t(s)]`: the notes' `(rows, m, T)`
    /// into step blocks `stepStride` elements apart, by `w × w` register tiles.
    static func scatterToSteps<S: TensorScalar>(
        _ planes: UnsafePointer<S>, rows: Int, _ plan: RecurrentPlan, _ steps: UnsafeMutablePointer<S>, stepStride: Int, firstRow: Int
    ) {
        let (m, T, mPad) = (plan.m, plan.T, plan.mPad)
        let direction = plan.reversed ? -stepStride : stepStride   // from time t to t + 1
        for r in 0..<rows {
            let target = steps + (plan.reversed ? T - 1 : 0) * stepStride + (firstRow + r) * mPad   // time 0's row
            transpose(planes + r * m * T, sourceStride: T, rows: m, columns: T, target, targetStride: direction)
        }
    }

    /// The inverse of ``scatterToSteps(_:rows:_:_:stepStride:firstRow:)``:
    /// `planes[r][j, t(s)] = steps[s][firstRow + r][j]`.
    static func gatherFromSteps<S: TensorScalar>(
        _ steps: UnsafePointer<S>, rows: Int, _ plan: RecurrentPlan, _ planes: UnsafeMutablePointer<S>, stepStride: Int, firstRow: Int
    ) {
        let (m, T, mPad) = (plan.m, plan.T, plan.mPad)
        let direction = plan.reversed ? -stepStride : stepStride
        for r in 0..<rows {
            let source = steps + (plan.reversed ? T - 1 : 0) * stepStride + (firstRow + r) * mPad
            transpose(source, sourceStride: direction, rows: T, columns: m, planes + r * m * T, targetStride: T)
        }
    }

    /// `target[c·targetStride + r] = source[r·sourceStride + c]` for `r < rows`,
    /// `c < columns` (strides may be negative): `w × w` tiles transposed in
    /// registers (log₂ w rounds of lane interleaving), edges element by element.
    /// (The LSTM benchmark's layout changes: 4-row groups stored as quads
    /// took 7 % of a training step.)
    static func transpose<S: TensorScalar>(
        _ source: UnsafePointer<S>, sourceStride: Int, rows: Int, columns: Int, _ target: UnsafeMutablePointer<S>, targetStride: Int
    ) {
        switch S.scalarType {
        case .float32:
            transposeTiles(cast(source, to: Float.self), sourceStride, rows, columns, cast(target, to: Float.self), targetStride, FloatVector.self)
        case .float64:
            transposeTiles(cast(source, to: Double.self), sourceStride, rows, columns, cast(target, to: Double.self), targetStride, DoubleVector.self)
        }
    }

    static func transposeTiles<V: SIMD>(
        _ source: UnsafePointer<V.Scalar>, _ sourceStride: Int, _ rows: Int, _ columns: Int,
        _ target: UnsafeMutablePointer<V.Scalar>, _ targetStride: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount, half = w / 2
        withUnsafeTemporaryAllocation(of: V.self, capacity: 2 * w) { buffer in
            var r0 = 0
            while r0 + w <= rows {
                var c0 = 0
                while c0 + w <= columns {
                    var from = buffer.baseAddress!, to = from + w
                    for i in 0..<w { from[i] = UnsafeRawPointer(source + (r0 + i) * sourceStride + c0).loadUnaligned(as: V.self) }
                    // Round k pairs rows i and i + w/2: after log₂ w rounds row i holds column i.
                    var span = 1
                    while span < w {
                        for i in 0..<half {
                            to[2 * i] = BlockedGEMM.zip(from[i], from[i + half], half: 0)
                            to[2 * i + 1] = BlockedGEMM.zip(from[i], from[i + half], half: 1)
                        }
                        swap(&from, &to)
                        span *= 2
                    }
                    for i in 0..<w { UnsafeMutableRawPointer(target + (c0 + i) * targetStride + r0).storeBytes(of: from[i], as: V.self) }
                    c0 += w
                }
                for c in c0..<columns {
                    for i in 0..<w { target[c * targetStride + r0 + i] = source[(r0 + i) * sourceStride + c] }
                }
                r0 += w
            }
            for r in r0..<rows {
                for c in 0..<columns { target[c * targetStride + r] = source[r * sourceStride + c] }
            }
        }
    }
}
