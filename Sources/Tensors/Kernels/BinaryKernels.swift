import Foundation

/// An elementwise function of two broadcast operands. Comparisons produce
/// masks: 1 where the relation holds, 0 elsewhere.
enum BinaryOperation: String, CaseIterable, Sendable {
    case add, subtract, multiply, divide, minimum, maximum, pow
    case equal, notEqual, less, lessOrEqual, greater, greaterOrEqual
    /// Activation backward rules in one pass, `a` the incoming gradient: from
    /// the saved output `b = σ(z)`, `a·(b·(1 − b))`; from `b = tanh z`,
    /// `a·(1 − b·b)`; from the saved input `b = z`, `a·[z ≥ 0]` (relu′(0) = 1,
    /// the notes' convention; NaN gives 0).
    case sigmoidGradient, tanhGradient, reluGradient

    @inline(__always)
    func apply<S: TensorScalar>(_ a: S, _ b: S) -> S {
        switch self {
        case .add: a + b
        case .subtract: a - b
        case .multiply: a * b
        case .divide: a / b
        case .minimum: ScalarMath.minimum(a, b)
        case .maximum: ScalarMath.maximum(a, b)
        case .pow: S(Foundation.pow(Double(a), Double(b)))
        case .equal: a == b ? 1 : 0
        case .notEqual: a != b ? 1 : 0
        case .less: a < b ? 1 : 0
        case .lessOrEqual: a <= b ? 1 : 0
        case .greater: a > b ? 1 : 0
        case .greaterOrEqual: a >= b ? 1 : 0
        case .sigmoidGradient: a * (b * (1 - b))
        case .tanhGradient: a * (1 - b * b)
        case .reluGradient: a * (b >= 0 ? 1 : 0)
        }
    }
}

/// How two operands map onto their broadcast result.
///
/// Axes of size 1 in the result are dropped and neighbouring axes that are
/// contiguous in both operands are merged, so `(n, 1) + (n, m)` becomes `n`
/// rows of an `m`-long inner loop where one operand is a repeated scalar.
/// The inner loop has operand strides of 0 (broadcast) or 1 (contiguous).
struct BroadcastPlan {
    let shape: [Int]
    let outerShape: [Int]
    let outerStridesA: [Int]
    let outerStridesB: [Int]
    let inner: Int
    let innerStrideA: Int
    let innerStrideB: Int
    var outerCount: Int { outerShape.reduce(1, *) }

    init(_ a: [Int], _ b: [Int], operation: String) throws(ShapeError) {
        let shape = try broadcastShape(a, b, operation: operation)
        self.shape = shape
        func strides(_ s: [Int]) -> [Int] {
            let padded = [Int](repeating: 1, count: shape.count - s.count) + s
            let own = contiguousStrides(padded)
            return (0..<shape.count).map { padded[$0] == 1 ? 0 : own[$0] }
        }
        let sa = strides(a), sb = strides(b)
        // (size, strideA, strideB) from the innermost axis outwards, merged where contiguous.
        var dims: [(Int, Int, Int)] = []
        for axis in stride(from: shape.count - 1, through: 0, by: -1) where shape[axis] != 1 {
            if let last = dims.last, sa[axis] == last.1 * last.0, sb[axis] == last.2 * last.0 {
                dims[dims.count - 1].0 *= shape[axis]
            } else {
                dims.append((shape[axis], sa[axis], sb[axis]))
            }
        }
        if let first = dims.first {
            (inner, innerStrideA, innerStrideB) = first
            let outer = dims.dropFirst().reversed()
            outerShape = outer.map(\.0)
            outerStridesA = outer.map(\.1)
            outerStridesB = outer.map(\.2)
        } else {
            (inner, innerStrideA, innerStrideB) = (1, 0, 0)
            (outerShape, outerStridesA, outerStridesB) = ([], [], [])
        }
    }

    /// Offsets of outer row `row` in the two operands.
    @inline(__always)
    func offsets(ofRow row: Int) -> (Int, Int) {
        var r = row, oa = 0, ob = 0
        for axis in stride(from: outerShape.count - 1, through: 0, by: -1) {
            let i = r % outerShape[axis]
            r /= outerShape[axis]
            oa += i * outerStridesA[axis]
            ob += i * outerStridesB[axis]
        }
        return (oa, ob)
    }
}

