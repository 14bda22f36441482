// Reshaping, transposition, slicing, joining and encoding.

extension Tensor {
    /// The same elements with a new shape; one axis may be `-1` and is then
    /// inferred: `(209, 64, 64, 3).reshaped(to: [209, -1])` is `(209, 12288)`.
    public func reshaped(to newShape: [Int]) -> Tensor {
        var result = self
        result.shape = resolvedShape(newShape, count: count, from: shape, operation: "reshape")
        return result
    }

    /// A new axis of size 1 at `axis` (numpy's `expand_dims`, PyTorch's
    /// `unsqueeze`): `[3, 4]` at 0 → `[1, 3, 4]`, at −1 → `[3, 4, 1]`.
    /// `axis` ranges over `−(rank + 1)…rank`.
    public func expandingShape(at axis: Int) -> Tensor {
        reshaped(to: expandedShape(shape, at: axis))
    }

    /// Removes the listed axes, each of which must have size 1 (numpy's
    /// `squeeze(axis=…)`); with no axes given, every axis of size 1.
    /// `[1, 3, 1]` → `[3]`; `.squeezingShape(at: 0)` → `[3, 1]`.
    public func squeezingShape(at axes: Int...) -> Tensor {
        reshaped(to: squeezedShape(shape, at: axes))
    }

    /// All elements as a rank-1 tensor of shape `[count]`.
    public func flattened() -> Tensor { reshaped(to: [count]) }
    /// The elements as an `(n, 1)` column vector.
    public func asColumn() -> Tensor { reshaped(to: [count, 1]) }
    /// The elements as a `(1, n)` row vector.
    public func asRow() -> Tensor { reshaped(to: [1, count]) }

    /// The transpose, reversing all axes (numpy's `.T`): `(n, m)` → `(m, n)`.
    ///
    /// - Precondition: `rank ≥ 2`. A rank-1 tensor has no orientation to flip;
    ///   make it a column or row first (``asColumn()``, ``asRow()``).
    public func transposed() -> Tensor {
        if rank < 2 {
            shapeFailure(ShapeError(operation: "transpose", message: "needs rank ≥ 2, got shape \(format(shape)); use asColumn() or asRow() first"))
        }
        return permuted(Array((0..<rank).reversed()))
    }

