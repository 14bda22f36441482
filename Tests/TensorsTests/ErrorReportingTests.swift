import Foundation
import XCTest

/// Misuse stops the program with a message naming the operation and the
/// shapes — in the build the tests run in, release included (`swift test -c
/// release` builds `probe` optimized). `precondition` would print nothing
/// under -O; the library reports with `fatalError`, which keeps its text.
final class ErrorReportingTests: XCTestCase {
    func standardError(of argument: String) throws -> (status: Int32, text: String) {
        let binary = Bundle(for: Self.self).bundleURL.appendingPathComponent("probe")
        let process = Process()
        process.executableURL = binary
        process.arguments = [argument]
        // Swift's crash backtracer would inherit the pipe and hold it open
        // (under the address sanitizer it never exits): the message is what is tested.
        var environment = ProcessInfo.processInfo.environment
        environment["SWIFT_BACKTRACE"] = "enable=no"
        environment["TENSORS_QUIET"] = nil   // the debug-build notice is under test
        process.environment = environment
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = Pipe()
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    func testBadAddNamesTheOperationAndBothShapes() throws {
        let (status, text) = try standardError(of: "add")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("add: shapes [2, 3] and [4] cannot be broadcast"), text)
    }

    func testBadMatmulNamesTheOperationAndBothShapes() throws {
        let (status, text) = try standardError(of: "matmul")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("matmul") && text.contains("[2, 3]") && text.contains("[4, 5]"), text)
    }

    func testBadLinearNamesTheOperationAndTheThreeShapes() throws {
        let (status, text) = try standardError(of: "linear")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("linear: needs W (n, n_prev), X (n_prev, m), b (n, 1); got W [2, 3], X [3, 5], b [3, 1]"), text)
    }

    func testBadCrossEntropyNamesTheOperationAndBothShapes() throws {
        let (status, text) = try standardError(of: "crossentropy")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("softmaxCrossEntropy: logits [2, 3] and labels [3, 2] must have one shape of rank ≥ 1"), text)
    }

    func testBadAxisNamesTheOperationAndTheShape() throws {
        let (status, text) = try standardError(of: "axis")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("sum: axis 2 is out of range for shape [2, 3]"), text)
    }

    func testBadTopKNamesTheOperationTheAxisAndTheShape() throws {
        let (status, text) = try standardError(of: "topk")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("topK: k = 4 is not in 1...3, the length of axis -1 of shape [2, 3]"), text)
    }

    func testBadPowNamesTheOperationAndBothShapes() throws {
        let (status, text) = try standardError(of: "pow")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("pow: shapes [2, 3] and [4] cannot be broadcast"), text)
    }

    func testBadBatchNormalizationNamesTheOperationAndTheShapes() throws {
        let (status, text) = try standardError(of: "batchnorm")
        XCTAssertNotEqual(status, 0)
        XCTAssertTrue(text.contains("batchNormalization") && text.contains("x [2, 3], feature axis 1, gamma [2], beta [3]"), text)
    }

    /// A build without optimization says so once, at its first heavy product;
    /// an optimized build says nothing.
    func testDebugBuildsSayThatTheyAreSlowOnce() throws {
        let (status, text) = try standardError(of: "products")
        XCTAssertEqual(status, 0)
        let notices = text.components(separatedBy: "this is a debug build").count - 1
        #if DEBUG
        XCTAssertEqual(notices, 1, text)
        #else
        XCTAssertEqual(notices, 0, text)
        #endif
    }
}
