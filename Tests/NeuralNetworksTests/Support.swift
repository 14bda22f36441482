import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Debug builds run SIMD code hundreds of times slower, so long training runs
/// are shortened there; release test builds (the README command, run by CI)
/// use the full length.
#if DEBUG
let isReleaseBuild = false
#else
let isReleaseBuild = true
#endif

extension XCTestCase {
    /// Asserts `a ≈ b` elementwise: `|a − b| ≤ tolerance·max(1, |b|)`, reporting the first index that is not.
    func assertClose(_ a: [Double], _ b: [Double], tolerance: Double = 1e-12, _ message: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(a.count, b.count, "\(message): counts", file: file, line: line)
        for (i, (x, y)) in zip(a, b).enumerated() where Swift.abs(x - y) > tolerance * Swift.max(1, Swift.abs(y)) {
            XCTFail("\(message)[\(i)]: \(x) vs reference \(y)", file: file, line: line)
            return
        }
    }

    /// ``assertClose(_:_:tolerance:_:file:line:)`` on a tensor's values.
    func assertClose(_ a: Tensor<Double>, _ b: [Double], tolerance: Double = 1e-12, _ message: String = "",
                     file: StaticString = #filePath, line: UInt = #line) {
        assertClose(a.scalars, b, tolerance: tolerance, message, file: file, line: line)
    }

    /// Asserts the notes' "great" verdict (relative difference ≤ 1e-7) over a non-empty check.
    func assertGreat(_ report: GradientCheckReport, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThan(report.relativeDifference, 1e-7, "\(message): \(report)", file: file, line: line)
        XCTAssertEqual(report.verdict, .great, message, file: file, line: line)
        XCTAssertGreaterThan(report.count, 0, file: file, line: line)
    }
}

/// `model` written to a temporary safetensors file and read back.
func savedAndLoaded<S: TensorScalar>(_ model: Sequential<S>) throws -> Sequential<S> {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("model-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try model.save(to: url)
    return try Sequential<S>.load(from: url)
}
