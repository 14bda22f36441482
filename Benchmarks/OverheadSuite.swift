import Foundation
import Tensors

/// One timed call of the `overhead` suite.
struct OverheadCase {
    var name: String
    var shape: String
    var body: () -> Void

    init(_ name: String, shape: String, _ body: @escaping () -> Void) {
        self.name = name
        self.shape = shape
        self.body = body
    }
}

/// Fixed per-call cost of tiny operations, where shape checks, broadcast plans,
/// allocations and locks — not arithmetic — decide the time: items/s is calls
/// per second (work 1 per call), and the µs per call is printed below each row.
///
/// The tape cases time recording one operation (a `Variable` that requires a
/// gradient plus a constant) and recording it with its backward pass.
func overheadSuite(_ h: inout Harness) {
    h.note("\n== overhead: per-call cost of tiny Float operations (work = 1 call) ==")
    let a = Tensor<Float>([[1, 2], [3, 4]])
    let b = Tensor<Float>([[0.5, -1], [2, 0.25]])
    let va = Variable(a, requiresGradient: true), vb = Variable(b)
    let cases: [OverheadCase] = [
        OverheadCase("a + b", shape: "2x2") { consume(a + b) },
        OverheadCase("a * 3", shape: "2x2") { consume(a * 3) },
        OverheadCase("matmul", shape: "2x2") { consume(matmul(a, b)) },
        OverheadCase("a + b recorded on the tape", shape: "2x2") { consume(va + vb) },
        OverheadCase("a + b recorded, then backward", shape: "2x2") {
            va.gradient = nil
            (va + vb).backward(seed: b)
        },
    ]
    for c in cases where h.selects(c.name) {
        let m = h.measure("overhead", c.name, variant: "Float", shape: c.shape, metric: .itemsPerSecond, work: 1, maxSeconds: 2, c.body)
        h.note("  \(pad("→ \(c.name)", 32)) " + String(format: "%.3f µs per call (min %.3f, max %.3f)", m.median * 1e6, m.min * 1e6, m.max * 1e6))
    }
}
