@_spi(Benchmarks) import Tensors
import XCTest

/// Batched `matmul` with numpy broadcasting of the leading axes, its parallel
/// batch loop, and the tiny-product kernel.
final class BatchedMatmulTests: XCTestCase {
    /// The IEEE bit pattern of a Float or Double.
    static func bits<S: TensorScalar>(_ x: S) -> UInt64 {
        withUnsafeBytes(of: x) { $0.count == 4 ? UInt64($0.load(as: UInt32.self)) : $0.load(as: UInt64.self) }
    }

    func assertBitwise<S: TensorScalar>(
        _ x: Tensor<S>, _ y: Tensor<S>, _ message: @autoclosure () -> String, file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(x.shape, y.shape, "shape " + message(), file: file, line: line)
        XCTAssertTrue(x.scalars.map(Self.bits) == y.scalars.map(Self.bits), "bits " + message(), file: file, line: line)
    }

    /// Matrix `index` (row-major over the leading axes) of a stack, as a rank-2 tensor.
    static func matrix<S: TensorScalar>(_ t: Tensor<S>, _ index: Int) -> Tensor<S> {
        let rows = t.shape[t.rank - 2], columns = t.shape[t.rank - 1], size = rows * columns
        return Tensor(shape: [rows, columns], scalars: Array(t.scalars[(index * size)..<((index + 1) * size)]))
    }

    /// The batched product item by item: for every output batch index, the
    /// broadcast operand matrices multiplied as rank-2 tensors.
    static func itemByItem<S: TensorScalar>(
        _ a: Tensor<S>, _ b: Tensor<S>, ta: Bool, tb: Bool, alpha: S, beta: S, c0: Tensor<S>, rung: GEMMRung?
    ) -> Tensor<S> {
        let batchShape = Array(c0.shape.dropLast(2))
        let rank = batchShape.count
        let (m, n) = (c0.shape[rank], c0.shape[rank + 1])
        func matrixIndex(_ shape: [Int], _ index: [Int]) -> Int {
            let own = Array(shape.dropLast(2)), padded = [Int](repeating: 1, count: rank - own.count) + own
            var flat = 0
            for axis in 0..<rank { flat = flat * padded[axis] + (padded[axis] == 1 ? 0 : index[axis]) }
            return flat
        }
        var scalars: [S] = []
        for item in 0..<batchShape.reduce(1, *) {
            var index = [Int](repeating: 0, count: rank), r = item
            for axis in stride(from: rank - 1, through: 0, by: -1) { index[axis] = r % batchShape[axis]; r /= batchShape[axis] }
            var c = matrix(c0, item)
            matmul(matrix(a, matrixIndex(a.shape, index)), matrix(b, matrixIndex(b.shape, index)),
                   transposingA: ta, transposingB: tb, alpha: alpha, beta: beta, into: &c, rung: rung)
            scalars += c.scalars
        }
        return Tensor(shape: batchShape + [m, n], scalars: scalars)
    }