    /// Reorders the axes: result axis `i` is input axis `axes[i]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func permuted(_ axes: [Int]) -> Tensor {
        if axes.sorted() != Array(0..<rank) {
            shapeFailure(ShapeError(operation: "permute", message: "\(axes) is not a permutation of the axes of \(format(shape))"))
        }
        let outShape = axes.map { shape[$0] }
        let inStrides = contiguousStrides(shape)
        // Merge output axes that stay adjacent in the input.
        var dims: [(size: Int, stride: Int)] = []
        for i in axes.indices where outShape[i] != 1 {
            let d = (size: outShape[i], stride: inStrides[axes[i]])
            if let last = dims.last, last.stride == d.stride * d.size {
                dims[dims.count - 1] = (last.size * d.size, d.stride)
            } else {
                dims.append(d)
            }
        }
        return Tensor(shape: outShape) { y in
            scalars.withUnsafeBufferPointer { x in
                guard let px = x.baseAddress, let py = y.baseAddress else { return }
                if dims.count <= 1 {
                    CopyKernels.copyRuns(px, py, runs: 1, length: count) { _ in (0, 0) }
                } else if dims.count == 2 && dims[0].stride == 1 {
                    CopyKernels.transpose(px, py, batch: 1, batchStride: 0, rows: dims[1].size, columns: dims[0].size)
                } else if dims.count == 3 && dims[1].stride == 1 && dims[2].stride == dims[1].size {
                    CopyKernels.transpose(px, py, batch: dims[0].size, batchStride: dims[0].stride,
                                          rows: dims[2].size, columns: dims[1].size)
                } else {
                    // General case: contiguous runs along the last output axis.
                    let runLength = dims.last!.stride == 1 ? dims.last!.size : 1
                    let outer = dims.last!.stride == 1 ? Array(dims.dropLast()) : dims
                    CopyKernels.copyRuns(px, py, runs: count / Swift.max(runLength, 1), length: runLength) { r in
                        var rest = r, offset = 0
                        for d in outer.reversed() {
                            offset += (rest % d.size) * d.stride
                            rest /= d.size
                        }
                        return (offset, r * runLength)
                    }
                }
            }
        }
    }

    /// The sub-tensor with indices `range` along `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func slice(axis: Int, _ range: Range<Int>) -> Tensor {
        let (outer, length, inner) = splitAxis(axis, operation: "slice")
        if range.lowerBound < 0 || range.upperBound > length {
            shapeFailure(ShapeError(operation: "slice", message: "range \(range) out of bounds for axis \(axis) of shape \(format(shape))"))
        }
        var outShape = shape
        outShape[normalizedAxis(axis, rank: rank, operation: "slice", shape: shape)] = range.count
        let run = range.count * inner
        return Tensor(shape: outShape) { y in
            scalars.withUnsafeBufferPointer { x in
                guard let px = x.baseAddress, let py = y.baseAddress else { return }
                CopyKernels.copyRuns(px, py, runs: outer, length: run) { o in ((o * length + range.lowerBound) * inner, o * run) }
            }
        }
    }

    /// Rows `range` of a matrix (axis 0).
    public func rows(_ range: Range<Int>) -> Tensor { slice(axis: 0, range) }
    /// Columns `range` of a matrix (axis 1) — a mini-batch `X^{t}` of `(n_x, m)` data.
    public func columns(_ range: Range<Int>) -> Tensor { slice(axis: 1, range) }

    /// The slices at `indices` along `axis`, in that order (e.g. shuffled columns).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gathering(_ indices: [Int], axis: Int) -> Tensor {
        let (outer, length, inner) = splitAxis(axis, operation: "gather")
        if let bad = indices.first(where: { $0 < 0 || $0 >= length }) {
            shapeFailure(ShapeError(operation: "gather", message: "index \(bad) out of bounds for axis \(axis) of shape \(format(shape))"))
        }
        var outShape = shape
        outShape[normalizedAxis(axis, rank: rank, operation: "gather", shape: shape)] = indices.count
        let k = indices.count
        return Tensor(shape: outShape) { y in
            scalars.withUnsafeBufferPointer { x in
                indices.withUnsafeBufferPointer { idx in
                    guard let px = x.baseAddress, let py = y.baseAddress, let pi = idx.baseAddress else { return }
                    if inner == 1 {   // single elements, e.g. shuffling the columns of X
                        CopyKernels.gatherElements(px, py, rows: outer, rowLength: length, indices: pi, count: k)
                        return
                    }
                    CopyKernels.copyRuns(px, py, runs: outer * k, length: inner) { r in
                        (((r / k) * length + idx[r % k]) * inner, r * inner)
                    }
                }
            }
        }
    }

    /// Joins tensors along an existing axis; all other axes must agree.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func concatenate(_ tensors: [Tensor], axis: Int) -> Tensor {
        guard let first = tensors.first else {
            shapeFailure(ShapeError(operation: "concatenate", message: "no tensors given"))
        }
        let a = normalizedAxis(axis, rank: first.rank, operation: "concatenate", shape: first.shape)
        for t in tensors where t.rank != first.rank || (0..<first.rank).contains(where: { $0 != a && t.shape[$0] != first.shape[$0] }) {
            shapeFailure(ShapeError(operation: "concatenate", message: "shapes \(format(first.shape)) and \(format(t.shape)) differ off axis \(axis)"))
        }
        var outShape = first.shape
        outShape[a] = tensors.reduce(0) { $0 + $1.shape[a] }
        let outer = first.shape[..<a].reduce(1, *), inner = first.shape[(a + 1)...].reduce(1, *)
        let outRun = outShape[a] * inner
        return Tensor(shape: outShape) { y in
            guard let py = y.baseAddress else { return }
            var start = 0
            for t in tensors {
                let run = t.shape[a] * inner
                t.scalars.withUnsafeBufferPointer { x in
                    guard let px = x.baseAddress else { return }
                    CopyKernels.copyRuns(px, py, runs: outer, length: run) { o in (o * run, o * outRun + start) }
                }
                start += run
            }
        }
    }

    /// Stacks equally shaped tensors along a new axis: `n` tensors of shape `s`
    /// become one of shape `s` with `n` inserted at `axis`.
    public static func stack(_ tensors: [Tensor], axis: Int) -> Tensor {
        guard let first = tensors.first else {
            shapeFailure(ShapeError(operation: "stack", message: "no tensors given"))
        }
        if let other = tensors.first(where: { $0.shape != first.shape }) {
            shapeFailure(ShapeError(operation: "stack", message: "shapes differ: \(format(first.shape)) and \(format(other.shape))"))
        }
        let a = normalizedAxis(axis, rank: first.rank + 1, operation: "stack", shape: first.shape)
        var expanded = first.shape
        expanded.insert(1, at: a)
        return concatenate(tensors.map { $0.reshaped(to: expanded) }, axis: a)
    }

    /// One-hot encoding in the notes' layout: `labels` of `m` examples become a
    /// `(classes, m)` matrix with `Y[labels[i], i] = 1`. Labels `3 1 2 0 3 2 0 1`
    /// with 4 classes give the `(4, 8)` matrix of the softmax example.
    public static func oneHot(_ labels: [Int], classes: Int) -> Tensor {
        if let bad = labels.first(where: { $0 < 0 || $0 >= classes }) {
            shapeFailure(ShapeError(operation: "oneHot", message: "label \(bad) out of range 0..<\(classes)"))
        }
        var result = Tensor(shape: [classes, labels.count], repeating: 0)
        for (i, label) in labels.enumerated() { result.scalars[label * labels.count + i] = 1 }
        return result
    }

    /// One-hot encoding of integer labels: see ``oneHot(_:classes:)-([Int],_)``;
    /// the labels' shape is flattened to `m` examples.
    public static func oneHot(_ labels: IntegerTensor, classes: Int) -> Tensor {
        oneHot(labels.scalars, classes: classes)
    }

    /// The slices at the positions in `indices` along `axis` (see
    /// ``gathering(_:axis:)-([Int],_)``): `axis` is replaced by the indices'
    /// shape, as numpy's `take` does — `E.gathering(ids, axis: 0)` looks up
    /// the rows of an embedding matrix `E` for a `(batch, T)` array of token ids.
    public func gathering(_ indices: IntegerTensor, axis: Int) -> Tensor {
        let a = normalizedAxis(axis, rank: rank, operation: "gather", shape: shape)
        var result = gathering(indices.scalars, axis: a)
        var newShape = Array(shape[..<a])
        newShape += indices.shape
        newShape += shape[(a + 1)...]
        result.shape = newShape
        return result
    }
}
