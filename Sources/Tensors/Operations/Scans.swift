// Running sums and products along an axis (numpy's cumsum and cumprod).

extension Tensor {
    /// The inclusive scan `op` along `axis`, from the start or (`reverse`) from the end.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func scanned(_ op: ScanOperation, axis: Int, reverse: Bool, operation: String) -> Tensor {
        let (outer, length, inner) = splitAxis(axis, operation: operation)
        return Tensor(shape: shape) { y in
            scalars.withUnsafeBufferPointer { x in
                guard let px = x.baseAddress, let py = y.baseAddress else { return }
                ComputePath.current.run(loop: {
                    ScanKernels.loop(op, px, py, outer: outer, length: length, inner: inner, reverse: reverse)
                }, vectorized: {
                    ScanKernels.vectorized(op, px, py, outer: outer, length: length, inner: inner, reverse: reverse)
                })
            }
        }
    }

    /// The running sums along `axis` (numpy's `cumsum`, PyTorch's `cumsum`):
    /// the same shape, with `yₖ = x₀ + x₁ + … + xₖ` along the axis; a negative
    /// axis counts from the end.
    ///
    /// ```swift
    /// Tensor<Float>([[1, 2, 3], [4, 5, 6]]).cumulativeSum(axis: 1)   // [[1, 3, 6], [4, 9, 15]]
    /// Tensor<Float>([[1, 2, 3], [4, 5, 6]]).cumulativeSum(axis: 0)   // [[1, 2, 3], [5, 7, 9]]
    /// ```
    ///
    /// Each sum is accumulated in order, `yₖ = yₖ₋₁ + xₖ` from `y₀ = x₀`, on
    /// both compute paths, so they agree bit for bit, in Float and Double, and
    /// agree with numpy, which adds in the same order.
    public func cumulativeSum(axis: Int) -> Tensor {
        scanned(.sum, axis: axis, reverse: false, operation: "cumulativeSum")
    }

    /// The running products along `axis` (numpy's `cumprod`): the same shape,
    /// `yₖ = x₀·x₁·…·xₖ`, multiplied in order on both paths (bitwise equal).
    /// Not differentiable on the tape.
    public func cumulativeProduct(axis: Int) -> Tensor {
        scanned(.product, axis: axis, reverse: false, operation: "cumulativeProduct")
    }
}
