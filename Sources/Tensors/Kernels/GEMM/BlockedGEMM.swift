import Synchronization

/// The production GEMM: BLIS's loops around a register micro-kernel.
///
/// ```
/// for jc in 0..<n step nc
///   phase 1 (parallel jobs): pack B̃ = op(B)[:, jc..] in kc × 2w panels, and on the
///                            first jc pass Ã = op(A) in kc × MR panels, for every pc
///                            (on one thread, with enough ic blocks for every thread,
///                            or for a convolution's patches, Ã is packed in phase 2)
///   phase 2 (parallel units = ic block × group of jr panels):
///     for pc in 0..<k step kc                     (C tile stays with its unit)
///       [packed in phase 2: this mc × kc block of Ã into an L2-resident buffer]
///       for ir in 0..<mc step MR                  (Ã micro-panel in L1 at kc 256)
///         for jr in unit's panels                 (B̃ micro-panels stream from L2)
///           micro-kernel: C[ir.., jr..] += α·Ã·B̃  (registers)
/// ```
/// Packing once per `jc` slice costs two Dispatch rounds per product instead
/// of two per `kc` block, which mattered for mid-size products. Threads split
/// `ic` and `jr`, never `k`, and every element of C sees the same sequence of
/// operations whichever thread computes it, so results are bitwise identical
/// for any thread count. On several threads, products with enough row blocks
/// for every thread take ``perDepthBlock(_:_:overwrite:kcMax:ncMax:mcMax:_:)``
/// instead (B̃ packed per block of k, right before use).
enum BlockedGEMM {
    static func run<S: TensorScalar>(_ g: GEMMProblem<S>, kernel: GEMMKernel, threads: Bool) {
        if let t = g.transposedIfNarrow(kernel) { return run(t, kernel: kernel, threads: threads) }
        switch S.scalarType {
        case .float32:
            let f = g.retyped(Float.self)
            kernel.isWide ? typed(f, kernel, threads, FloatVector.self) : typed(f, kernel, threads, SIMD8<Float>.self)
        case .float64:
            let d = g.retyped(Double.self)
            kernel.isWide ? typed(d, kernel, threads, DoubleVector.self) : typed(d, kernel, threads, SIMD4<Double>.self)
        }
    }

    @inline(__always)
    static func typed<V: SIMD>(_ g: GEMMProblem<V.Scalar>, _ kernel: GEMMKernel, _ threads: Bool, _: V.Type)
    where V.Scalar: TensorScalar {
        let overwrite = g.prepareCForOverwrite()
        if g.m == 0 || g.n == 0 || g.k == 0 || g.alpha == 0 { return }
        let blocking = GEMMBlocking.forProblem(V.Scalar.scalarType, m: g.m, n: g.n, k: g.k)
        let mr = kernel.rows, nr = 2 * V.scalarCount
        // Even block sizes (a multiple of mr for mc) so that work units are balanced.
        let mc = evenSplit(g.m, blocking.mc, multipleOf: mr)
        let kcMax = evenSplit(g.k, blocking.kc, multipleOf: 1)
        let ncMax = evenSplit(g.n, blocking.nc, multipleOf: nr)
        let icBlocks = (g.m + mc - 1) / mc
        let packedRows = ((g.m + mr - 1) / mr) * mr
        let kBlocks = (g.k + kcMax - 1) / kcMax
        let scalarSize = MemoryLayout<V.Scalar>.stride
        let work = threads && g.m * g.n * g.k >= GEMMConfiguration.parallelLimit ? Int.max : 0
        let pool = PackingBufferPool.shared
        // Ã holds every (pc, ic) block of op(A): block pc starts at packedRows·pc, its
        // mr-row panels are kc·mr apart. B̃ holds every (pc, panel) of the current jc slice.
        // On one thread Ã is instead packed block by block right before use, into one
        // mc × kc buffer that stays in L2 (less memory traffic than a whole packed copy).
        let packAPerBlock = work == 0 || Parallelism.maxThreads == 1
        // A convolution's patch matrix is never packed whole (that would be a full
        // im2col copy): each work unit gathers its own mc × kc block right before use.
        // So does any product with enough row blocks to keep every thread busy without
        // splitting C's columns: each block is then packed by the unit that uses it, into
        // an L2-resident buffer, instead of the whole Ã going out to memory first and
        // coming back (n = 2048 on two threads, seven alternating runs: Float 434 → 443
        // GFLOPS, Double 186 → 212; n = 1024 Float unchanged, 440 / 441).
        let packAPerUnit = !packAPerBlock && (g.patches != nil || icBlocks >= workUnitsPerProblem)
        // On one thread, products wider than one `nc` slice take the same schedule: its
        // wider depth blocks pack Ã once instead of once per slice (n = 2048, interleaved
        // calls: Float 213 → 228 GFLOPS with the changes below, Double 108 → 114).
        if g.patches == nil && (packAPerUnit || packAPerBlock && g.n > ncMax) {
            return perDepthBlock(g, kernel, overwrite: overwrite, threads: !packAPerBlock, kcMax: kcMax,
                                 ncMax: evenSplit(g.n, blocking.depthBlockColumns, multipleOf: nr), mcMax: blocking.mc, V.self)
        }
        pool.withBuffer(bytes: (packAPerBlock ? mc * kcMax : packAPerUnit ? 0 : packedRows * g.k) * scalarSize) { rawA in
            let packedA = UncheckedSendable(rawA.assumingMemoryBound(to: V.Scalar.self))
            var jc = 0
            while jc < g.n {
                let nc = Swift.min(ncMax, g.n - jc)
                let panels = (nc + nr - 1) / nr
                // Work units: (ic block, group of jr panels); boundaries depend only on the shape,
                // so the result does not depend on the thread count.
                let groups = packAPerBlock || packAPerUnit ? 1 : Swift.max(1, Swift.min(panels, (workUnitsPerProblem + icBlocks - 1) / icBlocks))
                let panelsPerGroup = (panels + groups - 1) / groups
                let bJobsPerK = (panels + 7) / 8
                let aJobs = jc == 0 && !packAPerBlock && !packAPerUnit ? kBlocks * icBlocks : 0
                pool.withBuffer(bytes: panels * nr * g.k * scalarSize) { rawB in
                    let packedB = UncheckedSendable(rawB.assumingMemoryBound(to: V.Scalar.self))
                    // Phase 1: pack B̃ (and, once, Ã) — every job writes a disjoint region.
                    parallelFor(chunks: kBlocks * bJobsPerK + aJobs, work: work) { job in
                        if job < kBlocks * bJobsPerK {
                            let pc = (job / bJobsPerK) * kcMax, kc = Swift.min(kcMax, g.k - pc)
                            let first = (job % bJobsPerK) * 8, count = Swift.min(panels, first + 8) - first
                            packB(g, pc, kc, jc + first * nr, Swift.min(count * nr, nc - first * nr), nr,
                                  packedB.value + panels * nr * pc + first * nr * kc)
                        } else {
                            let a = job - kBlocks * bJobsPerK
                            let pc = (a / icBlocks) * kcMax, kc = Swift.min(kcMax, g.k - pc)
                            let ic = (a % icBlocks) * mc
                            packA(g, ic, Swift.min(mc, g.m - ic), pc, kc, mr, packedA.value + packedRows * pc + ic * kc)
                        }
                    }
                    // Phase 2: each unit owns a tile of C and walks k in order.
                    parallelFor(chunks: icBlocks * groups, work: work) { unit in
                      pool.withBuffer(bytes: packAPerUnit ? mc * kcMax * scalarSize : 0) { unitBuffer in
                        let ic = (unit / groups) * mc, rowsInBlock = Swift.min(mc, g.m - ic)
                        let firstPanel = (unit % groups) * panelsPerGroup
                        let lastPanel = Swift.max(firstPanel, Swift.min(panels, firstPanel + panelsPerGroup))
                        var pc = 0
                        while pc < g.k {
                            let kc = Swift.min(kcMax, g.k - pc)
                            let aBlock: UnsafeMutablePointer<V.Scalar>
                            if packAPerBlock || packAPerUnit {
                                aBlock = packAPerUnit ? unitBuffer.assumingMemoryBound(to: V.Scalar.self) : packedA.value
                                packA(g, ic, rowsInBlock, pc, kc, mr, aBlock)
                            } else {
                                aBlock = packedA.value + packedRows * pc + ic * kc
                            }
                            multiplyBlock(g, kernel, aBlock, packedB.value + panels * nr * pc, ic: ic, rows: rowsInBlock, jc: jc, columns: nc,
                                          panels: firstPanel..<lastPanel, kc: kc, accumulate: pc > 0 || !overwrite,
                                          finishes: pc + kc == g.k, V.self)
                            pc += kc
                        }
                      }
                    }
                }
                jc += nc
            }
        }
    }

