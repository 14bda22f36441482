import Dispatch
import Foundation
import Tensors

/// What a benchmark's throughput is measured in.
enum Metric: String {
    case gflops, gbPerSecond = "gb_per_s", itemsPerSecond = "items_per_s"
}

/// One timed case: median, min and max seconds per call over the repetitions.
struct Measurement {
    var suite: String, name: String, variant: String, shape: String
    var median: Double, min: Double, max: Double
    var metric: Metric, work: Double   // flops, bytes or items per call

    var throughput: Double {
        switch metric {
        case .gflops, .gbPerSecond: work / median / 1e9
        case .itemsPerSecond: work / median
        }
    }

    var json: String {
        func esc(_ s: String) -> String { s.replacingOccurrences(of: "\"", with: "\\\"") }
        return "{\"suite\":\"\(esc(suite))\",\"case\":\"\(esc(name))\",\"variant\":\"\(esc(variant))\","
            + "\"shape\":\"\(esc(shape))\",\"median_s\":\(median),\"min_s\":\(min),\"max_s\":\(max),"
            + "\"\(metric.rawValue)\":\(throughput)}"
    }
}

/// Timing policy: one warm-up call, then calls batched so one sample lasts at
/// least `minSample` seconds; the median of `samples` samples is reported.
struct Harness {
    var quick: Bool
    var json: Bool
    /// Only cases whose name contains this text run (`--only TEXT`); nil runs all.
    var only: String? = nil
    /// The gemm suite times only the rows `gemm.py` also times, with its timing policy
    /// (`--peer-rows`: two warm-up calls, the median of 15 samples); other suites ignore it.
    var peerRows = false
    /// Whether each case runs with the measuring thread bound to the first
    /// ``Parallelism/maxThreads`` processors, as the peers' workers bind
    /// themselves (`--unpinned` turns it off; see `withProcessorAffinity`).
    var pinsThreads = true
    private(set) var results: [Measurement] = []

    var samples: Int { peerRows ? 15 : quick ? 3 : 7 }
    var minSample: Double { quick ? 0.002 : 0.01 }

    static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }

    @discardableResult
    mutating func measure(
        _ suite: String, _ name: String, variant: String, shape: String, metric: Metric, work: Double,
        maxSeconds: Double = 20, _ body: () -> Void
    ) -> Measurement {
        guard selects(name) else {
            return Measurement(suite: suite, name: name, variant: variant, shape: shape, median: .nan, min: .nan, max: .nan,
                               metric: metric, work: work)
        }
        let (samples, minSample, warmUps) = (samples, minSample, peerRows ? 2 : 1)
        let times = withProcessorAffinity(firstProcessors: pinsThreads ? Parallelism.maxThreads : .max) { () -> [Double] in
            for _ in 0..<warmUps { body() }   // also triggers one-time calibration and buffer allocation
            let t0 = Self.now()
            body()
            let one = Swift.max(Self.now() - t0, 1e-9)
            let inner = Swift.max(1, Int(minSample / one))
            let count = Swift.max(3, Swift.min(samples, Int(maxSeconds / (one * Double(inner)))))
            var times: [Double] = []
            for _ in 0..<count {
                let start = Self.now()
                for _ in 0..<inner { body() }
                times.append((Self.now() - start) / Double(inner))
            }
            return times.sorted()
        }
        let m = Measurement(suite: suite, name: name, variant: variant, shape: shape,
                            median: times[times.count / 2], min: times.first!, max: times.last!,
                            metric: metric, work: work)
        results.append(m)
        if !json { printRow(m) }
        return m
    }

    func printRow(_ m: Measurement) {
        let unit = m.metric == .gflops ? "GFLOPS" : (m.metric == .gbPerSecond ? "GB/s" : "items/s")
        let value = m.metric == .itemsPerSecond ? String(format: "%12.0f", m.throughput) : String(format: "%9.2f", m.throughput)
        print("  \(pad(m.name, 32)) \(pad(m.variant, 26)) \(pad(m.shape, 18)) \(value) \(pad(unit, 7)) "
              + "median \(seconds(m.median)) (min \(seconds(m.min)), max \(seconds(m.max)))")
    }

    func note(_ text: String) { if !json { print(text) } }

    /// Whether a case of this name runs under `--only`.
    func selects(_ name: String) -> Bool { only.map { name.contains($0) } ?? true }

    /// Prints `faster / slower` for two measurements of the same case.
    func speedup(_ slow: Measurement, _ fast: Measurement) {
        guard !slow.median.isNaN && !fast.median.isNaN else { return }
        note("  \(pad("→ \(fast.variant) vs \(slow.variant)", 32)) speed-up " + String(format: "%.1f×", slow.median / fast.median))
    }
}

/// `text` padded with spaces to `width` characters.
func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func seconds(_ s: Double) -> String {
    s >= 1 ? String(format: "%.2f s", s) : s >= 1e-3 ? String(format: "%.2f ms", s * 1e3) : String(format: "%.1f µs", s * 1e6)
}

/// Keeps a value alive so the optimizer cannot drop the computation.
@inline(never)
func consume<T>(_ value: T) { withExtendedLifetime(value) {} }
