/// One matrix product `C = α·op(A)·op(B) + β·C` on raw row-major storage.
///
/// `op(A)` is `m × k`, `op(B)` is `k × n`, `C` is `m × n`. With `transA`, `A`
/// is stored `k × m` (element `op(A)[i, p]` at `a[p·lda + i]`), otherwise
/// `m × k` (at `a[i·lda + p]`); likewise for `B`. `β = 0` overwrites `C`
/// without reading it (NaNs in the old `C` do not propagate, as in BLAS).
struct GEMMProblem<S: TensorScalar> {
    var m: Int, n: Int, k: Int
    var a: UnsafePointer<S>, lda: Int, transA: Bool
    var b: UnsafePointer<S>, ldb: Int, transB: Bool
    var c: UnsafeMutablePointer<S>, ldc: Int
    var alpha: S, beta: S
    /// C is stored transposed: element `(i, j)` at `c[j·ldc + i]` (see `BlockedGEMM.run`).
    var transposedC = false
    /// When set, A is not a stored matrix but the patch matrix of an image
    /// batch at `a` (implicit GEMM for convolution): only the packing reads it.
    var patches: PatchMatrix? = nil
    /// Segmented depth (0: none). The `k` terms come in segments of `kSegment`
    /// consecutive elements, segment `q` starting `aSegmentStride·q` after a row's
    /// start in an untransposed A and `bSegmentStride·q` after a column's start in
    /// a transposed B: `op(A)[i, p] = a[i·lda + (p / L)·aSegmentStride + p % L]`,
    /// `op(B)[p, j] = b[j·ldb + (p / L)·bSegmentStride + p % L]`. A sum of
    /// products over time steps stored step by step (`Σ_t δZ_t·H_tᵀ`) is then one
    /// product, read in place by the packing. Only the packed (blocked) path and
    /// the naive loop read such operands.
    var kSegment = 0, aSegmentStride = 0, bSegmentStride = 0
    /// The epilogue (nil: none): after C's last term, every element of stored
    /// row `r` of C gets `bias[r]` added, and with `rectifies` then `max(0, ·)`
    /// (`x < 0 ? 0 : x`, the `relu` kernel's form). Stored rows are C's rows, or
    /// with `transposedC` its columns — the product's as the caller wrote it.
    /// Kernels that write C tile by tile apply it to each tile right after its
    /// last depth block, while the tile is in L1; the others leave it to
    /// ``applyEpilogue(rows:columns:)`` over the whole output. Either way each
    /// element gets `(product + bias)` then the clamp: the bits of the product,
    /// then a broadcast `+ b`, then `relu`.
    var bias: UnsafePointer<S>? = nil
    var rectifies = false

    /// Address of C's element `(i, j)`.
    @inline(__always) func cTile(_ i: Int, _ j: Int) -> UnsafeMutablePointer<S> {
        transposedC ? c + j * ldc + i : c + i * ldc + j
    }

    /// `op(A)[i, p]`
    @inline(__always) func opA(_ i: Int, _ p: Int) -> S { transA ? a[p * lda + i] : a[i * lda + depthOffset(p, aSegmentStride)] }
    /// `op(B)[p, j]`
    @inline(__always) func opB(_ p: Int, _ j: Int) -> S { transB ? b[j * ldb + depthOffset(p, bSegmentStride)] : b[p * ldb + j] }

    /// Where depth index `p` lies along a row of A (column of a transposed B): `p`,
    /// or its place in the segment layout.
    @inline(__always) func depthOffset(_ p: Int, _ segmentStride: Int) -> Int {
        kSegment == 0 ? p : (p / kSegment) * segmentStride + p % kSegment
    }

    /// Calls `body(p, count)` for the runs of depth indices `pc..<pc+kc` that are
    /// contiguous in memory (one run without segments).
    @inline(__always) func forEachDepthRun(_ pc: Int, _ kc: Int, _ body: (_ p: Int, _ count: Int) -> Void) {
        if kSegment == 0 { return body(pc, kc) }
        var p = pc
        while p < pc + kc {
            let count = Swift.min(pc + kc - p, kSegment - p % kSegment)
            body(p, count)
            p += count
        }
    }

    /// For a narrow C (n below half a micro-tile, most tile columns wasted):
    /// the same product as `Cᵀ = op(B)ᵀ·op(A)ᵀ` with C stored transposed.
    func transposedIfNarrow(_ kernel: GEMMKernel) -> GEMMProblem? {
        let tileColumns = (kernel.isWide ? 32 : 16) / (S.scalarType == .float32 ? 1 : 2)
        guard n < tileColumns / 2 && m > n && !transposedC && patches == nil && kSegment == 0 else { return nil }
        var t = self
        (t.m, t.n) = (n, m)
        (t.a, t.lda, t.transA) = (b, ldb, !transB)
        (t.b, t.ldb, t.transB) = (a, lda, !transA)
        t.transposedC = true
        return t
    }

    /// The same product restricted to rows `range` of C.
    func rows(_ range: Range<Int>) -> GEMMProblem {
        var part = self
        part.m = range.count
        if patches != nil {
            part.patches!.firstRow += range.lowerBound   // rows of op(A) are patch rows (or, transposed, patch columns)
        } else {
            part.a = transA ? a + range.lowerBound : a + range.lowerBound * lda
        }
        part.c = cTile(range.lowerBound, 0)
        if !transposedC, let bias { part.bias = bias + range.lowerBound }
        return part
    }

    /// The same product restricted to columns `range` of C.
    func columns(_ range: Range<Int>) -> GEMMProblem {
        var part = self
        part.n = range.count
        part.b = transB ? b + range.lowerBound * ldb : b + range.lowerBound
        part.c = cTile(0, range.lowerBound)
        if transposedC, let bias { part.bias = bias + range.lowerBound }
        return part
    }