    /// Products with enough row blocks for every thread (on two cores m > 1008 in
    /// Float, m > 504 with the deeper blocks of `GEMMBlocking.forProblem`), on
    /// several threads: B̃ is packed one `kc × nc` block at a time, by all
    /// threads, right before all of them use it — while it is still in the
    /// caches of the cores that wrote it — instead of a whole `k × nc` slice
    /// first; each thread packs the Ã blocks of the rows it takes, and keeps
    /// nearly the same rows (hence the same lines of C) for every block of k:
    /// ``PanelClaims`` gives each thread a home range of C's rows, claimed in
    /// blocks of at most `mcMax` rows, and lets a thread that is done take what
    /// is left of the others' ranges, so no thread waits at the end of a block
    /// of k for another one to finish its share (cores run at different speeds
    /// from moment to moment, and a static split made each round as slow as its
    /// slower core). `nc` spans up to 2048 Float columns, so Ã is packed once.
    /// Blocks only group the work: every element of C sees the same operations
    /// in the same order as on one thread.
    ///
    /// Measured (two cores, Float, medians of 30 products, four interleaved
    /// rounds beside numpy on OpenBLAS SkylakeX): n = 1024 the previous
    /// schedule 479–510, this one 491–519, numpy 499–522 GFLOPS; n = 2048
    /// 471–500, 485–508, 490–512. Packing per k block without keeping each
    /// thread's row blocks read level with the previous schedule (the lines of
    /// C moved between cores from one block of k to the next). Claiming instead
    /// of a fixed split into equal row blocks (fifteenth session, interleaved
    /// in one process, two threads, with kc = 512 and mc = 72): waiting at the
    /// barriers went from ≈ 3.5 % of the cycles to ≈ 0.5 % at n = 2048.
    ///
    /// Also taken on one thread (`threads` false) by products wider than one
    /// `nc` slice of the other schedule. Tried and not kept (twelfth session,
    /// interleaved calls): C's columns split between the threads instead of its
    /// rows (each thread packs and keeps its own B̃ columns, Ã shared), two
    /// threads n = 1024: 483–495 vs 485–490 GFLOPS. Eighteenth session, not
    /// kept: each block of B̃ after the first packed by the micro-kernel calls of
    /// the block before, beside their multiply-adds (into a second buffer; each
    /// claim of rows packing its share of the next block's rows, one 128-byte
    /// panel row every few hundred steps), so that no round packs B̃ alone.
    /// Eight alternations against the previous binary (medians): two threads
    /// n = 1024 425 → 403 GFLOPS, n = 2048 409 → 388, one thread n = 2048
    /// 228 → 219 — the loss packing the next block between calls had shown
    /// (eleventh session, in `GEMMBlocking`); likely the same cause: the block
    /// is written a whole round before its use and has left L2 by then.
    static func perDepthBlock<V: SIMD>(
        _ g: GEMMProblem<V.Scalar>, _ kernel: GEMMKernel, overwrite: Bool, threads: Bool, kcMax: Int, ncMax: Int, mcMax: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        let mr = kernel.rows, nr = 2 * V.scalarCount
        let scalarSize = MemoryLayout<V.Scalar>.stride
        let pool = PackingBufferPool.shared
        let rowPanels = (g.m + mr - 1) / mr
        let blockPanels = Swift.max(1, mcMax / mr)
        let sets = threads ? Swift.max(1, Swift.min(Parallelism.maxThreads, rowPanels)) : 1
        let work = threads ? Int.max : 0
        let claims = PanelClaims(sets: sets, panels: rowPanels, blockPanels: blockPanels)
        var jc = 0
        while jc < g.n {
            let nc = Swift.min(ncMax, g.n - jc)
            let panels = (nc + nr - 1) / nr
            let bJobs = (panels + 3) / 4
            pool.withBuffer(bytes: panels * nr * kcMax * scalarSize) { rawB in
                let packedB = UncheckedSendable(rawB.assumingMemoryBound(to: V.Scalar.self))
                var pc = 0
                while pc < g.k {
                    let kc = Swift.min(kcMax, g.k - pc)
                    parallelFor(chunks: bJobs, work: work) { job in
                        let first = job * 4, count = Swift.min(panels, first + 4) - first
                        packB(g, pc, kc, jc + first * nr, Swift.min(count * nr, nc - first * nr), nr, packedB.value + first * nr * kc)
                    }
                    claims.reset()
                    parallelFor(chunks: sets, work: work) { set in
                        pool.withBuffer(bytes: blockPanels * mr * kcMax * scalarSize) { unitBuffer in
                            let aBlock = unitBuffer.assumingMemoryBound(to: V.Scalar.self)
                            while let panelRows = claims.next(for: set) {
                                let ic = panelRows.lowerBound * mr, rowsInBlock = Swift.min(g.m, panelRows.upperBound * mr) - ic
                                packA(g, ic, rowsInBlock, pc, kc, mr, aBlock)
                                multiplyBlock(g, kernel, aBlock, packedB.value, ic: ic, rows: rowsInBlock, jc: jc, columns: nc,
                                              panels: 0..<panels, kc: kc, accumulate: pc > 0 || !overwrite,
                                              finishes: pc + kc == g.k, requestsC: true, V.self)
                            }
                        }
                    }
                    pc += kc
                }
            }
            jc += nc
        }
    }

