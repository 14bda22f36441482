import Foundation
@_spi(Benchmarks) import Tensors

/// GFLOPS of every GEMM rung on the shapes of `shared/bench/gemm.py`, named
/// by its `case` strings (`sq1024`, `AtB dW 784x128@128x256`, …), then of
/// `matmul`'s own choice on one thread and on all of them.
func gemmSuite(_ h: inout Harness) {
    let threads = Parallelism.maxThreads
    let seconds = h.quick ? 0.02 : 0.05
    if h.peerRows {
        h.note("\n== gemm: C = op(A)·op(B), GFLOPS of matmul's own choice, timed as gemm.py times a @ b ==")
    } else {
        let peak = GEMMConfiguration.measuredPeak(threads: 1, seconds: 6 * seconds)
        let allCores = GEMMConfiguration.measuredPeak(threads: threads, seconds: 6 * seconds)
        h.note("\n== gemm: C = op(A)·op(B), GFLOPS and fraction of the measured peak ==")
        h.note(String(format: "  measured FMA peak: %.0f GFLOPS on one core, %.0f on %d cores at once", peak, allCores, threads)
            + " (micro-kernel \(GEMMConfiguration.kernel.rawValue) in L1; half of it for Double)")
        h.note("  The clock of this machine drifts by up to ±10 % over minutes, so each case is compared with the")
        h.note("  peak measured just before and just after it on the same number of cores (the larger of the two).")
    }
    var g = RandomGenerator(seed: 3)

    func run<S: TensorScalar>(_: S.Type, _ label: String, m: Int, k: Int, n: Int, ta: Bool, tb: Bool, rungs: [GEMMRung]) {
        // Under `--only`, a case that does not match is skipped whole: no operands, no peak readings.
        guard h.selects(label) else { return }
        let a = Tensor<S>(randomNormal: ta ? [k, m] : [m, k], generator: &g)
        let b = Tensor<S>(randomNormal: tb ? [n, k] : [k, n], generator: &g)
        var c = Tensor<S>.zeros([m, n])
        let flops = 2 * Double(m) * Double(n) * Double(k)
        var first: Measurement?
        for rung in rungs where !h.peerRows {
            let cores = rung == .blockedParallel || rung == .directParallel ? threads : 1
            let before = GEMMConfiguration.measuredPeak(threads: cores, seconds: seconds)
            let result = h.measure("gemm", label, variant: "\(S.self) \(rung.rawValue)", shape: "\(m)x\(k)x\(n)",
                                   metric: .gflops, work: flops, maxSeconds: 10) {
                matmul(a, b, transposingA: ta, transposingB: tb, into: &c, rung: rung)
            }
            // The micro-kernel peak is measured in Float; Double does the same FMAs on half the lanes.
            let lanes = Double(MemoryLayout<Float>.size) / Double(MemoryLayout<S>.size)
            let nearby = lanes * Swift.max(before, GEMMConfiguration.measuredPeak(threads: cores, seconds: seconds))
            h.note("  \(pad("", 32)) " + String(format: "%.1f%% of the %.0f GFLOPS \(S.self) peak of %d core%@ measured alongside",
                                                        100 * result.throughput / nearby, nearby, cores, cores == 1 ? "" : "s"))
            first = first ?? result
        }
        if let first, let last = h.results.last, rungs.count > 1, !h.peerRows { h.speedup(first, last) }
        // What a caller gets: `matmul`'s own choice of rung, on one thread and on all of them
        // (the rows to join with gemm.py's `threads` 1 and 2).
        for cores in [1, threads] where !h.quick || cores == threads {
            _ = Parallelism.withMaxThreads(cores) {
                h.measure("gemm", label, variant: "\(S.self) matmul, \(cores) thread\(cores == 1 ? "" : "s")", shape: "\(m)x\(k)x\(n)",
                          metric: .gflops, work: flops, maxSeconds: 10) {
                    matmul(a, b, transposingA: ta, transposingB: tb, into: &c)
                }
            }
        }
    }

    let squares = h.quick ? [64, 256, 1024] : [64, 128, 256, 512, 1024, 2048]
    for n in squares {
        let ladder: [GEMMRung] = n <= 1024
            ? [.naive, .simdUnblocked, .direct, .directParallel, .blockedSingleThread, .blockedParallel]
            : [.simdUnblocked, .direct, .blockedSingleThread, .blockedParallel]
        run(Float.self, "sq\(n)", m: n, k: n, n: n, ta: false, tb: false, rungs: h.quick && n > 256 ? [.blockedSingleThread, .blockedParallel] : ladder)
    }
    for n in squares where n >= 256 {
        run(Double.self, "sq\(n)", m: n, k: n, n: n, ta: false, tb: false, rungs: [.blockedSingleThread, .blockedParallel])
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
    // The MLP training step's five large products (`Benchmarks training`: 784-256-128-10, batch 128) in
    // the library's layout, features × examples: forward W·X, weight gradients dZ·Aᵀ, input gradient
    // Wᵀ·dZ. No peer case: gemm.py times the batch-major shapes (the same products transposed).
    if !h.quick {
        for (label, m, k, n, ta, tb) in [("W·X 256x784@784x128", 256, 784, 128, false, false),
                                         ("W·X 128x256@256x128", 128, 256, 128, false, false),
                                         ("dZ·Aᵀ 256x128@128x784", 256, 128, 784, false, true),
                                         ("dZ·Aᵀ 128x128@128x256", 128, 128, 256, false, true),
                                         ("Wᵀ·dZ 256x128@128x128", 256, 128, 128, true, false)] {
            run(Float.self, label, m: m, k: k, n: n, ta: ta, tb: tb, rungs: [.direct, .directParallel, .blockedSingleThread, .blockedParallel])
        }
    }
    // The transformer encoder layer's products (`Benchmarks attention`: d 256, feed-forward 1024,
    // 16 × 128 tokens) in the library's layout, features × tokens: the projections W·X, the
    // feed-forward W₁·X and W₂·H. No peer case: gemm.py times the batch-major shapes.
    if !h.quick {
        for (outputs, inputs) in [(256, 256), (1024, 256), (256, 1024)] {
            run(Float.self, "W·X \(outputs)x\(inputs)@\(inputs)x2048", m: outputs, k: inputs, n: 2048, ta: false, tb: false,
                rungs: [.direct, .blockedSingleThread, .blockedParallel])
        }
    }
}
