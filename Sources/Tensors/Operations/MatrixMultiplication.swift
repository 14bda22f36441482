import Foundation
// Matrix products: `C = α·op(A)·op(B) + β·C`, plain, transposed, accumulating,
// matrix–vector and batched (numpy's `matmul` broadcasting of leading axes).

extension Tensor {
    /// `(rows, columns)` of a matrix operand, after the optional transpose.
    fileprivate func matrixShape(transposed: Bool) -> (Int, Int) {
        transposed ? (shape[rank - 1], shape[rank - 2]) : (shape[rank - 2], shape[rank - 1])
    }
}

/// Runs one product with the implementation of `rung`, or of the current
/// ``ComputePath`` when `rung` is nil (loop → naive; vectorized → matrix–vector
/// kernels when `m` or `n` is 1, scalar loops with the direct kernel's
/// arithmetic for tiny products, the direct micro-kernel path below
/// ``GEMMConfiguration/directLimit`` when op(B) fits in L2 (on pieces of C in parallel above
/// ``GEMMConfiguration/parallelLimit``), else blocked on all cores).
func gemm<S: TensorScalar>(_ g: GEMMProblem<S>, rung: GEMMRung? = nil) {
    gemm(g, rung: rung, path: ComputePath.current, kernel: GEMMConfiguration.kernel)
}

#if DEBUG
/// One line on standard error at the first heavy product of a build without
/// optimization, which runs the SIMD kernels 300–800× slower than `-c release`
/// (a 1024² GEMM at ~0.3 instead of ~250 GFLOPS). `TENSORS_QUIET=1` silences it.
enum DebugBuildNotice {
    static let emitted: Bool = {
        guard ProcessInfo.processInfo.environment["TENSORS_QUIET"] != "1" else { return true }
        FileHandle.standardError.write(Data(("Tensors: this is a debug build; its kernels run hundreds of times slower than a release build "
            + "(swift build/run/test -c release -Xswiftc -target-cpu -Xswiftc native). Set TENSORS_QUIET=1 to silence this line.\n").utf8))
        return true
    }()

    static func emitOnce() { _ = emitted }
}
#endif

/// ``gemm(_:rung:)`` with the compute path and micro-kernel already resolved:
/// Dispatch worker threads do not see the caller's task-local ``ComputePath``.
@_specialize(where S == Float)
@_specialize(where S == Double)
func gemm<S: TensorScalar>(_ g: GEMMProblem<S>, rung: GEMMRung?, path: ComputePath, kernel: GEMMKernel) {
    #if DEBUG
    if g.m * g.n * g.k >= 64 * 64 * 64 { DebugBuildNotice.emitOnce() }
    #endif
    // The epilogue (bias, ReLU) rides on the direct and blocked kernels' tile stores;
    // the other implementations (and a product with no terms) get one pass after theirs.
    @inline(__always) func separately(_ run: (GEMMProblem<S>) -> Void) {
        run(g.withoutEpilogue)
        g.applyEpilogue(rows: 0..<g.m, columns: 0..<g.n)
    }
    if g.hasEpilogue && (g.k == 0 || g.alpha == 0) { return separately { gemm($0, rung: rung, path: path, kernel: kernel) } }
    if rung == nil && path == .vectorized {
        if GEMV.runIfVector(g.withoutEpilogue) { return g.applyEpilogue(rows: 0..<g.m, columns: 0..<g.n) }
        if g.m * g.n * g.k < GEMMConfiguration.blockingLimit {
            if NarrowGEMM.applies(g) || NarrowGEMM.appliesTransposed(g) { return separately { NarrowGEMM.run($0, kernel: kernel) } }
            if TinyGEMM.applies(g) { return separately { TinyGEMM.run($0, kernel: kernel) } }
            return DirectGEMM.run(g, kernel: kernel, threads: true)
        }
        if S.scalarType == .float32 && g.m * g.n * g.k < GEMMConfiguration.directLimit
            && g.k * g.n * MemoryLayout<S>.stride < GEMMConfiguration.directOperandBytes {
            return DirectGEMM.run(g, kernel: kernel, threads: true)
        }
    }
    let rung = rung ?? (path == .loop ? .naive : .blockedParallel)
    switch rung {
    case .naive: separately { NaiveGEMM.run($0) }
    case .simdUnblocked: separately { UnblockedGEMM.run($0) }
    case .direct: DirectGEMM.run(g, kernel: kernel)
    case .directParallel: DirectGEMM.run(g, kernel: kernel, threads: true)
    case .narrow: separately { NarrowGEMM.run($0, kernel: kernel) }
    case .blockedSingleThread: BlockedGEMM.run(g, kernel: kernel, threads: false)
    case .blockedParallel: BlockedGEMM.run(g, kernel: kernel, threads: true)
    }
}

