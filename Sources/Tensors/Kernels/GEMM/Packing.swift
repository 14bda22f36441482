// Packing: copying blocks of op(A) and op(B) into the order the micro-kernel
// reads them (BLIS's Ã and B̃).
//
// Ã: `mr`-row panels, each stored step by step (`mr` values of column p, then
//    p + 1, …).  B̃: `nr`-column panels, each stored row by row.
// Two of the four cases are plain copies (a transposed A, an untransposed B);
// the other two transpose, and go through `transposeFourRows`, which moves
// 4 × w elements with four vector loads, eight two-source shuffles and
// 4-element stores. A scalar transpose is 3–4× slower and was ~10 % of a
// 1024³ product's time. LLVM lowers the 16-lane zips feeding 4-element
// stores to 128-bit inserts; 4 × 4 transposes on `SIMD4` instead (thirteenth
// session) left packing's share of a 64³ product where it was (17 %).
// Sixteenth session, not kept: a whole 12-row Float panel sixteen steps at a
// time (three 4 × 16 register transposes, their vectors interleaved four lanes
// at a time into twelve 64-byte stores instead of forty-eight 16-byte ones).
// LLVM folded both stages into chains of `vpermt2ps` from the twelve loads
// (about ten per stored vector); 2048³ alternated with the previous binary,
// five pairs: one thread median 223.7 → 223.9 GFLOPS, two threads ±2 %.
// Twenty-second session (Zen 3, AVX2), not kept: a transposed B packed for the
// 6-row tile (16-column panels) in 8 × 8 register tiles — `TileTranspose`'s,
// one in AVX2's in-half shuffles, one whose half-row loads exchange the halves.
// Packing's share of `ABt dX 128x256@256x784` on one thread (profiles, same
// phase of the machine): 7.8 % with the four-row zips, 8.5 / 8.3 / 7.1 % with
// the tiles; GFLOPS level (medians 64.4 / 64.2 / 64.3 / 63.9 over five
// alternations). Reading B (800 KB, from L3) bounds it, not the shuffles.

extension BlockedGEMM {
    /// Packs `op(A)[ic..<ic+mc, pc..<pc+kc]` into `mr`-row panels, each stored
    /// column by column (`mr` values per step `p`), zero-padding the last panel.
    @inline(__always)
    static func packA<S: TensorScalar>(
        _ g: GEMMProblem<S>, _ ic: Int, _ mc: Int, _ pc: Int, _ kc: Int, _ mr: Int, _ out: UnsafeMutablePointer<S>
    ) {
        if let patches = g.patches {
            return patches.pack(from: g.a, transposed: g.transA, ic, mc, pc, kc, mr, out)
        }
        var ir = 0
        while ir < mc {
            let rows = Swift.min(mr, mc - ir)
            let panel = out + ir * kc
            if g.transA {
                // op(A)[i, p] = a[p·lda + i]: each step's rows are contiguous.
                let rowBytes = rows * MemoryLayout<S>.stride
                for p in 0..<kc {
                    let src = g.a + (pc + p) * g.lda + ic + ir
                    let dst = panel + p * mr
                    copyBytes(UnsafeRawPointer(src), to: UnsafeMutableRawPointer(dst), count: rowBytes)
                    for r in rows..<mr { dst[r] = 0 }
                }
            } else {
                // op(A)[i, p] = a[i·lda + p]: rows are contiguous, the panel wants columns
                // (with segmented depth, contiguous run by run).
                let rowStart = g.a + (ic + ir) * g.lda
                g.forEachDepthRun(pc, kc) { p0, count in
                    let src = rowStart + g.depthOffset(p0, g.aSegmentStride), out = panel + (p0 - pc) * mr
                    let runBytes = count * MemoryLayout<S>.stride
                    var r = 0
                    while r + 4 <= rows {
                        // The next four rows' runs are requested now and arrive while these
                        // four are transposed (the loads of A were the packing's hot spot).
                        // Short runs are left to the hardware: there the requests cost more
                        // than they save (k = 10: −4 %).
                        if runBytes >= 256 {
                            for row in (ir + r + 4)..<Swift.min(mc, ir + r + 8) {
                                CacheLines.prefetch(UnsafeRawPointer(src + (row - ir) * g.lda), bytes: runBytes)
                            }
                        }
                        transposeFourRows(src + r * g.lda, g.lda, count, out + r, mr)
                        r += 4
                    }
                    if r < mr {   // rows left over from the groups of four, then zero padding
                        for p in 0..<count {
                            let dst = out + p * mr
                            for rest in r..<rows { dst[rest] = src[rest * g.lda + p] }
                            for zero in rows..<mr { dst[zero] = 0 }
                        }
                    }
                }
            }
            ir += mr
        }
    }

