/// A reduction along one axis: `y = x₀ ⊕ x₁ ⊕ … ⊕ xₙ₋₁`.
enum ReductionOperation: Sendable {
    case sum, sumOfSquares, sumOfMagnitudes, maximum, minimum, maxMagnitude

    /// The value an empty reduction returns and the padding of partial vectors.
    func identity<S: TensorScalar>(_: S.Type) -> S {
        switch self {
        case .sum, .sumOfSquares, .sumOfMagnitudes, .maxMagnitude: 0
        case .maximum: -.infinity
        case .minimum: .infinity
        }
    }

    /// `acc ⊕ x` for scalars; NaN propagates through maximum and minimum.
    @inline(__always)
    func combine<S: TensorScalar>(_ acc: S, _ x: S) -> S {
        switch self {
        case .sum: acc + x
        case .sumOfSquares: acc + x * x
        case .sumOfMagnitudes: acc + Swift.abs(x)
        case .maximum: ScalarMath.maximum(acc, x)
        case .minimum: ScalarMath.minimum(acc, x)
        case .maxMagnitude: ScalarMath.maximum(acc, Swift.abs(x))
        }
    }

    /// How two partial results (already reduced) combine: squares and
    /// magnitudes are not applied twice.
    var partialCombiner: ReductionOperation {
        switch self {
        case .sum, .sumOfSquares, .sumOfMagnitudes: .sum
        case .maximum, .maxMagnitude: .maximum
        case .minimum: .minimum
        }
    }
}

