import Foundation
@testable import Tensors
import XCTest

/// `Parallelism.maxThreads` is a limit that holds: no more threads than it
/// ever run the chunks of a kernel, and every chunk runs exactly once.
final class ParallelismTests: XCTestCase {
    func threadsUsed(limit: Int, chunks: Int) -> (threads: Int, runs: [Int]) {
        let seen = Locked<(threads: Set<UInt>, runs: [Int])>(([], [Int](repeating: 0, count: chunks)))
        Parallelism.withMaxThreads(limit) {
            parallelFor(chunks: chunks, work: Int.max) { c in
                // A little work per chunk so that other workers get to claim some.
                var x = 0.0
                for i in 0..<20_000 { x += Double(i & 7) }
                let me = UInt(pthread_self())
                seen.withLock { $0.threads.insert(me); $0.runs[c] += Int(x > 0 ? 1 : 0) }
            }
        }
        return seen.withLock { ($0.threads.count, $0.runs) }
    }

    func testNoMoreThreadsThanTheLimit() {
        for limit in [1, 2, 3] {
            for chunks in [1, 5, 64] {
                let (threads, runs) = threadsUsed(limit: limit, chunks: chunks)
                XCTAssertLessThanOrEqual(threads, limit, "limit \(limit), \(chunks) chunks")
                XCTAssertEqual(runs, [Int](repeating: 1, count: chunks), "every chunk exactly once")
            }
        }
        XCTAssertEqual(threadsUsed(limit: 1, chunks: 64).threads, 1)
    }

    /// Whatever the limit, a large product gives the same bits.
    func testResultsDoNotDependOnTheLimit() {
        var g = RandomGenerator(seed: 4)
        // 330³ multiply-adds: above the blocking limit, so the packed, blocked kernel runs.
        let a = Tensor<Float>(randomNormal: [330, 330], generator: &g), b = Tensor<Float>(randomNormal: [330, 331], generator: &g)
        let one = Parallelism.withMaxThreads(1) { matmul(a, b) }
        for limit in [2, 3] { XCTAssertEqual(Parallelism.withMaxThreads(limit) { matmul(a, b) }, one, "limit \(limit)") }
    }
}

/// A value behind an `NSLock` (which the thread sanitizer understands).
final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let lock = NSLock()
    init(_ value: Value) { self.value = value }
    func withLock<R>(_ body: (inout Value) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}