    /// Packs `op(B)[pc..<pc+kc, j0..<j0+columns]` as consecutive `nr`-column
    /// panels (each `kc·nr` elements, row by row), zero-padding the last one.
    /// An untransposed B is copied row by row across all the panels, so each
    /// source row is read contiguously.
    @inline(__always)
    static func packB<S: TensorScalar>(
        _ g: GEMMProblem<S>, _ pc: Int, _ kc: Int, _ j0: Int, _ columns: Int, _ nr: Int, _ out: UnsafeMutablePointer<S>
    ) {
        let full = columns / nr, rest = columns - full * nr
        if g.transB {
            // op(B)[p, j] = b[j·ldb + p]: columns of op(B) are contiguous, the panel wants rows.
            g.forEachDepthRun(pc, kc) { p0, count in
                let offset = g.depthOffset(p0, g.bSegmentStride), rowOffset = (p0 - pc) * nr
                var j = 0
                while j < columns {
                    let src = g.b + (j0 + j) * g.ldb + offset
                    let dst = out + (j / nr) * nr * kc + rowOffset + j % nr
                    if j % nr + 4 <= nr && j + 4 <= columns {   // nr is a multiple of 4
                        transposeFourRows(src, g.ldb, count, dst, nr)
                        j += 4
                    } else {
                        for p in 0..<count { dst[p &* nr] = src[p] }
                        j += 1
                    }
                }
            }
            if rest > 0 {
                let last = out + full * nr * kc
                for p in 0..<kc { for j in rest..<nr { last[p * nr + j] = 0 } }
            }
        } else {
            // Row p + 4 is requested while row p is copied, and each panel's row
            // (nr elements: 128 bytes in Float and Double) is moved as two 64-byte vectors
            // rather than by a `memmove` call per panel row (its loads were hot in the profile).
            let rowBytes = full * nr * MemoryLayout<S>.stride, panelBytes = nr * MemoryLayout<S>.stride
            for p in 0..<kc {
                let src = g.b + (pc + p) * g.ldb + j0
                if p + 4 < kc { CacheLines.prefetch(UnsafeRawPointer(src + 4 * g.ldb), bytes: rowBytes) }
                for panel in 0..<full {
                    copyBytes(UnsafeRawPointer(src + panel &* nr), to: UnsafeMutableRawPointer(out + panel &* nr &* kc + p &* nr),
                              count: panelBytes)
                }
                if rest > 0 {
                    let dst = out + full * nr * kc + p * nr
                    for j in 0..<rest { dst[j] = src[full * nr + j] }
                    for j in rest..<nr { dst[j] = 0 }
                }
            }
        }
    }

    /// Copies `count` bytes (a multiple of 4) in 64-byte vectors, then one
    /// 32-, 16-, 8- and 4-byte piece as needed — a plain move of bits: any
    /// scalar type, NaN payloads kept. (A 12-row Float panel step, 48 bytes,
    /// is two moves instead of twelve.)
    @inline(__always)
    static func copyBytes(_ from: UnsafeRawPointer, to: UnsafeMutableRawPointer, count: Int) {
        @inline(__always) func move<T>(_: T.Type, _ offset: inout Int) {
            to.storeBytes(of: from.loadUnaligned(fromByteOffset: offset, as: T.self), toByteOffset: offset, as: T.self)
            offset += MemoryLayout<T>.size
        }
        var offset = 0
        while offset + 64 <= count { move(SIMD16<UInt32>.self, &offset) }
        if offset + 32 <= count { move(SIMD8<UInt32>.self, &offset) }
        if offset + 16 <= count { move(SIMD4<UInt32>.self, &offset) }
        if offset + 8 <= count { move(SIMD2<UInt32>.self, &offset) }
        if offset + 4 <= count { move(UInt32.self, &offset) }
    }

