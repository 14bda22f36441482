// Backward rule of the running sum along an axis. Input xⱼ enters every
// output yₖ with k ≥ j, so its gradient is the sum of those outputs' gradients:
//
//   cumulativeSum   dxⱼ = Σ_{k ≥ j} gₖ   (the running sum of g from the end)

extension Variable {
    /// The running sums along `axis` (see ``Tensor/cumulativeSum(axis:)``).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func cumulativeSum(axis: Int) -> Variable {
        Variable(value.cumulativeSum(axis: axis), derivedFrom: [self]) { g, _ in
            [g.scanned(.sum, axis: axis, reverse: true, operation: "cumulativeSum")]
        }
    }
}