    /// C[ic..<ic+rows, jc + panel columns] (+)= α·Ã·B̃ for one packed Ã block
    /// (`rows` × `kc` in mr-row panels) and `panels` of a packed B̃ block (`kc` ×
    /// `columns` in nr-column panels): each Ã micro-panel is swept across the
    /// B̃ panels half an L2 of them at a time (``l2ResidentPanelBytes``: 512 KiB
    /// on Zen 5, 16 panels of the 12 × 32 tile at kc = 256; 256 KiB on Zen 3), so
    /// that the group is read from L2 by every micro-panel of the block rather
    /// than from L3 (1 MiB blocks of B̃ filled the whole L2). At kc = 256 the Ã
    /// micro-panel (12 KiB) stays in L1 while a B̃ panel (32 KiB) streams past
    /// it; at kc = 512 one call streams 24 + 64 KiB, more than L1 holds, so both
    /// come from L2 — calls split into shallower ones that fit L1 did not help
    /// (twentieth session, in `GEMMBlocking`).
    /// Measured with interleaved calls, with the packing prefetches: Float
    /// n = 1024 one / two threads 224 → 231 / 443 → 453 GFLOPS, n = 2048 two
    /// threads 439 → 454; Double n = 1024 107 → 114 / 217 → 222.
    /// Groups only reorder whole micro-kernel calls: each element of C sees the
    /// same operations in the same order.
    /// With `finishes` (the last block of k) each tile gets the problem's
    /// epilogue (bias, ReLU) right after its call.
    ///
    /// With `requestsC` (the per-depth-block schedule, whose C outgrows the
    /// caches), an accumulating pass requests the next call's tile of C for
    /// writing (`prefetchw`, two lines per row) before each call, so that the
    /// load-add-store after the call's loop finds it near: that epilogue was
    /// 4.7 % of the micro-kernel's samples at 2048³ (1.5 % where C is only
    /// stored). Twentieth session, alternating binaries, one thread n = 2048:
    /// eight pairs all ahead, median ratio 1.05 (see `GEMMBlocking`).
    ///
    /// Eighteenth session, not kept: the Ã block packed by the micro-kernel
    /// calls themselves — the 12-row tile, given a job it does at the start of
    /// every depth step, copying one step of the next 12-row panel of a
    /// row-major A (twelve words through general registers) every
    /// `group.count` steps of the first group's calls, so that the loads of A's
    /// rows wait beside multiply-adds rather than in `packA`'s own loop. Same
    /// bits (checked against the 6-row tile). In one process alternating with
    /// `packA`, quiet machine: n = 1024 / 2048 one thread +0.4–0.7 %, two
    /// threads +0.3–0.5 % (`packA` 2.6 → 0.4 % of the cycles, the packing calls
    /// 2.7 % slower); against the previous binary, ten alternations: one thread
    /// +0.2–0.6 %, two +0.8–1.2 %. But other shapes lost, in two alternations
    /// each: 1500×700×1300 and 3000×256×600 one thread −6 to −10 %,
    /// 1500×700×1300 two threads −5 to −10 % (groups of 11 and 16
    /// panels, so one copy every 11 or 16 steps; this VM has no hardware
    /// counters to tell whether that branch pattern is mispredicted); a copy
    /// every 4 or 8 steps (copies bounded, the rest finished after the calls)
    /// won there in one quiet phase (+1–2 %) and lost 4–18 % in a busier one —
    /// presumably demand misses on A's rows stalling the loop. Packing the whole
    /// next panel in one call instead: those calls 55 % slower, no gain; the
    /// copy at the end of each step: LLVM loaded the twelve broadcasts ahead
    /// and spilled accumulators. Packing B̃ the same way: see `perDepthBlock`.
    @inline(__always)
    static func multiplyBlock<V: SIMD>(
        _ g: GEMMProblem<V.Scalar>, _ kernel: GEMMKernel, _ aBlock: UnsafePointer<V.Scalar>, _ bBlock: UnsafePointer<V.Scalar>,
        ic: Int, rows rowsInBlock: Int, jc: Int, columns nc: Int, panels: Range<Int>, kc: Int, accumulate: Bool,
        finishes: Bool, requestsC: Bool = false, _: V.Type
    ) where V.Scalar: TensorScalar {
        let mr = kernel.rows, nr = 2 * V.scalarCount, epilogue = g.hasEpilogue
        let groupPanels = Swift.max(1, l2ResidentPanelBytes / (nr * kc * MemoryLayout<V.Scalar>.stride))
        let requests = requestsC && accumulate && !g.transposedC
        let rowBytes = g.ldc * MemoryLayout<V.Scalar>.stride
        var first = panels.lowerBound
        while first < panels.upperBound {
            let group = first..<Swift.min(panels.upperBound, first + groupPanels)
            var ir = 0
            while ir < rowsInBlock {
                let rows = Swift.min(mr, rowsInBlock - ir)
                for panel in group {
                    let jr = panel * nr
                    if requests {
                        // The next call's tile of C (the next panel, or the group's first for the next rows).
                        let (nextRow, nextPanel) = panel + 1 < group.upperBound ? (ir, panel + 1) : (ir + mr, group.lowerBound)
                        if nextRow < rowsInBlock {
                            let tile = UnsafeRawPointer(g.cTile(ic + nextRow, jc + nextPanel * nr))
                            let bytes = Swift.min(nr, nc - nextPanel * nr) * MemoryLayout<V.Scalar>.stride
                            for r in 0..<Swift.min(mr, rowsInBlock - nextRow) {
                                CacheLines.prefetchForWriting(tile + r * rowBytes)
                                if bytes > 64 { CacheLines.prefetchForWriting(tile + r * rowBytes + 64) }
                            }
                        }
                    }
                    let columns = Swift.min(nr, nc - jr)
                    microKernel(kernel, kc, aBlock + ir * kc, bBlock + panel * nr * kc, g.cTile(ic + ir, jc + jr), g.ldc, g.alpha,
                                rows: rows, columns: columns, cTransposed: g.transposedC, accumulate: accumulate, V.self)
                    // The epilogue on the tile just finished, while it is in L1.
                    if finishes && epilogue { g.applyEpilogue(rows: ic + ir..<ic + ir + rows, columns: jc + jr..<jc + jr + columns) }
                }
                ir += mr
            }
            first = group.upperBound
        }
    }

