#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Synchronization

/// How the process's allocator treats the large buffers tensors free.
///
/// A tensor's elements live in a Swift array, allocated with `malloc`. On
/// Linux, glibc serves blocks above its mmap threshold (128 KiB, adapting up
/// to 32 MiB) with fresh `mmap`s and unmaps them on `free`, so every large
/// result — a `(32, 56, 56, 256)` feature map is 103 MB — starts as untouched
/// pages and pays a page fault per 4 KiB on its first write. Measured on the
/// project machine (`swift-performance.md` §3): writing 16M fresh floats took
/// 33–38 ms against 5.5 ms into a reused buffer; a 1×1 convolution producing
/// 103 MB spent over two thirds of its time faulting.
///
/// Blocks below the threshold fault too: once the threshold has adapted to
/// the largest block freed so far, glibc returns the top of its heap to the
/// system whenever more than twice that much lies free there, and the next
/// step grows it again. An LSTM step outside `fit` (`Benchmarks sequence`,
/// rnn.py's shapes: T 50, batch 32, hidden 128) frees 1.6 MB blocks, so the
/// heap is trimmed above 3.2 MB free while a step's temporaries span more:
/// `strace` shows the program break rising and falling by 4.9 MB every step,
/// `perf stat` 450–700 page faults per step, and the step takes 12.5–14.6 ms
/// against 10.7 ms with freed blocks retained. PyTorch's step on the same
/// glibc faults 1–460 times, depending on where its heap stands
/// (`Benchmarks/Peers/lstm_page_faults.py`, six runs, 9.2–13.6 ms a step).
///
/// Setting ``retainsFreedBlocks`` makes glibc serve every block from its heap
/// and keep freed memory there (`M_MMAP_MAX = 0`, a 2 GiB `M_TRIM_THRESHOLD`),
/// so a training loop's steady state reuses the previous step's pages — the
/// configuration of PyTorch's `MALLOC_MMAP_MAX_=0` runs. The price is that
/// freed memory is not returned to the system until this is set back to
/// `false`, which restores glibc's default values (as fixed settings: the
/// adaptive mmap threshold stays off once `mallopt` has been called) and
/// trims the heap. Blocks a worker thread's arena cannot hold still come from
/// `mmap`; the library allocates its results on the calling thread. The setting
/// is process-wide and affects every allocation, not only tensors'; it is off
/// unless you turn it on. On other C libraries it has no effect.
///
/// ```swift
/// TensorMemory.retainsFreedBlocks = true   // at the start of a training program
/// ```
public enum TensorMemory {
    private static let retaining = Atomic<Bool>(false)
    /// Serializes setters, so the allocator's settings and the flag change together.
    private static let settingLock = NSLock()

    /// Whether freed large blocks stay in the heap for reuse (see the type's
    /// documentation); `false` by default.
    public static var retainsFreedBlocks: Bool {
        get { retaining.load(ordering: .acquiring) }
        set {
            settingLock.lock()
            defer { settingLock.unlock() }
            #if canImport(Glibc)
            if let glibc = GlibcMalloc() {
                if newValue {
                    _ = glibc.mallopt(GlibcMalloc.mmapMax, 0)
                    _ = glibc.mallopt(GlibcMalloc.trimThreshold, Int32.max)
                } else {
                    _ = glibc.mallopt(GlibcMalloc.mmapMax, 65_536)   // glibc's default values
                    _ = glibc.mallopt(GlibcMalloc.mmapThreshold, 128 * 1024)
                    _ = glibc.mallopt(GlibcMalloc.trimThreshold, 128 * 1024)
                    _ = glibc.trim(0)
                }
            }
            #endif
            retaining.store(newValue, ordering: .releasing)
        }
    }
}

#if canImport(Glibc)
/// glibc's `mallopt` and `malloc_trim`, looked up at run time: they are
/// declared in `<malloc.h>`, which the toolchain's Glibc module does not
/// import. Absent (another C library), the policy is a no-op.
private struct GlibcMalloc {
    // <malloc.h>
    static let trimThreshold: Int32 = -1, mmapThreshold: Int32 = -3, mmapMax: Int32 = -4

    let mallopt: @convention(c) (Int32, Int32) -> Int32
    let trim: @convention(c) (Int) -> Int32

    init?() {
        guard let handle = dlopen(nil, RTLD_NOW),
              let mallopt = dlsym(handle, "mallopt"), let trim = dlsym(handle, "malloc_trim") else { return nil }
        self.mallopt = unsafeBitCast(mallopt, to: (@convention(c) (Int32, Int32) -> Int32).self)
        self.trim = unsafeBitCast(trim, to: (@convention(c) (Int) -> Int32).self)
    }
}
#endif