/// The shapes of a (batched) product, checked: `batchShape + [m, n]` is the
/// output's shape. Leading axes broadcast with numpy's rules; a rank-2
/// operand is shared by every batch item.
fileprivate struct MatmulShapes {
    var batchShape: [Int]
    var m: Int, n: Int, k: Int

    init<S>(_ a: Tensor<S>, _ b: Tensor<S>, transposingA: Bool, transposingB: Bool) {
        if a.rank < 2 || b.rank < 2 {
            matmulFailure("operands must have rank 2 or more:", a, b, transposingA, transposingB)
        }
        (m, k) = a.matrixShape(transposed: transposingA)
        let (k2, n) = b.matrixShape(transposed: transposingB)
        self.n = n
        if k != k2 {
            matmulFailure("inner dimensions differ (\(k) vs \(k2)):", a, b, transposingA, transposingB)
        }
        if a.rank == 2 && b.rank == 2 {
            batchShape = []
        } else {
            do {
                batchShape = try broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2)), operation: "matmul")
            } catch {
                matmulFailure("batch axes cannot be broadcast:", a, b, transposingA, transposingB)
            }
        }
    }
}

/// Stops with a ``ShapeError`` of `matmul` naming both operand shapes.
/// Kept out of line: formatting shapes costs microseconds.
@inline(never)
fileprivate func matmulFailure<S>(
    _ problem: String, _ a: Tensor<S>, _ b: Tensor<S>, _ transposingA: Bool, _ transposingB: Bool
) -> Never {
    let shapes = "\(format(a.shape))\(transposingA ? "ᵀ" : "") × \(format(b.shape))\(transposingB ? "ᵀ" : "")"
    shapeFailure(ShapeError(operation: "matmul", message: "\(problem) \(shapes)"))
}

/// Multiplies into an existing tensor: `C = α·op(A)·op(B) + β·C`.
///
/// - `A`: `(m, k)`, or `(k, m)` with `transposingA` (used as `Aᵀ` without
///   materializing it); `B`: `(k, n)`, or `(n, k)` with `transposingB`.
///   Backward passes use `dW = matmul(dZ, A_prev, transposingB: true)` and
///   `dA_prev = matmul(W, dZ, transposingA: true)`.
/// - `C` must already have shape `(m, n)`; with `β = 0` its old values are ignored.
/// - Operands of rank > 2 are stacks of matrices whose leading (batch) axes
///   broadcast like numpy's `matmul`: `[8, 1, m, k] × [1, 4, k, n]` gives
///   `[8, 4, m, n]`, and a rank-2 operand is shared by every batch item. `C`
///   must then have shape `batchShape + [m, n]`. Batches of small products run
///   in parallel, one product per thread at a time, in fixed chunks: the result
///   does not depend on the thread count.
public func matmul<S>(
    _ a: Tensor<S>, _ b: Tensor<S>, transposingA: Bool = false, transposingB: Bool = false,
    alpha: S = 1, beta: S = 0, into c: inout Tensor<S>
) {
    matmul(a, b, transposingA: transposingA, transposingB: transposingB, alpha: alpha, beta: beta, into: &c, rung: nil)
}

