import Foundation
import Tensors

// Benchmarks [suite…] [--json] [--quick]
// Suites: vectorization, elementwise, gemm, training, conv, overhead (default: all). Build in release with
//   swift run -c release -Xswiftc -target-cpu -Xswiftc native Benchmarks

let arguments = CommandLine.arguments.dropFirst()
let allSuites = ["vectorization", "elementwise", "gemm", "training", "conv", "overhead"]
let usage = "usage: Benchmarks [\(allSuites.joined(separator: "|"))…] [--quick] [--json]"
if arguments.contains("--help") || arguments.contains("-h") {
    print(usage)
    exit(0)
}
var suites = arguments.filter { !$0.hasPrefix("-") }
if let unknown = suites.first(where: { !allSuites.contains($0) }) {
    FileHandle.standardError.write("unknown suite '\(unknown)'; choose from \(allSuites.joined(separator: ", "))\n".data(using: .utf8)!)
    exit(2)
}
if let unknown = arguments.first(where: { $0.hasPrefix("-") && $0 != "--quick" && $0 != "--json" }) {
    FileHandle.standardError.write("unknown option '\(unknown)'\n\(usage)\n".data(using: .utf8)!)
    exit(2)
}
if suites.isEmpty { suites = allSuites }
var harness = Harness(quick: arguments.contains("--quick"), json: arguments.contains("--json"))

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
    case "overhead": overheadSuite(&harness)
    default: break
    }
}

if harness.json {
    print("[" + harness.results.map(\.json).joined(separator: ",\n") + "]")
}