enum BinaryKernels {
    // MARK: Loop path — for every output element, its multi-index, then each operand's offset.

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func loop<S: TensorScalar>(
        _ op: BinaryOperation, _ a: UnsafePointer<S>, _ shapeA: [Int], _ b: UnsafePointer<S>, _ shapeB: [Int],
        _ y: UnsafeMutablePointer<S>, _ shape: [Int]
    ) {
        let rank = shape.count
        let padA = [Int](repeating: 1, count: rank - shapeA.count) + shapeA
        let padB = [Int](repeating: 1, count: rank - shapeB.count) + shapeB
        let stridesA = contiguousStrides(padA), stridesB = contiguousStrides(padB)
        var index = [Int](repeating: 0, count: rank)
        for i in 0..<shape.reduce(1, *) {
            var oa = 0, ob = 0
            for axis in 0..<rank {
                if padA[axis] != 1 { oa += index[axis] * stridesA[axis] }
                if padB[axis] != 1 { ob += index[axis] * stridesB[axis] }
            }
            y[i] = op.apply(a[oa], b[ob])
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                if index[axis] < shape[axis] { break }
                index[axis] = 0
                axis -= 1
            }
        }
    }

    // MARK: Vectorized path — SIMD inner rows, rows (or pieces of one long row) split over threads.

    static func vectorized<S: TensorScalar>(
        _ op: BinaryOperation, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>,
        _ plan: BroadcastPlan
    ) {
        let inner = plan.inner
        let piecesPerRow = (inner + elementwiseChunk - 1) / elementwiseChunk
        let rowsPerChunk = Swift.max(1, elementwiseChunk / Swift.max(inner, 1))
        let rows = plan.outerCount
        let chunks = piecesPerRow > 1 ? rows * piecesPerRow : (rows + rowsPerChunk - 1) / rowsPerChunk
        let pa = UncheckedSendable(a), pb = UncheckedSendable(b), py = UncheckedSendable(y)
        parallelFor(chunks: chunks, work: rows * inner) { c in
            let (firstRow, rowCount, start, length): (Int, Int, Int, Int) =
                piecesPerRow > 1
                ? (c / piecesPerRow, 1, (c % piecesPerRow) * elementwiseChunk,
                   Swift.min(elementwiseChunk, inner - (c % piecesPerRow) * elementwiseChunk))
                : (c * rowsPerChunk, Swift.min(rowsPerChunk, rows - c * rowsPerChunk), 0, inner)
            for row in firstRow..<(firstRow + rowCount) {
                let (oa, ob) = plan.offsets(ofRow: row)
                let ra = pa.value + oa + start * plan.innerStrideA
                let rb = pb.value + ob + start * plan.innerStrideB
                let ry = py.value + row * inner + start
                switch S.scalarType {
                case .float32:
                    vectorRow(op, cast(ra, to: Float.self), plan.innerStrideA, cast(rb, to: Float.self), plan.innerStrideB,
                              cast(ry, to: Float.self), length, FloatVector.self)
                case .float64:
                    vectorRow(op, cast(ra, to: Double.self), plan.innerStrideA, cast(rb, to: Double.self), plan.innerStrideB,
                              cast(ry, to: Double.self), length, DoubleVector.self)
                }
            }
        }
    }

    // MARK: Contiguous operands — the fast paths (no broadcast plan, no multi-index).

    /// `y[i] = op(a[i·sa], b[i·sb])` for `i < n`, `sa, sb ∈ {0, 1}` (a stride of 0
    /// repeats a scalar), on the current ``ComputePath``: equal shapes and
    /// tensor ⊕ scalar. Bitwise the same as ``loop`` and ``vectorized`` on the
    /// same operands: the loop path applies `op.apply` per element, the
    /// vectorized path runs ``vectorRow`` on the same fixed pieces.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func contiguous<S: TensorScalar>(
        _ op: BinaryOperation, _ a: UnsafePointer<S>, _ sa: Int, _ b: UnsafePointer<S>, _ sb: Int,
        _ y: UnsafeMutablePointer<S>, _ n: Int
    ) {
        if n <= 0 { return }
        ComputePath.current.run(loop: {
            for i in 0..<n { y[i] = op.apply(a[i * sa], b[i * sb]) }
        }, vectorized: {
            if n <= elementwiseChunk {
                typedRow(op, a, sa, b, sb, y, n)
                return
            }
            let pa = UncheckedSendable(a), pb = UncheckedSendable(b), py = UncheckedSendable(y)
            parallelFor(chunks: (n + elementwiseChunk - 1) / elementwiseChunk, work: n) { c in
                let start = c * elementwiseChunk
                typedRow(op, pa.value + start * sa, sa, pb.value + start * sb, sb, py.value + start,
                         Swift.min(elementwiseChunk, n - start))
            }
        })
    }

    @inline(__always)
    static func typedRow<S: TensorScalar>(
        _ op: BinaryOperation, _ a: UnsafePointer<S>, _ sa: Int, _ b: UnsafePointer<S>, _ sb: Int,
        _ y: UnsafeMutablePointer<S>, _ n: Int
    ) {
        switch S.scalarType {
        case .float32:
            vectorRow(op, cast(a, to: Float.self), sa, cast(b, to: Float.self), sb, cast(y, to: Float.self), n, FloatVector.self)
        case .float64:
            vectorRow(op, cast(a, to: Double.self), sa, cast(b, to: Double.self), sb, cast(y, to: Double.self), n, DoubleVector.self)
        }
    }

    /// One inner row: `y[i] = op(a[i·sa], b[i·sb])` with `sa, sb ∈ {0, 1}`.
    /// Whole vectors use the SIMD form; the last `n mod w` elements use a scalar
    /// form with the same lane semantics (gathering a partial vector through
    /// memory stalled store forwarding, which dominated short rows).
    @inline(__always)
    static func vectorRow<V: KernelVector>(
        _ op: BinaryOperation, _ a: UnsafePointer<V.Scalar>, _ sa: Int, _ b: UnsafePointer<V.Scalar>, _ sb: Int,
        _ y: UnsafeMutablePointer<V.Scalar>, _ n: Int, _: V.Type
    ) {
        typealias S = V.Scalar
        switch op {
        case .add: row(a, sa, b, sb, y, n, { (u: V, v: V) in u + v }, { (u: S, v: S) in u + v })
        case .subtract: row(a, sa, b, sb, y, n, { (u: V, v: V) in u - v }, { (u: S, v: S) in u - v })
        case .multiply: row(a, sa, b, sb, y, n, { (u: V, v: V) in u * v }, { (u: S, v: S) in u * v })
        case .divide: row(a, sa, b, sb, y, n, { (u: V, v: V) in u / v }, { (u: S, v: S) in u / v })
        case .minimum: row(a, sa, b, sb, y, n, { (u: V, v: V) in V.minimum(u, v) }, { (u: S, v: S) in ScalarMath.minimum(u, v) })
        case .maximum: row(a, sa, b, sb, y, n, { (u: V, v: V) in V.maximum(u, v) }, { (u: S, v: S) in ScalarMath.maximum(u, v) })
        case .pow:   // the tail through the vector function too, so every element gets the same bits
            row(a, sa, b, sb, y, n, { (u: V, v: V) in V.pow(u, v) }, { (u: S, v: S) in V.pow(V(repeating: u), V(repeating: v))[0] })
        case .sigmoidGradient: row(a, sa, b, sb, y, n, { (u: V, v: V) in u * (v * (1 - v)) }, { (u: S, v: S) in u * (v * (1 - v)) })
        case .tanhGradient: row(a, sa, b, sb, y, n, { (u: V, v: V) in u * (1 - v * v) }, { (u: S, v: S) in u * (1 - v * v) })
        case .reluGradient:
            // The library's compare (one instruction); a generic `v .>= 0` builds its mask lane by lane.
            row(a, sa, b, sb, y, n, { (u: V, v: V) in u * V.mask(.greaterOrEqual, v, V()) }, { (u: S, v: S) in u * (v >= 0 ? 1 : 0) })
        default: row(a, sa, b, sb, y, n, { (u: V, v: V) in V.mask(op, u, v) }, { (u: S, v: S) in op.apply(u, v) })
        }
    }

    @inline(__always)
    static func row<V: SIMD>(
        _ a: UnsafePointer<V.Scalar>, _ sa: Int, _ b: UnsafePointer<V.Scalar>, _ sb: Int,
        _ y: UnsafeMutablePointer<V.Scalar>, _ n: Int, _ f: (V, V) -> V, _ scalar: (V.Scalar, V.Scalar) -> V.Scalar
    ) {
        let width = V.scalarCount
        var i = 0
        switch (sa, sb) {
        case (1, 1):
            while i + width <= n {
                let r = f(UnsafeRawPointer(a + i).loadUnaligned(as: V.self), UnsafeRawPointer(b + i).loadUnaligned(as: V.self))
                UnsafeMutableRawPointer(y + i).storeBytes(of: r, as: V.self)
                i += width
            }
        case (1, 0):
            let vb = V(repeating: b[0])
            while i + width <= n {
                UnsafeMutableRawPointer(y + i).storeBytes(of: f(UnsafeRawPointer(a + i).loadUnaligned(as: V.self), vb), as: V.self)
                i += width
            }
        case (0, 1):
            let va = V(repeating: a[0])
            while i + width <= n {
                UnsafeMutableRawPointer(y + i).storeBytes(of: f(va, UnsafeRawPointer(b + i).loadUnaligned(as: V.self)), as: V.self)
                i += width
            }
        default:
            let r = f(V(repeating: a[0]), V(repeating: b[0]))
            while i + width <= n {
                UnsafeMutableRawPointer(y + i).storeBytes(of: r, as: V.self)
                i += width
            }
        }
        while i < n {
            y[i] = scalar(a[i * sa], b[i * sb])
            i += 1
        }
    }
}
