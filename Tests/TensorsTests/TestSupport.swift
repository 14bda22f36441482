import Foundation
import Tensors
import XCTest

/// The numpy reference values written by `Reference/make_reference.py`.
struct Reference: Decodable {
    struct BroadcastCase: Decodable {
        let a_shape: [Int], a: [Double], b_shape: [Int], b: [Double], out_shape: [Int]
        let add: [Double], sub: [Double], mul: [Double], div: [Double], minimum: [Double], maximum: [Double]
    }
    struct AxisReduction: Decodable {
        let axis: Int
        let sum: [Double], mean: [Double], max: [Double], min: [Double], argmax: [Int], `var`: [Double], norm: [Double]
    }
    struct ReductionCase: Decodable {
        let shape: [Int], x: [Double], axes: [AxisReduction]
        let sum: Double, mean: Double, max: Double, `var`: Double, norm: Double
    }
    struct LogisticRegression: Decodable {
        let n_x: Int, m: Int, X: [Double], Y: [Double], w: [Double], b: Double
        let cost: Double, dw: [Double], db: Double, alpha: Double, iterations: Int
        let w_after: [Double], b_after: Double, cost_last: Double
    }
    struct RandomStream: Decodable { let seed: UInt64, outputs: [String] }

    let broadcasting: [BroadcastCase]
    let reductions: [ReductionCase]
    let logistic_regression: LogisticRegression
    let rng: RandomStream

    static let shared: Reference = {
        let url = Bundle.module.url(forResource: "reference", withExtension: "json", subdirectory: "Reference")!
        return try! JSONDecoder().decode(Reference.self, from: Data(contentsOf: url))
    }()
}

/// Asserts `actual ≈ expected` elementwise: `|a − e| ≤ absolute + relative·|e|`, with matching NaNs.
func assertClose<S: TensorScalar>(
    _ actual: Tensor<S>, _ expected: [Double], shape: [Int]? = nil, relative: Double = 1e-5, absolute: Double = 1e-6,
    _ message: @autoclosure () -> String = "", file: StaticString = #filePath, line: UInt = #line
) {
    if let shape { XCTAssertEqual(actual.shape, shape, "shape " + message(), file: file, line: line) }
    XCTAssertEqual(actual.count, expected.count, "count " + message(), file: file, line: line)
    var worst = 0.0, worstIndex = -1
    for (i, (a, e)) in zip(actual.scalars.map(Double.init), expected).enumerated() {
        if a.isNaN && e.isNaN { continue }
        if a == e { continue }
        let excess = Swift.abs(a - e) - (absolute + relative * Swift.abs(e))
        if !(excess <= 0) && (worstIndex < 0 || excess > worst || excess.isNaN) { worst = excess; worstIndex = i }
    }
    if worstIndex >= 0 {
        XCTFail("element \(worstIndex): \(actual.scalars[worstIndex]) vs expected \(expected[worstIndex]) \(message())", file: file, line: line)
    }
}

/// Runs `body` on the loop path and on the vectorized path.
func onBothPaths(_ body: (ComputePath) throws -> Void) rethrows {
    for path in [ComputePath.loop, .vectorized] {
        try withComputePath(path) { try body(path) }
    }
}

/// Runs `body` with each of `kernels` as the process's GEMM micro-kernel
/// (``GEMMConfiguration/kernel``), then restores the calibrated choice.
func withEachGEMMKernel(_ kernels: [GEMMKernel], _ body: (GEMMKernel) -> Void) {
    let saved = GEMMConfiguration.kernel
    defer { GEMMConfiguration.kernel = saved }
    for kernel in kernels {
        GEMMConfiguration.kernel = kernel
        body(kernel)
    }
}

/// Random tensor with a seeded generator.
func randomTensor<S: TensorScalar>(_ shape: [Int], _ g: inout RandomGenerator, scale: S = 1) -> Tensor<S> {
    Tensor<S>(randomNormal: shape, standardDeviation: scale, generator: &g)
}

/// Debug builds run SIMD code 270–800× slower (`swift-performance.md` §6), so
/// the largest problem sizes run only in release test builds (the README's
/// test command, which CI runs too); debug runs the same checks on smaller sizes.
#if DEBUG
let isReleaseBuild = false
#else
let isReleaseBuild = true
#endif
