/// The operation of an inclusive scan: `y₀ = x₀`, `yₖ = yₖ₋₁ ⊕ xₖ`.
enum ScanOperation: Sendable {
    case sum, product

    @inline(__always)
    func combine<S: TensorScalar>(_ acc: S, _ x: S) -> S {
        switch self {
        case .sum: acc + x
        case .product: acc * x
        }
    }
}

/// Inclusive scans along the middle axis of an `(outer, length, inner)` view:
/// `y[o, k, j] = x[o, 0, j] ⊕ x[o, 1, j] ⊕ … ⊕ x[o, k, j]`, or, `reverse`,
/// `x[o, k, j] ⊕ x[o, k + 1, j] ⊕ … ⊕ x[o, length − 1, j]`.
///
/// Both paths combine in the same order — every output is the previous output
/// of its column ⊕ the next input, starting from the first input itself — so
/// they agree bit for bit (and with numpy's `cumsum`, which adds in the same
/// order). The vectorized path never reorders a scan: it runs `inner` columns
/// side by side in SIMD registers and splits the independent columns and rows
/// over threads in fixed pieces.
enum ScanKernels {
    // MARK: Loop path — one column at a time.

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func loop<S: TensorScalar>(
        _ op: ScanOperation, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
        outer: Int, length: Int, inner: Int, reverse: Bool
    ) {
        for o in 0..<outer {
            for j in 0..<inner {
                var acc: S = 0
                for step in 0..<length {
                    let k = reverse ? length - 1 - step : step
                    let i = (o * length + k) * inner + j
                    acc = step == 0 ? x[i] : op.combine(acc, x[i])
                    y[i] = acc
                }
            }
        }
    }

    // MARK: Vectorized path

    /// Elements per parallel piece of contiguous rows (`inner == 1`), as in the reductions.
    static let block = 1 << 16
    /// Columns per parallel piece when `inner > 1`.
    static let columns = 1024

    static func vectorized<S: TensorScalar>(
        _ op: ScanOperation, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
        outer: Int, length: Int, inner: Int, reverse: Bool
    ) {
        switch S.scalarType {
        case .float32:
            typed(op, cast(x, to: Float.self), cast(y, to: Float.self), outer, length, inner, reverse, FloatVector.self)
        case .float64:
            typed(op, cast(x, to: Double.self), cast(y, to: Double.self), outer, length, inner, reverse, DoubleVector.self)
        }
    }

    @inline(__always)
    static func typed<V: KernelVector>(
        _ op: ScanOperation, _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>,
        _ outer: Int, _ length: Int, _ inner: Int, _ reverse: Bool, _: V.Type
    ) {
        if length == 0 { return }
        let px = UncheckedSendable(x), py = UncheckedSendable(y)
        if inner == 1 {
            // Contiguous rows: each a sequential scan, rows grouped into fixed pieces.
            let rowsPerChunk = Swift.max(1, block / length)
            parallelFor(chunks: (outer + rowsPerChunk - 1) / rowsPerChunk, work: outer * length) { c in
                for o in (c * rowsPerChunk)..<Swift.min(outer, (c + 1) * rowsPerChunk) {
                    let row = px.value + o * length, out = py.value + o * length
                    switch op {
                    case .sum: scanRow(row, out, length, reverse) { $0 + $1 }
                    case .product: scanRow(row, out, length, reverse) { $0 * $1 }
                    }
                }
            }
            return
        }
        // Columns side by side: output row k = output row k ∓ 1 ⊕ input row k.
        let pieces = (inner + columns - 1) / columns
        parallelFor(chunks: outer * pieces, work: outer * length * inner) { c in
            let o = c / pieces, start = (c % pieces) * columns
            let n = Swift.min(columns, inner - start)
            let base = px.value + o * length * inner + start, out = py.value + o * length * inner + start
            let first = reverse ? length - 1 : 0
            (out + first * inner).update(from: base + first * inner, count: n)
            for step in 1..<length {
                let k = reverse ? length - 1 - step : step, previous = reverse ? k + 1 : k - 1
                let xk = base + k * inner, yk = out + k * inner, yp = UnsafePointer(out + previous * inner)
                switch op {
                case .sum: combineRows(op, yp, xk, yk, n, V.self) { $0 + $1 }
                case .product: combineRows(op, yp, xk, yk, n, V.self) { $0 * $1 }
                }
            }
        }
    }

    /// One contiguous row, in order from its first (or, reversed, last) element.
    @inline(__always)
    static func scanRow<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int, _ reverse: Bool, _ combine: (S, S) -> S
    ) {
        if reverse {
            var acc = x[n - 1]
            y[n - 1] = acc
            for k in stride(from: n - 2, through: 0, by: -1) {
                acc = combine(acc, x[k])
                y[k] = acc
            }
        } else {
            var acc = x[0]
            y[0] = acc
            for k in 1..<n {
                acc = combine(acc, x[k])
                y[k] = acc
            }
        }
    }

    /// `y[j] = previous[j] ⊕ x[j]` for `j < n`: whole vectors with `combine`
    /// (`op` lane by lane), then the tail element by element.
    @inline(__always)
    static func combineRows<V: SIMD>(
        _ op: ScanOperation, _ previous: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>,
        _ y: UnsafeMutablePointer<V.Scalar>, _ n: Int, _: V.Type, _ combine: (V, V) -> V
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var j = 0
        while j + w <= n {
            let r = combine(UnsafeRawPointer(previous + j).loadUnaligned(as: V.self), UnsafeRawPointer(x + j).loadUnaligned(as: V.self))
            UnsafeMutableRawPointer(y + j).storeBytes(of: r, as: V.self)
            j += w
        }
        while j < n {
            y[j] = op.combine(previous[j], x[j])
            j += 1
        }
    }
}