/// ``matmul(_:_:transposingA:transposingB:alpha:beta:into:)`` on a chosen rung
/// of the GEMM ladder (`nil`: the one `matmul` picks) — for benchmarks and
/// tests that compare the rungs, not part of the library's API.
@_spi(Benchmarks)
@_specialize(where S == Float)
@_specialize(where S == Double)
public func matmul<S>(
    _ a: Tensor<S>, _ b: Tensor<S>, transposingA: Bool = false, transposingB: Bool = false,
    alpha: S = 1, beta: S = 0, into c: inout Tensor<S>, rung: GEMMRung?
) {
    let shapes = MatmulShapes(a, b, transposingA: transposingA, transposingB: transposingB)
    let (m, n) = (shapes.m, shapes.n)
    let batchRank = shapes.batchShape.count
    if c.rank != batchRank + 2 || c.shape[batchRank] != m || c.shape[batchRank + 1] != n
        || (batchRank > 0 && !c.shape.starts(with: shapes.batchShape)) {
        matmulFailure("output shape \(format(c.shape)) should be \(format(shapes.batchShape + [m, n])) for", a, b,
                      transposingA, transposingB)
    }
    multiply(a, b, transposingA: transposingA, transposingB: transposingB, alpha: alpha, beta: beta, into: &c,
             shapes: shapes, rung: rung)
}

/// Runs `C = α·op(A)·op(B) + β·C` for checked `shapes`, with the epilogue
/// `bias` (one value per row of C, added to the row) and `rectifies` (then
/// `max(0, ·)`) on the rank-2 products of ``linear(_:_:_:activation:rung:)``.
@inline(__always)
fileprivate func multiply<S>(
    _ a: Tensor<S>, _ b: Tensor<S>, transposingA: Bool, transposingB: Bool, alpha: S, beta: S, into c: inout Tensor<S>,
    shapes: MatmulShapes, rung: GEMMRung?, bias: Tensor<S>? = nil, rectifies: Bool = false
) {
    let (m, n, k) = (shapes.m, shapes.n, shapes.k)
    let lda = a.shape[a.rank - 1], ldb = b.shape[b.rank - 1]
    let path = ComputePath.current, kernel = GEMMConfiguration.kernel
    a.withUnsafeBufferPointer { pa in
        b.withUnsafeBufferPointer { pb in
            c.withUnsafeMutableBufferPointer { pc in
                // No output elements: nothing to compute (a batch of 0, or m·n = 0).
                guard let ca = pc.baseAddress else { return }
                // Empty operands (k = 0) still scale C by β; their pointers are never read.
                withUnsafeTemporaryAllocation(of: S.self, capacity: 1) { empty in
                    let baseA = pa.baseAddress ?? UnsafePointer(empty.baseAddress!)
                    let baseB = pb.baseAddress ?? UnsafePointer(empty.baseAddress!)
                    var problem = GEMMProblem(m: m, n: n, k: k, a: baseA, lda: lda, transA: transposingA,
                                              b: baseB, ldb: ldb, transB: transposingB, c: ca, ldc: n, alpha: alpha, beta: beta)
                    problem.rectifies = rectifies
                    if shapes.batchShape.isEmpty {
                        guard let bias else { return gemm(problem, rung: rung, path: path, kernel: kernel) }
                        bias.withUnsafeBufferPointer { pBias in
                            problem.bias = pBias.baseAddress
                            gemm(problem, rung: rung, path: path, kernel: kernel)
                        }
                    } else {
                        BatchedGEMM.run(problem, batchShape: shapes.batchShape, batchA: a.shape.dropLast(2),
                                        batchB: b.shape.dropLast(2), rung: rung, path: path, kernel: kernel)
                    }
                }
            }
        }
    }
}