    /// `dst[q·dstStride + r] = src[r·ld + q]` for `r < 4`, `q < count`: four
    /// contiguous source rows written as `count` groups of four — full
    /// vectors, then one half and one quarter vector, then element by element.
    /// (A depth of 10 went element by element whole: `ABt dX 256x10@10x128`
    /// spent 13 % of its time packing A.)
    @inline(__always)
    static func transposeFourRows<S: TensorScalar>(
        _ src: UnsafePointer<S>, _ ld: Int, _ count: Int, _ dst: UnsafeMutablePointer<S>, _ dstStride: Int
    ) {
        var q = 0
        switch S.scalarType {
        case .float32:
            let (s, d) = (cast(src, to: Float.self), cast(dst, to: Float.self))
            q = transposeFourRows(s, ld, q, count, d, dstStride, FloatVector.self)
            q = transposeFourRows(s, ld, q, count, d, dstStride, SIMD8<Float>.self)
            q = transposeFourRows(s, ld, q, count, d, dstStride, SIMD4<Float>.self)
        case .float64:
            let (s, d) = (cast(src, to: Double.self), cast(dst, to: Double.self))
            q = transposeFourRows(s, ld, q, count, d, dstStride, DoubleVector.self)
            q = transposeFourRows(s, ld, q, count, d, dstStride, SIMD4<Double>.self)
        }
        while q < count {
            let d = dst + q * dstStride
            d[0] = src[q]; d[1] = src[ld + q]; d[2] = src[2 * ld + q]; d[3] = src[3 * ld + q]
            q += 1
        }
    }

    /// The vector form, from column `first` while a whole vector fits; returns
    /// the first column left. Per `w = V.scalarCount` steps, rows a, b, c, d
    /// are zipped into (a₀b₀a₁b₁…) and (c₀d₀c₁d₁…), then those pairwise into
    /// (a₀b₀c₀d₀ a₁b₁c₁d₁ …), whose groups of four are stored.
    @inline(__always)
    static func transposeFourRows<V: SIMD>(
        _ src: UnsafePointer<V.Scalar>, _ ld: Int, _ first: Int, _ count: Int, _ dst: UnsafeMutablePointer<V.Scalar>, _ dstStride: Int,
        _: V.Type
    ) -> Int where V.Scalar: TensorScalar {
        let w = V.scalarCount
        @inline(__always) func load(_ p: UnsafePointer<V.Scalar>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func storeQuads(_ u: V, _ first: Int) {
            for i in 0..<(w / 4) {
                let d = dst + (first + i) &* dstStride
                d[0] = u[4 * i]; d[1] = u[4 * i + 1]; d[2] = u[4 * i + 2]; d[3] = u[4 * i + 3]
            }
        }
        var q = first
        while q + w <= count {
            let a = load(src + q), b = load(src + ld + q), c = load(src + 2 * ld + q), d = load(src + 3 * ld + q)
            let ab0 = zip(a, b, half: 0), ab1 = zip(a, b, half: 1), cd0 = zip(c, d, half: 0), cd1 = zip(c, d, half: 1)
            storeQuads(zipPairs(ab0, cd0, half: 0), q)
            storeQuads(zipPairs(ab0, cd0, half: 1), q + w / 4)
            storeQuads(zipPairs(ab1, cd1, half: 0), q + w / 2)
            storeQuads(zipPairs(ab1, cd1, half: 1), q + 3 * w / 4)
            q += w
        }
        return q
    }

    /// Interleaves one half of `a` and `b`: (a₀b₀a₁b₁…) from lanes
    /// `half·w/2 ..< (half+1)·w/2`. Built lane by lane, it compiles to one
    /// two-source shuffle.
    @inline(__always)
    static func zip<V: SIMD>(_ a: V, _ b: V, half: Int) -> V {
        var r = V()
        let n = V.scalarCount / 2, base = half * n
        for i in 0..<n { r[2 * i] = a[base + i]; r[2 * i + 1] = b[base + i] }
        return r
    }

    /// Interleaves pairs of lanes of one half of `a` and `b`: (a₀a₁b₀b₁ a₂a₃b₂b₃ …).
    @inline(__always)
    static func zipPairs<V: SIMD>(_ a: V, _ b: V, half: Int) -> V {
        var r = V()
        let base = half * V.scalarCount / 2
        for i in 0..<(V.scalarCount / 4) {
            r[4 * i] = a[base + 2 * i]; r[4 * i + 1] = a[base + 2 * i + 1]
            r[4 * i + 2] = b[base + 2 * i]; r[4 * i + 3] = b[base + 2 * i + 1]
        }
        return r
    }
}
