/// Matrix–vector products — GEMM with `n == 1` or `m == 1`, where packing
/// would waste all but one column of every micro-tile. Both are memory-bound
/// and take one of two forms:
/// - dot form: `yᵢ = α·⟨Mᵢ, x⟩ + β·yᵢ` over contiguous rows `Mᵢ` (e.g. `u = Av`);
/// - axpy form: `y = α·Σₚ xₚ·Mₚ + β·y` over contiguous rows `Mₚ` (e.g. `wᵀX`).
/// Work splits into fixed row or column chunks, so results do not depend on
/// the thread count.
enum GEMV {
    /// Runs `g` as a matrix–vector product if it is one; returns whether it did.
    static func runIfVector<S: TensorScalar>(_ g: GEMMProblem<S>) -> Bool {
        guard g.n == 1 || g.m == 1, g.k > 0 else { return false }
        switch S.scalarType {
        case .float32: typed(g.retyped(Float.self), FloatVector.self)
        case .float64: typed(g.retyped(Double.self), DoubleVector.self)
        }
        return true
    }

    @inline(__always)
    static func typed<V: KernelVector>(_ g: GEMMProblem<V.Scalar>, _: V.Type) {
        // With n == 1 or m == 1 every vector operand and C are contiguous (their leading dimension is 1 or unused).
        if g.n == 1 {
            let x = g.b   // op(B)[p, 0]
            if g.transA {
                axpyForm(g.a, ld: g.lda, rows: g.k, columns: g.m, x, g.c, g.alpha, g.beta, V.self)
            } else {
                dotForm(g.a, ld: g.lda, rows: g.m, columns: g.k, x, g.c, g.alpha, g.beta, V.self)
            }
        } else {
            let x = g.a   // op(A)[0, p]
            if g.transB {
                dotForm(g.b, ld: g.ldb, rows: g.n, columns: g.k, x, g.c, g.alpha, g.beta, V.self)
            } else {
                axpyForm(g.b, ld: g.ldb, rows: g.k, columns: g.n, x, g.c, g.alpha, g.beta, V.self)
            }
        }
    }

    @inline(__always)
    static func dotForm<V: SIMD>(
        _ matrix: UnsafePointer<V.Scalar>, ld: Int, rows: Int, columns: Int, _ x: UnsafePointer<V.Scalar>,
        _ y: UnsafeMutablePointer<V.Scalar>, _ alpha: V.Scalar, _ beta: V.Scalar, _: V.Type
    ) where V.Scalar: TensorScalar {
        let rowsPerChunk = Swift.max(1, 16_384 / Swift.max(columns, 1))
        let pm = UncheckedSendable(matrix), px = UncheckedSendable(x), py = UncheckedSendable(y)
        parallelFor(chunks: (rows + rowsPerChunk - 1) / rowsPerChunk, work: rows * columns) { c in
            for i in (c * rowsPerChunk)..<Swift.min(rows, (c + 1) * rowsPerChunk) {
                let d = ReductionKernels.dotContiguous(pm.value + i * ld, px.value, columns, V.self)
                py.value[i] = alpha * d + (beta == 0 ? 0 : beta * py.value[i])
            }
        }
    }

    @inline(__always)
    static func axpyForm<V: SIMD>(
        _ matrix: UnsafePointer<V.Scalar>, ld: Int, rows: Int, columns: Int, _ x: UnsafePointer<V.Scalar>,
        _ y: UnsafeMutablePointer<V.Scalar>, _ alpha: V.Scalar, _ beta: V.Scalar, _: V.Type
    ) where V.Scalar: TensorScalar {
        let width = 512
        let pm = UncheckedSendable(matrix), px = UncheckedSendable(x), py = UncheckedSendable(y)
        parallelFor(chunks: (columns + width - 1) / width, work: rows * columns) { c in
            let j0 = c * width, n = Swift.min(width, columns - j0)
            withUnsafeTemporaryAllocation(of: V.Scalar.self, capacity: width) { buffer in
                let acc = buffer.baseAddress!
                acc.update(repeating: 0, count: n)
                for p in 0..<rows {
                    let xp = V(repeating: px.value[p])
                    let row = pm.value + p * ld + j0
                    var j = 0
                    while j + V.scalarCount <= n {
                        let a = UnsafeRawPointer(acc + j).loadUnaligned(as: V.self)
                        let m = UnsafeRawPointer(row + j).loadUnaligned(as: V.self)
                        UnsafeMutableRawPointer(acc + j).storeBytes(of: a + xp * m, as: V.self)
                        j += V.scalarCount
                    }
                    while j < n { acc[j] += px.value[p] * row[j]; j += 1 }
                }
                let out = py.value + j0
                for j in 0..<n { out[j] = alpha * acc[j] + (beta == 0 ? 0 : beta * out[j]) }
            }
        }
    }
}