    func checkBroadcastBatches<S: TensorScalar>(_: S.Type, seed: UInt64) {
        var g = RandomGenerator(seed: seed)
        let batchPairs: [([Int], [Int])] = [
            ([8, 1], [1, 4]), ([3], []), ([], [2, 3]), ([2, 1, 3], [4, 1]), ([0], [0]), ([5], [1]), ([2, 3], [2, 3]),
            ([1], [1]), ([0, 2], [2]), ([4], [4]),
        ]
        for (index, (batchA, batchB)) in batchPairs.enumerated() {
            for (ta, tb) in [(false, false), (true, false), (false, true), (true, true)] {
                let m = [1, 2, 5, 13, 17][(index + (ta ? 1 : 0)) % 5]
                let n = [3, 1, 9, 16, 33][(index + (tb ? 2 : 0)) % 5]
                let k = [0, 4, 7, 40, 1][(index + (ta ? 3 : 0) + (tb ? 1 : 0)) % 5]
                let a = Tensor<S>(randomUniform: batchA + (ta ? [k, m] : [m, k]), lower: -1, upper: 1, generator: &g)
                let b = Tensor<S>(randomUniform: batchB + (tb ? [n, k] : [k, n]), lower: -1, upper: 1, generator: &g)
                let batchShape = try! broadcastShape(batchA, batchB)
                let tag = "\(S.self) \(a.shape)\(ta ? "ᵀ" : "") × \(b.shape)\(tb ? "ᵀ" : "")"
                let tolerance = Double(S.ulpOfOne) * 8 * Double(k + 2) * 3
                // Allocating form: the output shape, loop twin equal to item-by-item, vectorized close to it.
                let zeros = Tensor<S>.zeros(batchShape + [m, n])
                let reference = withComputePath(.loop) {
                    Self.itemByItem(a, b, ta: ta, tb: tb, alpha: 1, beta: 0, c0: zeros, rung: nil)
                }
                let loop = withComputePath(.loop) { matmul(a, b, transposingA: ta, transposingB: tb) }
                let vectorized = withComputePath(.vectorized) { matmul(a, b, transposingA: ta, transposingB: tb) }
                XCTAssertEqual(loop.shape, batchShape + [m, n], tag)
                assertBitwise(loop, reference, "loop vs item by item " + tag)
                assertClose(vectorized, loop.scalars.map(Double.init), shape: loop.shape, relative: 0, absolute: tolerance,
                            "vectorized vs loop " + tag)
                // Vectorized batch items are the rank-2 products, bitwise.
                let items = withComputePath(.vectorized) {
                    Self.itemByItem(a, b, ta: ta, tb: tb, alpha: 1, beta: 0, c0: zeros, rung: nil)
                }
                assertBitwise(vectorized, items, "vectorized vs vectorized items " + tag)
                // `into:` with α and β.
                let c0 = Tensor<S>(randomUniform: batchShape + [m, n], lower: -1, upper: 1, generator: &g)
                for path in [ComputePath.loop, .vectorized] {
                    var c = c0
                    withComputePath(path) { matmul(a, b, transposingA: ta, transposingB: tb, alpha: 1.5, beta: -0.5, into: &c) }
                    let expected = withComputePath(path) {
                        Self.itemByItem(a, b, ta: ta, tb: tb, alpha: 1.5, beta: -0.5, c0: c0, rung: nil)
                    }
                    assertBitwise(c, expected, "into α β \(path) " + tag)
                }
            }
        }
    }

    func testBroadcastBatchesFloat() { checkBroadcastBatches(Float.self, seed: 31) }
    func testBroadcastBatchesDouble() { checkBroadcastBatches(Double.self, seed: 32) }

    func testBatchShapesAndSharedOperands() {
        let a = Tensor<Float>(shape: [8, 1, 2, 3], repeating: 1), b = Tensor<Float>(shape: [1, 4, 3, 5], repeating: 2)
        XCTAssertEqual(matmul(a, b).shape, [8, 4, 2, 5])
        XCTAssertEqual(matmul(a, b).scalars, [Float](repeating: 6, count: 8 * 4 * 2 * 5))
        XCTAssertEqual(matmul(Tensor<Float>.zeros([0, 2, 3]), Tensor<Float>.zeros([3, 4])).shape, [0, 2, 4])
        XCTAssertEqual(matmul(Tensor<Float>.ones([2, 3, 0]), Tensor<Float>.ones([0, 4])), Tensor<Float>.zeros([2, 3, 4]))
        // A rank-2 left operand is shared by every item of a rank-4 right operand.
        let w = Tensor<Double>([[1, 2], [3, 4]])
        let x = Tensor<Double>(shape: [2, 3, 2, 1], scalars: (0..<12).map(Double.init))
        let y = matmul(w, x)
        XCTAssertEqual(y.shape, [2, 3, 2, 1])
        let expected: [Double] = [32, 74]   // [[1, 2], [3, 4]] · [10, 11]
        XCTAssertEqual(Array(y.scalars[10..<12]), expected)
    }

