import NeuralNetworks
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
    /// Asserts the notes' "great" verdict (relative difference ≤ 1e-7) over a non-empty check.
    func assertGreat(_ report: GradientCheckReport, _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertLessThan(report.relativeDifference, 1e-7, "\(message): \(report)", file: file, line: line)
        XCTAssertEqual(report.verdict, .great, message, file: file, line: line)
        XCTAssertGreaterThan(report.count, 0, file: file, line: line)
    }
}
