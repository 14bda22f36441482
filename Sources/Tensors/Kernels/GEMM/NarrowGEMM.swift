/// Products with a narrow C (`n ≤ w`, one vector of columns, e.g. a 10-class
/// output layer): sixteen rows of C at a time, each one vector accumulator,
/// with A read in place and B copied once into a zero-padded `k × w` strip.
/// Per step: one B load, sixteen broadcasts, sixteen multiply-adds.
/// `matmul` uses it only for non-transposed A: with a transposed A the packed
/// direct kernel on the transposed problem is faster (measured 103 vs 60
/// GFLOPS for 128×256ᵀ·(256×10)).
enum NarrowGEMM {
    static func applies<S: TensorScalar>(_ g: GEMMProblem<S>) -> Bool {
        let width = S.scalarType == .float32 ? 16 : 8
        return g.n <= width && g.n > 1 && g.m >= 16 && !g.transA && !g.transposedC
    }

    static func run<S: TensorScalar>(_ g: GEMMProblem<S>, kernel: GEMMKernel) {
        switch (S.scalarType, kernel.isFused) {
        case (.float32, true): typed(g.retyped(Float.self), FloatVector.self, FusedMultiplyAdd.self)
        case (.float32, false): typed(g.retyped(Float.self), FloatVector.self, SeparateMultiplyAdd.self)
        case (.float64, true): typed(g.retyped(Double.self), DoubleVector.self, FusedMultiplyAdd.self)
        case (.float64, false): typed(g.retyped(Double.self), DoubleVector.self, SeparateMultiplyAdd.self)
        }
    }

    @inline(__always)
    static func typed<V: KernelVector, F: MultiplyAdd>(_ g: GEMMProblem<V.Scalar>, _: V.Type, _: F.Type) {
        let overwrite = g.prepareCForOverwrite()
        if g.m == 0 || g.n == 0 || g.k == 0 || g.alpha == 0 { return }
        let w = V.scalarCount
        // Wider C is walked in strips of w columns (the rung is valid for any shape).
        var j0 = 0
        while j0 < g.n {
            columns(g.columns(j0..<Swift.min(g.n, j0 + w)), overwrite, V.self, F.self)
            j0 += w
        }
    }

    @inline(__always)
    static func columns<V: KernelVector, F: MultiplyAdd>(_ g: GEMMProblem<V.Scalar>, _ overwrite: Bool, _: V.Type, _: F.Type) {
        let w = V.scalarCount
        PackingBufferPool.shared.withBuffer(bytes: g.k * w * MemoryLayout<V.Scalar>.stride) { raw in
            let strip = raw.assumingMemoryBound(to: V.Scalar.self)
            for p in 0..<g.k {
                for j in 0..<w { strip[p * w + j] = j < g.n ? g.opB(p, j) : 0 }
            }
            // Element op(A)[i, p] sits at a[i·rs + p·cs].
            let (rs, cs) = g.transA ? (1, g.lda) : (g.lda, 1)
            // Blocks of 16 rows, in chunks of up to four blocks on the worker
            // threads (each row is computed whole by one thread: the bits do not
            // depend on the thread count). fwd 256×128·(128×10) on two cores:
            // 7.3 µs on one thread.
            let blocks = g.m / 16, blocksPerChunk = 4
            let (pg, pstrip) = (UncheckedSendable(g), UncheckedSendable(strip))
            parallelFor(chunks: (blocks + blocksPerChunk - 1) / blocksPerChunk, work: g.m * g.n * g.k) { chunk in
                for b in (chunk * blocksPerChunk)..<Swift.min(blocks, (chunk + 1) * blocksPerChunk) {
                    block(pg.value, 16 * b, pstrip.value, rs, cs, overwrite, V.self, F.self)
                }
            }
            var i = 16 * blocks
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
    static func block<V: KernelVector, F: MultiplyAdd>(
        _ g: GEMMProblem<V.Scalar>, _ i: Int, _ strip: UnsafeMutablePointer<V.Scalar>, _ rs: Int, _ cs: Int,
        _ overwrite: Bool, _: V.Type, _: F.Type
    ) {
        let w = V.scalarCount
        var s0 = V(), s1 = V(), s2 = V(), s3 = V(), s4 = V(), s5 = V(), s6 = V(), s7 = V(), s8 = V(), s9 = V(), s10 = V(), s11 = V(), s12 = V(), s13 = V(), s14 = V(), s15 = V()
        // Four row groups, each its own pointer, rows within a group at fixed byte
        // offsets: one chained pointer for all sixteen rows serialised the loads.
        let size = MemoryLayout<V.Scalar>.stride
        let o1 = rs * size, o2 = 2 * rs * size, o3 = 3 * rs * size, step = cs * size
        var a0 = UnsafeRawPointer(g.a + i * rs), a1 = a0 + 4 * o1, a2 = a0 + 8 * o1, a3 = a0 + 12 * o1
        var pb = UnsafeRawPointer(strip)
        @inline(__always) func x(_ p: UnsafeRawPointer, _ o: Int) -> V { V(repeating: p.load(fromByteOffset: o, as: V.Scalar.self)) }
        for _ in 0..<g.k {
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
        @inline(__always) func finish(_ r: Int, _ s: V) { store(s, to: g.c + (i + r) * g.ldc, g, overwrite) }
        finish(0, s0); finish(1, s1); finish(2, s2); finish(3, s3)
        finish(4, s4); finish(5, s5); finish(6, s6); finish(7, s7)
        finish(8, s8); finish(9, s9); finish(10, s10); finish(11, s11)
        finish(12, s12); finish(13, s13); finish(14, s14); finish(15, s15)
    }

    /// `row[j] += α·s[j]` (or `=` when `overwrite`: the β = 0 product never reads C)
    /// for the `n` valid lanes; lanes are read through memory because a generic
    /// `s[j]` is not a plain extract.
    @inline(__always)
    static func store<V: KernelVector>(_ s: V, to row: UnsafeMutablePointer<V.Scalar>, _ g: GEMMProblem<V.Scalar>, _ overwrite: Bool) {
        withUnsafeBytes(of: s) { lanes in
            for j in 0..<g.n {
                let value = g.alpha * lanes.load(fromByteOffset: j * MemoryLayout<V.Scalar>.stride, as: V.Scalar.self)
                row[j] = overwrite ? value : row[j] + value
            }
        }
    }
}