    /// Bytes of B̃ panels ``multiplyBlock`` sweeps with each Ã micro-panel
    /// before moving on: half of the L2 (``GEMMConfiguration/level2CacheBytes``;
    /// 1 MiB per core on the Zen 5 machines, 512 KiB on Zen 3). Only the order
    /// of whole micro-kernel calls depends on it, never a result's bits.
    /// (It was a constant 512 KiB, the whole L2 of a Zen 3 core. Twenty-first
    /// session, Zen 3, `gemm_pairs.py --rounds 3` before and after, 25 minutes
    /// apart, ours / numpy on OpenBLAS's Haswell kernels per round: 2048³ one
    /// thread 0.946–0.958 → 0.976–0.984, two 0.933–0.999 → 0.975–0.996;
    /// 1024³ 0.950–1.025 → 0.973–0.988 and 0.890–1.033 → 0.974–0.999.)
    static let l2ResidentPanelBytes = GEMMConfiguration.level2CacheBytes / 2

    /// The block size ≤ `limit` (rounded up to `multipleOf`) that splits
    /// `total` into the fewest, most equal blocks.
    static func evenSplit(_ total: Int, _ limit: Int, multipleOf unit: Int) -> Int {
        let blocks = Swift.max(1, (total + limit - 1) / limit)
        let size = (total + blocks - 1) / blocks
        return Swift.max(unit, ((size + unit - 1) / unit) * unit)
    }

    /// The micro-kernel of `kernel` on a packed panel of A (`kernel.rows`
    /// elements per step) holding `rows` rows: for the 12-row kernels
    /// ``wideTile``'s choice, for the 6-row kernels ``narrowTile``'s.
    @inline(__always)
    static func microKernel<V: SIMD>(
        _ kernel: GEMMKernel, _ kc: Int, _ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int,
        cTransposed: Bool = false, accumulate: Bool = true, _: V.Type, bStride: Int? = nil
    ) where V.Scalar: TensorScalar {
        let bs = bStride ?? 2 * V.scalarCount
        switch kernel {
        case .fma12x32:
            wideTile(kc, a, rowBytes: 0, stepBytes: 0, b, bStride: bs, c, ldc, alpha, rows: rows, columns: columns, cTransposed: cTransposed,
                     accumulate: accumulate, V.self, FusedMultiplyAdd.self, PackedPanel.self)
        case .mulAdd12x32:
            wideTile(kc, a, rowBytes: 0, stepBytes: 0, b, bStride: bs, c, ldc, alpha, rows: rows, columns: columns, cTransposed: cTransposed,
                     accumulate: accumulate, V.self, SeparateMultiplyAdd.self, PackedPanel.self)
        case .fma6x16:
            narrowTile(kc, a, rowBytes: 0, stepBytes: 0, b, bStride: bs, c, ldc, alpha, rows: rows, columns: columns, cTransposed: cTransposed,
                       accumulate: accumulate, V.self, FusedMultiplyAdd.self, PackedPanel.self)
        case .mulAdd6x16:
            narrowTile(kc, a, rowBytes: 0, stepBytes: 0, b, bStride: bs, c, ldc, alpha, rows: rows, columns: columns, cTransposed: cTransposed,
                       accumulate: accumulate, V.self, SeparateMultiplyAdd.self, PackedPanel.self)
        }
    }

    /// The micro-kernel of `kernel` on a panel of A read in place: rows `lda`
    /// apart (steps adjacent), or with `transposed` (A stored `k × m`) steps
    /// `lda` apart (rows adjacent). `rows` is the kernel's (a full panel), or 4
    /// for a 6-row kernel's edge panel (``DirectGEMM/panelRows(_:left:)``); for
    /// a 12-row kernel the one-vector tile where `columns` fits in one vector.
    static func microKernelReadingA<V: SIMD>(
        _ kernel: GEMMKernel, _ kc: Int, _ a: UnsafePointer<V.Scalar>, _ lda: Int, transposed: Bool,
        _ b: UnsafePointer<V.Scalar>, bStride: Int, _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar,
        rows: Int, columns: Int, cTransposed: Bool, accumulate: Bool, _: V.Type
    ) where V.Scalar: TensorScalar {
        assert(rows == kernel.rows || !kernel.isWide && rows == 4, "a panel read in place has \(kernel.rows) rows, or 4 (6-row kernels)")
        let size = MemoryLayout<V.Scalar>.stride
        let (rowBytes, stepBytes) = transposed ? (size, lda * size) : (lda * size, size)
        if !kernel.isWide {
            if kernel.isFused {
                narrowTile(kc, a, rowBytes: rowBytes, stepBytes: stepBytes, b, bStride: bStride, c, ldc, alpha, rows: rows, columns: columns,
                           cTransposed: cTransposed, accumulate: accumulate, V.self, FusedMultiplyAdd.self, InPlacePanel.self)
            } else {
                narrowTile(kc, a, rowBytes: rowBytes, stepBytes: stepBytes, b, bStride: bStride, c, ldc, alpha, rows: rows, columns: columns,
                           cTransposed: cTransposed, accumulate: accumulate, V.self, SeparateMultiplyAdd.self, InPlacePanel.self)
            }
            return
        }
        if kernel.isFused {
            wideTile(kc, a, rowBytes: rowBytes, stepBytes: stepBytes, b, bStride: bStride, c, ldc, alpha, rows: 12, columns: columns,
                     cTransposed: cTransposed, accumulate: accumulate, V.self, FusedMultiplyAdd.self, InPlacePanel.self)
        } else {
            wideTile(kc, a, rowBytes: rowBytes, stepBytes: stepBytes, b, bStride: bStride, c, ldc, alpha, rows: 12, columns: columns,
                     cTransposed: cTransposed, accumulate: accumulate, V.self, SeparateMultiplyAdd.self, InPlacePanel.self)
        }
    }

