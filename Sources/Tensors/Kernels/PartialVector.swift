// Loads and stores of a partial vector: the last `count` < V.scalarCount
// elements of a row or column sweep, which a whole-vector access would read or
// write past. One home for the normalization, softmax, cross-entropy and
// recurrent kernels' tails.
//
// Keep the whole-vector loop of a hot sweep apart from its partial tail: a loop
// body that chooses between the two for every vector made LLVM split a 16-lane
// `exp` into ymm, xmm and scalar pieces (the softmax column sweeps, 2–4× slower;
// `SoftmaxKernels.columnStatistics`).

enum PartialVector {
    /// The `count` (at most `V.scalarCount`) elements at `p`, zero in the lanes
    /// beyond them.
    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<V.Scalar>, _ count: Int, as _: V.Type = V.self) -> V {
        if count == V.scalarCount { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var v = V()
        for l in 0..<count { v[l] = p[l] }
        return v
    }

    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafeMutablePointer<V.Scalar>, _ count: Int, as _: V.Type = V.self) -> V {
        load(UnsafePointer(p), count, as: V.self)
    }

    /// Stores the first `count` (at most `V.scalarCount`) lanes of `v` at `p`.
    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>, _ count: Int) {
        if count == V.scalarCount { return UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
        for l in 0..<count { p[l] = v[l] }
    }
}
