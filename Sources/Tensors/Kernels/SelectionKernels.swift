/// `y[i] = c[i] ≠ 0 ? a[i] : b[i]` over `n` elements of operands already
/// brought to one shape. A NaN condition counts as true (it is nonzero), as
/// numpy's `bool(nan)` is.
enum SelectionKernels {
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func select<S: TensorScalar>(
        _ c: UnsafePointer<S>, _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ n: Int
    ) {
        ComputePath.current.run(loop: {
            for i in 0..<n { y[i] = c[i] != 0 ? a[i] : b[i] }
        }, vectorized: {
            let (pc, pa, pb, py) = (UncheckedSendable(c), UncheckedSendable(a), UncheckedSendable(b), UncheckedSendable(y))
            parallelFor(chunks: (n + elementwiseChunk - 1) / elementwiseChunk, work: n) { chunk in
                let start = chunk * elementwiseChunk, length = Swift.min(elementwiseChunk, n - start)
                switch S.scalarType {
                case .float32:
                    rows(cast(pc.value + start, to: Float.self), cast(pa.value + start, to: Float.self),
                         cast(pb.value + start, to: Float.self), cast(py.value + start, to: Float.self), length, FloatVector.self)
                case .float64:
                    rows(cast(pc.value + start, to: Double.self), cast(pa.value + start, to: Double.self),
                         cast(pb.value + start, to: Double.self), cast(py.value + start, to: Double.self), length, DoubleVector.self)
                }
            }
        })
    }

    /// Whole vectors with a lane mask, then the tail one element at a time.
    @inline(__always)
    static func rows<V: KernelVector>(
        _ c: UnsafePointer<V.Scalar>, _ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>,
        _ y: UnsafeMutablePointer<V.Scalar>, _ n: Int, _: V.Type
    ) {
        let width = V.scalarCount, zero = V()
        var i = 0
        while i + width <= n {
            let vc = UnsafeRawPointer(c + i).loadUnaligned(as: V.self)
            let va = UnsafeRawPointer(a + i).loadUnaligned(as: V.self)
            let vb = UnsafeRawPointer(b + i).loadUnaligned(as: V.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: vb.replacing(with: va, where: V.compare(.notEqual, vc, zero)), as: V.self)
            i += width
        }
        while i < n {
            y[i] = c[i] != 0 ? a[i] : b[i]
            i += 1
        }
    }
}
