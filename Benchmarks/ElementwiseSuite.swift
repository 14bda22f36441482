import Dispatch
import Foundation
import Tensors

/// Memory-bound kernels, the cases of `shared/bench/elementwise.py`: GB/s
/// counting each input read once and the output written once.
func elementwiseSuite(_ h: inout Harness) {
    h.note("\n== elementwise: Float throughput (into = existing output, alloc = new tensor) ==")
    var g = RandomGenerator(seed: 2)
    let n = 16 << 20
    let x = Tensor<Float>(randomNormal: [n], generator: &g)
    var out = Tensor<Float>.zeros([n])
    let bytes = 8 * Double(n)
    // The yardstick runs on as many threads as the kernels it judges (they split
    // 16M elements over every core), each thread copying one contiguous share.
    let threads = Parallelism.maxThreads
    let copy = h.measure("elementwise", "copy (memory yardstick)", variant: "into, \(threads) threads", shape: "16M",
                         metric: .gbPerSecond, work: bytes) {
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                let from = SendableAddress(src.baseAddress!), to = SendableAddress(dst.baseAddress!)
                let share = (n + threads - 1) / threads
                DispatchQueue.concurrentPerform(iterations: threads) { t in
                    let start = t * share, count = Swift.min(share, n - start)
                    if count > 0 { (to.value + start).update(from: from.value + start, count: count) }
                }
            }
        }
    }
    let functions: [(String, (Tensor<Float>, inout Tensor<Float>) -> Void)] = [
        ("exp", { exp($0, into: &$1) }), ("sigmoid", { sigmoid($0, into: &$1) }),
        ("tanh", { tanh($0, into: &$1) }), ("relu", { relu($0, into: &$1) }),
    ]
    for (name, f) in functions where h.selects(name) {
        let m = h.measure("elementwise", name, variant: "into", shape: "16M", metric: .gbPerSecond, work: bytes) { f(x, &out) }
        if !copy.median.isNaN {
            h.note("  \(pad("→ \(name) into", 32)) " + String(format: "%.2f× copy speed", copy.median / m.median))
        }
    }
    // "alloc" returns a new 64 MiB tensor each call: glibc maps allocations this large fresh from the
    // kernel and every page faults in on first touch, so this row is allocation plus page faults — what
    // numpy's and PyTorch's default (no `out=`) calls pay too — not the kernel.
    h.measure("elementwise", "sigmoid", variant: "alloc", shape: "16M", metric: .gbPerSecond, work: bytes) { consume(sigmoid(x)) }

    // (256, 4096) is elementwise.py's shape: 4 MiB, so it stays in the caches (L2 + L3). The same
    // operations on (4096, 8192), 128 MiB, stream from DRAM.
    for (rows, columns, label) in [(256, 4096, "256x4096 (4 MiB, cache-resident)"), (4096, 8192, "4096x8192 (128 MiB, DRAM)")] {
        var Z = Tensor<Float>(randomNormal: [rows, columns], generator: &g)
        let b = Tensor<Float>(randomNormal: [rows, 1], generator: &g)
        let matrixBytes = 4 * Double(rows * columns)
        h.measure("elementwise", "bias add (n,1)+(n,m)", variant: "alloc", shape: label, metric: .gbPerSecond,
                  work: 2 * matrixBytes + 4 * Double(rows)) { consume(Z + b) }
        h.measure("elementwise", "bias add (n,1)+(n,m)", variant: "in place +=", shape: label, metric: .gbPerSecond,
                  work: 2 * matrixBytes + 4 * Double(rows)) { Z += b }
        h.measure("elementwise", "sum(axis=1,keepdims)", variant: "alloc", shape: label, metric: .gbPerSecond,
                  work: matrixBytes + 4 * Double(rows)) { consume(Z.sum(axis: 1, keepingDimensions: true)) }
        h.measure("elementwise", "softmax over columns", variant: "alloc", shape: label, metric: .gbPerSecond,
                  work: 2 * matrixBytes) { consume(softmax(Z, axis: 0)) }
        h.measure("elementwise", "softmax over rows", variant: "alloc", shape: label, metric: .gbPerSecond,
                  work: 2 * matrixBytes) { consume(softmax(Z, axis: 1)) }
        h.measure("elementwise", "max(axis=0,keepdims)", variant: "alloc", shape: label, metric: .gbPerSecond,
                  work: matrixBytes) { consume(Z.max(axis: 0, keepingDimensions: true)) }
        h.measure("elementwise", "sum(axis=0,keepdims)", variant: "alloc", shape: label, metric: .gbPerSecond,
                  work: matrixBytes) { consume(Z.sum(axis: 0, keepingDimensions: true)) }
    }
}

/// A raw address the copy workers share; each writes a disjoint range.
struct SendableAddress<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
