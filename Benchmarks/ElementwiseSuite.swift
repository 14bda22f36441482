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
    let copy = h.measure("elementwise", "copy (memory yardstick)", variant: "into", shape: "16M", metric: .gbPerSecond, work: bytes) {
        x.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in dst.baseAddress!.update(from: src.baseAddress!, count: n) }
        }
    }
    let functions: [(String, (Tensor<Float>, inout Tensor<Float>) -> Void)] = [
        ("exp", { exp($0, into: &$1) }), ("sigmoid", { sigmoid($0, into: &$1) }),
        ("tanh", { tanh($0, into: &$1) }), ("relu", { relu($0, into: &$1) }),
    ]
    for (name, f) in functions {
        let m = h.measure("elementwise", name, variant: "into", shape: "16M", metric: .gbPerSecond, work: bytes) { f(x, &out) }
        h.note("  \(pad("→ \(name) into", 32)) " + String(format: "%.2f× copy speed", copy.median / m.median))
    }
    h.measure("elementwise", "sigmoid", variant: "alloc", shape: "16M", metric: .gbPerSecond, work: bytes) { consume(sigmoid(x)) }

    let (rows, columns) = (256, 4096)
    var Z = Tensor<Float>(randomNormal: [rows, columns], generator: &g)
    let b = Tensor<Float>(randomNormal: [rows, 1], generator: &g)
    let matrixBytes = 4 * Double(rows * columns)
    h.measure("elementwise", "bias add (n,1)+(n,m)", variant: "alloc", shape: "256x4096", metric: .gbPerSecond,
              work: 2 * matrixBytes + 4 * Double(rows)) { consume(Z + b) }
    h.measure("elementwise", "bias add (n,1)+(n,m)", variant: "in place +=", shape: "256x4096", metric: .gbPerSecond,
              work: 2 * matrixBytes + 4 * Double(rows)) { Z += b }
    h.measure("elementwise", "sum(axis=1,keepdims)", variant: "alloc", shape: "256x4096", metric: .gbPerSecond,
              work: matrixBytes + 4 * Double(rows)) { consume(Z.sum(axis: 1, keepingDimensions: true)) }
    h.measure("elementwise", "softmax over columns", variant: "alloc", shape: "256x4096", metric: .gbPerSecond,
              work: 2 * matrixBytes) { consume(softmax(Z, axis: 0)) }
    h.measure("elementwise", "softmax over rows", variant: "alloc", shape: "256x4096", metric: .gbPerSecond,
              work: 2 * matrixBytes) { consume(softmax(Z, axis: 1)) }
    h.measure("elementwise", "max(axis=0,keepdims)", variant: "alloc", shape: "256x4096", metric: .gbPerSecond,
              work: matrixBytes) { consume(Z.max(axis: 0, keepingDimensions: true)) }
    h.measure("elementwise", "sum(axis=0,keepdims)", variant: "alloc", shape: "256x4096", metric: .gbPerSecond,
              work: matrixBytes) { consume(Z.sum(axis: 0, keepingDimensions: true)) }
}
