/// The production GEMM: BLIS's five loops around a register micro-kernel.
///
/// ```
/// for jc in 0..<n step nc          B̃ ← pack op(B)[pc.., jc..]   (kc × nc, L3)
///   for pc in 0..<k step kc
///     for ic in 0..<m step mc      Ã ← pack op(A)[ic.., pc..]   (mc × kc, L2)   ← threads split (ic, jr-group) units
///       for jr in 0..<nc step 2w
///         for ir in 0..<mc step MR micro-kernel: C[ir.., jr..] += α·Ã·B̃   (registers)
/// ```
/// Threads split the `ic` and `jr` loops, never `k`, and every element of C
/// sees the same sequence of operations whichever thread computes it, so
/// results are bitwise identical for any thread count.
enum BlockedGEMM {
    static func run<S: TensorScalar>(_ g: GEMMProblem<S>, kernel: GEMMKernel, threads: Bool) {
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
        g.scaleC()
        if g.m == 0 || g.n == 0 || g.k == 0 || g.alpha == 0 { return }
        let blocking = GEMMBlocking.forKernel(kernel, scalarType: V.Scalar.scalarType)
        let mr = kernel.rows, nr = 2 * V.scalarCount
        let (kcMax, mcMax, ncMax) = (blocking.kc, blocking.mc, blocking.nc)
        let scalarSize = MemoryLayout<V.Scalar>.stride
        let pool = PackingBufferPool.shared
        var jc = 0
        while jc < g.n {
            let nc = Swift.min(ncMax, g.n - jc)
            let panels = (nc + nr - 1) / nr
            var pc = 0
            while pc < g.k {
                let kc = Swift.min(kcMax, g.k - pc)
                pool.withBuffer(bytes: panels * nr * kc * scalarSize) { rawB in
                    let packedB = SendablePointer(rawB.assumingMemoryBound(to: V.Scalar.self))
                    // Work units: (ic block, group of jr panels). Their boundaries depend only on
                    // the problem's shape, so the result does not depend on the thread count.
                    let icBlocks = (g.m + mcMax - 1) / mcMax
                    let groups = Swift.max(1, Swift.min(panels, (8 + icBlocks - 1) / icBlocks))
                    let panelsPerGroup = (panels + groups - 1) / groups
                    let work = threads && g.m * g.n * g.k >= GEMMConfiguration.parallelLimit ? Int.max : 0
                    parallelFor(chunks: (panels + 7) / 8, work: work) { chunk in
                        for panel in (chunk * 8)..<Swift.min(panels, chunk * 8 + 8) {
                            packB(g, pc, kc, jc + panel * nr, Swift.min(nr, nc - panel * nr), nr,
                                  packedB.pointer + panel * nr * kc)
                        }
                    }
                    parallelFor(chunks: icBlocks * groups, work: work) { unit in
                        let ic = (unit / groups) * mcMax, mc = Swift.min(mcMax, g.m - ic)
                        let firstPanel = (unit % groups) * panelsPerGroup
                        let lastPanel = Swift.min(panels, firstPanel + panelsPerGroup)
                        if firstPanel >= lastPanel { return }
                        pool.withBuffer(bytes: ((mc + mr - 1) / mr) * mr * kc * scalarSize) { rawA in
                            let packedA = rawA.assumingMemoryBound(to: V.Scalar.self)
                            packA(g, ic, mc, pc, kc, mr, packedA)
                            for panel in firstPanel..<lastPanel {
                                let jr = panel * nr
                                let columns = Swift.min(nr, nc - jr)
                                var ir = 0
                                while ir < mc {
                                    let rows = Swift.min(mr, mc - ir)
                                    let c = g.c + (ic + ir) * g.ldc + jc + jr
                                    microKernel(kernel, kc, packedA + ir * kc, packedB.pointer + panel * nr * kc, c, g.ldc,
                                                g.alpha, rows: rows, columns: columns, V.self)
                                    ir += mr
                                }
                            }
                        }
                    }
                }
                pc += kc
            }
            jc += nc
        }
    }

    @inline(__always)
    static func microKernel<V: SIMD>(
        _ kernel: GEMMKernel, _ kc: Int, _ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        switch kernel {
        case .fma12x32:
            MicroKernels.microKernel12x2(kc, a, b, c, ldc, alpha, rows: rows, columns: columns, V.self, FusedMultiplyAdd.self)
        case .mulAdd12x32:
            MicroKernels.microKernel12x2(kc, a, b, c, ldc, alpha, rows: rows, columns: columns, V.self, SeparateMultiplyAdd.self)
        case .fma6x16:
            MicroKernels.microKernel6x2(kc, a, b, c, ldc, alpha, rows: rows, columns: columns, V.self, FusedMultiplyAdd.self)
        case .mulAdd6x16:
            MicroKernels.microKernel6x2(kc, a, b, c, ldc, alpha, rows: rows, columns: columns, V.self, SeparateMultiplyAdd.self)
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

    /// Packs `op(A)[ic..<ic+mc, pc..<pc+kc]` into `mr`-row panels, each stored
    /// column by column (`mr` values per step `p`), zero-padding the last panel.
    @inline(__always)
    static func packA<S: TensorScalar>(
        _ g: GEMMProblem<S>, _ ic: Int, _ mc: Int, _ pc: Int, _ kc: Int, _ mr: Int, _ out: UnsafeMutablePointer<S>
    ) {
        var ir = 0
        while ir < mc {
            let rows = Swift.min(mr, mc - ir)
            let panel = out + ir * kc
            if g.transA {
                // op(A)[i, p] = a[p·lda + i]: each step's rows are contiguous.
                for p in 0..<kc {
                    let src = g.a + (pc + p) * g.lda + ic + ir
                    let dst = panel + p * mr
                    for r in 0..<rows { dst[r] = src[r] }
                    for r in rows..<mr { dst[r] = 0 }
                }
            } else {
                for r in 0..<rows {
                    let src = g.a + (ic + ir + r) * g.lda + pc
                    for p in 0..<kc { panel[p * mr + r] = src[p] }
                }
                for r in rows..<mr {
                    for p in 0..<kc { panel[p * mr + r] = 0 }
                }
            }
            ir += mr
        }
    }

    /// Packs `op(B)[pc..<pc+kc, j0..<j0+columns]` as one `nr`-column panel,
    /// row by row, zero-padding missing columns.
    @inline(__always)
    static func packB<S: TensorScalar>(
        _ g: GEMMProblem<S>, _ pc: Int, _ kc: Int, _ j0: Int, _ columns: Int, _ nr: Int, _ out: UnsafeMutablePointer<S>
    ) {
        if g.transB {
            // op(B)[p, j] = b[j·ldb + p]: walk each column contiguously.
            for j in 0..<columns {
                let src = g.b + (j0 + j) * g.ldb + pc
                for p in 0..<kc { out[p * nr + j] = src[p] }
            }
            if columns < nr {
                for p in 0..<kc { for j in columns..<nr { out[p * nr + j] = 0 } }
            }
        } else {
            for p in 0..<kc {
                let src = g.b + (pc + p) * g.ldb + j0
                let dst = out + p * nr
                if columns == nr {
                    dst.update(from: src, count: nr)
                } else {
                    for j in 0..<columns { dst[j] = src[j] }
                    for j in columns..<nr { dst[j] = 0 }
                }
            }
        }
    }
}

/// The middle rung and the small-problem path: rows of C accumulated in SIMD
/// registers straight from op(A) and op(B) — no packing (a transposed B is
/// first copied row-major), no cache blocking, one thread.
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
