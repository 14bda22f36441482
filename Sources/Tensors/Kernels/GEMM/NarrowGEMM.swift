/// Products with a narrow C (`n ≤ w`, one vector of columns, e.g. a 10-class
/// output layer): sixteen rows of C at a time (six with AVX2-sized kernels,
/// see ``run(_:kernel:)``), each one vector accumulator, with A read in place
/// and B copied once into a zero-padded `k × w` strip. Per step: one B load,
/// sixteen broadcasts, sixteen multiply-adds.
/// With a transposed A (`Aᵀ·B`, n ≤ 12) A's rows are contiguous along C's
/// rows, and ``transposedA(_:_:_:)`` runs the lanes over C's rows instead
/// (`AtB dW 128x256@256x10` on one core: 110–114 GFLOPS on the packed direct
/// kernel, 129–132 on this one with 12 columns always computed, 195–199 with
/// one compiled variant per column count and B read in place).
///
/// A row-major A is read four depth steps per iteration at fixed offsets from
/// each row's address: LLVM addresses the sixteen rows at a run-time stride
/// through one chain of dependent adds (the row groups below did not stop it),
/// sixteen per step with one step per iteration — more than the sixteen
/// multiply-adds' eight cycles — and four per step this way. Seventeenth
/// session, one core, probe medians: `fwd 256x128@128x10` 93–101 → 125–128
/// GFLOPS together with the whole-row stores of C and the vector fill of the
/// strip below (the loop had been two thirds of the time, the per-row stores and
/// the strip's `memmove`/`memset` calls the rest); two cores 110–113 → 162–198;
/// `128x784@784x10` 112 → 129, `1000x64x10` 57 → 122, `100x64x5` 32 → 48.
/// Tried and not kept: transposing each block of 32 rows into a `k × 32` panel
/// for the `Aᵀ·B` kernel (60–76 GFLOPS: the register-tile transpose took half
/// the time, the kernel the other half).
enum NarrowGEMM {
    static func applies<S: TensorScalar>(_ g: GEMMProblem<S>) -> Bool {
        let width = S.scalarType == .float32 ? 16 : 8
        return g.n <= width && g.n > 1 && g.m >= 16 && !g.transA && !g.transposedC
    }

    /// Columns of C the `Aᵀ·B` kernel serves: one accumulator pair per column.
    static let transposedColumns = 12

    /// Whether ``transposedA(_:_:_:)`` serves the problem: `Aᵀ·B` with at
    /// most 12 columns of C and at least one vector of rows, depth in place.
    static func appliesTransposed<S: TensorScalar>(_ g: GEMMProblem<S>) -> Bool {
        let width = S.scalarType == .float32 ? 16 : 8
        return g.transA && !g.transposedC && g.kSegment == 0 && g.n > 1 && g.n <= transposedColumns && g.m >= width
    }

    /// Runs `g` on the `Aᵀ·B` kernel when ``appliesTransposed(_:)``, else on the
    /// row kernel; one dispatch to the concrete vector and multiply-add types.
    ///
    /// The register blocking follows `kernel`'s register file. With the 12-row
    /// (AVX-512, 32 registers) kernels: sixteen rows of C per block, and the
    /// `Aᵀ·B` kernel two vectors of rows (`SIMD16<Float>`). With the 6-row
    /// (AVX2, 16 registers of 8 Floats) kernels, where a `SIMD16<Float>` takes
    /// two registers: six rows per block (12 of the 16 registers), and the
    /// `Aᵀ·B` kernel one `SIMD8<Float>` of rows (at most 12 accumulators).
    /// Twenty-first session, Zen 3 (AVX2), the AVX-512 blocking spilled: see
    /// ``block6(_:_:_:_:_:_:_:_:)``. Each element of C is the same chain of
    /// multiply-adds over the depth in order either way, so both blockings
    /// give the same bits (tested).
    static func run<S: TensorScalar>(_ g: GEMMProblem<S>, kernel: GEMMKernel) {
        switch (S.scalarType, kernel.isFused) {
        case (.float32, true):
            typed(g.retyped(Float.self), FloatVector.self, SIMD8<Float>.self, FusedMultiplyAdd.self, wide: kernel.isWide)
        case (.float32, false):
            typed(g.retyped(Float.self), FloatVector.self, SIMD8<Float>.self, SeparateMultiplyAdd.self, wide: kernel.isWide)
        case (.float64, true):
            typed(g.retyped(Double.self), DoubleVector.self, SIMD4<Double>.self, FusedMultiplyAdd.self, wide: kernel.isWide)
        case (.float64, false):
            typed(g.retyped(Double.self), DoubleVector.self, SIMD4<Double>.self, SeparateMultiplyAdd.self, wide: kernel.isWide)
        }
    }

