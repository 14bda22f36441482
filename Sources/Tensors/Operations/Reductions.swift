// Reductions over all elements or along one axis.

/// Which vector norm ``Tensor/norm(_:)`` computes.
public enum Norm: Sendable {
    /// `Σ|xᵢ|`
    case l1
    /// `√(Σ xᵢ²)` — the Euclidean (Frobenius, for matrices) norm.
    case l2
    /// `max |xᵢ|`
    case infinity
}

extension Tensor {
    /// Views the shape as `(outer, length, inner)` around `axis`.
    func splitAxis(_ axis: Int, operation: String) -> (Int, Int, Int) {
        let a = normalizedAxis(axis, rank: rank, operation: operation, shape: shape)
        return (shape[..<a].reduce(1, *), shape[a], shape[(a + 1)...].reduce(1, *))
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func reduced(_ op: ReductionOperation, axis: Int, keepingDimensions: Bool, operation: String) -> Tensor {
        let (outer, length, inner) = splitAxis(axis, operation: operation)
        if length == 0 && (op == .maximum || op == .minimum) {
            shapeFailure(ShapeError(operation: operation, message: "empty axis \(axis) of shape \(format(shape))"))
        }
        let a = normalizedAxis(axis, rank: rank, operation: operation, shape: shape)
        var outShape = shape
        if keepingDimensions { outShape[a] = 1 } else { outShape.remove(at: a) }
        return Tensor(shape: outShape) { y in
            scalars.withUnsafeBufferPointer { x in
                guard let py = y.baseAddress, y.count > 0 else { return }
                let px = x.baseAddress ?? UnsafePointer(py)   // unused when length == 0
                ComputePath.current.run(loop: {
                    ReductionKernels.loop(op, px, py, outer: outer, length: length, inner: inner)
                }, vectorized: {
                    ReductionKernels.vectorized(op, px, py, outer: outer, length: length, inner: inner)
                })
            }
        }
    }

    func reducedAll(_ op: ReductionOperation, operation: String) -> Scalar {
        if count == 0 && (op == .maximum || op == .minimum) {
            shapeFailure(ShapeError(operation: operation, message: "empty tensor of shape \(format(shape))"))
        }
        return Tensor(shape: [count], scalars: scalars).reduced(op, axis: 0, keepingDimensions: false, operation: operation).scalars[0]
    }

    /// The sum of all elements.
    public func sum() -> Scalar { count == 0 ? 0 : reducedAll(.sum, operation: "sum") }
    /// Sums along `axis`: `(3, 4).sum(axis: 0)` is `(4)`, or `(1, 4)` when keeping dimensions.
    public func sum(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduced(.sum, axis: axis, keepingDimensions: keepingDimensions, operation: "sum")
    }

    /// The arithmetic mean of all elements (NaN when empty).
    public func mean() -> Scalar { sum() / Scalar(count) }
    /// The mean along `axis`.
    public func mean(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        let (_, length, _) = splitAxis(axis, operation: "mean")
        return sum(axis: axis, keepingDimensions: keepingDimensions) / Scalar(length)
    }

    /// The largest element (NaN if any element is NaN).
    public func max() -> Scalar { reducedAll(.maximum, operation: "max") }
    public func max(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduced(.maximum, axis: axis, keepingDimensions: keepingDimensions, operation: "max")
    }
    /// The smallest element (NaN if any element is NaN).
    public func min() -> Scalar { reducedAll(.minimum, operation: "min") }
    public func min(axis: Int, keepingDimensions: Bool = false) -> Tensor {
        reduced(.minimum, axis: axis, keepingDimensions: keepingDimensions, operation: "min")
    }

    /// The variance `Σ(x − mean(x))² / (n − correction)` of all `n` elements:
    /// by default the population variance `mean((x − mean(x))²)` (numpy's
    /// `var`, `ddof=0`); `correction: 1` is the unbiased sample variance
    /// (PyTorch's default, Bessel's correction). As numpy, the divisor is
    /// `max(n − correction, 0)`: one element with `correction: 1` gives 0/0 = NaN.
    public func variance(correction: Int = 0) -> Scalar {
        let centered = self - mean()
        return centered.reducedAll(.sumOfSquares, operation: "variance") / Scalar(Swift.max(count - correction, 0))
    }
    /// The variance along `axis`, `Σₖ(xₖ − mean)² / (n − correction)` over the
    /// `n` elements of the axis (see ``variance(correction:)``): `(3, 4)` gives
    /// `(4)` along axis 0, or `(1, 4)` keeping dimensions.
    public func variance(axis: Int, keepingDimensions: Bool = false, correction: Int = 0) -> Tensor {
        let (_, length, _) = splitAxis(axis, operation: "variance")
        let centered = self - mean(axis: axis, keepingDimensions: true)
        return centered.reduced(.sumOfSquares, axis: axis, keepingDimensions: keepingDimensions, operation: "variance")
            / Scalar(Swift.max(length - correction, 0))
    }

    /// The standard deviation `√(Σ(x − mean(x))² / (n − correction))` of all
    /// `n` elements: by default the population form (numpy's `std`, `ddof=0`);
    /// `correction: 1` divides by `n − 1` (PyTorch's `std` default). The square
    /// root of ``variance(correction:)``.
    public func std(correction: Int = 0) -> Scalar { variance(correction: correction).squareRoot() }
    /// The standard deviation along `axis` (see ``std(correction:)``): `(3, 4)`
    /// gives `(4)` along axis 0, or `(1, 4)` keeping dimensions — the scale of
    /// input normalization, `(x − x.mean(axis: 0, keepingDimensions: true)) / x.std(axis: 0, keepingDimensions: true)`.
    public func std(axis: Int, keepingDimensions: Bool = false, correction: Int = 0) -> Tensor {
        sqrt(variance(axis: axis, keepingDimensions: keepingDimensions, correction: correction))
    }

    /// Whether every element is finite (no NaN, no ±∞): one vectorized pass,
    /// since `max |x|` is NaN or ∞ exactly when some element is.
    public var isFinite: Bool { count == 0 || reducedAll(.maxMagnitude, operation: "isFinite").isFinite }

    /// The norm of all elements (for a matrix, `.l2` is the Frobenius norm `‖W‖_F`).
    public func norm(_ kind: Norm = .l2) -> Scalar {
        switch kind {
        case .l1: count == 0 ? 0 : reducedAll(.sumOfMagnitudes, operation: "norm")
        case .l2: count == 0 ? 0 : reducedAll(.sumOfSquares, operation: "norm").squareRoot()
        case .infinity: count == 0 ? 0 : reducedAll(.maxMagnitude, operation: "norm")
        }
    }

    /// Norms along `axis`. Row norms of `x = [[0, 3, 4], [2, 6, 4]]` with
    /// `norm(axis: 1, keepingDimensions: true)` are `[[5], [√56]]`, and
    /// `x / norms` normalises each row (the notes' exercise).
    public func norm(_ kind: Norm = .l2, axis: Int, keepingDimensions: Bool = false) -> Tensor {
        switch kind {
        case .l1: reduced(.sumOfMagnitudes, axis: axis, keepingDimensions: keepingDimensions, operation: "norm")
        case .l2: sqrt(reduced(.sumOfSquares, axis: axis, keepingDimensions: keepingDimensions, operation: "norm"))
        case .infinity: reduced(.maxMagnitude, axis: axis, keepingDimensions: keepingDimensions, operation: "norm")
        }
    }

    func argExtremum(axis: Int, minimum: Bool) -> IntegerTensor {
        let name = minimum ? "argmin" : "argmax"
        let (outer, length, inner) = splitAxis(axis, operation: name)
        if length == 0 { shapeFailure(ShapeError(operation: name, message: "empty axis \(axis) of shape \(format(shape))")) }
        var resultShape = shape
        resultShape.remove(at: normalizedAxis(axis, rank: rank, operation: name, shape: shape))
        let positions = [Int](unsafeUninitializedCapacity: outer * inner) { y, initialized in
            scalars.withUnsafeBufferPointer { x in
                guard let px = x.baseAddress, let py = y.baseAddress else { return }
                ComputePath.current.run(loop: {
                    ReductionKernels.argmaxLoop(px, py, outer: outer, length: length, inner: inner, minimum: minimum)
                }, vectorized: {
                    ReductionKernels.argmaxVectorized(px, py, outer: outer, length: length, inner: inner, minimum: minimum)
                })
            }
            initialized = outer * inner
        }
        return IntegerTensor(shape: resultShape, scalars: positions)
    }

    /// Positions of the maxima along `axis`, an ``IntegerTensor`` with that
    /// axis removed (the first maximum on ties, the first NaN if any). For
    /// `Ŷ` of shape `(classes, m)`, `Ŷ.argmax(axis: 0)` are the `m` predicted
    /// classes. Exact at any length (a Float tensor's maximum at position
    /// 16,777,217 is reported as 16,777,217).
    public func argmax(axis: Int) -> IntegerTensor { argExtremum(axis: axis, minimum: false) }
    /// Positions of the minima along `axis` (see ``argmax(axis:)``).
    public func argmin(axis: Int) -> IntegerTensor { argExtremum(axis: axis, minimum: true) }
    /// The row-major position of the largest element.
    public func argmax() -> Int { Tensor(shape: [count], scalars: scalars).argmax(axis: 0).scalars[0] }
    /// The row-major position of the smallest element.
    public func argmin() -> Int { Tensor(shape: [count], scalars: scalars).argmin(axis: 0).scalars[0] }
}

/// The inner product `Σᵢ aᵢbᵢ` of two tensors with the same number of
/// elements (in row-major order): `z = dot(w, x) + b` of the notes.
public func dot<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> S {
    if a.count != b.count {
        shapeFailure(ShapeError(operation: "dot", message: "element counts differ: \(format(a.shape)) · \(format(b.shape))"))
    }
    return a.scalars.withUnsafeBufferPointer { pa in
        b.scalars.withUnsafeBufferPointer { pb in
            guard let x = pa.baseAddress, let y = pb.baseAddress else { return 0 }
            return ComputePath.current.run(
                loop: { ReductionKernels.dotLoop(x, y, a.count) },
                vectorized: { ReductionKernels.dotVectorized(x, y, a.count) })
        }
    }
}

/// The outer product `aᵢbⱼ` of the elements of two tensors, shape `(a.count, b.count)`
/// — what `a·aᵀ` gives for a `(5, 1)` column in the notes.
public func outer<S>(_ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    a.reshaped(to: [a.count, 1]) * b.reshaped(to: [1, b.count])
}
