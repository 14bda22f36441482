/// Sorting along the middle axis of an `(outer, length, inner)` view: each of
/// the `outer·inner` slices `x[o, ·, j]` is ordered on its own, and its
/// permutation written as positions along the axis.
///
/// The order — one total order, so every algorithm gives the same result:
/// - ascending: by value, NaN after everything (numpy's rule), equal values
///   (−0 and +0 included) in their original order (numpy's `kind="stable"`);
/// - descending: larger values first, NaN before everything, equal values
///   still in their original order (PyTorch's `sort(descending=True,
///   stable=True)`);
/// - top k: the first `k` of the descending order (PyTorch's `topk`, with ties
///   to the lower position).
///
/// The loop path is an insertion sort per slice (a selection of the best
/// remaining element `k` times for top k); the vectorized path sorts slices in
/// parallel with an O(n log n) sort on integer keys whose unsigned order is
/// the order above, and finds the top k of a long slice with a running list
/// of the best `k` that whole SIMD vectors skip when none of their lanes beats
/// its worst entry.
enum SortKernels {
    // MARK: The order

    /// Whether `a` goes strictly before `b` (equal elements keep their order).
    @inline(__always)
    static func precedes<S: FloatingPoint>(_ a: S, _ b: S, descending: Bool) -> Bool {
        descending ? a > b || (a.isNaN && !b.isNaN) : a < b || (b.isNaN && !a.isNaN)
    }

    /// A key whose unsigned order is the ascending order: the sign bit flipped
    /// for positive numbers and all bits for negative ones, after −0 becomes
    /// +0 and every NaN the positive quiet NaN (above +∞).
    @inline(__always)
    static func key(_ x: Float) -> UInt64 {
        let bits = x.isNaN ? Float.nan.bitPattern : x == 0 ? 0 : x.bitPattern
        return UInt64(bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000)
    }

    @inline(__always)
    static func key(_ x: Double) -> UInt64 {
        let bits = x.isNaN ? Double.nan.bitPattern : x == 0 ? 0 : x.bitPattern
        return bits & 0x8000_0000_0000_0000 != 0 ? ~bits : bits | 0x8000_0000_0000_0000
    }

    /// A slice element during sorting: the order is by key, then position, a
    /// total order, so an unstable sort returns what a stable one would.
    struct Entry: Comparable {
        var key: UInt64
        var index: Int
        @inline(__always)
        static func < (a: Entry, b: Entry) -> Bool { a.key < b.key || (a.key == b.key && a.index < b.index) }
    }

    // MARK: Loop path

