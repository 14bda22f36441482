import Dispatch
import Foundation
import Synchronization

/// Worker threads that stay awake between kernels, so that a parallel kernel
/// costs about a microsecond to start instead of a Dispatch round.
///
/// `DispatchQueue.concurrentPerform` wakes its worker threads for every call
/// and they park again when it returns; on this class of machine (a virtual
/// machine, where waking a thread takes an inter-processor interrupt through
/// the hypervisor) that costs 10–30 µs per call — more than the whole work of
/// a 128 × 256 × 128 product (40 µs on one core became 61–77 µs on two). A
/// training step runs dozens of such kernels back to back. Here the workers,
/// between jobs, spin on the job word for ``spinSeconds`` and only then sleep
/// on a semaphore, as OpenMP runtimes and XNNPACK's pthreadpool do.
///
/// One job runs at a time. A job is `chunks` calls of one body; the caller
/// and the workers claim chunks from a single atomic word, so which thread
/// runs a chunk never changes what it computes. The word holds the job's
/// number, its chunk count and the next unclaimed chunk, and a chunk is
/// claimed by compare-and-swap on the whole word: a worker that fell behind
/// (still looking at a finished job) can never claim a chunk of the wrong job,
/// and the body pointer it then reads is the live job's. While a job runs,
/// other callers — a kernel nested inside a chunk, or another thread's kernel
/// — get `false` from ``run(chunks:threads:_:)`` and use Dispatch as before.
final class WorkerPool: @unchecked Sendable {
    static let shared = WorkerPool(workers: ProcessInfo.processInfo.activeProcessorCount - 1)

    /// Chunk counts must fit in the job word's 20-bit fields.
    static let maxChunks = 1 << 20 - 1
    /// How long an idle worker keeps checking for the next job before it sleeps:
    /// 0.5 ms, or the environment variable `TENSORS_SPIN_SECONDS` (0 sleeps at once,
    /// as OpenMP's `OMP_WAIT_POLICY=passive` does, for machines shared with other work).
    static let spinSeconds: Double = {
        guard let text = ProcessInfo.processInfo.environment["TENSORS_SPIN_SECONDS"], let value = Double(text),
              value.isFinite else { return 0.0005 }
        return Swift.min(Swift.max(value, 0), 1)
    }()

    private static let fieldBits: UInt64 = 20
    private static let fieldMask: UInt64 = (1 << 20) - 1

    /// `job << 40 | chunks << 20 | next`.
    private let word = Atomic<UInt64>(0)
    /// The address of the current job's ``ChunkBody`` (valid while the job has unclaimed or running chunks).
    private let body = Atomic<UInt>(0)
    /// Chunks of the current job that have finished.
    private let finished = Atomic<Int>(0)
    /// `job << 32 | seats`: how many more workers may join job `job`
    /// (``Parallelism/maxThreads`` − 1 at the start); a seat is taken by
    /// compare-and-swap while the job number matches, so a worker that fell
    /// behind can never take a seat of a later job.
    private let seats = Atomic<UInt64>(0)
    /// Held by the caller whose job is running.
    private let busy = Atomic<Bool>(false)
    /// Workers asleep (or about to sleep) on `wakeUp`.
    private let sleepers = Atomic<Int>(0)
    private let wakeUp = DispatchSemaphore(value: 0)
    private let started = Atomic<Bool>(false)
    /// The last job number; only the holder of `busy` changes it.
    private let lastJob = Atomic<UInt64>(0)
    let workers: Int

    init(workers: Int) {
        self.workers = Swift.max(0, workers)
    }

    /// Runs `body(c)` for `c` in `0..<chunks` on the caller and up to
    /// `threads − 1` workers, and returns `true` once every chunk has finished;
    /// returns `false` without running anything when another job holds the pool.
    func run(chunks: Int, threads: Int, _ body: (Int) -> Void) -> Bool {
        guard workers > 0, chunks > 0, chunks <= Self.maxChunks,
              busy.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged
        else { return false }
        defer { busy.store(false, ordering: .releasing) }
        startWorkersIfNeeded()
        withoutActuallyEscaping(body) { body in
            var chunkBody = ChunkBody(run: body)
            withUnsafeMutablePointer(to: &chunkBody) { pointer in
                let job = (lastJob.load(ordering: .relaxed) + 1) & ((1 << 24) - 1)
                lastJob.store(job, ordering: .relaxed)
                finished.store(0, ordering: .relaxed)
                seats.store(job << 32 | UInt64(Swift.max(0, threads - 1)), ordering: .relaxed)
                self.body.store(UInt(bitPattern: pointer), ordering: .relaxed)
                word.store(job << 40 | UInt64(chunks) << Self.fieldBits, ordering: .sequentiallyConsistent)
                if sleepers.load(ordering: .sequentiallyConsistent) > 0 {
                    for _ in 0..<sleepers.exchange(0, ordering: .sequentiallyConsistent) { wakeUp.signal() }
                }
                claimAndRun(job: job)
                var spins = 0
                while finished.load(ordering: .acquiring) < chunks {
                    spins += 1
                    if spins > 1 << 14 { sched_yield() }   // a worker holding a chunk is not running: give way
                }
            }
        }
        return true
    }

    /// Claims and runs chunks of job `job` until none is left (or a later job
    /// has replaced it: a worker joins a job only through a seat).
    @inline(__always)
    private func claimAndRun(job: UInt64) {
        while true {
            let current = word.load(ordering: .acquiring)
            let chunks = (current >> Self.fieldBits) & Self.fieldMask, next = current & Self.fieldMask
            if current >> 40 != job || next >= chunks { return }
            if word.compareExchange(expected: current, desired: current + 1, ordering: .acquiringAndReleasing).exchanged {
                // The job cannot finish before this chunk does, so `body` still points at its body.
                let pointer = UnsafePointer<ChunkBody>(bitPattern: body.load(ordering: .relaxed))!
                pointer.pointee.run(Int(next))
                finished.add(1, ordering: .releasing)
            }
        }
    }

    /// Takes one of job `job`'s seats; `false` when none is left or the job is over.
    private func takeSeat(job: UInt64) -> Bool {
        while true {
            let current = seats.load(ordering: .relaxed)
            if current >> 32 != job || current & 0xFFFF_FFFF == 0 { return false }
            if seats.compareExchange(expected: current, desired: current - 1, ordering: .relaxed).exchanged { return true }
        }
    }

    private func startWorkersIfNeeded() {
        guard !started.load(ordering: .acquiring),
              started.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged
        else { return }
        for index in 0..<workers {
            let thread = Thread { [self] in workerLoop() }
            thread.name = "Tensors worker \(index + 1)"
            thread.stackSize = 8 << 20
            thread.start()
        }
    }

    private func workerLoop() {
        var seen: UInt64 = 0
        while true {
            // Wait for a job newer than `seen`: spin for a while, then sleep.
            var current = word.load(ordering: .acquiring)
            var spins = 0
            var deadline: UInt64 = 0
            while current >> 40 == seen {
                spins += 1
                if spins & 255 == 0 {
                    let now = DispatchTime.now().uptimeNanoseconds
                    if deadline == 0 {
                        deadline = now + UInt64(Self.spinSeconds * 1e9)
                    } else if now > deadline {
                        sleepers.add(1, ordering: .sequentiallyConsistent)
                        if word.load(ordering: .sequentiallyConsistent) >> 40 == seen { wakeUp.wait() }
                        deadline = 0
                    }
                }
                current = word.load(ordering: .acquiring)
            }
            seen = current >> 40
            if takeSeat(job: seen) { claimAndRun(job: seen) }
        }
    }
}
