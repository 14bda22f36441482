import Foundation
import XCTest
import Tensors

/// The same inputs give the same bits in every process: two separate runs of
/// one training program (blocked parallel GEMM, batch norm, dropout, Adam)
/// end with bitwise-equal parameters and byte-identical model files.
final class ReproducibilityTests: XCTestCase {
    /// Runs the probe's training program; `kernel` names the GEMM micro-kernel
    /// (`TENSORS_GEMM_KERNEL`), otherwise the process calibrates its own.
    func run(_ file: URL, kernel: String? = nil) throws -> String {
        let process = Process()
        process.executableURL = Bundle(for: Self.self).bundleURL.appendingPathComponent("probe")
        process.arguments = ["train", file.path]
        if let kernel {
            process.environment = ProcessInfo.processInfo.environment.merging(["TENSORS_GEMM_KERNEL": kernel]) { $1 }
        }
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
        // Each run prints "<hash of every parameter's bits> <GEMM kernel>". The calibration picks
        // the 12- or the 6-row tile on timing, and on a loaded machine or in a sanitizer build two
        // processes can pick differently (seen in CI): both tiles add every product's terms in the
        // same order, so the bits must not depend on it. The second process is therefore given the
        // other tile of the first one's family (fused or separate multiply-add, which round
        // differently and are told apart on a 2× gap).
        let a = try run(first).split(separator: " ")
        XCTAssertEqual(a.count, 2)
        guard a.count == 2, let chosen = GEMMKernel(rawValue: String(a[1]).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            return XCTFail("probe output: \(a)")
        }
        let other: GEMMKernel = switch chosen {
        case .fma12x32: .fma6x16
        case .fma6x16: .fma12x32
        case .mulAdd12x32: .mulAdd6x16
        case .mulAdd6x16: .mulAdd12x32
        }
        let b = try run(second, kernel: other.rawValue).split(separator: " ")
        XCTAssertEqual(b.count, 2)
        XCTAssertEqual(b.last.map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }, other.rawValue)
        XCTAssertEqual(a.first, b.first, "parameter bits with \(chosen.rawValue) and \(other.rawValue)")
        XCTAssertEqual(try Data(contentsOf: first), try Data(contentsOf: second), "model files")
    }
}
