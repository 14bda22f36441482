import Foundation
import Tensors

/// GFLOPS of every GEMM rung on the shapes of `shared/bench/gemm.py`.
func gemmSuite(_ h: inout Harness) {
    let peak = GEMMConfiguration.measuredSingleCorePeak(seconds: h.quick ? 0.05 : 0.3)
    let threads = Parallelism.maxThreads
    h.note("\n== gemm: C = op(A)·op(B), GFLOPS and fraction of the measured peak ==")
    h.note(String(format: "  measured FMA peak: %.0f GFLOPS per core, %.0f on %d cores", peak, peak * Double(threads), threads)
        + " (micro-kernel \(GEMMConfiguration.kernel.rawValue) in L1)")
    var g = RandomGenerator(seed: 3)

    func run<S: TensorScalar>(_: S.Type, _ label: String, m: Int, k: Int, n: Int, ta: Bool, tb: Bool, rungs: [GEMMRung]) {
        let a = Tensor<S>(randomNormal: ta ? [k, m] : [m, k], generator: &g)
        let b = Tensor<S>(randomNormal: tb ? [n, k] : [k, n], generator: &g)
        var c = Tensor<S>.zeros([m, n])
        let flops = 2 * Double(m) * Double(n) * Double(k)
        var first: Measurement?
        for rung in rungs {
            let result = h.measure("gemm", label, variant: "\(S.self) \(rung.rawValue)", shape: "\(m)x\(k)x\(n)",
                                   metric: .gflops, work: flops, maxSeconds: 10) {
                matmul(a, b, transposingA: ta, transposingB: tb, into: &c, rung: rung)
            }
            let cores = rung == .blockedParallel || rung == .directParallel ? Double(threads) : 1
            h.note("  \(pad("", 32)) " + String(format: "%.0f%% of peak", 100 * result.throughput / (peak * cores)))
            first = first ?? result
        }
        if let first, let last = h.results.last, rungs.count > 1 { h.speedup(first, last) }
    }

    let squares = h.quick ? [64, 256, 1024] : [64, 128, 256, 512, 1024, 2048]
    for n in squares {
        let ladder: [GEMMRung] = n <= 1024
            ? [.naive, .simdUnblocked, .direct, .directParallel, .blockedSingleThread, .blockedParallel]
            : [.simdUnblocked, .direct, .blockedSingleThread, .blockedParallel]
        run(Float.self, "square n=\(n)", m: n, k: n, n: n, ta: false, tb: false, rungs: h.quick && n > 256 ? [.blockedSingleThread, .blockedParallel] : ladder)
    }
    for n in squares where n >= 256 {
        run(Double.self, "square n=\(n)", m: n, k: n, n: n, ta: false, tb: false, rungs: [.blockedSingleThread, .blockedParallel])
    }
    // Dense-layer shapes (batch × in → out): forward X·W, dW = Xᵀ·dY, dX = dY·Wᵀ.
    for (batch, inputs, outputs) in [(128, 784, 256), (256, 128, 10)] {
        run(Float.self, "fwd \(batch)x\(inputs)@\(inputs)x\(outputs)", m: batch, k: inputs, n: outputs, ta: false, tb: false,
            rungs: outputs < 16
                ? [.naive, .simdUnblocked, .direct, .narrow, .blockedSingleThread, .blockedParallel]
                : [.naive, .simdUnblocked, .direct, .directParallel, .blockedSingleThread, .blockedParallel])
        run(Float.self, "AtB dW \(inputs)x\(batch)@\(batch)x\(outputs)", m: inputs, k: batch, n: outputs, ta: true, tb: false,
            rungs: outputs < 16 ? [.direct, .narrow, .blockedSingleThread] : [.direct, .directParallel, .blockedSingleThread, .blockedParallel])
        run(Float.self, "ABt dX \(batch)x\(outputs)@\(outputs)x\(inputs)", m: batch, k: outputs, n: inputs, ta: false, tb: true,
            rungs: [.direct, .directParallel, .blockedSingleThread, .blockedParallel])
    }
}
