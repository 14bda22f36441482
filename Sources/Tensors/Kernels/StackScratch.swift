/// Stack scratch for kernels: `capacity` values of `T`, aligned for `T`, for
/// the duration of `body`. Keep it to 1 KiB.
///
/// `withUnsafeTemporaryAllocation` allocates on the stack only when the
/// alignment asked for is at most the platform's minimum heap alignment (16
/// bytes on x86-64) and, on Linux, the size at most 1 KiB (larger sizes ask
/// the runtime whether the stack has room, and there the answer is no);
/// otherwise it calls `posix_memalign` and `free` on every call. The 12-row
/// micro-kernel's edge tile (24 × `SIMD16<Float>` = 1.5 KiB) and every
/// packing-pool buffer under 16 KiB (asked 64-byte aligned) were heap
/// allocations per call: at 64 × 64 × 64 they were 3–4 % of the product's
/// time (`malloc_consolidate`, `_int_malloc`, `_int_free` in the profile;
/// 0.3 % left now, the 3 KiB panel `malloc`ed). This asks for 16-byte
/// alignment and rounds the start up itself when `T` needs more.
@inline(__always)
func withStackScratch<T, R>(of _: T.Type, capacity: Int, _ body: (UnsafeMutablePointer<T>) -> R) -> R {
    withStackScratch(byteCount: capacity * MemoryLayout<T>.stride, alignment: MemoryLayout<T>.alignment) { raw in
        body(raw.bindMemory(to: T.self, capacity: capacity))
    }
}

/// ``withStackScratch(of:capacity:_:)`` in bytes, aligned to `alignment`
/// (a power of two); on the stack while `byteCount` plus the rounding
/// (`alignment − 16` when over 16) is at most 1 KiB.
@inline(__always)
func withStackScratch<R>(byteCount: Int, alignment: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
    let extra = Swift.max(0, alignment - 16)
    return withUnsafeTemporaryAllocation(byteCount: Swift.max(1, byteCount) + extra, alignment: 16) { raw in
        body(extra == 0 ? raw.baseAddress! : raw.baseAddress!.alignedUp(toMultipleOf: alignment))
    }
}
