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

    /// `op(A)[i, p]`
    @inline(__always) func opA(_ i: Int, _ p: Int) -> S { transA ? a[p * lda + i] : a[i * lda + p] }
    /// `op(B)[p, j]`
    @inline(__always) func opB(_ p: Int, _ j: Int) -> S { transB ? b[j * ldb + p] : b[p * ldb + j] }

    /// Multiply-adds performed: `2mnk`.
    var flops: Double { 2 * Double(m) * Double(n) * Double(k) }

    func retyped<T: TensorScalar>(_: T.Type) -> GEMMProblem<T> {
        GEMMProblem<T>(m: m, n: n, k: k, a: cast(a, to: T.self), lda: lda, transA: transA,
                       b: cast(b, to: T.self), ldb: ldb, transB: transB, c: cast(c, to: T.self), ldc: ldc,
                       alpha: T(alpha), beta: T(beta))
    }

    /// `C = β·C` for the whole output (exactly 0 when β = 0).
    func scaleC() {
        if beta == 1 { return }
        for i in 0..<m {
            let row = c + i * ldc
            if beta == 0 {
                row.update(repeating: 0, count: n)
            } else {
                for j in 0..<n { row[j] *= beta }
            }
        }
    }
}

/// The implementations of matrix multiplication, from the readable reference
/// to the production kernel. `Benchmarks gemm` times each rung.
public enum GEMMRung: String, CaseIterable, Sendable {
    /// The triple loop `cᵢⱼ = Σₚ aᵢₚbₚⱼ` — the loop path.
    case naive
    /// SIMD rows of `C` accumulated in registers, no packing, no blocking, one thread.
    case simdUnblocked
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