/// The matrix product `op(A)·op(B)` (see ``matmul(_:_:transposingA:transposingB:alpha:beta:into:)``).
///
/// `matmul(W, A_prev) + b` is the notes' `Z = np.dot(W, A_prev) + b`:
/// `(n[l], n[l−1]) · (n[l−1], m) → (n[l], m)`. A rank-1 `b` of `k` elements is
/// a matrix–vector product returning `m` elements. Operands of rank > 2 are
/// batches whose leading axes broadcast: `[8, 1, m, k] × [1, 4, k, n] → [8, 4, m, n]`.
public func matmul<S>(_ a: Tensor<S>, _ b: Tensor<S>, transposingA: Bool = false, transposingB: Bool = false) -> Tensor<S> {
    matmul(a, b, transposingA: transposingA, transposingB: transposingB, rung: nil)
}

/// ``matmul(_:_:transposingA:transposingB:)`` on a chosen rung of the GEMM
/// ladder (`nil`: the one `matmul` picks), for benchmarks and tests.
@_spi(Benchmarks)
@_specialize(where S == Float)
@_specialize(where S == Double)
public func matmul<S>(
    _ a: Tensor<S>, _ b: Tensor<S>, transposingA: Bool = false, transposingB: Bool = false, rung: GEMMRung?
) -> Tensor<S> {
    if b.rank == 1 && a.rank == 2 {
        let column = b.reshaped(to: [b.count, 1])
        return matmul(a, column, transposingA: transposingA, rung: rung).reshaped(to: [-1])
    }
    let shapes = MatmulShapes(a, b, transposingA: transposingA, transposingB: transposingB)
    // Uninitialized: with β = 0 every kernel writes C before reading it.
    var c = Tensor<S>(shape: shapes.batchShape.isEmpty ? [shapes.m, shapes.n] : shapes.batchShape + [shapes.m, shapes.n]) { _ in }
    matmul(a, b, transposingA: transposingA, transposingB: transposingB, into: &c, rung: rung)
    return c
}

/// An activation that ``linear(_:_:_:activation:)`` applies in the product's
/// own pass over its output.
public enum LinearActivation: Sendable, Hashable {
    /// `Z = W·X + b`.
    case identity
    /// `A = max(0, W·X + b)` (`z < 0 ? 0 : z`, the bits of `relu`).
    case relu
}

/// The dense layer's affine map, `Z = W·X + b` (the notes' `np.dot(W, A_prev) + b`),
/// or with `activation: .relu` `A = max(0, W·X + b)`, in one pass over the output.
///
/// - `W`: `(n, n_prev)`; `X`: `(n_prev, m)`, one example per column; `b`:
///   `(n, 1)`, added to every column. Result: `(n, m)`.
/// - The bias and the activation are applied to each tile of the product as
///   it is finished, while it is in cache, instead of in passes of their own:
///   the result has the bits of `relu(matmul(W, X) + b)` (or `matmul(W, X) + b`),
///   on either compute path and any number of threads.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func linear<S>(_ w: Tensor<S>, _ x: Tensor<S>, _ b: Tensor<S>, activation: LinearActivation = .identity) -> Tensor<S> {
    linear(w, x, b, activation: activation, rung: nil)
}

/// ``linear(_:_:_:activation:)`` on a chosen rung of the GEMM ladder (`nil`:
/// the one `matmul` picks), for tests that compare the rungs.
@_spi(Benchmarks)
@_specialize(where S == Float)
@_specialize(where S == Double)
public func linear<S>(_ w: Tensor<S>, _ x: Tensor<S>, _ b: Tensor<S>, activation: LinearActivation = .identity,
                      rung: GEMMRung?) -> Tensor<S> {
    if w.rank != 2 || x.rank != 2 || b.shape != [w.shape[0], 1] || w.shape[1] != x.shape[0] {
        linearFailure(w, x, b)
    }
    var z = Tensor<S>(shape: [w.shape[0], x.shape[1]]) { _ in }   // every element is written before it is read (β = 0)
    multiply(w, x, transposingA: false, transposingB: false, alpha: 1, beta: 0, into: &z,
             shapes: MatmulShapes(w, x, transposingA: false, transposingB: false), rung: rung,
             bias: b, rectifies: activation == .relu)
    return z
}