    /// Writes the sorted values (if `values` is given) and their positions
    /// (if `indices` is given), both `(outer, length, inner)`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func sortLoop<S: TensorScalar>(
        _ x: UnsafePointer<S>, values: UnsafeMutablePointer<S>?, indices: UnsafeMutablePointer<Int>?,
        outer: Int, length: Int, inner: Int, descending: Bool
    ) {
        var order = [Int](repeating: 0, count: length)
        for o in 0..<outer {
            for j in 0..<inner {
                func at(_ k: Int) -> Int { (o * length + k) * inner + j }
                for k in 0..<length { order[k] = k }
                // Insertion sort: each element moves left past the elements it strictly precedes.
                for i in 1..<Swift.max(length, 1) {
                    let p = order[i]
                    var k = i
                    while k > 0 && precedes(x[at(p)], x[at(order[k - 1])], descending: descending) {
                        order[k] = order[k - 1]
                        k -= 1
                    }
                    order[k] = p
                }
                for k in 0..<length {
                    values?[at(k)] = x[at(order[k])]
                    indices?[at(k)] = order[k]
                }
            }
        }
    }

    /// The `k` largest of each slice in descending order, `values` and
    /// `indices` both `(outer, k, inner)`: `k` times the first remaining
    /// element that no other remaining element precedes.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func topKLoop<S: TensorScalar>(
        _ x: UnsafePointer<S>, values: UnsafeMutablePointer<S>, indices: UnsafeMutablePointer<Int>,
        outer: Int, length: Int, inner: Int, k: Int
    ) {
        var taken = [Bool](repeating: false, count: length)
        for o in 0..<outer {
            for j in 0..<inner {
                func at(_ p: Int) -> Int { (o * length + p) * inner + j }
                for p in 0..<length { taken[p] = false }
                for r in 0..<k {
                    var best = -1
                    for p in 0..<length where !taken[p] {
                        if best < 0 || precedes(x[at(p)], x[at(best)], descending: true) { best = p }
                    }
                    taken[best] = true
                    values[(o * k + r) * inner + j] = x[at(best)]
                    indices[(o * k + r) * inner + j] = best
                }
            }
        }
    }

    // MARK: Vectorized path

    /// Elements per parallel piece of slices.
    static let block = 1 << 15
    /// Up to this `k` the top k come from the running list of the best; above, from a full sort.
    static let runningListLimit = 32

    static func sortVectorized<S: TensorScalar>(
        _ x: UnsafePointer<S>, values: UnsafeMutablePointer<S>?, indices: UnsafeMutablePointer<Int>?,
        outer: Int, length: Int, inner: Int, descending: Bool
    ) {
        switch S.scalarType {
        case .float32:
            sortTyped(cast(x, to: Float.self), values.map { cast($0, to: Float.self) }, indices,
                      outer, length, inner, descending, key: { key($0) })
        case .float64:
            sortTyped(cast(x, to: Double.self), values.map { cast($0, to: Double.self) }, indices,
                      outer, length, inner, descending, key: { key($0) })
        }
    }

    @inline(__always)
    static func sortTyped<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ values: UnsafeMutablePointer<S>?, _ indices: UnsafeMutablePointer<Int>?,
        _ outer: Int, _ length: Int, _ inner: Int, _ descending: Bool, key: (S) -> UInt64
    ) {
        let slices = outer * inner
        let perChunk = Swift.max(1, block / Swift.max(length, 1))
        let px = UncheckedSendable(x), pv = UncheckedSendable(values), pi = UncheckedSendable(indices)
        let work = slices * length * Swift.max(1, Int.bitWidth - length.leadingZeroBitCount)
        parallelFor(chunks: (slices + perChunk - 1) / perChunk, work: work) { c in
            withUnsafeTemporaryAllocation(of: Entry.self, capacity: length) { entries in
                for s in (c * perChunk)..<Swift.min(slices, (c + 1) * perChunk) {
                    let base = (s / inner) * length * inner + s % inner
                    for k in 0..<length {
                        let kx = key(px.value[base + k * inner])
                        (entries.baseAddress! + k).initialize(to: Entry(key: descending ? ~kx : kx, index: k))
                    }
                    var slice = entries   // the same memory; `sort` needs a variable
                    slice.sort()
                    for k in 0..<length {
                        let p = entries[k].index
                        pv.value?[base + k * inner] = px.value[base + p * inner]
                        pi.value?[base + k * inner] = p
                    }
                }
            }
        }
    }

    static func topKVectorized<S: TensorScalar>(
        _ x: UnsafePointer<S>, values: UnsafeMutablePointer<S>, indices: UnsafeMutablePointer<Int>,
        outer: Int, length: Int, inner: Int, k: Int
    ) {
        switch S.scalarType {
        case .float32:
            topKTyped(cast(x, to: Float.self), cast(values, to: Float.self), indices, outer, length, inner, k,
                      FloatVector.self, key: { key($0) })
        case .float64:
            topKTyped(cast(x, to: Double.self), cast(values, to: Double.self), indices, outer, length, inner, k,
                      DoubleVector.self, key: { key($0) })
        }
    }

    @inline(__always)
    static func topKTyped<V: KernelVector>(
        _ x: UnsafePointer<V.Scalar>, _ values: UnsafeMutablePointer<V.Scalar>, _ indices: UnsafeMutablePointer<Int>,
        _ outer: Int, _ length: Int, _ inner: Int, _ k: Int, _: V.Type, key: (V.Scalar) -> UInt64
    ) {
        let slices = outer * inner
        let perChunk = Swift.max(1, block / length)
        let px = UncheckedSendable(x), pv = UncheckedSendable(values), pi = UncheckedSendable(indices)
        let work = slices * length * (k <= runningListLimit ? 1 : Swift.max(1, Int.bitWidth - length.leadingZeroBitCount))
        parallelFor(chunks: (slices + perChunk - 1) / perChunk, work: work) { c in
            // Per chunk: a contiguous copy of a strided slice, and the running list (or sort entries).
            withUnsafeTemporaryAllocation(of: V.Scalar.self, capacity: inner > 1 ? length : 0) { gathered in
                withUnsafeTemporaryAllocation(of: Entry.self, capacity: k <= runningListLimit ? k : length) { entries in
                    for s in (c * perChunk)..<Swift.min(slices, (c + 1) * perChunk) {
                        let o = s / inner, j = s % inner
                        var row = px.value + o * length * inner + j
                        if inner > 1 {
                            for p in 0..<length { gathered[p] = row[p * inner] }
                            row = UnsafePointer(gathered.baseAddress!)
                        }
                        let best = entries.baseAddress!
                        if k <= runningListLimit {
                            runningTopK(row, length, k, best, V.self, key: key)
                        } else {
                            for p in 0..<length { (best + p).initialize(to: Entry(key: ~key(row[p]), index: p)) }
                            var slice = entries   // the same memory; `sort` needs a variable
                            slice.sort()
                        }
                        for r in 0..<k {
                            let p = best[r].index
                            pv.value[(o * k + r) * inner + j] = row[p]
                            pi.value[(o * k + r) * inner + j] = p
                        }
                    }
                }
            }
        }
    }

    /// The best `k` of a contiguous row into `best[0..<k]`, best first, keys
    /// descending-complemented (smaller is better). An element enters when it
    /// beats the worst entry (ties lose: they come later), moving past the
    /// entries it beats. Once the list is full, a vector none of whose lanes
    /// is greater than the worst value (or NaN) is skipped whole.
    @inline(__always)
    static func runningTopK<V: KernelVector>(
        _ row: UnsafePointer<V.Scalar>, _ length: Int, _ k: Int, _ best: UnsafeMutablePointer<Entry>,
        _: V.Type, key: (V.Scalar) -> UInt64
    ) {
        var filled = 0
        @inline(__always) func offer(_ p: Int) {
            let candidate = ~key(row[p])
            if filled == k && candidate >= best[k - 1].key { return }
            var slot = filled == k ? k - 1 : filled
            while slot > 0 && best[slot - 1].key > candidate {
                best[slot] = best[slot - 1]
                slot -= 1
            }
            best[slot] = Entry(key: candidate, index: p)
            if filled < k { filled += 1 }
        }
        for p in 0..<k { offer(p) }
        let w = V.scalarCount
        var p = k
        var worst = V(repeating: row[best[k - 1].index])
        while p + w <= length {
            if worst[0].isNaN { return }   // nothing beats a NaN that came first
            let v = UnsafeRawPointer(row + p).loadUnaligned(as: V.self)
            if any(V.compare(.greater, v, worst) .| V.compare(.notEqual, v, v)) {
                for lane in 0..<w { offer(p + lane) }
                worst = V(repeating: row[best[k - 1].index])
            }
            p += w
        }
        while p < length {
            offer(p)
            p += 1
        }
    }
}