    /// The tile a 12-row kernel runs on a `rows × columns` piece of C whose A
    /// panel is in layout `L`: the 12 × 2w tile, or for an edge panel a smaller
    /// one that adds each element's terms in the same order (same bits) without
    /// the multiply-adds on zero padding — a packed panel of at most 6 rows the
    /// 6-row tile on the first six rows of each 12-row step, at most one vector
    /// of columns the one-vector 12-row tile (packed or in place), a packed
    /// panel of 7–8 rows (a batch of 32 or 128) the 8-row tile. (A read in place
    /// is always a full 12-row panel.)
    ///
    /// Nineteenth session, one thread, alternating binaries — 6-row edge:
    /// 16×512×512 131–139 → 157–178 GFLOPS, 28×1024×256 118–165 → 170–198;
    /// 1024³ (6 of 1024 rows saved) within the spread, ten pairs, median ratio
    /// 0.998 on one thread and 1.010 on two. One-vector edge: 512×512×48
    /// 160–173 → 179–187 (four pairs); 256×128×100 median ratio 1.05 (7 of 8
    /// pairs ahead), `ABt dX 128x256@256x784` 1.014 (6 of 8); 1000×512×400
    /// 220–226 → 227–231; a shape it does not touch read 1.03 in the same run
    /// (the spread of these short products). 8-row edge, six pairs, all ahead:
    /// 128×784×256 1.033, `ABt dX 128x256@256x784` 1.041, 32×512×512 1.153
    /// (189.9 → 219.2), 32×784×256 1.125; 200×300×400 1.032 (4 of 6).
    @inline(__always)
    static func wideTile<V: SIMD, F: MultiplyAdd, L: PanelLayout>(
        _ kc: Int, _ a: UnsafePointer<V.Scalar>, rowBytes: Int, stepBytes: Int, _ b: UnsafePointer<V.Scalar>, bStride: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int, cTransposed: Bool,
        accumulate: Bool, _: V.Type, _: F.Type, _: L.Type
    ) where V.Scalar: TensorScalar {
        if L.isPacked && rows <= 6 {
            MicroKernels.microKernel6x2(kc, a, panelStep: 12, b, bStride: bStride, c, ldc, alpha, rows: rows, columns: columns,
                                        cTransposed: cTransposed, accumulate: accumulate, V.self, F.self, PackedPanel.self)
        } else if columns <= V.scalarCount {
            MicroKernels.tile12x1(kc, a, rowBytes: rowBytes, stepBytes: stepBytes, b, bStride: bStride, c, ldc, alpha, rows: rows,
                                  columns: columns, cTransposed: cTransposed, accumulate: accumulate, V.self, F.self, L.self)
        } else if L.isPacked && rows <= 8 {
            MicroKernels.tile8x2(kc, a, b, bStride: bStride, c, ldc, alpha, rows: rows, columns: columns, cTransposed: cTransposed,
                                 accumulate: accumulate, V.self, F.self)
        } else {
            MicroKernels.tile12x2(kc, a, rowBytes: rowBytes, stepBytes: stepBytes, b, bStride: bStride, c, ldc, alpha, rows: rows,
                                  columns: columns, cTransposed: cTransposed, accumulate: accumulate, V.self, F.self, L.self)
        }
    }

    /// The tile a 6-row kernel runs on a `rows × columns` piece of C whose A
    /// panel is in layout `L` (packed six rows per step, or read in place):
    /// the 6 × 2w tile, or for a panel of at most 4 rows the 4-row tile
    /// (``MicroKernels/microKernel4x2``: 8 accumulators instead of 12 on zero
    /// padding; each element's terms in the same order, the same bits). The
    /// direct kernel's last 1–4 rows and the blocked path's last row panel take
    /// it alike. (A panel read in place has the tile's rows: 6, or 4.)
    @inline(__always)
    static func narrowTile<V: SIMD, F: MultiplyAdd, L: PanelLayout>(
        _ kc: Int, _ a: UnsafePointer<V.Scalar>, rowBytes: Int, stepBytes: Int, _ b: UnsafePointer<V.Scalar>, bStride: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int, cTransposed: Bool,
        accumulate: Bool, _: V.Type, _: F.Type, _: L.Type
    ) where V.Scalar: TensorScalar {
        if rows <= 4 {
            MicroKernels.microKernel4x2(kc, a, rowBytes: rowBytes, stepBytes: stepBytes, b, bStride: bStride, c, ldc, alpha,
                                        rows: rows, columns: columns, cTransposed: cTransposed, accumulate: accumulate, V.self, F.self, L.self)
        } else {
            MicroKernels.microKernel6x2(kc, a, rowBytes: rowBytes, stepBytes: stepBytes, b, bStride: bStride, c, ldc, alpha,
                                        rows: rows, columns: columns, cTransposed: cTransposed, accumulate: accumulate, V.self, F.self, L.self)
        }
    }

    /// The Float micro-kernel of `kernel` on packed panels (used by calibration).
    static func runMicroKernel(
        _ kernel: GEMMKernel, _ kc: Int, _ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>,
        _ c: UnsafeMutablePointer<Float>, _ ldc: Int, _ alpha: Float, rows: Int, columns: Int
    ) {
        if kernel.isWide {
            microKernel(kernel, kc, a, b, c, ldc, alpha, rows: rows, columns: columns, FloatVector.self)
        } else {
            microKernel(kernel, kc, a, b, c, ldc, alpha, rows: rows, columns: columns, SIMD8<Float>.self)
        }
    }
}