/// Stops with a ``ShapeError`` of `linear` naming the three shapes.
@inline(never)
fileprivate func linearFailure<S>(_ w: Tensor<S>, _ x: Tensor<S>, _ b: Tensor<S>) -> Never {
    shapeFailure(ShapeError(operation: "linear", message: "needs W (n, n_prev), X (n_prev, m), b (n, 1); got W \(format(w.shape)), "
        + "X \(format(x.shape)), b \(format(b.shape))"))
}

/// A stack of products sharing `m`, `n`, `k`, transposes and scalars, whose
/// operands broadcast along the batch axes.
enum BatchedGEMM {
    /// Multiply-adds of one product below which a batch item never uses a
    /// second thread by itself (every kernel below these sizes is single-threaded:
    /// the direct kernel below ``GEMMConfiguration/parallelLimit``, matrix–vector
    /// kernels below ``parallelThreshold`` elements of their matrix).
    static func isSmall(m: Int, n: Int, k: Int) -> Bool {
        m * n * k < GEMMConfiguration.parallelLimit && m * k < parallelThreshold && k * n < parallelThreshold
    }

    /// Per-item cost floor, in multiply-adds, standing for the fixed cost of one product.
    static let itemOverhead = 4096
    /// Multiply-adds per parallel chunk of batch items (a fixed size: chunk
    /// boundaries depend only on the shapes).
    static let chunkWork = 1 << 16
    /// Total multiply-adds of a batch below which it stays on one thread.
    static let parallelWork = 1 << 21

    /// `g` is item 0: `a`, `b`, `c` point at the first matrix of each operand.
    static func run<S: TensorScalar>(
        _ g: GEMMProblem<S>, batchShape: [Int], batchA: ArraySlice<Int>, batchB: ArraySlice<Int>,
        rung: GEMMRung?, path: ComputePath, kernel: GEMMKernel
    ) {
        let count = batchShape.reduce(1, *)
        if count == 0 { return }
        let rank = batchShape.count
        // Matrix strides of each operand along the batch axes (0 where it broadcasts).
        func strides(_ shape: ArraySlice<Int>) -> [Int] {
            let padded = [Int](repeating: 1, count: rank - shape.count) + shape
            let own = contiguousStrides(padded)
            return (0..<rank).map { padded[$0] == 1 ? 0 : own[$0] }
        }
        let stridesA = strides(batchA), stridesB = strides(batchB)
        let sizeA = g.m * g.k, sizeB = g.k * g.n, sizeC = g.m * g.n
        @inline(__always) func item(_ index: Int) -> GEMMProblem<S> {
            var r = index, matrixA = 0, matrixB = 0
            for axis in stride(from: rank - 1, through: 0, by: -1) {
                let i = r % batchShape[axis]
                r /= batchShape[axis]
                matrixA += i * stridesA[axis]
                matrixB += i * stridesB[axis]
            }
            var p = g
            p.a = g.a + matrixA * sizeA
            p.b = g.b + matrixB * sizeB
            p.c = g.c + index * sizeC
            return p
        }
        let perItem = Swift.max(g.m * g.n * g.k, itemOverhead)
        guard rung == nil, path == .vectorized, count > 1, isSmall(m: g.m, n: g.n, k: g.k),
              count * perItem >= parallelWork else {
            for index in 0..<count { gemm(item(index), rung: rung, path: path, kernel: kernel) }
            return
        }
        // Small products: whole items per thread, each computed single-threaded.
        let itemsPerChunk = Swift.max(1, chunkWork / perItem)
        parallelFor(chunks: (count + itemsPerChunk - 1) / itemsPerChunk, work: Int.max) { chunk in
            for index in (chunk * itemsPerChunk)..<Swift.min(count, (chunk + 1) * itemsPerChunk) {
                gemm(item(index), rung: nil, path: .vectorized, kernel: kernel)
            }
        }
    }
}
