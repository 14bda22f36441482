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
        // 330³ multiply-adds: the direct kernel on pieces of C; 520³: above the direct limit,
        // so the packed, blocked kernel runs.
        for n in isReleaseBuild ? [330, 520] : [330] {
            let a = Tensor<Float>(randomNormal: [n, n], generator: &g), b = Tensor<Float>(randomNormal: [n, n + 1], generator: &g)
            let one = Parallelism.withMaxThreads(1) { matmul(a, b) }
            for limit in [2, 3] { XCTAssertEqual(Parallelism.withMaxThreads(limit) { matmul(a, b) }, one, "n \(n), limit \(limit)") }
        }
    }

    /// Thousands of jobs back to back on the worker pool (workers spinning, then
    /// asleep and woken): every chunk of every job runs exactly once.
    /// No job ever runs on more threads than it allows, even with more workers
    /// than seats and jobs published while workers are still leaving the last one.
    func testWorkerPoolRunsEveryChunkOfEveryJobOnce() {
        let pool = WorkerPool(workers: 3)
        for job in 0..<3_000 {
            let chunks = 1 + job % 7, threads = 1 + job % 3
            let runs = Locked((counts: [Int](repeating: 0, count: chunks), threads: Set<UInt>()))
            XCTAssertTrue(pool.run(chunks: chunks, threads: threads) { c in
                let me = UInt(pthread_self())
                runs.withLock { $0.counts[c] += 1; $0.threads.insert(me) }
            })
            let (counts, used) = runs.withLock { ($0.counts, $0.threads.count) }
            XCTAssertEqual(counts, [Int](repeating: 1, count: chunks), "job \(job)")
            XCTAssertLessThanOrEqual(used, threads, "job \(job)")
            if job % 1_000 == 999 { Thread.sleep(forTimeInterval: 0.01) }   // longer than the spin: the workers sleep
        }
    }

    /// A kernel inside a chunk (the pool is busy) and kernels from several threads at
    /// once fall back to Dispatch and still give the one-thread bits.
    func testNestedAndConcurrentKernelsGiveTheSameBits() {
        var g = RandomGenerator(seed: 5)
        let a = Tensor<Float>(randomNormal: [200, 300], generator: &g), b = Tensor<Float>(randomNormal: [300, 250], generator: &g)
        let expected = Parallelism.withMaxThreads(1) { matmul(a, b) }
        let nested = Locked([Tensor<Float>?](repeating: nil, count: 4))
        parallelFor(chunks: 4, work: Int.max) { c in
            let product = matmul(a, b)
            nested.withLock { $0[c] = product }
        }
        for product in nested.withLock({ $0 }) { XCTAssertEqual(product, expected) }
        let concurrent = Locked([Tensor<Float>?](repeating: nil, count: 4))
        DispatchQueue.concurrentPerform(iterations: 4) { i in
            let product = matmul(a, b)
            concurrent.withLock { $0[i] = product }
        }
        for product in concurrent.withLock({ $0 }) { XCTAssertEqual(product, expected) }
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