    /// `V` is the full-width vector (one AVX-512 register), `H` its half (one AVX2 register).
    @inline(__always)
    static func typed<V: SIMD, H: SIMD, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _: V.Type, _: H.Type, _: F.Type, wide: Bool
    ) where V.Scalar: TensorScalar, H.Scalar == V.Scalar {
        if appliesTransposed(g) { return wide ? transposedA(g, V.self, F.self) : transposedA(g, H.self, F.self) }
        let overwrite = g.prepareCForOverwrite()
        if g.m == 0 || g.n == 0 || g.k == 0 || g.alpha == 0 { return }
        let w = V.scalarCount
        // Wider C is walked in strips of w columns (the rung is valid for any shape).
        var j0 = 0
        while j0 < g.n {
            columns(g.columns(j0..<Swift.min(g.n, j0 + w)), overwrite, wide: wide, V.self, F.self)
            j0 += w
        }
    }

    @inline(__always)
    static func columns<V: SIMD, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _ overwrite: Bool, wide: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        PackingBufferPool.shared.withBuffer(bytes: g.k * w * MemoryLayout<V.Scalar>.stride) { raw in
            let strip = raw.assumingMemoryBound(to: V.Scalar.self)
            // Each row of op(B) as one zero-padded vector (a `memmove` and a `memset` call per
            // row of 10 scalars were 4 % of `fwd 256x128@128x10`): a whole vector loaded from
            // the row with the lanes past n cleared, while that load stays inside B's stored
            // extent (it reads the start of the next row); the last rows lane by lane.
            var past = SIMDMask<V.MaskStorage>()
            for j in g.n..<w { past[j] = true }
            let extent = (g.k - 1) * g.ldb + g.n
            for p in 0..<g.k {
                let row: V
                if !g.transB && p * g.ldb + w <= extent {
                    row = UnsafeRawPointer(g.b + p * g.ldb).loadUnaligned(as: V.self).replacing(with: 0, where: past)
                } else {
                    var gathered = V()
                    for j in 0..<g.n { gathered[j] = g.opB(p, j) }
                    row = gathered
                }
                UnsafeMutableRawPointer(strip + p * w).storeBytes(of: row, as: V.self)
            }
            // Element op(A)[i, p] sits at a[i·rs + p·cs].
            let (rs, cs) = g.transA ? (1, g.lda) : (g.lda, 1)
            // Blocks of 16 rows (6 with 16 registers), in chunks of up to 64 rows on
            // the worker threads (each row is computed whole by one thread: the bits
            // do not depend on the thread count). fwd 256×128·(128×10): 5.2 µs on
            // one thread, 3.3–4.0 on two (seventeenth session).
            let rowsPerBlock = wide ? 16 : 6, blocksPerChunk = wide ? 4 : 10
            let blocks = g.m / rowsPerBlock
            let (pg, pstrip) = (UncheckedSendable(g), UncheckedSendable(strip))
            parallelFor(chunks: (blocks + blocksPerChunk - 1) / blocksPerChunk, work: g.m * g.n * g.k) { chunk in
                for b in (chunk * blocksPerChunk)..<Swift.min(blocks, (chunk + 1) * blocksPerChunk) {
                    if wide {
                        block(pg.value, 16 * b, pstrip.value, rs, cs, overwrite, V.self, F.self)
                    } else {
                        block6(pg.value, 6 * b, pstrip.value, rs, cs, overwrite, V.self, F.self)
                    }
                }
            }
            var i = rowsPerBlock * blocks
            while i < g.m {   // leftover rows, one at a time
                var s = V()
                var a = g.a + i * rs
                for p in 0..<g.k {
                    s = F.multiplyAdd(s, V(repeating: a[0]), UnsafeRawPointer(strip + p * w).load(as: V.self))
                    a += cs
                }
                store(s, to: g.c + i * g.ldc, g, overwrite)
                i += 1
            }
        }
    }

    @inline(__always)
    static func block<V: SIMD, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _ i: Int, _ strip: UnsafeMutablePointer<V.Scalar>, _ rs: Int, _ cs: Int,
        _ overwrite: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V(), s6 = V(), s7 = V(), s8 = V(), s9 = V(), s10 = V(), s11 = V(), s12 = V(), s13 = V(), s14 = V(), s15 = V()
        // Four row groups, each its own pointer, rows within a group at fixed byte offsets
        // (written against one chained pointer for all sixteen rows; LLVM still derives the
        // rows from one another, which is what the four-step loop below pays for only once
        // per four steps).
        let size = MemoryLayout<V.Scalar>.stride
        let o1 = rs * size, o2 = 2 * rs * size, o3 = 3 * rs * size, step = cs * size
        var a0 = UnsafeRawPointer(g.a + i * rs), a1 = a0 + 4 * o1, a2 = a0 + 8 * o1, a3 = a0 + 12 * o1
        var pb = UnsafeRawPointer(strip)
        @inline(__always) func x(_ p: UnsafeRawPointer, _ o: Int) -> V { V(repeating: p.load(fromByteOffset: o, as: V.Scalar.self)) }
        var p = 0
        if cs == 1 {
            // Four depth steps per iteration at fixed offsets from each row's address.
            @inline(__always) func y(_ p: UnsafeRawPointer, _ o: Int, _ q: Int) -> V {
                V(repeating: p.load(fromByteOffset: o + q * size, as: V.Scalar.self))
            }
            @inline(__always) func steps(_ s: inout V, _ p: UnsafeRawPointer, _ o: Int, _ b0: V, _ b1: V, _ b2: V, _ b3: V) {
                s = F.multiplyAdd(s, y(p, o, 0), b0); s = F.multiplyAdd(s, y(p, o, 1), b1)
                s = F.multiplyAdd(s, y(p, o, 2), b2); s = F.multiplyAdd(s, y(p, o, 3), b3)
            }
            while p + 4 <= g.k {
                let b0 = pb.load(as: V.self), b1 = pb.load(fromByteOffset: w * size, as: V.self)
                let b2 = pb.load(fromByteOffset: 2 * w * size, as: V.self), b3 = pb.load(fromByteOffset: 3 * w * size, as: V.self)
                steps(&s0, a0, 0, b0, b1, b2, b3); steps(&s1, a0, o1, b0, b1, b2, b3)
                steps(&s2, a0, o2, b0, b1, b2, b3); steps(&s3, a0, o3, b0, b1, b2, b3)
                steps(&s4, a1, 0, b0, b1, b2, b3); steps(&s5, a1, o1, b0, b1, b2, b3)
                steps(&s6, a1, o2, b0, b1, b2, b3); steps(&s7, a1, o3, b0, b1, b2, b3)
                steps(&s8, a2, 0, b0, b1, b2, b3); steps(&s9, a2, o1, b0, b1, b2, b3)
                steps(&s10, a2, o2, b0, b1, b2, b3); steps(&s11, a2, o3, b0, b1, b2, b3)
                steps(&s12, a3, 0, b0, b1, b2, b3); steps(&s13, a3, o1, b0, b1, b2, b3)
                steps(&s14, a3, o2, b0, b1, b2, b3); steps(&s15, a3, o3, b0, b1, b2, b3)
                a0 += 4 * size; a1 += 4 * size; a2 += 4 * size; a3 += 4 * size
                pb += 4 * w * size
                p += 4
            }
        }
        while p < g.k {
            p += 1
            let b = pb.load(as: V.self)
            s0 = F.multiplyAdd(s0, x(a0, 0), b); s1 = F.multiplyAdd(s1, x(a0, o1), b)
            s2 = F.multiplyAdd(s2, x(a0, o2), b); s3 = F.multiplyAdd(s3, x(a0, o3), b)
            s4 = F.multiplyAdd(s4, x(a1, 0), b); s5 = F.multiplyAdd(s5, x(a1, o1), b)
            s6 = F.multiplyAdd(s6, x(a1, o2), b); s7 = F.multiplyAdd(s7, x(a1, o3), b)
            s8 = F.multiplyAdd(s8, x(a2, 0), b); s9 = F.multiplyAdd(s9, x(a2, o1), b)
            s10 = F.multiplyAdd(s10, x(a2, o2), b); s11 = F.multiplyAdd(s11, x(a2, o3), b)
            s12 = F.multiplyAdd(s12, x(a3, 0), b); s13 = F.multiplyAdd(s13, x(a3, o1), b)
            s14 = F.multiplyAdd(s14, x(a3, o2), b); s15 = F.multiplyAdd(s15, x(a3, o3), b)
            a0 += step; a1 += step; a2 += step; a3 += step
            pb += w * size
        }
        let finish = BlockStores(g, rows: i..<(i + 16), overwrite, V.self)
        finish(0, s0); finish(1, s1); finish(2, s2); finish(3, s3)
        finish(4, s4); finish(5, s5); finish(6, s6); finish(7, s7)
        finish(8, s8); finish(9, s9); finish(10, s10); finish(11, s11)
        finish(12, s12); finish(13, s13); finish(14, s14); finish(15, s15)
    }

    /// ``block(_:_:_:_:_:_:_:_:)`` for a register file of sixteen 8-Float
    /// (AVX2) registers, where a `SIMD16<Float>` row takes two: six rows, twelve
    /// registers of sums, one step per iteration (four steps' B vectors would
    /// take eight more). Rows are addressed from two pointers at fixed offsets.
    /// The sixteen-row block spilled its sums there: twenty-first session, Zen 3,
    /// one core, `fwd 256x128@128x10` 18.7 GFLOPS against numpy's 47.0
    /// (OpenBLAS Haswell kernels).
    @inline(__always)
    static func block6<V: SIMD, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _ i: Int, _ strip: UnsafeMutablePointer<V.Scalar>, _ rs: Int, _ cs: Int,
        _ overwrite: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount, size = MemoryLayout<V.Scalar>.stride
        var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V()
        let o1 = rs * size, o2 = 2 * rs * size, step = cs * size
        var a0 = UnsafeRawPointer(g.a + i * rs), a1 = a0 + 3 * o1
        var pb = UnsafeRawPointer(strip)
        @inline(__always) func x(_ p: UnsafeRawPointer, _ o: Int) -> V { V(repeating: p.load(fromByteOffset: o, as: V.Scalar.self)) }
        for _ in 0..<g.k {
            let b = pb.load(as: V.self)
            s0 = F.multiplyAdd(s0, x(a0, 0), b); s1 = F.multiplyAdd(s1, x(a0, o1), b); s2 = F.multiplyAdd(s2, x(a0, o2), b)
            s3 = F.multiplyAdd(s3, x(a1, 0), b); s4 = F.multiplyAdd(s4, x(a1, o1), b); s5 = F.multiplyAdd(s5, x(a1, o2), b)
            a0 += step; a1 += step
            pb += w * size
        }
        let finish = BlockStores(g, rows: i..<(i + 6), overwrite, V.self)
        finish(0, s0); finish(1, s1); finish(2, s2); finish(3, s3); finish(4, s4); finish(5, s5)
    }

    /// Stores a row block's sums. Overwriting rows that are adjacent in memory
    /// (`ldc == n`), the block's rows are stored as whole vectors, in order,
    /// while the vector ends inside the block (row r·n + w ≤ R·n for R rows: rows
    /// 0…14 of 16 for n = 10): the lanes past a row's n columns land on the
    /// next rows of this block, whose own stores then overwrite them. A vector
    /// reaching past the block would write into another thread's rows or past
    /// C's end, so those rows, and every row of a C that is accumulated into
    /// or has gaps between rows, are stored lane by lane.
    struct BlockStores<V: SIMD> where V.Scalar: TensorScalar {
        let g: GEMMProblem<V.Scalar>, first: Int, lastWholeRow: Int, overwrite: Bool, scale: V

        @inline(__always)
        init(_ g: GEMMProblem<V.Scalar>, rows: Range<Int>, _ overwrite: Bool, _: V.Type) {
            self.g = g
            first = rows.lowerBound
            // (Integer division truncates toward zero: a block shorter than one vector stores no row whole.)
            let blockElements = rows.count * g.n
            lastWholeRow = overwrite && g.ldc == g.n && !g.transposedC && blockElements >= V.scalarCount
                ? (blockElements - V.scalarCount) / g.n : -1
            self.overwrite = overwrite
            scale = V(repeating: g.alpha)
        }

        @inline(__always)
        func callAsFunction(_ r: Int, _ s: V) {
            if r <= lastWholeRow {
                UnsafeMutableRawPointer(g.c + (first + r) * g.ldc).storeBytes(of: s * scale, as: V.self)
            } else {
                NarrowGEMM.store(s, to: g.c + (first + r) * g.ldc, g, overwrite)
            }
        }
    }

    /// `row[j] += α·s[j]` (or `=` when `overwrite`: the β = 0 product never reads C)
    /// for the `n` valid lanes; lanes are read through memory because a generic
    /// `s[j]` is not a plain extract.
    @inline(__always)
    static func store<V: SIMD>(_ s: V, to row: UnsafeMutablePointer<V.Scalar>, _ g: GEMMProblem<V.Scalar>, _ overwrite: Bool)
    where V.Scalar: TensorScalar {
        withUnsafeBytes(of: s) { lanes in
            for j in 0..<g.n {
                let value = g.alpha * lanes.load(fromByteOffset: j * MemoryLayout<V.Scalar>.stride, as: V.Scalar.self)
                row[j] = overwrite ? value : row[j] + value
            }
        }
    }

    // MARK: Transposed A

    /// `C = α·Aᵀ·B (+ β·C)` with a narrow C (a weight gradient `Xᵀ·dY` onto
    /// 10 classes). A's rows are contiguous along C's rows, so SIMD lanes run
    /// over 2w rows of C at once (w with AVX2-sized vectors,
    /// ``vectorsPerBlock(_:)``) and every column of C is an accumulator:
    /// per depth step two vector loads of A, one broadcast per column of B
    /// (read in place from B's row; a transposed B is first copied into a
    /// `k × n` strip) and `2·n` multiply-adds — no packing of A, every lane
    /// useful. The column count is a constant in each of the eleven compiled
    /// variants (one per n in 2…12), so no accumulator of a missing column is
    /// computed. Blocks of 2w rows are split between threads; each row is
    /// computed whole by one thread.
    ///
    /// `AtB dW 128x256@256x10`, one core: the packed direct kernel on the
    /// transposed problem reached 110–114 GFLOPS; this kernel over 12
    /// columns with B copied into a zero-padded `k × 12` strip 129–132 (its
    /// profile: 5.9 % `memmove` and 5.1 % `memset`, one call per row of B for
    /// 10 and 2 scalars, and two of 24 multiply-adds on padding).
    @inline(__always)
    static func transposedA<V: SIMD, F: MultiplyAdd>(_ g: GEMMProblem<V.Scalar>, _: V.Type, _: F.Type)
    where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        let overwrite = g.prepareCForOverwrite()
        if g.m == 0 || g.n == 0 || g.k == 0 || g.alpha == 0 { return }
        if !g.transB { return transposedA(g, g.b, g.ldb, overwrite, V.self, F.self) }
        PackingBufferPool.shared.withBuffer(bytes: g.k * g.n * MemoryLayout<S>.stride) { raw in
            let strip = raw.assumingMemoryBound(to: S.self)
            fillStrip(g, strip, width: g.n)
            transposedA(g, UnsafePointer(strip), g.n, overwrite, V.self, F.self)
        }
    }

    /// The row blocks of ``transposedA(_:_:_:)`` with `op(B)[p, j]` at `b[p·ldb + j]`.
    @inline(__always)
    static func transposedA<V: SIMD, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _ b: UnsafePointer<V.Scalar>, _ ldb: Int, _ overwrite: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount, rows = vectorsPerBlock(V.self) * w
        let blocks = (g.m + rows - 1) / rows
        let (pg, pb) = (UncheckedSendable(g), UncheckedSendable(b))
        parallelFor(chunks: blocks, work: g.m * g.n * g.k) { block in
            let g = pg.value, b = pb.value, i0 = block * rows
            if i0 + rows <= g.m {
                switch g.n {
                case 2: transposedBlock(g, i0, b, ldb, columns: 2, overwrite, V.self, F.self)
                case 3: transposedBlock(g, i0, b, ldb, columns: 3, overwrite, V.self, F.self)
                case 4: transposedBlock(g, i0, b, ldb, columns: 4, overwrite, V.self, F.self)
                case 5: transposedBlock(g, i0, b, ldb, columns: 5, overwrite, V.self, F.self)
                case 6: transposedBlock(g, i0, b, ldb, columns: 6, overwrite, V.self, F.self)
                case 7: transposedBlock(g, i0, b, ldb, columns: 7, overwrite, V.self, F.self)
                case 8: transposedBlock(g, i0, b, ldb, columns: 8, overwrite, V.self, F.self)
                case 9: transposedBlock(g, i0, b, ldb, columns: 9, overwrite, V.self, F.self)
                case 10: transposedBlock(g, i0, b, ldb, columns: 10, overwrite, V.self, F.self)
                case 11: transposedBlock(g, i0, b, ldb, columns: 11, overwrite, V.self, F.self)
                default: transposedBlock(g, i0, b, ldb, columns: 12, overwrite, V.self, F.self)
                }
            } else {
                // The last rows: one vector at a time (a partial vector loads only valid rows).
                var i = i0
                while i < g.m {
                    transposedRows(g, i, Swift.min(w, g.m - i), b, ldb, overwrite, V.self, F.self)
                    i += w
                }
            }
        }
    }

    /// Vectors of rows per block of ``transposedA(_:_:_:)``: two of an
    /// AVX-512-sized vector (24 of 32 registers for 12 columns), one of an
    /// AVX2-sized one (12 of 16 registers; two spilled the sums —
    /// twenty-first session, Zen 3, `AtB dW 128x256@256x10` one core 31.0
    /// GFLOPS with `SIMD16<Float>`, numpy 42.5). A constant of each
    /// specialization.
    @inline(__always)
    static func vectorsPerBlock<V: SIMD>(_: V.Type) -> Int { RegisterFile.hasWideVectors(V.self) ? 2 : 1 }

    /// Rows `i0..<i0 + w` (one vector per block) or `i0..<i0 + 2w` of C over `n`
    /// columns; `n` is a literal at every call site, so the tests `n > j` fold away.
    @inline(__always)
    static func transposedBlock<V: SIMD, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _ i0: Int, _ b: UnsafePointer<V.Scalar>, _ ldb: Int, columns n: Int,
        _ overwrite: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        if vectorsPerBlock(V.self) == 1 { return transposedBlock1(g, i0, b, ldb, columns: n, overwrite, V.self, F.self) }
        let w = V.scalarCount, q = transposedColumns
        var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V(), a8 = V(), a9 = V(), a10 = V(), a11 = V()
        var b0 = V(), b1 = V(), b2 = V(), b3 = V(), b4 = V(), b5 = V(), b6 = V(), b7 = V(), b8 = V(), b9 = V(), b10 = V(), b11 = V()
        var pa = UnsafeRawPointer(g.a + i0), pb = b
        let rowBytes = g.lda * MemoryLayout<V.Scalar>.stride, half = w * MemoryLayout<V.Scalar>.stride
        for _ in 0..<g.k {
            let x = pa.loadUnaligned(as: V.self), y = pa.loadUnaligned(fromByteOffset: half, as: V.self)
            do { let s = V(repeating: pb[0]); a0 = F.multiplyAdd(a0, x, s); b0 = F.multiplyAdd(b0, y, s) }
            do { let s = V(repeating: pb[1]); a1 = F.multiplyAdd(a1, x, s); b1 = F.multiplyAdd(b1, y, s) }
            if n > 2 { let s = V(repeating: pb[2]); a2 = F.multiplyAdd(a2, x, s); b2 = F.multiplyAdd(b2, y, s) }
            if n > 3 { let s = V(repeating: pb[3]); a3 = F.multiplyAdd(a3, x, s); b3 = F.multiplyAdd(b3, y, s) }
            if n > 4 { let s = V(repeating: pb[4]); a4 = F.multiplyAdd(a4, x, s); b4 = F.multiplyAdd(b4, y, s) }
            if n > 5 { let s = V(repeating: pb[5]); a5 = F.multiplyAdd(a5, x, s); b5 = F.multiplyAdd(b5, y, s) }
            if n > 6 { let s = V(repeating: pb[6]); a6 = F.multiplyAdd(a6, x, s); b6 = F.multiplyAdd(b6, y, s) }
            if n > 7 { let s = V(repeating: pb[7]); a7 = F.multiplyAdd(a7, x, s); b7 = F.multiplyAdd(b7, y, s) }
            if n > 8 { let s = V(repeating: pb[8]); a8 = F.multiplyAdd(a8, x, s); b8 = F.multiplyAdd(b8, y, s) }
            if n > 9 { let s = V(repeating: pb[9]); a9 = F.multiplyAdd(a9, x, s); b9 = F.multiplyAdd(b9, y, s) }
            if n > 10 { let s = V(repeating: pb[10]); a10 = F.multiplyAdd(a10, x, s); b10 = F.multiplyAdd(b10, y, s) }
            if n > 11 { let s = V(repeating: pb[11]); a11 = F.multiplyAdd(a11, x, s); b11 = F.multiplyAdd(b11, y, s) }
            pa += rowBytes
            pb += ldb
        }
        // One scratch per half (q vectors, 768 bytes for SIMD16<Float>): over 1 KiB, the
        // scratch would come from the heap (see `withStackScratch`).
        withStackScratch(of: V.self, capacity: q) { t in
            t[0] = a0; t[1] = a1; t[2] = a2; t[3] = a3; t[4] = a4; t[5] = a5; t[6] = a6; t[7] = a7; t[8] = a8; t[9] = a9; t[10] = a10; t[11] = a11
            storeColumns(UnsafePointer(t), rows: w, to: g.c + i0 * g.ldc, g, overwrite)
        }
        withStackScratch(of: V.self, capacity: q) { t in
            t[0] = b0; t[1] = b1; t[2] = b2; t[3] = b3; t[4] = b4; t[5] = b5
            t[6] = b6; t[7] = b7; t[8] = b8; t[9] = b9; t[10] = b10; t[11] = b11
            storeColumns(UnsafePointer(t), rows: w, to: g.c + (i0 + w) * g.ldc, g, overwrite)
        }
    }

    /// ``transposedBlock(_:_:_:_:columns:_:_:_:)`` on one vector of rows.
    @inline(__always)
    static func transposedBlock1<V: SIMD, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _ i0: Int, _ b: UnsafePointer<V.Scalar>, _ ldb: Int, columns n: Int,
        _ overwrite: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount, q = transposedColumns
        var a0 = V(), a1 = V(), a2 = V(), a3 = V(), a4 = V(), a5 = V(), a6 = V(), a7 = V(), a8 = V(), a9 = V(), a10 = V(), a11 = V()
        var pa = UnsafeRawPointer(g.a + i0), pb = b
        let rowBytes = g.lda * MemoryLayout<V.Scalar>.stride
        for _ in 0..<g.k {
            let x = pa.loadUnaligned(as: V.self)
            a0 = F.multiplyAdd(a0, x, V(repeating: pb[0]))
            a1 = F.multiplyAdd(a1, x, V(repeating: pb[1]))
            if n > 2 { a2 = F.multiplyAdd(a2, x, V(repeating: pb[2])) }
            if n > 3 { a3 = F.multiplyAdd(a3, x, V(repeating: pb[3])) }
            if n > 4 { a4 = F.multiplyAdd(a4, x, V(repeating: pb[4])) }
            if n > 5 { a5 = F.multiplyAdd(a5, x, V(repeating: pb[5])) }
            if n > 6 { a6 = F.multiplyAdd(a6, x, V(repeating: pb[6])) }
            if n > 7 { a7 = F.multiplyAdd(a7, x, V(repeating: pb[7])) }
            if n > 8 { a8 = F.multiplyAdd(a8, x, V(repeating: pb[8])) }
            if n > 9 { a9 = F.multiplyAdd(a9, x, V(repeating: pb[9])) }
            if n > 10 { a10 = F.multiplyAdd(a10, x, V(repeating: pb[10])) }
            if n > 11 { a11 = F.multiplyAdd(a11, x, V(repeating: pb[11])) }
            pa += rowBytes
            pb += ldb
        }
        withStackScratch(of: V.self, capacity: q) { t in
            t[0] = a0; t[1] = a1; t[2] = a2; t[3] = a3; t[4] = a4; t[5] = a5; t[6] = a6; t[7] = a7; t[8] = a8; t[9] = a9; t[10] = a10; t[11] = a11
            storeColumns(UnsafePointer(t), rows: w, to: g.c + i0 * g.ldc, g, overwrite)
        }
    }

    /// Rows `i0..<i0 + rows` of C, `rows ≤ w` (a partial vector reads only valid rows of A).
    @inline(__always)
    static func transposedRows<V: SIMD, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _ i0: Int, _ rows: Int, _ b: UnsafePointer<V.Scalar>, _ ldb: Int,
        _ overwrite: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount, q = transposedColumns
        withStackScratch(of: V.self, capacity: q) { sums in
            sums.initialize(repeating: V(), count: q)
            for p in 0..<g.k {
                var x = V()
                let row = g.a + p * g.lda + i0
                if rows == w { x = UnsafeRawPointer(row).loadUnaligned(as: V.self) } else { for l in 0..<rows { x[l] = row[l] } }
                for j in 0..<g.n { sums[j] = F.multiplyAdd(sums[j], x, V(repeating: b[p * ldb + j])) }
            }
            storeColumns(UnsafePointer(sums), rows: rows, to: g.c + i0 * g.ldc, g, overwrite)
        }
    }

    /// `C[i0 + l, j] (+)= α·columns[j][l]` for `l < rows`, `j < n`.
    @inline(__always)
    static func storeColumns<V: SIMD>(
        _ columns: UnsafePointer<V>, rows: Int, to c: UnsafeMutablePointer<V.Scalar>, _ g: GEMMProblem<V.Scalar>, _ overwrite: Bool
    ) where V.Scalar: TensorScalar {
        for j in 0..<g.n {
            withUnsafeBytes(of: columns[j]) { lanes in
                for l in 0..<rows {
                    let value = g.alpha * lanes.load(fromByteOffset: l * MemoryLayout<V.Scalar>.stride, as: V.Scalar.self)
                    let target = c + l * g.ldc + j
                    target.pointee = overwrite ? value : target.pointee + value
                }
            }
        }
    }

    /// `strip[p·width + j] = op(B)[p, j]` for `j < n`, zero up to `width`: rows
    /// of an untransposed B copied whole (an element-by-element fill with a
    /// bounds test per element took a third of `AtB dW 128x256@256x10`).
    @inline(__always)
    static func fillStrip<S: TensorScalar>(_ g: GEMMProblem<S>, _ strip: UnsafeMutablePointer<S>, width: Int) {
        for p in 0..<g.k {
            let row = strip + p * width
            if g.transB {
                for j in 0..<g.n { row[j] = g.opB(p, j) }
            } else {
                row.update(from: g.b + p * g.ldb, count: g.n)
            }
            (row + g.n).update(repeating: 0, count: width - g.n)
        }
    }
}
