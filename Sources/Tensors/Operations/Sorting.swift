// Sorting along an axis: sorted values, the sorting permutation, the k largest.

extension Tensor {
    /// Runs the sort kernels on the current path; `values` and `indices` are
    /// written when asked for, both of this tensor's shape.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func sortAlong(axis: Int, descending: Bool, operation: String, values: Bool, indices: Bool) -> (Tensor?, IntegerTensor?) {
        let (outer, length, inner) = splitAxis(axis, operation: operation)
        func run(_ pv: UnsafeMutablePointer<Scalar>?, _ pi: UnsafeMutablePointer<Int>?) {
            scalars.withUnsafeBufferPointer { x in
                guard let px = x.baseAddress else { return }
                ComputePath.current.run(loop: {
                    SortKernels.sortLoop(px, values: pv, indices: pi, outer: outer, length: length, inner: inner, descending: descending)
                }, vectorized: {
                    SortKernels.sortVectorized(px, values: pv, indices: pi, outer: outer, length: length, inner: inner, descending: descending)
                })
            }
        }
        var positions = [Int](repeating: 0, count: indices ? count : 0)
        var sortedValues: Tensor?
        positions.withUnsafeMutableBufferPointer { p in
            let pi = indices ? p.baseAddress : nil
            if values {
                sortedValues = Tensor(shape: shape) { y in run(y.baseAddress, pi) }
            } else {
                run(nil, pi)
            }
        }
        return (sortedValues, indices ? IntegerTensor(shape: shape, scalars: positions) : nil)
    }

    /// The elements sorted along `axis` (numpy's `sort`, PyTorch's `sort`), in
    /// ascending order unless `descending`; the shape is unchanged.
    ///
    /// NaN sorts after every number in ascending order (as numpy) and before
    /// every number in descending order (as PyTorch); −0 and +0 are equal.
    ///
    /// ```swift
    /// Tensor<Float>([[3, 1, 2], [0, .nan, -1]]).sorted()                   // [[1, 2, 3], [-1, 0, nan]]
    /// Tensor<Float>([[3, 1, 2], [0, .nan, -1]]).sorted(descending: true)   // [[3, 2, 1], [nan, 0, -1]]
    /// ```
    public func sorted(axis: Int = -1, descending: Bool = false) -> Tensor {
        sortAlong(axis: axis, descending: descending, operation: "sorted", values: true, indices: false).0!
    }

    /// The positions along `axis` that sort the tensor (numpy's `argsort`
    /// with `kind="stable"`, PyTorch's `argsort(stable=True)`): an
    /// ``IntegerTensor`` of the same shape whose slice along `axis` lists, in
    /// sorted order, where each element came from.
    ///
    /// The sort is stable — equal elements keep their order, in both
    /// directions — and orders NaN as ``sorted(axis:descending:)`` does.
    /// Gathering with the result gives the sorted tensor:
    /// `x[o, order[o, k]]` is `x.sorted()[o, k]`.
    ///
    /// ```swift
    /// Tensor<Float>([2, 1, 2, 0]).argsort()                    // [3, 1, 0, 2]
    /// Tensor<Float>([2, 1, 2, 0]).argsort(descending: true)    // [0, 2, 1, 3]
    /// ```
    public func argsort(axis: Int = -1, descending: Bool = false) -> IntegerTensor {
        sortAlong(axis: axis, descending: descending, operation: "argsort", values: false, indices: true).1!
    }

    /// The `k` largest elements along `axis` and their positions, largest
    /// first (PyTorch's `topk`); ties go to the lower position, and NaN counts
    /// as the largest value (as in ``argmax(axis:)``). Both results have this
    /// tensor's shape with `k` in place of the axis length: for scores of
    /// shape `(beams, vocabulary)`, `topK(3)` gives `(beams, 3)` values and token ids.
    ///
    /// ```swift
    /// let (values, indices) = Tensor<Float>([0.1, 0.5, 0.2, 0.5]).topK(2)   // [0.5, 0.5], [1, 3]
    /// ```
    ///
    /// - Precondition: `1 ≤ k ≤` the length of `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func topK(_ k: Int, axis: Int = -1) -> (values: Tensor, indices: IntegerTensor) {
        let (outer, length, inner) = splitAxis(axis, operation: "topK")
        if k < 1 || k > length {
            shapeFailure(ShapeError(operation: "topK", message: "k = \(k) is not in 1...\(length), the length of axis \(axis) of shape \(format(shape))"))
        }
        var resultShape = shape
        resultShape[normalizedAxis(axis, rank: rank, operation: "topK", shape: shape)] = k
        var positions = [Int](repeating: 0, count: outer * k * inner)
        let values = Tensor(shape: resultShape) { y in
            scalars.withUnsafeBufferPointer { x in
                positions.withUnsafeMutableBufferPointer { p in
                    guard let px = x.baseAddress, let py = y.baseAddress, let pp = p.baseAddress else { return }
                    ComputePath.current.run(loop: {
                        SortKernels.topKLoop(px, values: py, indices: pp, outer: outer, length: length, inner: inner, k: k)
                    }, vectorized: {
                        SortKernels.topKVectorized(px, values: py, indices: pp, outer: outer, length: length, inner: inner, k: k)
                    })
                }
            }
        }
        return (values, IntegerTensor(shape: resultShape, scalars: positions))
    }
}
