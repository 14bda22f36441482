import Foundation

/// Softmax cross-entropy from logits over the classes (axis 0) of a `(C, n)`
/// view, and its gradient, in one sweep per block of columns:
///
/// ```
/// mⱼ = maxₖ zₖⱼ     sⱼ = Σₖ e^(zₖⱼ − mⱼ)     log pₖⱼ = (zₖⱼ − mⱼ) − ln sⱼ
/// J = −scale · Σₖⱼ yₖⱼ · log pₖⱼ          ∂J/∂zₖⱼ = scale · (e^(zₖⱼ − mⱼ)/sⱼ − yₖⱼ)
/// ```
///
/// — what `logSoftmax`, a product with `Y`, a sum, an `exp`, a subtraction
/// and a scaling did in six passes over `(C, n)` tensors, each allocating its
/// result. The gradient buffer holds `e^(z − m)` between the second and
/// third sweeps, so `exp` runs once per element. Columns are taken in fixed
/// blocks of 256 whose partial costs are added in block order (in `Double`),
/// so the cost does not depend on the thread count.
enum CrossEntropyKernels {
    /// Columns per block (and per parallel chunk).
    static let blockColumns = 256

    /// The plain loops, in `Double`, one column at a time.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func loop<S: TensorScalar>(
        _ z: UnsafePointer<S>, _ y: UnsafePointer<S>, _ gradient: UnsafeMutablePointer<S>?, classes: Int, columns: Int, scale: S
    ) -> S {
        var cost = 0.0
        for j in 0..<columns {
            var m = -Double.infinity
            for k in 0..<classes { m = Swift.max(m, Double(z[k * columns + j])) }
            var s = 0.0
            for k in 0..<classes { s += Foundation.exp(Double(z[k * columns + j]) - m) }
            let lnS = Foundation.log(s)
            for k in 0..<classes {
                let d = Double(z[k * columns + j]) - m, label = Double(y[k * columns + j])
                if label != 0 { cost -= label * (d - lnS) }
                gradient?[k * columns + j] = S((Foundation.exp(d) / s - label) * Double(scale))
            }
        }
        return S(cost * Double(scale))
    }

    static func vectorized<S: TensorScalar>(
        _ z: UnsafePointer<S>, _ y: UnsafePointer<S>, _ gradient: UnsafeMutablePointer<S>?, classes: Int, columns: Int, scale: S
    ) -> S {
        switch S.scalarType {
        case .float32:
            S(typed(cast(z, to: Float.self), cast(y, to: Float.self), gradient.map { cast($0, to: Float.self) },
                    classes, columns, Float(scale), FloatVector.self))
        case .float64:
            S(typed(cast(z, to: Double.self), cast(y, to: Double.self), gradient.map { cast($0, to: Double.self) },
                    classes, columns, Double(scale), DoubleVector.self))
        }
    }

    @inline(__always)
    static func typed<V: KernelVector>(
        _ z: UnsafePointer<V.Scalar>, _ y: UnsafePointer<V.Scalar>, _ gradient: UnsafeMutablePointer<V.Scalar>?,
        _ classes: Int, _ columns: Int, _ scale: V.Scalar, _: V.Type
    ) -> Double {
        let blocks = (columns + blockColumns - 1) / blockColumns
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: blocks) { partial in
            let pz = UncheckedSendable(z), py = UncheckedSendable(y), pg = UncheckedSendable(gradient)
            let costs = UncheckedSendable(partial.baseAddress!)
            parallelFor(chunks: blocks, work: 8 * classes * columns) { b in
                let start = b * blockColumns, n = Swift.min(blockColumns, columns - start)
                withUnsafeTemporaryAllocation(of: V.Scalar.self, capacity: 3 * n) { scratch in
                    let s = scratch.baseAddress!
                    costs.value[b] = block(pz.value + start, py.value + start, pg.value.map { $0 + start }, classes, columns, n, scale,
                                           max: s, sum: s + n, logSum: s + 2 * n, V.self)
                }
            }
            var cost = 0.0
            for b in 0..<blocks { cost += partial[b] }
            return cost
        }
    }

    /// One block of `n` columns (rows `stride` apart); `e`, when there is a
    /// gradient to write, receives `e^(z − m)` and then the gradient. Returns
    /// the block's share of the cost.
    @inline(__always)
    static func block<V: KernelVector>(
        _ z: UnsafePointer<V.Scalar>, _ y: UnsafePointer<V.Scalar>, _ e: UnsafeMutablePointer<V.Scalar>?,
        _ classes: Int, _ stride: Int, _ n: Int, _ scale: V.Scalar,
        max m: UnsafeMutablePointer<V.Scalar>, sum s: UnsafeMutablePointer<V.Scalar>, logSum lnS: UnsafeMutablePointer<V.Scalar>,
        _: V.Type
    ) -> Double {
        let w = V.scalarCount
        @inline(__always) func load(_ p: UnsafePointer<V.Scalar>, _ j: Int, _ count: Int) -> V { PartialVector.load(p + j, count) }
        @inline(__always) func store(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>, _ j: Int, _ count: Int) { PartialVector.store(v, p + j, count) }
        SoftmaxKernels.columnStatistics(z, stride, classes, n, max: m, sum: s, exponentials: e, V.self)
        var j = 0
        while j < n {   // ln sⱼ
            let c = Swift.min(w, n - j)
            store(V.log(load(s, j, c)), lnS, j, c)
            j += w
        }
        var costs = V()   // padding lanes hold y = 0 and add nothing
        for k in 0..<classes {
            var j = 0
            while j < n {
                let c = Swift.min(w, n - j)
                let label = load(y + k * stride, j, c)
                let logP = (load(z + k * stride, j, c) - load(m, j, c)) - load(lnS, j, c)
                // y = 0 adds nothing, even where log p = −∞ (the library's compare: a generic `.==` builds its mask lane by lane)
                costs -= (label * logP).replacing(with: 0, where: V.compare(.equal, label, V()))
                if let e { store((load(e + k * stride, j, c) / load(s, j, c) - label) * scale, e + k * stride, j, c) }
                j += w
            }
        }
        return Double(costs.sum()) * Double(scale)
    }
}
