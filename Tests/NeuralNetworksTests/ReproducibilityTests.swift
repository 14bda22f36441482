import Foundation
import XCTest

/// The same inputs give the same bits in every process: two separate runs of
/// one training program (blocked parallel GEMM, batch norm, dropout, Adam)
/// end with bitwise-equal parameters and byte-identical model files.
final class ReproducibilityTests: XCTestCase {
    func run(_ file: URL) throws -> String {
        let process = Process()
        process.executableURL = Bundle(for: Self.self).bundleURL.appendingPathComponent("probe")
        process.arguments = ["train", file.path]
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
        return String(decoding: data, as: UTF8.self)
    }

    func testTwoProcessesTrainTheSameBits() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("repro-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let first = directory.appendingPathComponent("first.safetensors"), second = directory.appendingPathComponent("second.safetensors")
        let a = try run(first), b = try run(second)
        XCTAssertFalse(a.isEmpty)
        XCTAssertEqual(a, b, "parameter bits (and the GEMM kernel each process chose)")
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second), "model files")
    }
}
