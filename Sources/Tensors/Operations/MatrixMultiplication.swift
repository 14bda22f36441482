// Matrix products: `C = α·op(A)·op(B) + β·C`, plain, transposed, accumulating,
// matrix–vector and batched.

extension Tensor {
    /// `(rows, columns)` of a matrix operand, after the optional transpose.
    fileprivate func matrixShape(transposed: Bool) -> (Int, Int) {
        transposed ? (shape[rank - 1], shape[rank - 2]) : (shape[rank - 2], shape[rank - 1])
    }
}

/// Runs one product with the implementation of `rung`, or of the current
/// ``ComputePath`` when `rung` is nil (loop → naive; vectorized → matrix–vector
/// kernels when `m` or `n` is 1, the direct micro-kernel path below
/// ``GEMMConfiguration/blockingLimit`` (on pieces of C in parallel above
/// ``GEMMConfiguration/parallelLimit``), else blocked on all cores).
func gemm<S: TensorScalar>(_ g: GEMMProblem<S>, rung: GEMMRung? = nil) {
    if rung == nil && ComputePath.current == .vectorized && GEMV.runIfVector(g) { return }
    if rung == nil && ComputePath.current == .vectorized && g.m * g.n * g.k < GEMMConfiguration.blockingLimit {
        if NarrowGEMM.applies(g) { return NarrowGEMM.run(g, kernel: GEMMConfiguration.kernel) }
        return DirectGEMM.run(g, kernel: GEMMConfiguration.kernel, threads: true)
    }
    let rung = rung ?? (ComputePath.current == .loop ? .naive : .blockedParallel)
    switch rung {
    case .naive: NaiveGEMM.run(g)
    case .simdUnblocked: UnblockedGEMM.run(g)
    case .direct: DirectGEMM.run(g, kernel: GEMMConfiguration.kernel)
    case .directParallel: DirectGEMM.run(g, kernel: GEMMConfiguration.kernel, threads: true)
    case .narrow: NarrowGEMM.run(g, kernel: GEMMConfiguration.kernel)
    case .blockedSingleThread: BlockedGEMM.run(g, kernel: GEMMConfiguration.kernel, threads: false)
    case .blockedParallel: BlockedGEMM.run(g, kernel: GEMMConfiguration.kernel, threads: true)
    }
}

/// Multiplies into an existing tensor: `C = α·op(A)·op(B) + β·C`.
///
/// - `A`: `(m, k)`, or `(k, m)` with `transposingA` (used as `Aᵀ` without
///   materializing it); `B`: `(k, n)`, or `(n, k)` with `transposingB`.
///   Backward passes use `dW = matmul(dZ, A_prev, transposingB: true)` and
///   `dA_prev = matmul(W, dZ, transposingA: true)`.
/// - `C` must already have shape `(m, n)`; with `β = 0` its old values are ignored.
/// - Rank-3 operands multiply batch by batch along their leading axis (a rank-2
///   operand is shared by every batch).
public func matmul<S>(
    _ a: Tensor<S>, _ b: Tensor<S>, transposingA: Bool = false, transposingB: Bool = false,
    alpha: S = 1, beta: S = 0, into c: inout Tensor<S>, rung: GEMMRung? = nil
) {
    let name = "matmul"
    // Only built when an error is reported (string formatting costs microseconds per call).
    var shapes: String { "\(format(a.shape))\(transposingA ? "ᵀ" : "") × \(format(b.shape))\(transposingB ? "ᵀ" : "")" }
    guard (2...3).contains(a.rank), (2...3).contains(b.rank) else {
        shapeFailure(ShapeError(operation: name, message: "operands must have rank 2 or 3: \(shapes)"))
    }
    let (m, k) = a.matrixShape(transposed: transposingA)
    let (k2, n) = b.matrixShape(transposed: transposingB)
    if k != k2 {
        shapeFailure(ShapeError(operation: name, message: "inner dimensions differ (\(k) vs \(k2)): \(shapes)"))
    }
    let batchA = a.rank == 3 ? a.shape[0] : 1, batchB = b.rank == 3 ? b.shape[0] : 1
    if a.rank == 3 && b.rank == 3 && batchA != batchB {
        shapeFailure(ShapeError(operation: name, message: "batch sizes differ: \(shapes)"))
    }
    let batch = Swift.max(batchA, batchB)
    let batched = a.rank == 3 || b.rank == 3
    if batched ? c.shape != [batch, m, n] : (c.rank != 2 || c.shape[0] != m || c.shape[1] != n) {
        let expected = batched ? [batch, m, n] : [m, n]
        shapeFailure(ShapeError(operation: name, message: "output shape \(format(c.shape)) should be \(format(expected)) for \(shapes)"))
    }
    let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
    let strideA = a.rank == 3 ? m * k : 0, strideB = b.rank == 3 ? k * n : 0
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                guard let ca = pc.baseAddress else { return }
                // Empty operands (k = 0) still scale C by β; their pointers are never read.
                withUnsafeTemporaryAllocation(of: S.self, capacity: 1) { empty in
                    for item in 0..<batch {
                        let problem = GEMMProblem(
                            m: m, n: n, k: k,
                            a: (pa.baseAddress ?? UnsafePointer(empty.baseAddress!)) + (k == 0 ? 0 : item * strideA),
                            lda: lda, transA: transposingA,
                            b: (pb.baseAddress ?? UnsafePointer(empty.baseAddress!)) + (k == 0 ? 0 : item * strideB),
                            ldb: ldb, transB: transposingB,
                            c: ca + item * m * n, ldc: n, alpha: alpha, beta: beta)
                        gemm(problem, rung: rung)
                    }
                }
            }
        }
    }
}

/// The matrix product `op(A)·op(B)` (see ``matmul(_:_:transposingA:transposingB:alpha:beta:into:rung:)``).
///
/// `matmul(W, A_prev) + b` is the notes' `Z = np.dot(W, A_prev) + b`:
/// `(n[l], n[l−1]) · (n[l−1], m) → (n[l], m)`. A rank-1 `b` of `k` elements is
/// a matrix–vector product returning `m` elements.
public func matmul<S>(
    _ a: Tensor<S>, _ b: Tensor<S>, transposingA: Bool = false, transposingB: Bool = false, rung: GEMMRung? = nil
) -> Tensor<S> {
    if b.rank == 1 && a.rank == 2 {
        let column = b.reshaped(to: [b.count, 1])
        return matmul(a, column, transposingA: transposingA, rung: rung).reshaped(to: [-1])
    }
    guard (2...3).contains(a.rank), (2...3).contains(b.rank) else {
        shapeFailure(ShapeError(operation: "matmul", message: "operands must have rank 2 or 3: \(format(a.shape)) × \(format(b.shape))"))
    }
    let (m, _) = a.matrixShape(transposed: transposingA)
    let (_, n) = b.matrixShape(transposed: transposingB)
    let batch = Swift.max(a.rank == 3 ? a.shape[0] : 1, b.rank == 3 ? b.shape[0] : 1)
    // Uninitialized: with β = 0 every kernel writes C before reading it.
    var c = Tensor<S>(shape: a.rank == 3 || b.rank == 3 ? [batch, m, n] : [m, n]) { _ in }
    matmul(a, b, transposingA: transposingA, transposingB: transposingB, into: &c, rung: rung)
    return c
}
