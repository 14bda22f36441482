import Dispatch
import Foundation
import Synchronization

/// Thread-level parallelism of the vectorized kernels.
///
/// Work is split into chunks whose boundaries depend only on the problem size,
/// never on the thread count, and each chunk is computed the same way whichever
/// thread runs it, so results are bitwise identical for any ``maxThreads``.
public enum Parallelism {
    /// The number of threads kernels may use on the current task
    /// (default: the active processor count).
    @TaskLocal public static var maxThreads: Int = ProcessInfo.processInfo.activeProcessorCount

    /// Runs `body` with at most `threads` threads per kernel.
    public static func withMaxThreads<R>(_ threads: Int, _ body: () throws -> R) rethrows -> R {
        try $maxThreads.withValue(max(1, threads), operation: body)
    }
}

/// A kernel's per-chunk body, shared by the workers of ``parallelFor(chunks:work:_:)``:
/// chunks write disjoint ranges of the output, which is what makes calling it
/// from several threads at once safe.
struct ChunkBody: @unchecked Sendable {
    let run: (Int) -> Void
}

/// A value the compiler cannot prove sendable, handed to the workers of a
/// parallel kernel: the raw pointers its chunks read and write (each chunk a
/// disjoint range of the output, which is what makes sharing them safe), or a
/// problem description holding such pointers.
struct UncheckedSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}

/// Calls `body(chunk)` for `chunk` in `0..<chunks`, on several threads when
/// `work` (an estimate in elements touched) is large enough to pay for it.
///
/// At most ``Parallelism/maxThreads`` threads run chunks (the caller among
/// them): that many workers each claim the next unclaimed chunk until none is
/// left, so a limit of 3 on a 64-core machine means 3 threads, and uneven
/// chunks still balance. Chunk boundaries come from the caller and never from
/// the thread count, which keeps results bitwise identical for any limit.
///
/// The chunks run on ``WorkerPool``'s threads, which stay awake between
/// kernels (about 1 µs to start a job); while the pool is running another job
/// (a kernel nested in a chunk, or another thread's kernel) they run on
/// Dispatch's `concurrentPerform`, which costs 10–30 µs per call on this class
/// of machine. Below ``parallelThreshold`` elements the kernel stays on one thread.
@inline(__always)
func parallelFor(chunks: Int, work: Int, _ body: (Int) -> Void) {
    let threads = Swift.min(Parallelism.maxThreads, chunks)
    if threads <= 1 || work < parallelThreshold {
        for c in 0..<chunks { body(c) }
        return
    }
    if WorkerPool.shared.run(chunks: chunks, threads: threads, body) { return }
    let next = Atomic<Int>(0)
    withoutActuallyEscaping(body) { body in
        let chunkBody = ChunkBody(run: body)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            while true {
                let c = next.add(1, ordering: .relaxed).oldValue
                if c >= chunks { return }
                chunkBody.run(c)
            }
        }
    }
}

/// Work units a parallel kernel splits a problem into when the pieces may be
/// uneven: a few per core, so a limit below the core count still balances.
let workUnitsPerProblem = 4 * ProcessInfo.processInfo.activeProcessorCount

/// Elements touched below which kernels stay on one thread. Measured with
/// `Benchmarks elementwise` when every parallel kernel paid a Dispatch round:
/// at 256K floats the second thread started paying off. Not re-measured since
/// ``WorkerPool`` made starting a job cheap; a lower value may pay now.
let parallelThreshold = 1 << 18

/// The fixed chunk length (in elements) of the parallel elementwise kernels.
let elementwiseChunk = 1 << 16