/// The small-problem path: the register micro-kernel reading op(B) in place
/// (rows `ldb` apart; a transposed B or a partial last panel is copied, and
/// with the 6-row tile every panel: ``packsWholeB(_:rows:)``) and full panels of A
/// in place too (a last partial panel, patch matrices and segmented depth
/// are copied one `mr`-row panel at a time; the 6-row tile's last 1–4 rows
/// take a 4-row tile, ``panelRows(_:left:)``) — no cache blocking, no threads.
/// (The 6-row tile's A panels read in place, twenty-first session, Zen 3, one
/// build switched by the environment, three alternations, one / two threads,
/// GFLOPS: `fwd 128x784@784x256` 80.6–81.0 / 148–151 → 87.6–88.7 / 162–165
/// (numpy on OpenBLAS's Haswell kernels 89.9 / 163.6), `AtB dW
/// 784x128@128x256` 84.2–84.8 / 146–165 → 89.8–90.2 / 170–179, `ABt dX
/// 128x256@256x784` 80.2–80.4 / 151–153 → 83.4–84.9 / 162–165, 256³
/// 82.3–83.6 / 150–159 → 90.7–91.6 / 172–174, 128³ 72.3–73.5 / 129–132 →
/// 80.9–84.7 / 147–150, 64³ 52.7–53.6 / 69–70 → 64.2–66.1 / 93–95; Double
/// 256³ 43.0–43.6 / 80–81 → 44.6–45.7 / 83–84. Same bits: the same
/// operations in the same order.)
/// (Reading A in place, one core, interleaved in one process: 64³ 151 → 172
/// GFLOPS, 128³ 200 → 216, 256³ 236 → 249, `128x784@784x256` 232 → 244,
/// `256x10@10x128` 149 → 169; a transposed A 64³ 141 → 166, 128³ 198 → 217.
/// The copy was 14 % of a 64³ product. In the blocked path, where each packed
/// Ã block serves every column panel, reading A in place instead lost: one
/// core n = 1024 236 → 233, n = 2048 239 → 229, n = 512 ±0.)
/// Seventeenth session, not kept: two depth steps per iteration of the in-place
/// tile (LLVM addresses its twelve rows through a chain of dependent adds, twelve
/// per step against the step's twelve cycles of multiply-adds; the narrow kernel
/// gained from the same change). One core, two alternations of two builds:
/// 64³ 131–134 → 153–155 GFLOPS, but 256³ 224–226 → 217–220 and
/// `128x784@784x256` / `128x256@256x784` 0 to −3 % (the machine was noisy; the
/// cause of the loss was not looked into).
enum DirectGEMM {
    /// Runs `g`; with `threads`, C is split into one piece per thread (whole
    /// micro-tiles) along the side that copies least: rows when B is read in
    /// place, columns when a transposed B would be copied by every row piece.
    /// Piece boundaries stay on the tile grid and every element sees the same
    /// operations, so the result is bitwise identical for any thread count.
    ///
    /// Twenty-third session, Zen 3 (6-row tile), not kept — one build switched
    /// by the environment, alternated, three rounds in a noisy phase of the
    /// machine. The eight products of the MLP training step (`Benchmarks
    /// training`, 784-256-128-10, batch 128, two threads), medians per round:
    /// 1.24 / 1.00 / 0.79 ms as below; near ties split along columns instead
    /// (each column piece reads all of A in place, no duplicate copy of B)
    /// 1.46 / 1.01 / 1.11; two or four pieces per thread, claimed as they
    /// free up, 1.15 / 0.85 / 0.85 and 1.78 / 0.97 / 1.11 (each row piece
    /// copies all of B again). An `A·Bᵀ` with `n > m` run as `Cᵀ = B·Aᵀ`
    /// (B's rows read in place, the smaller A transposed into panels, C
    /// written through the transposed local tile): `ABt dX 128x256@256x784`
    /// on one thread 64–76 against 84–87 GFLOPS, two threads 142–147 against
    /// 154–165.
    static func run<S: TensorScalar>(_ g: GEMMProblem<S>, kernel: GEMMKernel, threads: Bool = false) {
        if let t = g.transposedIfNarrow(kernel) { return run(t, kernel: kernel, threads: threads) }
        let threadCount = Parallelism.maxThreads
        guard threads, threadCount > 1, g.m * g.n * g.k >= GEMMConfiguration.parallelLimit else {
            return single(g, kernel: kernel)
        }
        let columnTile = (kernel.isWide ? 32 : 16) / (S.scalarType == .float32 ? 1 : 2)
        // The largest piece's share of C along each side (whole tiles per piece): rows unless
        // columns balance clearly better (n = 128 on two threads: 11 row tiles give 72 + 56
        // rows, 4 column panels 64 + 64 columns; 337 vs 205 GFLOPS) — every column piece packs
        // all of A, so a near tie (784 rows: 0.505 vs 0.5) stays with rows — or a transposed B
        // would be copied by every row piece.
        func share(_ extent: Int, _ tile: Int) -> Double {
            let tiles = (extent + tile - 1) / tile, pieces = Swift.min(threadCount, tiles)
            return Double(Swift.min(extent, (tiles + pieces - 1) / pieces * tile)) / Double(extent)
        }
        let alongRows = g.transB ? g.n <= g.m : share(g.m, kernel.rows) <= share(g.n, columnTile) + 0.05
        let tile = alongRows ? kernel.rows : columnTile
        let extent = alongRows ? g.m : g.n
        let tiles = (extent + tile - 1) / tile
        let pieces = Swift.min(threadCount, tiles)
        let tilesPerPiece = (tiles + pieces - 1) / pieces
        let problem = UncheckedSendable(g)
        parallelFor(chunks: pieces, work: Int.max) { piece in
            let start = piece * tilesPerPiece * tile, end = Swift.min(extent, start + tilesPerPiece * tile)
            if start >= end { return }
            single(alongRows ? problem.value.rows(start..<end) : problem.value.columns(start..<end), kernel: kernel)
        }
    }

    static func single<S: TensorScalar>(_ g: GEMMProblem<S>, kernel: GEMMKernel) {
        switch S.scalarType {
        case .float32:
            let f = g.retyped(Float.self)
            kernel.isWide ? typed(f, kernel, FloatVector.self) : typed(f, kernel, SIMD8<Float>.self)
        case .float64:
            let d = g.retyped(Double.self)
            kernel.isWide ? typed(d, kernel, DoubleVector.self) : typed(d, kernel, SIMD4<Double>.self)
        }
    }

