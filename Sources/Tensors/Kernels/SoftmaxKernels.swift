import Foundation

/// Softmax and log-softmax along the middle axis of an `(outer, length, inner)`
/// view, stabilized by subtracting the maximum:
/// `softmax(x)ₖ = e^(xₖ − m) / Σⱼ e^(xⱼ − m)`, `logSoftmax(x)ₖ = xₖ − m − ln Σⱼ e^(xⱼ − m)`, `m = maxⱼ xⱼ`.
enum SoftmaxKernels {
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func loop<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, outer: Int, length: Int, inner: Int, log: Bool
    ) {
        for o in 0..<outer {
            for j in 0..<inner {
                @inline(__always) func at(_ k: Int) -> Int { (o * length + k) * inner + j }
                var m = -Double.infinity
                for k in 0..<length { m = Swift.max(m, Double(x[at(k)])) }
                var sum = 0.0
                for k in 0..<length { sum += Foundation.exp(Double(x[at(k)]) - m) }
                for k in 0..<length {
                    let d = Double(x[at(k)]) - m
                    y[at(k)] = S(log ? d - Foundation.log(sum) : Foundation.exp(d) / sum)
                }
            }
        }
    }

    static func vectorized<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, outer: Int, length: Int, inner: Int, log: Bool
    ) {
        switch S.scalarType {
        case .float32:
            typed(cast(x, to: Float.self), cast(y, to: Float.self), outer, length, inner, log, FloatVector.self)
        case .float64:
            typed(cast(x, to: Double.self), cast(y, to: Double.self), outer, length, inner, log, DoubleVector.self)
        }
    }

    @inline(__always)
    static func typed<V: KernelVector>(
        _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ outer: Int, _ length: Int, _ inner: Int,
        _ log: Bool, _: V.Type
    ) {
        let px = UncheckedSendable(x), py = UncheckedSendable(y)
        // Not kept (twenty-fourth session): copying each block of columns into a contiguous
        // buffer on the first pass (rows 16 KiB apart in the 4096-column case share a few cache
        // sets). Zen 3, two threads, 256 × 4096 Float over columns, three alternations of one
        // build: 1.07–1.60 ms staged in blocks of 64 columns against 0.82–0.96 ms in place.
        let columns = inner == 1 ? 1 : 256
        let pieces = (inner + columns - 1) / columns
        parallelFor(chunks: outer * pieces, work: 4 * outer * length * inner) { c in
            let o = c / pieces, start = (c % pieces) * columns
            let n = Swift.min(columns, inner - start)
            let xs = px.value + o * length * inner + start, ys = py.value + o * length * inner + start
            if inner == 1 {
                row(xs, ys, length, log, V.self)
            } else {
                withUnsafeTemporaryAllocation(of: V.Scalar.self, capacity: 2 * columns) { buffer in
                    columnsBlock(xs, ys, length, inner, n, log, buffer.baseAddress!, V.self)
                }
            }
        }
    }

    /// One contiguous row of `length` elements.
    @inline(__always)
    static func row<V: KernelVector>(
        _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ length: Int, _ log: Bool, _: V.Type
    ) {
        let m = V(repeating: ReductionKernels.contiguous(.maximum, x, length, V.self))
        var sums = V()
        let w = V.scalarCount
        var i = 0
        while i < length {
            let n = Swift.min(w, length - i)
            var v = m   // padding lanes give e⁰ = 1 and are masked out below
            if n == w { v = UnsafeRawPointer(x + i).loadUnaligned(as: V.self) } else { for l in 0..<n { v[l] = x[i + l] } }
            let e = V.exp(v - m)
            if n == w {
                sums += e
                if !log { UnsafeMutableRawPointer(y + i).storeBytes(of: e, as: V.self) }
            } else {
                for l in 0..<n {
                    sums[l] += e[l]
                    if !log { y[i + l] = e[l] }
                }
            }
            i += w
        }
        let total = V(repeating: sums.sum())
        if log {
            // (x − m) − ln Σ, not x − (m + ln Σ): the latter cancels badly when |m| ≫ ln Σ.
            let lnTotal = V.log(total)
            mapVectors(x, y, length) { (v: V) in (v - m) - lnTotal }
        } else {
            let scale = 1 / total
            mapVectors(UnsafePointer(y), y, length) { (v: V) in v * scale }
        }
    }

    /// For `n` adjacent columns of `length` rows `stride` apart: each column's
    /// maximum `mⱼ` and `sⱼ = Σₖ e^(xₖⱼ − mⱼ)`, and, where `exponentials` is
    /// given, `e^(xₖⱼ − mⱼ)` there (same layout) — the two sweeps of a
    /// softmax over columns, shared with the cross-entropy kernel.
    @inline(__always)
    static func columnStatistics<V: KernelVector>(
        _ x: UnsafePointer<V.Scalar>, _ stride: Int, _ length: Int, _ n: Int,
        max m: UnsafeMutablePointer<V.Scalar>, sum s: UnsafeMutablePointer<V.Scalar>,
        exponentials e: UnsafeMutablePointer<V.Scalar>?, _: V.Type
    ) {
        for j in 0..<n { m[j] = -.infinity; s[j] = 0 }
        for k in 0..<length { ReductionKernels.accumulate(.maximum, x + k * stride, m, n, V.self) }
        let w = V.scalarCount
        for k in 0..<length {
            var j = 0
            // Whole vectors in a loop of their own, the partial tail after it: a hot loop that
            // chose between a whole and a partial load for every vector had LLVM split the
            // 16-lane exp into ymm, xmm and scalar pieces (softmax over columns 2–4× slower).
            while j + w <= n {
                let power = V.exp(UnsafeRawPointer(x + k * stride + j).loadUnaligned(as: V.self) - UnsafeRawPointer(m + j).loadUnaligned(as: V.self))
                UnsafeMutableRawPointer(s + j).storeBytes(of: UnsafeRawPointer(s + j).loadUnaligned(as: V.self) + power, as: V.self)
                if let e { UnsafeMutableRawPointer(e + k * stride + j).storeBytes(of: power, as: V.self) }
                j += w
            }
            if j < n {
                let c = n - j
                let power: V = V.exp(PartialVector.load(x + k * stride + j, c) - PartialVector.load(m + j, c))
                PartialVector.store(PartialVector.load(s + j, c) + power, s + j, c)
                if let e { PartialVector.store(power, e + k * stride + j, c) }
            }
        }
    }

    /// `n` adjacent columns (stride `inner` between rows), vectorized across columns.
    @inline(__always)
    static func columnsBlock<V: KernelVector>(
        _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ length: Int, _ inner: Int, _ n: Int,
        _ log: Bool, _ scratch: UnsafeMutablePointer<V.Scalar>, _: V.Type
    ) {
        let m = scratch, s = scratch + n
        columnStatistics(x, inner, length, n, max: m, sum: s, exponentials: log ? nil : y, V.self)
        let w = V.scalarCount
        @inline(__always) func load(_ p: UnsafePointer<V.Scalar>, _ j: Int, _ count: Int) -> V { PartialVector.load(p + j, count) }
        @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>, _ j: Int, _ count: Int) { PartialVector.store(v, p + j, count) }
        var j = 0
        while j < n {
            let c = Swift.min(w, n - j)
            let sum = load(s, j, c)   // padding lanes are never stored
            store(log ? V.log(sum) : 1 / sum, s, j, c)
            j += w
        }
        for k in 0..<length {
            var j = 0
            while j < n {
                let c = Swift.min(w, n - j)
                let r = log
                    ? (load(x + k * inner, j, c) - load(m, j, c)) - load(s, j, c)
                    : load(y + k * inner, j, c) * load(s, j, c)
                store(r, y + k * inner, j, c)
                j += w
            }
        }
    }
}