/// Reductions of a tensor viewed as `(outer, length, inner)`, reducing the
/// middle axis into `(outer, inner)`.
enum ReductionKernels {
    // MARK: Loop path

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func loop<S: TensorScalar>(
        _ op: ReductionOperation, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
        outer: Int, length: Int, inner: Int
    ) {
        for o in 0..<outer {
            for j in 0..<inner {
                var acc = op.identity(S.self)
                for k in 0..<length { acc = op.combine(acc, x[(o * length + k) * inner + j]) }
                y[o * inner + j] = acc
            }
        }
    }

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func argmaxLoop<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<Int>, outer: Int, length: Int, inner: Int, minimum: Bool
    ) {
        for o in 0..<outer {
            for j in 0..<inner {
                var best = 0
                for k in 0..<length {
                    let v = x[(o * length + k) * inner + j], b = x[(o * length + best) * inner + j]
                    if b.isNaN { break }
                    if v.isNaN || (minimum ? v < b : v > b) { best = k }
                }
                y[o * inner + j] = best
            }
        }
    }

    // MARK: Vectorized path

    /// Contiguous runs longer than this are reduced in fixed blocks whose
    /// partial results are combined in order (parallel, thread-count independent).
    static let block = 1 << 16

    static func vectorized<S: TensorScalar>(
        _ op: ReductionOperation, _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
        outer: Int, length: Int, inner: Int
    ) {
        switch S.scalarType {
        case .float32:
            typed(op, cast(x, to: Float.self), cast(y, to: Float.self), outer, length, inner, FloatVector.self)
        case .float64:
            typed(op, cast(x, to: Double.self), cast(y, to: Double.self), outer, length, inner, DoubleVector.self)
        }
    }

    @inline(__always)
    static func typed<V: KernelVector>(
        _ op: ReductionOperation, _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>,
        _ outer: Int, _ length: Int, _ inner: Int, _: V.Type
    ) {
        let px = UncheckedSendable(x), py = UncheckedSendable(y)
        if inner == 1 && outer == 1 && length > 2 * block {
            // One long run: fixed blocks in parallel, then their partials in order.
            let blocks = (length + block - 1) / block
            var partials = [V.Scalar](repeating: 0, count: blocks)
            partials.withUnsafeMutableBufferPointer { p in
                let pp = UncheckedSendable(p.baseAddress!)
                parallelFor(chunks: blocks, work: length) { c in
                    let start = c * block
                    pp.value[c] = contiguous(op, px.value + start, Swift.min(block, length - start), V.self)
                }
            }
            y[0] = contiguous(op.partialCombiner, partials, partials.count, V.self)
        } else if inner == 1 {
            let rowsPerChunk = Swift.max(1, block / Swift.max(length, 1))
            parallelFor(chunks: (outer + rowsPerChunk - 1) / rowsPerChunk, work: outer * length) { c in
                for o in (c * rowsPerChunk)..<Swift.min(outer, (c + 1) * rowsPerChunk) {
                    py.value[o] = contiguous(op, px.value + o * length, length, V.self)
                }
            }
        } else if outer == 1 && V.scalarCount % inner == 0 && length * inner >= 2 * block {
            narrowColumns(op, x, y, rows: length, columns: inner, V.self)
        } else {
            // Reduce across rows with the output slice as accumulator, vectorized along `inner`.
            let columns = 1024
            let piecesPerOuter = (inner + columns - 1) / columns
            parallelFor(chunks: outer * piecesPerOuter, work: outer * length * inner) { c in
                let o = c / piecesPerOuter, start = (c % piecesPerOuter) * columns
                let n = Swift.min(columns, inner - start)
                let out = py.value + o * inner + start
                let base = px.value + o * length * inner + start
                let identity = op.identity(V.Scalar.self)
                for j in 0..<n { out[j] = identity }
                for k in 0..<length {
                    accumulate(op, base + k * inner, out, n, V.self)
                }
            }
        }
    }

    /// Columns of a tall matrix with few columns (`columns` divides the
    /// vector width: a bias gradient's `(pixels, channels)`): the rows read as
    /// one stream of vectors whose lane `l` always holds column `l % columns`,
    /// in fixed blocks of rows reduced in parallel; each block's lanes are
    /// folded into its columns, and the blocks combined in order — bits
    /// independent of the thread count.
    static func narrowColumns<V: KernelVector>(
        _ op: ReductionOperation, _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, rows: Int, columns: Int, _: V.Type
    ) {
        let w = V.scalarCount, rowsPerBlock = block / columns
        let blocks = (rows + rowsPerBlock - 1) / rowsPerBlock
        var partials = [V.Scalar](repeating: 0, count: blocks * columns)
        let identity = op.identity(V.Scalar.self), combiner = op.partialCombiner
        partials.withUnsafeMutableBufferPointer { p in
            let (pp, px) = (UncheckedSendable(p.baseAddress!), UncheckedSendable(x))
            parallelFor(chunks: blocks, work: rows * columns) { b in
                let first = b * rowsPerBlock, count = Swift.min(rowsPerBlock, rows - first) * columns
                let stream = px.value + first * columns
                let lanes: V
                switch op {
                case .sum: lanes = foldLanes(stream, count, identity, V.self) { $0 + $1 } merge: { $0 + $1 }
                case .sumOfSquares: lanes = foldLanes(stream, count, identity, V.self) { $0 + $1 * $1 } merge: { $0 + $1 }
                case .sumOfMagnitudes: lanes = foldLanes(stream, count, identity, V.self) { $0 + V.magnitude($1) } merge: { $0 + $1 }
                case .maximum: lanes = foldLanes(stream, count, identity, V.self) { V.maximum($0, $1) } merge: { V.maximum($0, $1) }
                case .minimum: lanes = foldLanes(stream, count, identity, V.self) { V.minimum($0, $1) } merge: { V.minimum($0, $1) }
                case .maxMagnitude:
                    lanes = foldLanes(stream, count, identity, V.self) { V.maximum($0, V.magnitude($1)) } merge: { V.maximum($0, $1) }
                }
                for c in 0..<columns {
                    var value = lanes[c]
                    for l in stride(from: c + columns, to: w, by: columns) { value = combiner.combine(value, lanes[l]) }
                    pp.value[b * columns + c] = value
                }
            }
        }
        for c in 0..<columns {
            var value = partials[c]
            for b in 1..<blocks { value = combiner.combine(value, partials[b * columns + c]) }
            y[c] = value
        }
    }

    /// `op` over `n` contiguous elements, four vector accumulators wide. The
    /// switch on `op` sits outside the loops so each loop is specialized.
    @inline(__always)
    static func contiguous<V: KernelVector>(
        _ op: ReductionOperation, _ x: UnsafePointer<V.Scalar>, _ n: Int, _: V.Type
    ) -> V.Scalar {
        switch op {
        case .sum: return fold(x, n, 0, V.self) { $0 + $1 } merge: { $0 + $1 } finish: { $0.sum() }
        case .sumOfSquares: return fold(x, n, 0, V.self) { $0 + $1 * $1 } merge: { $0 + $1 } finish: { $0.sum() }
        case .sumOfMagnitudes:
            return fold(x, n, 0, V.self) { $0 + V.magnitude($1) } merge: { $0 + $1 } finish: { $0.sum() }
        case .maximum:
            return fold(x, n, -.infinity, V.self) { V.maximum($0, $1) } merge: { V.maximum($0, $1) } finish: { finishMax($0) }
        case .minimum:
            return fold(x, n, .infinity, V.self) { V.minimum($0, $1) } merge: { V.minimum($0, $1) } finish: { finishMin($0) }
        case .maxMagnitude:
            return fold(x, n, 0, V.self) { V.maximum($0, V.magnitude($1)) } merge: { V.maximum($0, $1) } finish: { finishMax($0) }
        }
    }

    @inline(__always)
    static func fold<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ n: Int, _ identity: V.Scalar, _: V.Type,
        _ combine: (V, V) -> V, merge: (V, V) -> V, finish: (V) -> V.Scalar
    ) -> V.Scalar where V.Scalar: TensorScalar {
        finish(foldLanes(x, n, identity, V.self, combine, merge: merge))
    }

    /// `x[0..<n]` folded lane-wise: lane `l` of the result combines the
    /// elements whose index is `l` modulo the vector width (the tail is
    /// padded with `identity`).
    @inline(__always)
    static func foldLanes<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ n: Int, _ identity: V.Scalar, _: V.Type,
        _ combine: (V, V) -> V, merge: (V, V) -> V
    ) -> V where V.Scalar: TensorScalar {
        let w = V.scalarCount
        let start = V(repeating: identity)
        var a0 = start, a1 = start, a2 = start, a3 = start
        var i = 0
        @inline(__always) func load(_ i: Int) -> V { UnsafeRawPointer(x + i).loadUnaligned(as: V.self) }
        while i + 4 * w <= n {
            a0 = combine(a0, load(i))
            a1 = combine(a1, load(i + w))
            a2 = combine(a2, load(i + 2 * w))
            a3 = combine(a3, load(i + 3 * w))
            i += 4 * w
        }
        while i + w <= n {
            a0 = combine(a0, load(i))
            i += w
        }
        if i < n {
            var v = start
            for j in 0..<(n - i) { v[j] = x[i + j] }
            a1 = combine(a1, v)
        }
        return merge(merge(a0, a1), merge(a2, a3))
    }

    /// `out[j] = out[j] ⊕ x[j]` for `j < n`.
    @inline(__always)
    static func accumulate<V: KernelVector>(
        _ op: ReductionOperation, _ x: UnsafePointer<V.Scalar>, _ out: UnsafeMutablePointer<V.Scalar>, _ n: Int, _: V.Type
    ) {
        switch op {
        case .sum: accumulate(x, out, n, V.self) { $0 + $1 }
        case .sumOfSquares: accumulate(x, out, n, V.self) { $0 + $1 * $1 }
        case .sumOfMagnitudes: accumulate(x, out, n, V.self) { $0 + V.magnitude($1) }
        case .maximum: accumulate(x, out, n, V.self) { V.maximum($0, $1) }
        case .minimum: accumulate(x, out, n, V.self) { V.minimum($0, $1) }
        case .maxMagnitude: accumulate(x, out, n, V.self) { V.maximum($0, V.magnitude($1)) }
        }
    }

    @inline(__always)
    static func accumulate<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ out: UnsafeMutablePointer<V.Scalar>, _ n: Int, _: V.Type, _ combine: (V, V) -> V
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var j = 0
        while j + w <= n {
            let acc = UnsafeRawPointer(out + j).loadUnaligned(as: V.self)
            let v = UnsafeRawPointer(x + j).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(out + j).storeBytes(of: combine(acc, v), as: V.self)
            j += w
        }
        if j < n {
            var acc = V(), v = V()
            for l in 0..<(n - j) { acc[l] = out[j + l]; v[l] = x[j + l] }
            let r = combine(acc, v)
            for l in 0..<(n - j) { out[j + l] = r[l] }
        }
    }

    @inline(__always)
    static func finishMax<V: SIMD>(_ v: V) -> V.Scalar where V.Scalar: FloatingPoint {
        var m = v[0]
        for i in 1..<V.scalarCount { m = ScalarMath.maximum(m, v[i]) }
        return m
    }

    @inline(__always)
    static func finishMin<V: SIMD>(_ v: V) -> V.Scalar where V.Scalar: FloatingPoint {
        var m = v[0]
        for i in 1..<V.scalarCount { m = ScalarMath.minimum(m, v[i]) }
        return m
    }

    /// Index of the maximum (or minimum) along the middle axis; the first one
    /// on ties, the first NaN if there is one (numpy's rule).
    static func argmaxVectorized<S: TensorScalar>(
        _ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<Int>, outer: Int, length: Int, inner: Int, minimum: Bool
    ) {
        // The strided kernel counts positions in the scalar type, exact up to 2^24 (Float) or 2^53.
        if inner > 1 && length > (S.scalarType == .float32 ? 1 << 24 : 1 << 53) {
            return argmaxLoop(x, y, outer: outer, length: length, inner: inner, minimum: minimum)
        }
        switch S.scalarType {
        case .float32:
            argmaxTyped(cast(x, to: Float.self), y, outer, length, inner, minimum, FloatVector.self)
        case .float64:
            argmaxTyped(cast(x, to: Double.self), y, outer, length, inner, minimum, DoubleVector.self)
        }
    }

    @inline(__always)
    static func argmaxTyped<V: KernelVector>(
        _ x: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<Int>,
        _ outer: Int, _ length: Int, _ inner: Int, _ minimum: Bool, _: V.Type
    ) {
        let op: ReductionOperation = minimum ? .minimum : .maximum
        let w = V.scalarCount
        for o in 0..<outer {
            if inner == 1 {
                // The extreme value by SIMD, then the first position holding it.
                let row = x + o * length
                let target = contiguous(op, row, length, V.self)
                var k = 0
                while k < length && !(row[k] == target || (target.isNaN && row[k].isNaN)) { k += 1 }
                y[o] = k
                continue
            }
            var j = 0
            while j < inner {
                let n = Swift.min(w, inner - j)
                @inline(__always) func load(_ k: Int) -> V {
                    let p = x + (o * length + k) * inner + j
                    if n == w { return UnsafeRawPointer(p).loadUnaligned(as: V.self) }
                    var v = V()
                    for l in 0..<n { v[l] = p[l] }
                    return v
                }
                var best = load(0), index = V()   // positions below 2^24 (Float) are exact in the scalar type
                for k in 1..<Swift.max(length, 1) {
                    V.argStep(best: &best, index: &index, x: load(k), k: V.Scalar(k), minimum: minimum)
                }
                for l in 0..<n { y[o * inner + j + l] = Int(index[l]) }
                j += w
            }
        }
    }

    // MARK: Inner product

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func dotLoop<S: TensorScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ n: Int) -> S {
        var sum: S = 0
        for i in 0..<n { sum += a[i] * b[i] }
        return sum
    }

    static func dotVectorized<S: TensorScalar>(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ n: Int) -> S {
        switch S.scalarType {
        case .float32: S(dotBlocked(cast(a, to: Float.self), cast(b, to: Float.self), n, FloatVector.self))
        case .float64: S(dotBlocked(cast(a, to: Double.self), cast(b, to: Double.self), n, DoubleVector.self))
        }
    }

    @inline(__always)
    static func dotBlocked<V: KernelVector>(_ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>, _ n: Int, _: V.Type) -> V.Scalar {
        let blocks = (n + block - 1) / block
        if blocks <= 1 { return dotContiguous(a, b, n, V.self) }
        var partials = [V.Scalar](repeating: 0, count: blocks)
        let pa = UncheckedSendable(a), pb = UncheckedSendable(b)
        partials.withUnsafeMutableBufferPointer { p in
            let pp = UncheckedSendable(p.baseAddress!)
            parallelFor(chunks: blocks, work: 2 * n) { c in
                let start = c * block
                pp.value[c] = dotContiguous(pa.value + start, pb.value + start, Swift.min(block, n - start), V.self)
            }
        }
        return contiguous(.sum, partials, blocks, V.self)
    }

    @inline(__always)
    static func dotContiguous<V: SIMD>(_ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>, _ n: Int, _: V.Type) -> V.Scalar
    where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var a0 = V(), a1 = V(), a2 = V(), a3 = V()
        @inline(__always) func product(_ i: Int) -> V {
            UnsafeRawPointer(a + i).loadUnaligned(as: V.self) * UnsafeRawPointer(b + i).loadUnaligned(as: V.self)
        }
        var i = 0
        while i + 4 * w <= n {
            a0 += product(i); a1 += product(i + w); a2 += product(i + 2 * w); a3 += product(i + 3 * w)
            i += 4 * w
        }
        while i + w <= n { a0 += product(i); i += w }
        var tail: V.Scalar = 0
        while i < n { tail += a[i] * b[i]; i += 1 }
        return ((a0 + a1) + (a2 + a3)).sum() + tail
    }
}
