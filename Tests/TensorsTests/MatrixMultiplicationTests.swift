@_spi(Benchmarks) @testable import Tensors
import XCTest

/// Every GEMM rung against the naive triple loop, plus residual checks on
/// large products and bitwise thread-count independence.
final class MatrixMultiplicationTests: XCTestCase {
    /// The issue's grid; debug builds stop at 65 (see `isReleaseBuild`).
    static let sizes = isReleaseBuild ? [0, 1, 2, 3, 7, 16, 17, 31, 64, 65, 127, 257] : [0, 1, 2, 3, 7, 16, 17, 31, 64, 65]

    /// Stored operand for `op(X)` of shape `(rows, columns)`.
    static func operand<S: TensorScalar>(_ rows: Int, _ columns: Int, transposed: Bool, _ g: inout RandomGenerator) -> Tensor<S> {
        Tensor<S>(randomUniform: transposed ? [columns, rows] : [rows, columns], lower: -1, upper: 1, generator: &g)
    }

    /// `|C − C_ref| ≤ tol·k·ε·(|α|·Σ|a||b| + |β||c|)` elementwise is the classic
    /// GEMM error bound; we use the simpler per-product bound `k·ε·8`
    /// (inputs are in [−1, 1]).
    func checkGrid<S: TensorScalar>(_: S.Type, rungs: [GEMMRung?]) {
        var g = RandomGenerator(seed: 99)
        var cases = 0
        for (index, m) in Self.sizes.enumerated() {
            // Vary the other dimensions so the grid covers shapes that differ per axis.
            let n = Self.sizes[(index * 5 + 3) % Self.sizes.count]
            for k in [Self.sizes[(index * 7 + 1) % Self.sizes.count], 33, isReleaseBuild ? 300 : 70] {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    for (alpha, beta) in [(S(1), S(0)), (S(2.5), S(1)), (S(1), S(-0.5))] {
                        let a: Tensor<S> = Self.operand(m, k, transposed: ta, &g)
                        let b: Tensor<S> = Self.operand(k, n, transposed: tb, &g)
                        let c0 = Tensor<S>(randomUniform: [m, n], lower: -1, upper: 1, generator: &g)
                        var reference = c0
                        matmul(a, b, transposingA: ta, transposingB: tb, alpha: alpha, beta: beta, into: &reference, rung: .naive)
                        let tolerance = Double(S.ulpOfOne) * 8 * Double(k + 2) * 3
                        for rung in rungs {
                            var c = c0
                            matmul(a, b, transposingA: ta, transposingB: tb, alpha: alpha, beta: beta, into: &c, rung: rung)
                            assertClose(c, reference.scalars.map(Double.init), relative: 0, absolute: tolerance,
                                        "\(rung.map(\.rawValue) ?? "automatic") m\(m) n\(n) k\(k) tA\(ta) tB\(tb) α\(alpha) β\(beta)")
                        }
                        cases += 1
                    }
                }
            }
        }
        XCTAssertEqual(cases, Self.sizes.count * 3 * 4 * 3)
    }

    // `nil` is the automatic choice matmul makes (matrix–vector, narrow, direct or blocked).
    func testFloatGridAgainstNaiveLoop() {
        checkGrid(Float.self, rungs: [.simdUnblocked, .direct, .directParallel, .narrow, .blockedSingleThread, .blockedParallel, nil])
    }

    func testDoubleGridAgainstNaiveLoop() {
        checkGrid(Double.self, rungs: [.simdUnblocked, .direct, .directParallel, .narrow, .blockedSingleThread, .blockedParallel, nil])
    }

    /// Edge panels that the 12-row kernels serve with a smaller tile — a last
    /// row panel of 1–6 rows (the 6-row tile on the first six rows of each
    /// 12-row step) or of 7–8 rows (the 8-row tile), and a last column panel
    /// of at most one vector (the one-vector 12-row tile), all chosen in
    /// `BlockedGEMM.wideTile`, and edges of 9–11 rows, which stay on the 12-row
    /// tile's two 6-row halves (`MicroKernels.addSixRows`) — against the naive
    /// loop (with `matmul`'s automatic choice of rung too), and bit for bit
    /// against the same elements computed inside a product padded to whole
    /// tiles (m and n up to multiples of 96), for each rung and kernel
    /// variant (debug builds calibrate to the 6-row tile), stored or added,
    /// into C or — for narrow products computed as Cᵀ — into Cᵀ's storage,
    /// where the second half starts 6 columns in.
    func testEdgePanelsMatchWholeTiles() {
        var g = RandomGenerator(seed: 22)
        func check<S: TensorScalar>(_: S.Type, _ kernel: GEMMKernel) {
            // m mod 12 in 1…11; n mod 32 (Float) or 16 (Double) within one vector; both; and narrow
            // products (n < w, m > n) computed as Cᵀ, whose tiles' rows are C's columns (edge rows n).
            for (m, k, n) in [(1, 5, 40), (16, 33, 70), (30, 17, 40), (24, 20, 20), (40, 33, 48), (100, 64, 100),
                              (40, 9, 4), (54, 20, 6), (29, 64, 5), (13, 300, 64), (32, 40, 50), (19, 33, 70), (128, 20, 40),
                              (40, 9, 8), (50, 20, 7), (23, 33, 70), (35, 17, 33), (40, 9, 9), (50, 20, 11)] {
                for (alpha, beta) in [(S(1), S(0)), (S(2), S(1))] {
                    let a = Tensor<S>(randomUniform: [m, k], lower: -1, upper: 1, generator: &g)
                    let b = Tensor<S>(randomUniform: [k, n], lower: -1, upper: 1, generator: &g)
                    let c0 = Tensor<S>(randomUniform: [m, n], lower: -1, upper: 1, generator: &g)
                    var reference = c0
                    matmul(a, b, alpha: alpha, beta: beta, into: &reference, rung: .naive)
                    // The padded product: A's rows, B's columns and C both ways up to multiples of 96
                    // (whole 12-row and 32- or 16-column tiles whichever way C is computed).
                    let (tall, wide) = ((m + 95) / 96 * 96, (n + 95) / 96 * 96)
                    let (as_, bs, cs) = (a.scalars, b.scalars, c0.scalars)
                    var aPadded = [S](repeating: 0, count: tall * k), bPadded = [S](repeating: 0, count: k * wide)
                    var cPadded = [S](repeating: 0, count: tall * wide)
                    for i in 0..<tall {
                        for p in 0..<k { aPadded[i * k + p] = i < m ? as_[i * k + p] : S(Double((i + p) % 7) - 3) }
                    }
                    for p in 0..<k {
                        for j in 0..<wide { bPadded[p * wide + j] = j < n ? bs[p * n + j] : S(Double((j + p) % 5) - 2) }
                    }
                    for i in 0..<tall {
                        for j in 0..<wide { cPadded[i * wide + j] = i < m && j < n ? cs[i * n + j] : S(Double((i + j) % 3) - 1) }
                    }
                    let aTall = Tensor<S>(shape: [tall, k], scalars: aPadded), bWide = Tensor<S>(shape: [k, wide], scalars: bPadded)
                    for rung: GEMMRung? in [.direct, .directParallel, .blockedSingleThread, .blockedParallel, nil] {
                        var c = c0
                        matmul(a, b, alpha: alpha, beta: beta, into: &c, rung: rung)
                        let label = "\(S.self) \(kernel) \(rung.map(\.rawValue) ?? "automatic") m\(m) k\(k) n\(n) β\(beta)"
                        assertClose(c, reference.scalars.map(Double.init), relative: 0,
                                    absolute: Double(S.ulpOfOne) * 8 * Double(k + 2) * 3, label)
                        guard let rung else { continue }   // the automatic rung may differ for the padded shape
                        var whole = Tensor<S>(shape: [tall, wide], scalars: cPadded)
                        matmul(aTall, bWide, alpha: alpha, beta: beta, into: &whole, rung: rung)
                        let all = whole.scalars
                        let inside = (0..<m).flatMap { i in all[(i * wide)..<(i * wide + n)] }
                        XCTAssertEqual(c.scalars, inside, "\(label): the edge tiles' bits differ from whole tiles'")
                    }
                }
            }
        }
        withEachGEMMKernel(GEMMKernel.allCases) { kernel in
            check(Float.self, kernel)
            check(Double.self, kernel)
        }
    }

    /// The direct kernel reads full panels of A in place (rows `lda` apart, or
    /// for a transposed A steps `lda` apart) and packs only a last partial
    /// panel: every kernel variant (12- and 6-row), A and B stored either way,
    /// C stored transposed (narrow products), β = 0 and β ≠ 0, against the naive loop.
    func testDirectKernelReadingAInPlaceAgainstNaiveLoop() {
        var g = RandomGenerator(seed: 24)
        func check<S: TensorScalar>(_: S.Type, _ kernel: GEMMKernel) {
            for (m, k, n) in [(12, 1, 32), (24, 7, 33), (41, 33, 70), (36, 20, 5), (40, 9, 13), (5, 16, 40)] {
                for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                    for (alpha, beta) in [(S(1), S(0)), (S(-2), S(0.5))] {
                        let a: Tensor<S> = Self.operand(m, k, transposed: ta, &g)
                        let b: Tensor<S> = Self.operand(k, n, transposed: tb, &g)
                        let c0: Tensor<S> = Self.operand(m, n, transposed: false, &g)
                        var reference = c0
                        matmul(a, b, transposingA: ta, transposingB: tb, alpha: alpha, beta: beta, into: &reference, rung: .naive)
                        for rung in [GEMMRung.direct, .directParallel] {
                            var c = c0
                            matmul(a, b, transposingA: ta, transposingB: tb, alpha: alpha, beta: beta, into: &c, rung: rung)
                            assertClose(c, reference.scalars.map(Double.init), relative: 0,
                                        absolute: Double(S.ulpOfOne) * 8 * Double(k + 2) * 3,
                                        "\(S.self) \(kernel) \(rung) m\(m) k\(k) n\(n) tA\(ta) tB\(tb) β\(beta)")
                        }
                    }
                }
            }
        }
        withEachGEMMKernel(GEMMKernel.allCases) { kernel in
            check(Float.self, kernel)
            check(Double.self, kernel)
        }
    }

    /// The last row panels with the 6-row kernels: 1–4 rows left take the
    /// 4-row tile (A packed six rows per step, or in the direct kernel read in
    /// place when four rows of a stored A are left), and in the direct kernel
    /// 7 or 8 rows left two such panels (4 + 3, 4 + 4), 5 the 6-row tile —
    /// against the naive loop, and bitwise against the 12-row kernel of the
    /// same multiply-add form, direct and blocked, on one and two threads
    /// (each element of C is the same chain of multiply-adds whichever tile
    /// computes it). k and n leave partial panels.
    func testSixRowKernelEdgePanelsAgainstNaiveLoopAndTwelveRowBits() {
        var g = RandomGenerator(seed: 26)
        func check<S: TensorScalar>(_: S.Type) {
            for m in [1, 2, 3, 4, 5, 7, 8, 9, 10, 13, 14, 40, 128] {
                for (k, n) in [(9, 40), (37, 21)] {
                    for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                        for (alpha, beta) in [(S(1), S(0)), (S(-1.5), S(0.5))] {
                            let a: Tensor<S> = Self.operand(m, k, transposed: ta, &g)
                            let b: Tensor<S> = Self.operand(k, n, transposed: tb, &g)
                            let c0: Tensor<S> = Self.operand(m, n, transposed: false, &g)
                            var reference = c0
                            matmul(a, b, transposingA: ta, transposingB: tb, alpha: alpha, beta: beta, into: &reference, rung: .naive)
                            let label = "\(S.self) m\(m) k\(k) n\(n) tA\(ta) tB\(tb) β\(beta)"
                            for (wide, narrow) in [(GEMMKernel.fma12x32, GEMMKernel.fma6x16), (.mulAdd12x32, .mulAdd6x16)] {
                                for rung in [GEMMRung.direct, .directParallel, .blockedSingleThread, .blockedParallel] {
                                    var results: [[Double]] = []
                                    withEachGEMMKernel([wide, narrow]) { kernel in
                                        var c = c0
                                        matmul(a, b, transposingA: ta, transposingB: tb, alpha: alpha, beta: beta, into: &c, rung: rung)
                                        assertClose(c, reference.scalars.map(Double.init), relative: 0,
                                                    absolute: Double(S.ulpOfOne) * 8 * Double(k + 2) * 3, "\(kernel) \(rung) " + label)
                                        results.append(c.scalars.map(Double.init))
                                    }
                                    XCTAssertEqual(results[0], results[1], "\(rung) \(label): \(wide) and \(narrow) differ")
                                }
                            }
                        }
                    }
                }
            }
        }
        check(Float.self)
        check(Double.self)
    }

    /// Segmented depth (`GEMMProblem.kSegment`): `C = Σ_q A_q·B_qᵀ` over `T` step
    /// blocks stored one after another (A's row block `(m, L)` at `q·aStride`, B's
    /// `(n, L)` at `q·bStride`), as a recurrent layer's weight gradient reads them —
    /// the packed paths against a plain sum over the blocks, with segments that
    /// straddle the depth blocks (`kc`) at odd offsets.
    func testSegmentedDepthMatchesASumOverBlocks() {
        var g = RandomGenerator(seed: 41)
        for (m, n, L, T) in [(7, 5, 3, 4), (37, 19, 16, 9), (130, 70, 32, isReleaseBuild ? 40 : 12), (12, 33, 24, 23)] {
            let (aRows, bRows) = (m + 3, n + 2)   // blocks hold extra rows the product does not read
            let a = Tensor<Double>(randomUniform: [T, aRows, L], lower: -1, upper: 1, generator: &g)
            let b = Tensor<Double>(randomUniform: [T, bRows, L], lower: -1, upper: 1, generator: &g)
            var reference = [Double](repeating: 0, count: m * n)
            for i in 0..<m {
                for j in 0..<n {
                    var sum = 0.0
                    for q in 0..<T { for p in 0..<L { sum += a[q, i, p] * b[q, j, p] } }
                    reference[i * n + j] = sum
                }
            }
            for rung in [GEMMRung.naive, .direct, .blockedSingleThread, .blockedParallel] {
                var c = [Double](repeating: .nan, count: m * n)
                a.withUnsafeBufferPointer { a in
                    b.withUnsafeBufferPointer { b in
                        c.withUnsafeMutableBufferPointer { c in
                            var problem = GEMMProblem(m: m, n: n, k: T * L, a: a.baseAddress!, lda: L, transA: false,
                                                      b: b.baseAddress!, ldb: L, transB: true, c: c.baseAddress!, ldc: n, alpha: 1, beta: 0)
                            (problem.kSegment, problem.aSegmentStride, problem.bSegmentStride) = (L, aRows * L, bRows * L)
                            gemm(problem, rung: rung)
                        }
                    }
                }
                assertClose(Tensor(shape: [m, n], scalars: c), reference, relative: 1e-13, absolute: 1e-13,
                            "\(rung) m\(m) n\(n) L\(L) T\(T)")
            }
        }
    }

    func testEveryKernelVariantAgrees() {
        var g = RandomGenerator(seed: 5)
        let a: Tensor<Float> = Self.operand(77, 301, transposed: false, &g)
        let b: Tensor<Float> = Self.operand(301, 45, transposed: true, &g)
        let reference = matmul(a, b, transposingB: true, rung: .naive)
        withEachGEMMKernel(GEMMKernel.allCases) { kernel in
            for scalar in [false, true] {
                if scalar {
                    let ad = Tensor<Double>(shape: a.shape, scalars: a.scalars.map(Double.init))
                    let bd = Tensor<Double>(shape: b.shape, scalars: b.scalars.map(Double.init))
                    assertClose(matmul(ad, bd, transposingB: true, rung: .blockedParallel), reference.scalars.map(Double.init),
                                relative: 0, absolute: 1e-4, "\(kernel) Double")
                } else {
                    assertClose(matmul(a, b, transposingB: true, rung: .blockedParallel), reference.scalars.map(Double.init),
                                relative: 0, absolute: 1e-4, "\(kernel) Float")
                }
            }
        }
    }

    /// Freivalds: for random x, `C·x` must equal `A·(B·x)`; the residual bound
    /// grows like `√k·ε·‖A‖‖B‖‖x‖` — we allow `8·k·ε` times the norms.
    func testLargeProductsByRandomResidual() {
        var g = RandomGenerator(seed: 8)
        // (128, k, 128): the direct kernel on two column pieces (they balance better than 11 row
        // tiles); (420, 500, 400): above the blocking limit, below the Float direct limit.
        let shapes = isReleaseBuild ? [(1024, 1024, 1024), (1030, 2049, 97), (64, 4096, 1100), (128, 4000, 128), (420, 500, 400)]
                                    : [(300, 400, 200), (128, 300, 128)]
        for (m, k, n) in shapes {
            let a = Tensor<Float>(randomUniform: [m, k], lower: -1, upper: 1, generator: &g)
            let b = Tensor<Float>(randomUniform: [k, n], lower: -1, upper: 1, generator: &g)
            let c = matmul(a, b)
            for _ in 0..<2 {
                let x = Tensor<Float>(randomUniform: [n, 1], lower: -1, upper: 1, generator: &g)
                let ad = Tensor<Double>(shape: a.shape, scalars: a.scalars.map(Double.init))
                let bd = Tensor<Double>(shape: b.shape, scalars: b.scalars.map(Double.init))
                let cd = Tensor<Double>(shape: c.shape, scalars: c.scalars.map(Double.init))
                let xd = Tensor<Double>(shape: x.shape, scalars: x.scalars.map(Double.init))
                let residual = (matmul(cd, xd) - matmul(ad, matmul(bd, xd))).norm()
                let bound = 8 * Double(k) * Double(Float.ulpOfOne) * ad.norm() * bd.norm() * xd.norm() / Double(k).squareRoot()
                XCTAssertLessThan(residual, bound, "\(m)×\(k)×\(n)")
                XCTAssertGreaterThan(cd.norm(), 0)
            }
            // A wrong product is caught: perturb one element.
            var wrong = c
            wrong[m / 2, n / 3] += 1
            let x = Tensor<Float>(randomUniform: [n, 1], lower: 0.5, upper: 1, generator: &g)
            XCTAssertGreaterThan((matmul(wrong, x) - matmul(a, matmul(b, x))).norm(), 0.4)
        }
    }

    /// Products wider than one `nc` slice on one thread take the per-depth-block
    /// schedule (B̃ packed one `kc × nc` block at a time, Ã once), and
    /// `multiplyBlock` sweeps B̃ in 512 KiB groups of panels. Float n = 1090 >
    /// 1024 (35 panels at kc = 130: groups of 31 and 4, the last panel partial),
    /// Double n = 530 > 512 (34 panels at kc = 200: 20 and 14): against the naive
    /// loop with α, β ≠ 1, 0 and both operands transposed or not, and bitwise
    /// against two threads (which split C's rows and take the other schedule).
    func testWideProductsOnOneThreadAgainstNaiveLoop() {
        func check<S: TensorScalar>(_: S.Type, m: Int, k: Int, n: Int, seed: UInt64) {
            var g = RandomGenerator(seed: seed)
            for (ta, tb) in [(false, false), (true, true)] {
                let a: Tensor<S> = Self.operand(m, k, transposed: ta, &g)
                let b: Tensor<S> = Self.operand(k, n, transposed: tb, &g)
                let c0 = Tensor<S>(randomUniform: [m, n], lower: -1, upper: 1, generator: &g)
                var reference = c0
                matmul(a, b, transposingA: ta, transposingB: tb, alpha: 1.5, beta: -0.5, into: &reference, rung: .naive)
                var one = c0, two = c0
                Parallelism.withMaxThreads(1) {
                    matmul(a, b, transposingA: ta, transposingB: tb, alpha: 1.5, beta: -0.5, into: &one, rung: .blockedSingleThread)
                }
                Parallelism.withMaxThreads(2) {
                    matmul(a, b, transposingA: ta, transposingB: tb, alpha: 1.5, beta: -0.5, into: &two, rung: .blockedParallel)
                }
                let tolerance = Double(S.ulpOfOne) * 8 * Double(k + 2) * 3
                assertClose(one, reference.scalars.map(Double.init), relative: 0, absolute: tolerance, "\(S.self) tA\(ta) tB\(tb)")
                XCTAssertEqual(one.scalars.map(Double.init), two.scalars.map(Double.init), "\(S.self) one vs two threads")
            }
        }
        check(Float.self, m: 30, k: 260, n: 1090, seed: 31)
        check(Double.self, m: 30, k: 400, n: 530, seed: 32)
    }

    /// β = 0 never reads C (BLAS semantics): NaN and ∞ already in C must not
    /// reach the result. The blocked and direct kernels store their first
    /// k-block instead of adding it; k = 400 spans two k-blocks for Float and
    /// Double, m = 29 and n = 45 leave edge tiles, and α = 0 must still zero C.
    func testBetaZeroIgnoresOldContentsOfC() {
        var g = RandomGenerator(seed: 17)
        for (m, k, n) in [(29, 400, 45), (130, 70, 97)] {
            let a: Tensor<Double> = Self.operand(m, k, transposed: false, &g)
            let b: Tensor<Double> = Self.operand(k, n, transposed: true, &g)
            let reference = matmul(a, b, transposingB: true, rung: .naive)
            let poisoned = Tensor<Double>(shape: [m, n], scalars: (0..<(m * n)).map { $0 % 2 == 0 ? .nan : -.infinity })
            for rung in [GEMMRung.simdUnblocked, .direct, .directParallel, .narrow, .blockedSingleThread, .blockedParallel] {
                var c = poisoned
                matmul(a, b, transposingB: true, beta: 0, into: &c, rung: rung)
                assertClose(c, reference.scalars, relative: 0, absolute: 1e-12, "\(rung) \(m)×\(k)×\(n)")
                var zeroed = poisoned
                matmul(a, b, transposingB: true, alpha: 0, beta: 0, into: &zeroed, rung: rung)
                XCTAssertEqual(zeroed.scalars, [Double](repeating: 0, count: m * n), "\(rung) α = 0")
            }
        }
    }

    /// The narrow kernel (n ≤ one vector of columns) splits its 16-row blocks
    /// (6-row with the AVX2-sized kernels) between threads above the parallel
    /// threshold: 300 rows (18 blocks and 12 leftover rows; 50 blocks of 6)
    /// against the naive loop, and the same bits on one thread.
    ///
    /// With a transposed A (`Aᵀ·B`, at most 12 columns) the kernel runs SIMD
    /// over C's rows: blocks of 2w rows (one AVX2 vector with the 6-row
    /// kernels), a last partial vector, a transposed B, α and β, Float and
    /// Double, against the naive loop — with every micro-kernel variant, and
    /// the same bits from the 12-row and 6-row variants of one multiply-add
    /// form (each element is the same chain of multiply-adds either way).
    func testNarrowProductsSplitAcrossThreads() {
        withEachGEMMKernel(GEMMKernel.allCases) { kernel in narrowProductsSplitAcrossThreads(kernel) }
        var g = RandomGenerator(seed: 25)
        for (m, k, n, ta) in [(300, 900, 10, false), (301, 77, 16, false), (300, 900, 10, true), (70, 33, 11, true), (45, 20, 12, true)] {
            let a: Tensor<Float> = Self.operand(m, k, transposed: ta, &g), b: Tensor<Float> = Self.operand(k, n, transposed: false, &g)
            let ad: Tensor<Double> = Self.operand(m, k, transposed: ta, &g), bd: Tensor<Double> = Self.operand(k, n, transposed: false, &g)
            for (wide, narrow) in [(GEMMKernel.fma12x32, GEMMKernel.fma6x16), (.mulAdd12x32, .mulAdd6x16)] {
                var results: [[UInt64]] = []
                withEachGEMMKernel([wide, narrow]) { _ in
                    let single = matmul(a, b, transposingA: ta, rung: .narrow).scalars.map { UInt64($0.bitPattern) }
                    results.append(single + matmul(ad, bd, transposingA: ta, rung: .narrow).scalars.map(\.bitPattern))
                }
                XCTAssertEqual(results[0], results[1], "narrow \(m)×\(k)×\(n)\(ta ? " Aᵀ" : ""): \(wide) and \(narrow) bits differ")
            }
        }
    }

    private func narrowProductsSplitAcrossThreads(_ kernel: GEMMKernel) {
        var g = RandomGenerator(seed: 22)
        for (m, k, n, ta, tb) in [(300, 900, 10, false, false), (300, 1000, 3, false, false), (300, 900, 10, true, false),
                                  (37, 50, 12, true, true), (16, 7, 2, true, false), (70, 33, 11, true, false)] {
            let a: Tensor<Float> = Self.operand(m, k, transposed: ta, &g)
            let b: Tensor<Float> = Self.operand(k, n, transposed: tb, &g)
            let c0: Tensor<Float> = Self.operand(m, n, transposed: false, &g)
            let label = "\(kernel) narrow \(m)×\(k)×\(n)\(ta ? " Aᵀ" : "")\(tb ? " Bᵀ" : "")"
            let reference = matmul(a, b, transposingA: ta, transposingB: tb, rung: .naive)
            let two = Parallelism.withMaxThreads(2) { matmul(a, b, transposingA: ta, transposingB: tb, rung: .narrow) }
            let one = Parallelism.withMaxThreads(1) { matmul(a, b, transposingA: ta, transposingB: tb, rung: .narrow) }
            let automatic = matmul(a, b, transposingA: ta, transposingB: tb)
            assertClose(two, reference.scalars.map(Double.init), relative: 1e-4, absolute: 1e-3, label)
            assertClose(automatic, reference.scalars.map(Double.init), relative: 1e-4, absolute: 1e-3, label + " automatic")
            XCTAssertEqual(one.scalars.map(\.bitPattern), two.scalars.map(\.bitPattern), label)
            var scaled = c0, expected = c0
            matmul(a, b, transposingA: ta, transposingB: tb, alpha: 2, beta: 0.5, into: &scaled, rung: .narrow)
            matmul(a, b, transposingA: ta, transposingB: tb, alpha: 2, beta: 0.5, into: &expected, rung: .naive)
            assertClose(scaled, expected.scalars.map(Double.init), relative: 1e-4, absolute: 1e-3, label + " α = 2, β = 0.5")
            let ad: Tensor<Double> = Self.operand(m, k, transposed: ta, &g), bd: Tensor<Double> = Self.operand(k, n, transposed: tb, &g)
            assertClose(matmul(ad, bd, transposingA: ta, transposingB: tb, rung: .narrow),
                        matmul(ad, bd, transposingA: ta, transposingB: tb, rung: .naive).scalars, relative: 1e-12, absolute: 1e-12, label + " Double")
        }
    }

    /// The `Aᵀ·B` narrow kernel is compiled once per column count (2…12, each
    /// with its own set of accumulators): every count, B in place and
    /// transposed (copied into a strip), full 2w-row blocks and a last partial
    /// vector, β = 0 and β ≠ 0, Float and Double, against the naive loop.
    func testTransposedNarrowKernelForEveryColumnCount() {
        var g = RandomGenerator(seed: 23)
        func check<S: TensorScalar>(_: S.Type, tolerance: Double) {
            for n in 2...12 {
                for tb in [false, true] {
                    let (m, k) = (2 * 2 * (S.self == Float.self ? 16 : 8) + 5, 19 + n)
                    let a: Tensor<S> = Self.operand(m, k, transposed: true, &g)
                    let b: Tensor<S> = Self.operand(k, n, transposed: tb, &g)
                    let c0: Tensor<S> = Self.operand(m, n, transposed: false, &g)
                    for (alpha, beta) in [(S(1), S(0)), (S(-1.5), S(0.5))] {
                        var c = c0, expected = c0
                        matmul(a, b, transposingA: true, transposingB: tb, alpha: alpha, beta: beta, into: &c, rung: .narrow)
                        matmul(a, b, transposingA: true, transposingB: tb, alpha: alpha, beta: beta, into: &expected, rung: .naive)
                        assertClose(c, expected.scalars.map(Double.init), relative: tolerance, absolute: tolerance,
                                    "\(S.self) Aᵀ·B n \(n) tB \(tb) α \(alpha) β \(beta)")
                    }
                }
            }
        }
        withEachGEMMKernel(GEMMKernel.allCases) { _ in
            check(Float.self, tolerance: 1e-4)
            check(Double.self, tolerance: 1e-12)
        }
    }

    /// Between ``GEMMConfiguration/blockingLimit`` and ``GEMMConfiguration/directLimit``
    /// `matmul` runs a Float product on the direct kernel (op(B) read in place once
    /// per 12-row panel of A) only while op(B) is smaller than
    /// ``GEMMConfiguration/directOperandBytes``: just below that size it gives the
    /// direct rung's bits, at it the blocked rung's. (The two differ: the blocked
    /// path adds k = 512 in two blocks of 256, the direct one in one pass.)
    func testMidSizeProductsReadBInPlaceOnlyWhileItFitsInL2() {
        var g = RandomGenerator(seed: 35)
        let k = 512, columnsAtLimit = GEMMConfiguration.directOperandBytes / (k * MemoryLayout<Float>.stride)
        for (n, direct) in [(columnsAtLimit - 32, true), (columnsAtLimit, false)] {
            let m = GEMMConfiguration.blockingLimit / (n * k) + 12
            XCTAssertTrue((GEMMConfiguration.blockingLimit..<GEMMConfiguration.directLimit).contains(m * n * k), "\(m)×\(k)×\(n)")
            let a = Tensor<Float>(randomUniform: [m, k], lower: -1, upper: 1, generator: &g)
            let b = Tensor<Float>(randomUniform: [k, n], lower: -1, upper: 1, generator: &g)
            let onDirect = matmul(a, b, rung: .directParallel), onBlocked = matmul(a, b, rung: .blockedParallel)
            XCTAssertNotEqual(onDirect, onBlocked, "\(m)×\(k)×\(n): the two rungs give the same bits, so the test cannot tell them apart")
            XCTAssertEqual(matmul(a, b), direct ? onDirect : onBlocked,
                           "\(m)×\(k)×\(n) (B \(k * n * 4) bytes): expected the \(direct ? "direct" : "blocked") rung")
        }
    }

    /// ``PanelClaims``: in any interleaving of the sets' claims every panel is
    /// handed out exactly once, in blocks of at most `blockPanels`; a set takes
    /// its own range from the front and, once it is done, the others' from
    /// their backs; `reset` makes every range whole again.
    func testPanelClaimsHandOutEveryPanelOnce() {
        var g = RandomGenerator(seed: 31)
        for (sets, panels, blockPanels) in [(1, 86, 6), (2, 86, 6), (2, 1, 6), (3, 171, 6), (4, 10, 3), (5, 3, 2)] {
            let claims = PanelClaims(sets: sets, panels: panels, blockPanels: blockPanels)
            for round in 0..<3 {
                if round > 0 { claims.reset() }
                var owner = [Int](repeating: -1, count: panels)
                var exhausted = Set<Int>()
                while exhausted.count < sets {
                    // A random set claims next (one that found nothing stays done).
                    let set = (0..<sets).filter { !exhausted.contains($0) }[g.nextIndex(below: sets - exhausted.count)]
                    guard let range = claims.next(for: set) else { exhausted.insert(set); continue }
                    XCTAssertTrue(range.count >= 1 && range.count <= blockPanels, "\(sets) sets: block \(range)")
                    func home(_ s: Int) -> Range<Int> { s * panels / sets..<(s + 1) * panels / sets }
                    let unclaimed = { (s: Int) in home(s).filter { owner[$0] < 0 } }
                    if home(set).contains(range.lowerBound) {
                        // Its own range, from the front.
                        XCTAssertEqual(range.lowerBound, unclaimed(set).first, "\(sets) sets: set \(set) took \(range) not from its front")
                    } else {
                        // Another set's range, from the back, once its own is gone.
                        XCTAssertTrue(unclaimed(set).isEmpty, "\(sets) sets: set \(set) stole \(range) before finishing \(home(set))")
                        let victim = (0..<sets).first { home($0).contains(range.lowerBound) }!
                        XCTAssertEqual(range.upperBound - 1, unclaimed(victim).last, "\(sets) sets: \(range) not from set \(victim)'s back")
                    }
                    for panel in range {
                        XCTAssertEqual(owner[panel], -1, "\(sets) sets: panel \(panel) handed out twice")
                        owner[panel] = set
                    }
                }
                XCTAssertFalse(owner.contains(-1), "\(sets) sets, \(panels) panels: not every panel handed out")
            }
        }
    }

    /// The per-depth-block schedule with more claim sets than the machine has
    /// cores (so the threads that run take other sets' rows): bitwise the same C
    /// as one thread, and within the GEMM bound of the naive loop.
    func testClaimedRowsGiveTheSameBitsForAnyThreadCount() {
        var g = RandomGenerator(seed: 32)
        // Release: C of ≥ 2¹⁸ elements (kc up to 512, mc 72); debug builds (slow kernels) a narrower C. Both
        // with several blocks of k: in the first, C is overwritten, and a row block run twice would go unseen.
        let (m, k, n) = isReleaseBuild ? (1100, 1300, 300) : (1100, 300, 24)
        let a = Tensor<Float>(randomUniform: [m, k], lower: -1, upper: 1, generator: &g)
        let b = Tensor<Float>(randomUniform: [k, n], lower: -1, upper: 1, generator: &g)
        let one = Parallelism.withMaxThreads(1) { matmul(a, b, rung: .blockedParallel) }
        if isReleaseBuild {   // (the one-thread schedule is checked against the loop in every build by the tests above)
            let reference = matmul(a, b, rung: .naive)
            XCTAssertLessThanOrEqual(zip(one.scalars, reference.scalars).map { Swift.abs($0 - $1) }.max()!, Float(k) * Float.ulpOfOne * 8)
        }
        for threads in isReleaseBuild ? [2, 3, 5] : [2, 3] {
            let many = Parallelism.withMaxThreads(threads) { matmul(a, b, rung: .blockedParallel) }
            let differing = zip(one.scalars, many.scalars).filter { $0.bitPattern != $1.bitPattern }.count
            XCTAssertEqual(differing, 0, "\(threads) threads: \(differing) of \(m * n) elements differ from one thread's")
        }
    }

    func testBitwiseIdenticalForAnyThreadCountAndRun() {
        var g = RandomGenerator(seed: 21)
        let shapes = isReleaseBuild
            ? [(517, 300, 611, false, false), (300, 777, 129, true, true), (1024, 256, 1024, false, true), (1100, 300, 45, true, false)]
            : [(217, 150, 171, false, false), (150, 390, 129, true, true), (1100, 300, 45, true, false)]
        for (m, k, n, ta, tb) in shapes {
            let a: Tensor<Float> = Self.operand(m, k, transposed: ta, &g)
            let b: Tensor<Float> = Self.operand(k, n, transposed: tb, &g)
            let one = Parallelism.withMaxThreads(1) { matmul(a, b, transposingA: ta, transposingB: tb) }
            let two = Parallelism.withMaxThreads(2) { matmul(a, b, transposingA: ta, transposingB: tb) }
            let again = matmul(a, b, transposingA: ta, transposingB: tb)
            XCTAssertEqual(one.scalars.map(\.bitPattern), two.scalars.map(\.bitPattern))
            XCTAssertEqual(one.scalars.map(\.bitPattern), again.scalars.map(\.bitPattern))
            for rung in [GEMMRung.blockedParallel, .directParallel] {
                let oneThread = Parallelism.withMaxThreads(1) { matmul(a, b, transposingA: ta, transposingB: tb, rung: rung) }
                let twoThreads = Parallelism.withMaxThreads(2) { matmul(a, b, transposingA: ta, transposingB: tb, rung: rung) }
                XCTAssertEqual(oneThread.scalars.map(\.bitPattern), twoThreads.scalars.map(\.bitPattern), "\(rung)")
            }
            // One thread packs Ã block by block; several threads pack it whole first, or (at least
            // `workUnitsPerProblem` row blocks: m = 1100) each unit packs its own blocks: same bits.
            let single = matmul(a, b, transposingA: ta, transposingB: tb, rung: .blockedSingleThread)
            let parallel = matmul(a, b, transposingA: ta, transposingB: tb, rung: .blockedParallel)
            XCTAssertEqual(single.scalars.map(\.bitPattern), parallel.scalars.map(\.bitPattern), "single vs parallel blocked")
        }
        // Double with enough row blocks for the per-unit packing (m = 600: ten blocks of 60 rows),
        // two blocks of k and a partial panel: against the naive loop, and one thread vs two bitwise.
        let a = Tensor<Double>(randomUniform: [600, 500], lower: -1, upper: 1, generator: &g)
        let b = Tensor<Double>(randomUniform: [70, 500], lower: -1, upper: 1, generator: &g)
        let one = Parallelism.withMaxThreads(1) { matmul(a, b, transposingB: true, rung: .blockedParallel) }
        let two = Parallelism.withMaxThreads(2) { matmul(a, b, transposingB: true, rung: .blockedParallel) }
        XCTAssertEqual(one.scalars.map(\.bitPattern), two.scalars.map(\.bitPattern), "Double one vs two threads")
        assertClose(two, matmul(a, b, transposingB: true, rung: .naive).scalars, relative: 1e-12, absolute: 1e-12, "Double blocked parallel")
    }

    func testMatrixVectorBatchedAndErrors() {
        onBothPaths { path in
            let A = Tensor<Float>([[1, 2, 3], [4, 5, 6]])
            // C1W2-15: u = Av
            XCTAssertEqual(matmul(A, Tensor<Float>([1, 0, -1])), Tensor<Float>([-2, -2]), "\(path)")
            XCTAssertEqual(matmul(A, A, transposingB: true), Tensor<Float>([[14, 32], [32, 77]]))
            XCTAssertEqual(matmul(A, A, transposingA: true).shape, [3, 3])
            let batch = Tensor.stack([A, 2 * A], axis: 0)                       // (2, 2, 3)
            let product = matmul(batch, Tensor<Float>.identity(3))              // shared right operand
            XCTAssertEqual(product, batch)
            XCTAssertEqual(matmul(batch, batch, transposingB: true).slice(axis: 0, 1..<2).reshaped(to: [2, 2]),
                           Tensor<Float>([[56, 128], [128, 308]]))
            var c = Tensor<Float>.ones([2, 2])
            matmul(A, A, transposingB: true, alpha: 2, beta: 10, into: &c)
            XCTAssertEqual(c, Tensor<Float>([[38, 74], [74, 164]]))
        }
        XCTAssertEqual(matmul(Tensor<Float>.zeros([3, 0]), Tensor<Float>.zeros([0, 2])), Tensor<Float>.zeros([3, 2]))
    }

    /// TC-L1: two identity-activation layers collapse into one: W′ = W²W¹, b′ = W²b¹ + b².
    func testLinearCollapse() {
        var g = RandomGenerator(seed: 3)
        let W1 = Tensor<Double>(randomNormal: [4, 3], generator: &g), b1 = Tensor<Double>(randomNormal: [4, 1], generator: &g)
        let W2 = Tensor<Double>(randomNormal: [2, 4], generator: &g), b2 = Tensor<Double>(randomNormal: [2, 1], generator: &g)
        let X = Tensor<Double>(randomNormal: [3, 10], generator: &g)
        let twoLayers = matmul(W2, matmul(W1, X) + b1) + b2
        let oneLayer = matmul(matmul(W2, W1), X) + (matmul(W2, b1) + b2)
        assertClose(twoLayers, oneLayer.scalars, relative: 1e-12, absolute: 1e-12)
    }

    /// 500 products of varying shapes (as varying batch and sequence lengths
    /// give: here k and n vary, so the packed panels take hundreds of distinct
    /// byte sizes) leave a bounded packing pool: idle buffers stay within the
    /// limit and the resident set does not grow with the number of shapes.
    /// (A pool keeping one buffer per exact size grew by hundreds of MiB here.)
    func testPackingBuffersStayBounded() {
        var g = RandomGenerator(seed: 9)
        func residentBytes() -> Int {
            let fields = (try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8))?.split(separator: " ") ?? []
            return fields.count > 1 ? (Int(fields[1]) ?? 0) * 4096 : 0
        }
        #if DEBUG
        let products = 6   // unoptimized kernels take seconds per product: fewer, same shapes
        #else
        let products = 500
        #endif
        var afterWarmUp = 0
        for i in 0..<products {
            // m·k·n ≥ 128·256·1024: above the blocking limit, so the packed kernel runs.
            let m = 128, k = 256 + (i * 53) % 256, n = 1024 + (i * 37) % 1024
            let a = Tensor<Float>(randomUniform: [m, k], generator: &g), b = Tensor<Float>(randomUniform: [k, n], generator: &g)
            _ = matmul(a, b)
            if i == Swift.min(9, products / 3) { afterWarmUp = residentBytes() }
            XCTAssertLessThanOrEqual(PackingBufferPool.shared.idleBytes, PackingBufferPool.idleLimit)
        }
        let growth = residentBytes() - afterWarmUp
        XCTAssertLessThan(growth, 16 << 20, "resident memory grew by \(growth >> 20) MiB")
    }

    /// The pool itself: 500 distinct sizes between 1 and 2 MiB share one size
    /// class, and idle memory never exceeds the cap however many are returned.
    func testPackingPoolUsesSizeClassesAndACap() {
        let pool = PackingBufferPool.shared
        for i in 0..<500 {
            pool.withBuffer(bytes: (1 << 20) + 1 + i * 2000) { $0.storeBytes(of: UInt8(i & 255), as: UInt8.self) }
            XCTAssertLessThanOrEqual(pool.idleBytes, PackingBufferPool.idleLimit)
        }
        XCTAssertEqual(PackingBufferPool.sizeClass((1 << 20) + 1), 2 << 20)
        XCTAssertEqual(PackingBufferPool.sizeClass(2 << 20), 2 << 20)
        XCTAssertEqual(PackingBufferPool.sizeClass(1025), 4096)
        // Nested buffers (several threads, or Ã and B̃ at once) are separate allocations.
        pool.withBuffer(bytes: 5000) { outer in
            pool.withBuffer(bytes: 5000) { inner in XCTAssertNotEqual(outer, inner) }
        }
        // A thread gets back the buffer it used last, even when another thread handed one
        // back after it (a fresh pool: the shared one may hold other threads' buffers).
        final class Slot: @unchecked Sendable { var pointer: UnsafeMutableRawPointer? }
        func onAnotherThread(_ body: @escaping @Sendable () -> Void) {
            // Waited for through a semaphore, which orders the thread's writes before what
            // follows (polling `isFinished` did not, for the thread sanitizer).
            let done = DispatchSemaphore(value: 0)
            let thread = Thread { body(); done.signal() }
            thread.start()
            done.wait()
        }
        let fresh = PackingBufferPool(), slot = Slot()
        let mine = fresh.take(bytes: 100_000)
        onAnotherThread { slot.pointer = fresh.take(bytes: 100_000) }   // a second, new buffer
        fresh.give(mine, bytes: 100_000)
        onAnotherThread { fresh.give(slot.pointer!, bytes: 100_000) }   // handed back last
        XCTAssertEqual(fresh.idleBytes, 2 * PackingBufferPool.sizeClass(100_000))
        let again = fresh.take(bytes: 100_000)
        XCTAssertEqual(again, mine, "the buffer this thread used last, not the one handed back last")
        fresh.give(again, bytes: 100_000)
    }

    /// Kernel scratch comes from the stack, aligned for its type, up to the
    /// 1 KiB the standard library allocates there on Linux. `withUnsafeTemporaryAllocation`
    /// takes the heap (`posix_memalign`, then `free`, per call) above 1 KiB or
    /// above 16-byte alignment: every 12-row micro-kernel edge tile (1.5 KiB)
    /// and every pool buffer under 16 KiB (asked 64-byte aligned) paid that.
    func testStackScratchIsAlignedAndOnTheStack() {
        func stackAddress() -> Int {
            withUnsafeTemporaryAllocation(byteCount: 16, alignment: 16) { Int(bitPattern: $0.baseAddress!) }
        }
        // Under AddressSanitizer, frames with addressable locals may live on its "fake stack"
        // (heap-backed, one region per frame size), so only alignment is checked there.
        let underAddressSanitizer = dlsym(nil, "__asan_init") != nil
        func isNearStack(_ p: UnsafeRawPointer) -> Bool {
            underAddressSanitizer || abs(Int(bitPattern: p) - stackAddress()) < 64 << 10
        }
        for capacity in [1, 3, 12, 16] {   // up to 16 × 64 bytes = 1 KiB
            withStackScratch(of: SIMD16<Float>.self, capacity: capacity) { tile in
                XCTAssertEqual(Int(bitPattern: tile) % MemoryLayout<SIMD16<Float>>.alignment, 0)
                XCTAssertTrue(isNearStack(tile), "SIMD16<Float> × \(capacity) not on the stack")
                for i in 0..<capacity { tile[i] = SIMD16(repeating: Float(i)) }
                XCTAssertEqual(tile[capacity - 1][15], Float(capacity - 1))
            }
            withStackScratch(of: SIMD8<Double>.self, capacity: capacity) { tile in
                XCTAssertEqual(Int(bitPattern: tile) % MemoryLayout<SIMD8<Double>>.alignment, 0)
                XCTAssertTrue(isNearStack(tile), "SIMD8<Double> × \(capacity) not on the stack")
            }
        }
        withStackScratch(byteCount: 900, alignment: 64) { raw in
            XCTAssertEqual(Int(bitPattern: raw) % 64, 0)
            XCTAssertTrue(isNearStack(raw), "900 bytes at 64-byte alignment not on the stack")
        }
        // Small pool buffers: 64-byte aligned, on the stack up to 1 KiB, never from the
        // pool (whose lock and state would move between cores on every call).
        let idle = PackingBufferPool.shared.idleBytes
        for bytes in [1, 900, 5000, PackingBufferPool.smallLimit] {
            PackingBufferPool.shared.withBuffer(bytes: bytes) { buffer in
                XCTAssertEqual(Int(bitPattern: buffer) % 64, 0)
                if bytes <= 900 { XCTAssertTrue(isNearStack(buffer), "the pool's \(bytes)-byte scratch is not on the stack") }
            }
        }
        XCTAssertEqual(PackingBufferPool.shared.idleBytes, idle)
    }
}
