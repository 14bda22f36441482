@_spi(Benchmarks) @testable import Tensors
import XCTest

/// `linear(W, X, b, activation:)` adds the bias (and applies ReLU) inside the
/// product, tile by tile: its result must have exactly the bits of the
/// separate passes `relu(matmul(W, X) + b)` on every rung of the GEMM ladder,
/// on both compute paths and on one or two threads.
final class LinearEpilogueTests: XCTestCase {
    /// `(n, n_prev, m)`: tiny, narrow (m < 8 runs as a transposed product),
    /// matrix–vector (n = 1 or m = 1), no depth, edge tiles, the direct range,
    /// and the blocked range with several depth blocks (n_prev > 256) and
    /// several row blocks and column slices; products large enough to be
    /// split between two threads.
    static let shapes: [(Int, Int, Int)] = [
        (1, 1, 1), (3, 5, 2), (40, 30, 3), (5, 33, 70), (1, 17, 9), (9, 17, 1), (12, 0, 7), (13, 31, 45), (20, 70, 40), (30, 300, 20),
        (120, 60, 40), (600, 300, 3),   // split across threads by rows, and transposed then by columns
    ] + (isReleaseBuild ? [(64, 64, 64), (96, 300, 100), (257, 700, 330), (600, 260, 1100)] : [])

    static let rungs: [GEMMRung?] = [.naive, .simdUnblocked, .direct, .directParallel, .narrow, .blockedSingleThread, .blockedParallel, nil]

    func check<S: TensorScalar>(_: S.Type) {
        var g = RandomGenerator(seed: 2026)
        for (n, k, m) in Self.shapes {
            let w = Tensor<S>(randomUniform: [n, k], lower: -1, upper: 1, generator: &g)
            let x = Tensor<S>(randomUniform: [k, m], lower: -1, upper: 1, generator: &g)
            var b = Tensor<S>(randomUniform: [n, 1], lower: -1, upper: 1, generator: &g)
            if n > 2 { b[1, 0] = 0; b[2, 0] = -0.0 }   // a zero and a negative zero among the biases
            // The scalar rungs only where they are quick: the large shapes are there for the blocked schedules.
            let large = n * k * m > 3_000_000
            for rung in Self.rungs where !(large && (rung == .naive || rung == .simdUnblocked)) {
                for path in [ComputePath.vectorized, .loop] where path == .vectorized || rung == nil && !large {
                    for threads in [GEMMRung.directParallel, .blockedParallel, nil].contains(rung) ? [1, 2] : [2] {
                        withComputePath(path) {
                            Parallelism.withMaxThreads(threads) {
                                let product = matmul(w, x, rung: rung)
                                let label = "\(S.self) \(rung.map(\.rawValue) ?? "automatic") \(path) \(threads) threads n\(n) k\(k) m\(m)"
                                assertSameBits(linear(w, x, b, rung: rung), product + b, label + " bias")
                                assertSameBits(linear(w, x, b, activation: .relu, rung: rung), relu(product + b), label + " relu")
                            }
                        }
                    }
                }
            }
        }
    }

    func assertSameBits<S: TensorScalar>(_ actual: Tensor<S>, _ expected: Tensor<S>, _ label: String,
                                         file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.shape, expected.shape, label, file: file, line: line)
        func identical(_ x: S, _ y: S) -> Bool {
            x.sign == y.sign && x.exponentBitPattern == y.exponentBitPattern && x.significandBitPattern == y.significandBitPattern
        }
        let mismatches = zip(actual.scalars, expected.scalars).enumerated().filter { !identical($0.element.0, $0.element.1) }
        if let first = mismatches.first {
            XCTFail("\(label): \(mismatches.count) elements differ, first at \(first.offset): \(first.element.0) vs \(first.element.1)",
                    file: file, line: line)
        }
    }

    func testFloatBiasAndReLUHaveTheBitsOfSeparatePasses() { check(Float.self) }
    func testDoubleBiasAndReLUHaveTheBitsOfSeparatePasses() { check(Double.self) }

    /// The ReLU really is applied (negatives become 0), and the bias really is
    /// added, against a hand-made case: W = [[1, −1]], X = [[1, 2], [3, 1]],
    /// b = [[0.5]] give W·X = [−2, 1], + b = [−1.5, 1.5], ReLU [0, 1.5].
    func testHandWorkedCase() {
        let w = Tensor<Float>(shape: [1, 2], scalars: [1, -1]), x = Tensor<Float>(shape: [2, 2], scalars: [1, 2, 3, 1])
        let b = Tensor<Float>(shape: [1, 1], scalars: [0.5])
        for rung in Self.rungs {
            XCTAssertEqual(linear(w, x, b, rung: rung).scalars, [-1.5, 1.5], "\(String(describing: rung))")
            XCTAssertEqual(linear(w, x, b, activation: .relu, rung: rung).scalars, [0, 1.5], "\(String(describing: rung))")
        }
    }

    /// On the tape: with ReLU the node's value and gradients are those of
    /// `relu(linear(W, X, b))`, recorded or not; the recorded form keeps the
    /// notes' relu′(0) = 1 (a column of X of zeros and a zero bias give z = 0).
    func testTapeFormMatchesComposition() {
        var g = RandomGenerator(seed: 7)
        let W = Tensor<Double>(randomNormal: [5, 4], generator: &g), b = Tensor<Double>(randomNormal: [5, 1], generator: &g)
        var X = Tensor<Double>(randomNormal: [4, 6], generator: &g)
        var bias = b
        bias[0, 0] = 0
        for p in 0..<4 { X[p, 2] = 0 }
        func grads(_ f: ([Variable<Double>]) -> Variable<Double>) -> (Tensor<Double>, [Tensor<Double>]) {
            let v = [W, X, bias].map { Variable($0, requiresGradient: true) }
            let y = f(v)
            square(y).sum().backward()
            return (y.value, v.map { $0.gradient! })
        }
        let (fusedValue, fused) = grads { linear($0[0], $0[1], $0[2], activation: .relu) }
        let (composedValue, composed) = grads { relu(linear($0[0], $0[1], $0[2])) }
        XCTAssertEqual(fusedValue.scalars, composedValue.scalars)
        for (f, c) in zip(fused, composed) { XCTAssertEqual(f.scalars, c.scalars) }
        let unrecorded = withoutGradients { linear(Variable(W), Variable(X), Variable(bias), activation: .relu) }
        XCTAssertEqual(unrecorded.value.scalars, composedValue.scalars)
        XCTAssertFalse(unrecorded.requiresGradient)
    }
}
