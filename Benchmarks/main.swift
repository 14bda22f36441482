import Foundation
import Tensors

// Benchmarks [suite…] [--json] [--quick] [--only TEXT] [--threads N] [--retain-freed]
//   --only TEXT: run only the cases whose name contains TEXT.
//   --threads N: at most N threads (Parallelism.withMaxThreads; default: every active processor).
//   --retain-freed: TensorMemory.retainsFreedBlocks = true (glibc keeps freed large blocks;
//     compare with the peers' `--malloc no-mmap` rows).
//   --unpinned: do not bind the measuring thread to the first N processors for a case run on N
//     threads (by default it is, as the peer scripts' workers bind themselves).
//   --peer-rows: gemm times only what gemm.py times (matmul's own choice, per thread count), as it
//     does (two warm-up calls, median of 15 samples of ≥ 10 ms): no ladder, no peak readings.
// Suites: vectorization, elementwise, gemm, training, conv, sequence, attention, overhead (default: all). Build in release with
//   swift run -c release -Xswiftc -target-cpu -Xswiftc native Benchmarks

let arguments = CommandLine.arguments.dropFirst()
let allSuites = ["vectorization", "elementwise", "gemm", "training", "conv", "sequence", "attention", "overhead"]
let usage = "usage: Benchmarks [\(allSuites.joined(separator: "|"))…] [--quick] [--json] [--only TEXT] [--threads N] [--retain-freed] [--peer-rows] [--unpinned]"
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
var options = Array(arguments)
var only: String?
if let i = options.firstIndex(of: "--only") {
    guard i + 1 < options.count else {
        FileHandle.standardError.write("--only needs a text\n\(usage)\n".data(using: .utf8)!)
        exit(2)
    }
    only = options[i + 1]
    options.removeSubrange(i...(i + 1))
}
var threads: Int?
if let i = options.firstIndex(of: "--threads") {
    guard i + 1 < options.count, let n = Int(options[i + 1]), n >= 1 else {
        FileHandle.standardError.write("--threads needs a positive whole number\n\(usage)\n".data(using: .utf8)!)
        exit(2)
    }
    threads = n
    options.removeSubrange(i...(i + 1))
}
var suites = options.filter { !$0.hasPrefix("-") }
if let unknown = suites.first(where: { !allSuites.contains($0) }) {
    FileHandle.standardError.write("unknown suite '\(unknown)'; choose from \(allSuites.joined(separator: ", "))\n".data(using: .utf8)!)
    exit(2)
}
if let unknown = options.first(where: { $0.hasPrefix("-") && !["--quick", "--json", "--retain-freed", "--peer-rows", "--unpinned"].contains($0) }) {
    FileHandle.standardError.write("unknown option '\(unknown)'\n\(usage)\n".data(using: .utf8)!)
    exit(2)
}
if suites.isEmpty { suites = allSuites }
var harness = Harness(quick: options.contains("--quick"), json: options.contains("--json"), only: only,
                      peerRows: options.contains("--peer-rows"))
harness.pinsThreads = !options.contains("--unpinned")
if options.contains("--retain-freed") {
    TensorMemory.retainsFreedBlocks = true
    harness.note("allocator: freed large blocks retained for reuse (TensorMemory.retainsFreedBlocks)")
}

// The library's worker threads start with its first parallel job and keep the processor
// binding of the thread that starts them (Linux threads inherit it): start them now, unbound,
// so that none can inherit a case's binding of the measuring thread (`withProcessorAffinity`).
Parallelism.withMaxThreads(ProcessInfo.processInfo.activeProcessorCount) {
    consume(matmul(Tensor<Float>.ones([256, 256]), Tensor<Float>.ones([256, 256])))
}

/// Every chosen suite, in order (inside `--threads`' limit when given).
@MainActor func runSuites() {
#if DEBUG
    harness.note("warning: debug build — numbers are meaningless; use swift run -c release …")
#endif
    harness.note("threads: \(Parallelism.maxThreads) (active processors \(ProcessInfo.processInfo.activeProcessorCount)); "
        + "GEMM kernel: \(GEMMConfiguration.kernel.rawValue) "
        + "(calibration GFLOPS: \(GEMMConfiguration.calibrationResults.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \(String(format: "%.0f", $0.value))" }.joined(separator: ", ")))")

    for suite in suites {
        switch suite {
        case "vectorization": vectorizationSuite(&harness)
        case "elementwise": elementwiseSuite(&harness)
        case "gemm": gemmSuite(&harness)
        case "training": trainingSuite(&harness)
        case "conv": convolutionSuite(&harness)
        case "sequence": sequenceSuite(&harness)
        case "attention": attentionSuite(&harness)
        case "overhead": overheadSuite(&harness)
        default: break
        }
    }
}
if let threads {
    Parallelism.withMaxThreads(threads) { MainActor.assumeIsolated { runSuites() } }
} else {
    runSuites()
}

if harness.json {
    print("[" + harness.results.map(\.json).joined(separator: ",\n") + "]")
}