    @inline(__always)
    static func typed<V: SIMD>(_ g: GEMMProblem<V.Scalar>, _ kernel: GEMMKernel, _: V.Type) where V.Scalar: TensorScalar {
        let overwrite = g.prepareCForOverwrite()
        if g.m == 0 || g.n == 0 || g.k == 0 || g.alpha == 0 { return }
        let mr = kernel.rows, nr = 2 * V.scalarCount
        let panels = (g.n + nr - 1) / nr
        // Panels of B read in place: none with the 6-row kernels over several row panels (`packsWholeB`).
        let fullPanels = g.transB || packsWholeB(kernel, rows: g.m) ? 0 : g.n / nr
        let copied = panels - fullPanels
        let size = MemoryLayout<V.Scalar>.stride
        // Tested once here: the call below is not inlined, and made for every tile
        // it cost products without an epilogue 10 % (`ABt dX 256x10@10x128`).
        let epilogue = g.hasEpilogue
        PackingBufferPool.shared.withBuffer(bytes: (copied * nr + mr) * g.k * size) { raw in
            let bCopy = raw.assumingMemoryBound(to: V.Scalar.self)
            let aPanel = bCopy + copied * nr * g.k
            if copied > 0 { BlockedGEMM.packB(g, 0, g.k, fullPanels * nr, g.n - fullPanels * nr, nr, bCopy) }
            var ir = 0
            while ir < g.m {
                let rows = panelRows(kernel, left: g.m - ir)
                // Full panels of a stored A are read in place (no copy of A at all), and so are the
                // 6-row kernels' 4-row edge panels; other edges are packed, `mr` elements per step.
                let storedA = g.patches == nil && g.kSegment == 0
                let inPlaceA = (rows == mr || !kernel.isWide && rows == 4) && storedA
                if !inPlaceA { BlockedGEMM.packA(g, ir, rows, 0, g.k, mr, aPanel) }
                for panel in 0..<panels {
                    let inPlace = panel < fullPanels
                    let b = inPlace ? g.b + panel * nr : UnsafePointer(bCopy + (panel - fullPanels) * nr * g.k)
                    let (c, columns, bStride) = (g.cTile(ir, panel * nr), Swift.min(nr, g.n - panel * nr), inPlace ? g.ldb : nr)
                    if inPlaceA {
                        BlockedGEMM.microKernelReadingA(kernel, g.k, g.transA ? g.a + ir : g.a + ir * g.lda, g.lda, transposed: g.transA,
                                                        b, bStride: bStride, c, g.ldc, g.alpha, rows: rows, columns: columns,
                                                        cTransposed: g.transposedC, accumulate: !overwrite, V.self)
                    } else {
                        BlockedGEMM.microKernel(kernel, g.k, UnsafePointer(aPanel), b, c, g.ldc, g.alpha, rows: rows, columns: columns,
                                                cTransposed: g.transposedC, accumulate: !overwrite, V.self, bStride: bStride)
                    }
                    if epilogue { g.applyEpilogue(rows: ir..<ir + rows, columns: panel * nr..<panel * nr + columns) }
                }
                ir += rows
            }
        }
    }

    /// The rows of the next row panel when `left` rows of C are left: the
    /// kernel's rows (fewer at the end), except that with the 6-row kernels a
    /// last 1–4 rows take the 4-row tile (``MicroKernels/microKernel4x2``) and
    /// a last 7 or 8 rows two of them (4 + 3, 4 + 4) instead of a 6-row tile
    /// and one of 1 or 2 rows — a batch of 128 is 21 panels of 6 and 2 rows
    /// over, and the 6-row tile spent 4/6 of its last panel's multiply-adds on
    /// zero padding. Twenty-second session, Zen 3, one build switched by the
    /// environment, six alternations, one thread, GFLOPS, in the three rounds
    /// where the machine was quiet: `fwd 128x784@784x256` 86.7–88.0 → 90.4–91.1,
    /// `ABt dX 128x256@256x784` 83.2–84.5 → 83.2–86.7 (in the other three both
    /// sides read 57–85; two threads 94–164 → 118–170). The 4-row tile's share
    /// of the profile is its share of the rows (4.4–5.9 % for 6.25 %); the
    /// 6-row tile on the last 2 rows had taken 3.9 % for 1.6 %.
    /// The 12-row kernels keep their own edge tiles (`BlockedGEMM.wideTile`).
    static func panelRows(_ kernel: GEMMKernel, left: Int) -> Int {
        if kernel.isWide { return Swift.min(kernel.rows, left) }
        return left <= 4 ? left : left == 7 || left == 8 ? 4 : Swift.min(6, left)
    }

    /// Whether the direct kernel copies every panel of op(B) into contiguous
    /// `k × nr` panels first instead of reading an untransposed B in place:
    /// with the 6-row (AVX2) kernels. Their machines' caches are smaller
    /// (Zen 3: 32 KiB L1d, 512 KiB L2, 8-way), and a B panel read in place has
    /// its rows `ldb` apart — at 1 KiB (256 columns) they fall into one set in
    /// sixteen, so the panel stays in neither L1 nor L2. Twenty-first session,
    /// Zen 3, one / two threads, one build switched by the environment, three
    /// alternations: `fwd 128x784@784x256` 52–61 / 75–121 → 77–81 / 98–148
    /// GFLOPS (numpy, OpenBLAS Haswell kernels: 90 / 164), `AtB dW
    /// 784x128@128x256` 76–83 / 148–165 → 59–87 / 95–167, 256³ Float 52–80 /
    /// 109–157 → 57–84 / 127–158, Double 36–38 / 55–65 → 41–44 / 42–80 (numpy
    /// 44 / 81). (Not kept, same runs: B panels reused by groups of up to eight
    /// packed 6-row panels of A — level with one panel at a time.) The packed
    /// panels hold the same values in the same order: the bits do not change.
    /// A product of at most one row panel reads each B panel once: the copy
    /// would be a second pass over B for nothing, so there B stays in place
    /// (5 × 1024 × 512, one / two threads, three alternations: 29.7–30.9 /
    /// 53–55 GFLOPS in place against 13.9–17.4 / 26–33 copied).
    /// Twenty-second session, not kept: the packed B panels swept in groups
    /// of half the L2 across all row panels (A re-read once per group instead
    /// of B once per row panel, where the packed B outgrows the L2: 800 KB at
    /// 784 × 256) — five alternations, medians, one / two threads:
    /// `fwd 128x784@784x256` 90.4 / 165.5 → 90.7 / 160.3, `ABt dX
    /// 128x256@256x784` 84.9 / 167.2 → 86.5 / 165.1.
    static func packsWholeB(_ kernel: GEMMKernel, rows m: Int) -> Bool { !kernel.isWide && m > kernel.rows }
}

