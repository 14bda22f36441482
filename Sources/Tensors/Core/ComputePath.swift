/// Which implementation every tensor operation uses.
///
/// Each operation has two implementations with the same results up to
/// floating-point rounding:
/// - ``loop``: plain scalar `for` loops on one thread — the readable
///   reference, the "explicit for-loop" version of the course notes;
/// - ``vectorized``: SIMD kernels with fused loops, split across cores with
///   `DispatchQueue.concurrentPerform` above a measured size threshold.
///
/// The path is task-local, so a whole computation switches without changing
/// its code:
///
/// ```swift
/// let reference = ComputePath.$current.withValue(.loop) { model(x) }
/// ```
public enum ComputePath: Sendable, CustomStringConvertible {
    case loop
    case vectorized

    /// The path used by operations on the current task; `.vectorized` by default.
    @TaskLocal public static var current: ComputePath = .vectorized

    public var description: String { self == .loop ? "loop" : "vectorized" }
}

/// Runs `body` with every tensor operation inside it using `path`.
public func withComputePath<R>(_ path: ComputePath, _ body: () throws -> R) rethrows -> R {
    try ComputePath.$current.withValue(path, operation: body)
}

extension ComputePath {
    /// Runs `loop` or `vectorized` according to this path — the one place
    /// where a kernel's two implementations are chosen between. Every kernel
    /// entry point calls `ComputePath.current.run(loop:vectorized:)`.
    @inline(__always)
    func run<R>(loop: () throws -> R, vectorized: () throws -> R) rethrows -> R {
        switch self {
        case .loop: try loop()
        case .vectorized: try vectorized()
        }
    }
}
