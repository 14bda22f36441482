import Synchronization

/// Cache-line helpers for kernels that sweep memory in an order the hardware
/// prefetcher does not follow: a
/// sequential pass ahead of a strided sweep brings the lines in as one
/// stream, at full bandwidth, instead of one latency-bound miss at a time.
enum CacheLines {
    /// Asks for the 64-byte line holding `p` to come into the caches (x86
    /// `prefetcht0`) without waiting for it: unlike ``touch(_:bytes:)``'s loads,
    /// the instruction retires at once, so fetching overlaps the arithmetic.
    @inline(__always)
    static func prefetch(_ p: UnsafeRawPointer) { llvmPrefetch(p, 0, 3, 1) }

    /// ``prefetch(_:)`` of every 64-byte line of `bytes` bytes from `p`.
    @inline(__always)
    static func prefetch(_ p: UnsafeRawPointer, bytes: Int) {
        for offset in stride(from: 0, to: bytes, by: 64) { prefetch(p + offset) }
    }

    /// ``prefetch(_:)`` of a line about to be written (`prefetchw`: it arrives owned).
    @inline(__always)
    static func prefetchForWriting(_ p: UnsafeRawPointer) { llvmPrefetch(p, 1, 3, 1) }

    /// Where ``touch(_:bytes:)`` leaves its folded words, so the loads cannot be optimized away.
    private static let sink = Atomic<UInt32>(0)

    /// Reads one word of every 64-byte line in `bytes` bytes from `p`, so the
    /// lines are in cache before a strided sweep.
    @inline(__always)
    static func touch(_ p: UnsafeRawPointer, bytes: Int) {
        var folded: UInt32 = 0
        for offset in stride(from: 0, to: bytes, by: 64) { folded ^= p.load(fromByteOffset: offset, as: UInt32.self) }
        sink.store(folded, ordering: .relaxed)   // keeps the loads
    }

    /// ``touch(_:bytes:)`` of `bytes` bytes from `p`, and in the same loop
    /// zeroes the first word of every 64-byte line of the `clearBytes` bytes
    /// at `q`, a region the caller is about to overwrite whole: its lines
    /// arrive owned, in one sequential stream beside the read one, and a
    /// fresh page faults once (reading it first would map the zero page, and
    /// the first store would fault again).
    @inline(__always)
    static func touchAndClear(_ p: UnsafeRawPointer, bytes: Int, _ q: UnsafeMutableRawPointer, bytes clearBytes: Int) {
        var folded: UInt32 = 0
        let both = Swift.min(bytes, clearBytes)
        for offset in stride(from: 0, to: both, by: 64) {
            folded ^= p.load(fromByteOffset: offset, as: UInt32.self)
            q.storeBytes(of: 0, toByteOffset: offset, as: UInt32.self)
        }
        for offset in stride(from: both, to: bytes, by: 64) { folded ^= p.load(fromByteOffset: offset, as: UInt32.self) }
        for offset in stride(from: both, to: clearBytes, by: 64) { q.storeBytes(of: 0, toByteOffset: offset, as: UInt32.self) }
        sink.store(folded, ordering: .relaxed)
    }
}

/// The rows a kernel will read next (`input`, none when nil) and write next
/// (`output`), prefetched in `groups` equal slices while it computes the
/// current row, so their lines arrive during the arithmetic instead of in a
/// pass of their own before it.
struct RowPrefetch {
    let input: UnsafeRawPointer?, inputBytes: Int, output: UnsafeRawPointer, outputBytes: Int, groups: Int
    /// Bytes per slice, whole lines (computed once, not per call).
    private let inputSlice: Int, outputSlice: Int

    init(input: UnsafeRawPointer?, inputBytes: Int, output: UnsafeRawPointer, outputBytes: Int, groups: Int) {
        (self.input, self.inputBytes, self.output, self.outputBytes, self.groups) = (input, inputBytes, output, outputBytes, groups)
        let slices = Swift.max(1, groups)
        (inputSlice, outputSlice) = ((inputBytes / slices + 63) & ~63, (outputBytes / slices + 63) & ~63)
    }

    /// Prefetches slice `group` (of `0..<groups`) of both regions.
    @inline(__always)
    func fetch(group: Int) {
        if let input {
            let start = group * inputSlice, end = group == groups - 1 ? inputBytes : Swift.min(inputBytes, start + inputSlice)
            CacheLines.prefetch(input + start, bytes: end - start)
        }
        let start = group * outputSlice, end = group == groups - 1 ? outputBytes : Swift.min(outputBytes, start + outputSlice)
        for offset in stride(from: start, to: end, by: 64) { CacheLines.prefetchForWriting(output + offset) }
    }
}

#if !TENSORS_NO_LLVM_INTRINSICS
/// LLVM's `llvm.prefetch(address, write, locality, data cache)`, which Swift
/// does not expose: declared under its LLVM name, the call compiles to the
/// instruction itself (checked in optimized, debug and address-sanitizer builds).
@_silgen_name("llvm.prefetch.p0")
private func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ dataCache: Int32)
#else
/// Builds that define `TENSORS_NO_LLVM_INTRINSICS` drop the hint: the thread
/// sanitizer's instrumentation turns calls into `invoke`s, which LLVM refuses
/// for intrinsics (`.ci/sanitizers thread` defines it).
@inline(__always)
private func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ dataCache: Int32) {}
#endif