    /// Batches of small products run item-parallel; the bits must not depend on
    /// the thread count, nor differ from computing each item alone.
    func testParallelBatchesAreBitwiseIndependentOfThreads() {
        var g = RandomGenerator(seed: 33)
        struct Case { var batchA: [Int], batchB: [Int], m: Int, k: Int, n: Int, ta: Bool, tb: Bool }
        let cases = [
            Case(batchA: [600], batchB: [], m: 8, k: 9, n: 7, ta: false, tb: false),
            Case(batchA: [40, 1], batchB: [1, 30], m: 16, k: 16, n: 16, ta: true, tb: false),
            Case(batchA: [700], batchB: [700], m: 5, k: 1, n: 30, ta: false, tb: true),
            Case(batchA: [3, 200], batchB: [200], m: 1, k: 20, n: 9, ta: true, tb: true),
        ]
        for c in cases {
            let (batchA, batchB, m, k, n, ta, tb) = (c.batchA, c.batchB, c.m, c.k, c.n, c.ta, c.tb)
            let a = Tensor<Float>(randomUniform: batchA + (ta ? [k, m] : [m, k]), lower: -1, upper: 1, generator: &g)
            let b = Tensor<Float>(randomUniform: batchB + (tb ? [n, k] : [k, n]), lower: -1, upper: 1, generator: &g)
            let tag = "\(a.shape) × \(b.shape)"
            let one = Parallelism.withMaxThreads(1) { matmul(a, b, transposingA: ta, transposingB: tb) }
            let two = Parallelism.withMaxThreads(2) { matmul(a, b, transposingA: ta, transposingB: tb) }
            let all = matmul(a, b, transposingA: ta, transposingB: tb)
            assertBitwise(one, two, "1 vs 2 threads " + tag)
            assertBitwise(one, all, "1 thread vs default " + tag)
            let zeros = Tensor<Float>.zeros(one.shape)
            assertBitwise(all, Self.itemByItem(a, b, ta: ta, tb: tb, alpha: 1, beta: 0, c0: zeros, rung: nil), "items " + tag)
        }
    }

    /// Tiny products take scalar loops with the direct kernel's arithmetic:
    /// bitwise the direct rung, for every micro-kernel variant.
    func testTinyProductsMatchTheDirectKernel() {
        var g = RandomGenerator(seed: 34)
        withEachGEMMKernel(GEMMKernel.allCases) { kernel in
            for _ in 0..<40 {
                let (m, n, k) = (2 + g.nextIndex(below: 7), 2 + g.nextIndex(below: 7), g.nextIndex(below: 9))
                let (ta, tb) = (g.nextIndex(below: 2) == 1, g.nextIndex(below: 2) == 1)
                for (alpha, beta) in [(1.0, 0.0), (2.5, 1.0), (-1.0, 0.5), (0.0, 2.0)] {
                    func run<S: TensorScalar>(_: S.Type) {
                        let a = Tensor<S>(randomUniform: ta ? [k, m] : [m, k], lower: -1, upper: 1, generator: &g)
                        let b = Tensor<S>(randomUniform: tb ? [n, k] : [k, n], lower: -1, upper: 1, generator: &g)
                        let c0 = Tensor<S>(randomUniform: [m, n], lower: -1, upper: 1, generator: &g)
                        var (tiny, direct) = (c0, c0)
                        matmul(a, b, transposingA: ta, transposingB: tb, alpha: S(alpha), beta: S(beta), into: &tiny)
                        matmul(a, b, transposingA: ta, transposingB: tb, alpha: S(alpha), beta: S(beta), into: &direct, rung: .direct)
                        assertBitwise(tiny, direct, "\(kernel) \(S.self) m\(m) n\(n) k\(k) tA\(ta) tB\(tb) α\(alpha) β\(beta)")
                    }
                    run(Float.self)
                    run(Double.self)
                }
            }
        }
    }
}
