#if canImport(Glibc)
import Glibc
#endif
import Tensors
import XCTest

final class TensorMemoryTests: XCTestCase {
    /// Minor page faults of this process so far.
    private func minorFaults() -> Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_minflt
    }

    /// Under a sanitizer the allocator is the sanitizer's and `mallopt` does nothing.
    private var underSanitizer: Bool { dlsym(dlopen(nil, RTLD_NOW), "__sanitizer_print_stack_trace") != nil }

    /// A 64 MiB result written twice: without retention glibc maps fresh pages
    /// both times (16,384 faults each); with it the second result reuses the
    /// first one's pages. The values are the same either way.
    func testRetainedBlocksAreReusedWithoutPageFaults() {
        let shape = [4096, 4096]   // 64 MiB of Float: above glibc's largest mmap threshold
        func faultsOfOneResult() -> (faults: Int, sum: Float) {
            let x = Tensor<Float>(shape: [1, 4096], repeating: 0.5)
            let before = minorFaults()
            let y = x + Tensor<Float>(shape: shape, repeating: 1)   // two 64 MiB blocks written
            let faults = minorFaults() - before
            let last: Float = y[4095, 4095]
            return (faults, last)
        }
        TensorMemory.retainsFreedBlocks = false   // (a training test may have turned it on)
        defer { TensorMemory.retainsFreedBlocks = false }
        XCTAssertFalse(TensorMemory.retainsFreedBlocks)
        _ = faultsOfOneResult()
        let fresh = faultsOfOneResult()
        TensorMemory.retainsFreedBlocks = true
        XCTAssertTrue(TensorMemory.retainsFreedBlocks)
        _ = faultsOfOneResult()   // the first blocks from the heap fault once
        let reused = faultsOfOneResult()
        XCTAssertEqual(fresh.sum, 1.5)
        XCTAssertEqual(reused.sum, 1.5)
        if !underSanitizer {
            XCTAssertGreaterThan(fresh.faults, 2 * 16_000, "a fresh 64 MiB block faults in every 4 KiB page")
            XCTAssertLessThan(reused.faults, 2_000, "retained blocks are reused: \(reused.faults) faults")
        }
        TensorMemory.retainsFreedBlocks = false
        XCTAssertFalse(TensorMemory.retainsFreedBlocks)
    }
}