/// The middle rung of the ladder: rows of C accumulated in SIMD registers
/// straight from op(A) and op(B) — no packing (a transposed B is first copied
/// row-major), no cache blocking, one thread.
enum UnblockedGEMM {
    static func run<S: TensorScalar>(_ g: GEMMProblem<S>) {
        switch S.scalarType {
        case .float32: typed(g.retyped(Float.self), FloatVector.self)
        case .float64: typed(g.retyped(Double.self), DoubleVector.self)
        }
    }

    @inline(__always)
    static func typed<V: SIMD>(_ g: GEMMProblem<V.Scalar>, _: V.Type) where V.Scalar: TensorScalar {
        g.scaleC()
        if g.m == 0 || g.n == 0 || g.k == 0 || g.alpha == 0 { return }
        if g.transB {
            PackingBufferPool.shared.withBuffer(bytes: g.k * g.n * MemoryLayout<V.Scalar>.stride) { raw in
                let rowMajor = raw.assumingMemoryBound(to: V.Scalar.self)
                for j in 0..<g.n {
                    for p in 0..<g.k { rowMajor[p * g.n + j] = g.b[j * g.ldb + p] }
                }
                var h = g
                (h.b, h.ldb, h.transB) = (UnsafePointer(rowMajor), g.n, false)
                rows(h, V.self)
            }
        } else {
            rows(g, V.self)
        }
    }

    @inline(__always)
    static func rows<V: SIMD>(_ g: GEMMProblem<V.Scalar>, _: V.Type) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        let alpha = V(repeating: g.alpha)
        @inline(__always) func load(_ p: UnsafePointer<V.Scalar>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func add(_ c: UnsafeMutablePointer<V.Scalar>, _ v: V) {
            UnsafeMutableRawPointer(c).storeBytes(of: load(c) + alpha * v, as: V.self)
        }
        for i in 0..<g.m {
            let c = g.c + i * g.ldc
            var j = 0
            while j + 4 * w <= g.n {
                var s0 = V(), s1 = V(), s2 = V(), s3 = V()
                for p in 0..<g.k {
                    let a = V(repeating: g.opA(i, p))
                    let b = g.b + p * g.ldb + j
                    s0 += a * load(b); s1 += a * load(b + w); s2 += a * load(b + 2 * w); s3 += a * load(b + 3 * w)
                }
                add(c + j, s0); add(c + j + w, s1); add(c + j + 2 * w, s2); add(c + j + 3 * w, s3)
                j += 4 * w
            }
            while j + w <= g.n {
                var s = V()
                for p in 0..<g.k { s += V(repeating: g.opA(i, p)) * load(g.b + p * g.ldb + j) }
                add(c + j, s)
                j += w
            }
            while j < g.n {
                var s: V.Scalar = 0
                for p in 0..<g.k { s += g.opA(i, p) * g.b[p * g.ldb + j] }
                c[j] += g.alpha * s
                j += 1
            }
        }
    }
}

/// The rows of C that one parallel round of ``BlockedGEMM/perDepthBlock(_:_:overwrite:threads:kcMax:ncMax:mcMax:_:)``
/// hands out, in micro-panels (`mr` rows). Set `s` (one per thread) owns the home
/// range `s·panels/sets ..< (s + 1)·panels/sets` and claims it from the front in
/// blocks of at most `blockPanels`, halving as the range runs out; a set whose
/// range is done takes from the back of the other ranges, half of what is left
/// each time. So a thread keeps the same rows of C from one block of k to the
/// next unless another one has fallen behind, and the round ends within about
/// one micro-panel row of work of the last thread's. Which thread runs which
/// rows never changes what is computed.
final class PanelClaims: @unchecked Sendable {
    /// Per set, the unclaimed part of its range: `upper << 32 | lower`.
    private let ranges: UnsafeMutablePointer<Atomic<UInt64>>
    let sets: Int
    let panels: Int
    let blockPanels: Int

    init(sets: Int, panels: Int, blockPanels: Int) {
        precondition(sets >= 1 && panels < 1 << 31 && blockPanels >= 1, "PanelClaims: \(sets) sets, \(panels) panels")
        (self.sets, self.panels, self.blockPanels) = (sets, panels, blockPanels)
        ranges = .allocate(capacity: sets)
        for set in 0..<sets { (ranges + set).initialize(to: Atomic(home(set))) }
    }

    deinit {
        ranges.deinitialize(count: sets)
        ranges.deallocate()
    }

    /// Set `set`'s whole range, packed as in ``ranges``.
    private func home(_ set: Int) -> UInt64 {
        UInt64((set + 1) * panels / sets) << 32 | UInt64(set * panels / sets)
    }

    /// Makes every range whole again (before a round; no claim may run meanwhile).
    func reset() {
        for set in 0..<sets { ranges[set].store(home(set), ordering: .relaxed) }
    }

    /// The next panels for `set`'s thread: from the front of its own range, else
    /// from the back of another's; `nil` once every range is claimed.
    func next(for set: Int) -> Range<Int>? {
        if let panels = take(from: set, front: true) { return panels }
        for step in 1..<sets {
            if let panels = take(from: (set + step) % sets, front: false) { return panels }
        }
        return nil
    }

    private func take(from owner: Int, front: Bool) -> Range<Int>? {
        while true {
            let current = ranges[owner].load(ordering: .relaxed)
            let lower = Int(current & 0xFFFF_FFFF), upper = Int(current >> 32), left = upper - lower
            if left <= 0 { return nil }
            // The owner halves its blocks only where a thief may come (several sets).
            let size = Swift.min(blockPanels, sets == 1 ? left : Swift.max(1, front ? (left + 1) / 2 : left / 2))
            let (claimed, rest) = front ? (lower..<lower + size, (lower + size, upper)) : (upper - size..<upper, (lower, upper - size))
            if ranges[owner].compareExchange(expected: current, desired: UInt64(rest.1) << 32 | UInt64(rest.0),
                                             ordering: .relaxed).exchanged {
                return claimed
            }
        }
    }
}
