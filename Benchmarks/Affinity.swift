#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs `body` with the calling thread bound to the first `count` processors
/// it may run on, then restores its previous set — what the peer scripts'
/// workers do to themselves before they time anything (`shared/bench/common.py`,
/// `pin_threads`: processors `0..<threads`), so that a one-thread row of ours
/// and of a peer run under the same conditions. An unbound single-threaded
/// product can be moved by the scheduler to the other core mid-call, leaving
/// its packed blocks in the first core's L2 (2048³ Float on one thread, five
/// alternations in the twentieth session: bound ahead of unbound in all five,
/// by 0.2–1.7 %). With `count` at least the processors available, or off
/// Linux, `body` just runs. Worker threads of the library are not bound.
func withProcessorAffinity<R>(firstProcessors count: Int, _ body: () throws -> R) rethrows -> R {
#if os(Linux)
    guard let (getAffinity, setAffinity) = affinityCalls else { return try body() }
    var previous = cpu_set_t()
    let size = MemoryLayout<cpu_set_t>.size
    guard getAffinity(0, size, &previous) == 0 else { return try body() }
    // cpu_set_t is an array of words with processor i at bit i % 64 of word i / 64:
    // on a little-endian machine, bit i % 8 of byte i / 8.
    var allowed: [Int] = []
    withUnsafeBytes(of: previous) { bytes in
        for cpu in 0..<(bytes.count * 8) where bytes[cpu / 8] & UInt8(1 << (cpu % 8)) != 0 { allowed.append(cpu) }
    }
    guard count >= 1, count < allowed.count else { return try body() }
    var bound = cpu_set_t()
    withUnsafeMutableBytes(of: &bound) { bytes in
        for cpu in allowed.prefix(count) { bytes[cpu / 8] |= UInt8(1 << (cpu % 8)) }
    }
    guard setAffinity(0, size, &bound) == 0 else {
        warnUnbound("sched_setaffinity failed")
        return try body()
    }
    defer { _ = setAffinity(0, size, &previous) }
    return try body()
#else
    return try body()
#endif
}

#if os(Linux)
private typealias AffinityCall = @convention(c) (Int32, Int, UnsafeMutableRawPointer) -> Int32

/// glibc's `sched_getaffinity` / `sched_setaffinity` (thread id 0: the calling
/// thread), looked up once at run time: `<sched.h>` declares them only under
/// `_GNU_SOURCE`, so Swift's Glibc module does not import them.
private let affinityCalls: (AffinityCall, AffinityCall)? = {
    guard let process = dlopen(nil, RTLD_NOW),
          let get = dlsym(process, "sched_getaffinity"), let set = dlsym(process, "sched_setaffinity") else {
        warnUnbound("sched_getaffinity / sched_setaffinity not found")
        return nil
    }
    return (unsafeBitCast(get, to: AffinityCall.self), unsafeBitCast(set, to: AffinityCall.self))
}()
#endif

/// Says once, on standard error, that cases run unbound — so that a comparison
/// with the peers' bound workers is not taken for a like-for-like one.
private func warnUnbound(_ reason: String) {
    guard !warnedUnbound else { return }
    warnedUnbound = true
    FileHandle.standardError.write("warning: \(reason); cases run with the measuring thread unbound\n".data(using: .utf8)!)
}
nonisolated(unsafe) private var warnedUnbound = false