    /// Multiply-adds performed: `2mnk`.
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    func retyped<T: TensorScalar>(_: T.Type) -> GEMMProblem<T> {
        GEMMProblem<T>(m: m, n: n, k: k, a: cast(a, to: T.self), lda: lda, transA: transA,
                       b: cast(b, to: T.self), ldb: ldb, transB: transB, c: cast(c, to: T.self), ldc: ldc,
                       alpha: T(alpha), beta: T(beta), transposedC: transposedC, patches: patches,
                       kSegment: kSegment, aSegmentStride: aSegmentStride, bSegmentStride: bSegmentStride,
                       bias: bias.map { cast($0, to: T.self) }, rectifies: rectifies)
    }

    /// Whether there is an epilogue to apply.
    var hasEpilogue: Bool { bias != nil || rectifies }

    /// The same product without its epilogue.
    var withoutEpilogue: GEMMProblem {
        var plain = self
        (plain.bias, plain.rectifies) = (nil, false)
        return plain
    }

    /// Applies the epilogue (see ``bias``) to C's elements `(i, j)` for `i` in
    /// `rows`, `j` in `columns`: a tile just finished, or the whole output
    /// after a kernel that does not apply it itself.
    @inline(__always)
    func applyEpilogue(rows: Range<Int>, columns: Range<Int>) {
        guard hasEpilogue else { return }
        switch S.scalarType {
        case .float32: retyped(Float.self).applyEpilogue(rows: rows, columns: columns, FloatVector.self)
        case .float64: retyped(Double.self).applyEpilogue(rows: rows, columns: columns, DoubleVector.self)
        }
    }

    /// Prepares C for kernels that can overwrite it on their first k-block:
    /// returns `true` (C untouched, the first block must store, not add) when
    /// `β = 0` and there is a product to store; otherwise applies `scaleC()`
    /// and returns `false`.
    func prepareCForOverwrite() -> Bool {
        if beta == 0 && m > 0 && n > 0 && k > 0 && alpha != 0 { return true }
        scaleC()
        return false
    }

    /// `C = β·C` for the whole output (exactly 0 when β = 0).
    func scaleC() {
        if beta == 1 { return }
        let (rows, columns) = transposedC ? (n, m) : (m, n)
        for i in 0..<rows {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: columns)
            } else {
                for j in 0..<columns { row[j] *= beta }
            }
        }
    }
}

extension GEMMProblem {
    /// ``applyEpilogue(rows:columns:)`` on the library's kernel vectors, whose
    /// `compare` is one vector instruction: the generic `v .< zero` built its
    /// mask lane by lane through the stack here (22 % of a transformer layer's
    /// samples, in this function alone).
    @inline(__always)
    func applyEpilogue<V: KernelVector>(rows: Range<Int>, columns: Range<Int>, _: V.Type) where V.Scalar == S {
        // Runs of stored rows: contiguous in memory whichever way C is stored.
        let (storedRows, run) = transposedC ? (columns, rows) : (rows, columns)
        let w = V.scalarCount, zero = V(repeating: 0), adds = bias != nil
        for r in storedRows {
            let row = c + r * ldc + run.lowerBound
            let b = bias?[r] ?? 0
            var j = 0
            if rectifies {
                while j + w <= run.count {
                    var v = UnsafeRawPointer(row + j).loadUnaligned(as: V.self)
                    if adds { v += b }
                    UnsafeMutableRawPointer(row + j).storeBytes(of: v.replacing(with: 0, where: V.compare(.less, v, zero)), as: V.self)
                    j += w
                }
                while j < run.count {
                    let x = adds ? row[j] + b : row[j]
                    row[j] = x < 0 ? 0 : x
                    j += 1
                }
            } else {
                while j + w <= run.count {
                    let v = UnsafeRawPointer(row + j).loadUnaligned(as: V.self)
                    UnsafeMutableRawPointer(row + j).storeBytes(of: v + b, as: V.self)
                    j += w
                }
                while j < run.count { row[j] += b; j += 1 }
            }
        }
    }
}

/// The implementations of matrix multiplication, from the readable reference
/// to the production kernel. `Benchmarks gemm` times each rung.
@_spi(Benchmarks)
public enum GEMMRung: String, CaseIterable, Sendable {
    /// The triple loop `cᵢⱼ = Σₚ aᵢₚbₚⱼ` — the loop path.
    case naive
    /// SIMD rows of `C` accumulated in registers, no packing, no blocking, one thread.
    case simdUnblocked
    /// The register micro-kernel on unpacked B, no cache blocking, one thread —
    /// what small products use.
    case direct
    /// The direct kernel on pieces of C, in parallel — what mid-size products use.
    case directParallel
    /// Sixteen rows × one vector of columns, A read in place — what products with
    /// a narrow C (n ≤ 16 Float / 8 Double columns) use. Valid for any shape.
    case narrow
    /// Packed, cache-blocked micro-kernel GEMM on one thread.
    case blockedSingleThread
    /// Packed, cache-blocked micro-kernel GEMM on all cores — the vectorized path.
    case blockedParallel
}

enum NaiveGEMM {
    /// The reference: for every `(i, j)`, the sum over `p` in order.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func run<S: TensorScalar>(_ g: GEMMProblem<S>) {
        for i in 0..<g.m {
            for j in 0..<g.n {
                var sum: S = 0
                for p in 0..<g.k { sum += g.opA(i, p) * g.opB(p, j) }
                let old = g.beta == 0 ? 0 : g.beta * g.c[i * g.ldc + j]
                g.c[i * g.ldc + j] = g.alpha * sum + old
            }
        }
    }
}
