/// Tiny products (a 2 × 2 layer, a toy example): scalar loops over C that do
/// exactly the direct micro-kernel's arithmetic for each element — a sum over
/// `p` in order from 0, fused or separate as the chosen kernel, then `α·sum`
/// stored, or added to the `β`-scaled C — so results are bitwise those of
/// ``DirectGEMM``, without its packing, buffers and edge-tile copies.
enum TinyGEMM {
    /// Products with at most this many multiply-adds use the scalar loops (measured,
    /// one 2×2…8×8 square product: scalar 0.18 µs vs direct 0.49 µs at 2³, 0.52 vs 0.63 at
    /// 5³, 0.45 vs 0.40 at 6³, 0.98 vs 0.55 at 8³).
    static let limit = 128

    static func applies<S: TensorScalar>(_ g: GEMMProblem<S>) -> Bool {
        g.m * g.n * g.k <= limit && !g.transposedC
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func run<S: TensorScalar>(_ g: GEMMProblem<S>, kernel: GEMMKernel) {
        let overwrite = g.prepareCForOverwrite()
        if g.m == 0 || g.n == 0 || g.k == 0 || g.alpha == 0 { return }
        let fused = kernel.isFused
        for i in 0..<g.m {
            let row = g.c + i * g.ldc
            for j in 0..<g.n {
                var sum: S = 0
                if fused {
                    for p in 0..<g.k { sum = sum.addingProduct(g.opA(i, p), g.opB(p, j)) }
                } else {
                    for p in 0..<g.k { sum = sum + g.opA(i, p) * g.opB(p, j) }
                }
                let value = sum * g.alpha
                row[j] = overwrite ? value : row[j] + value
            }
        }
    }
}
