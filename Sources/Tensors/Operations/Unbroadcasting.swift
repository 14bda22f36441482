// The adjoints of broadcasting and gathering: what backward rules need to send a
// gradient back to an operand that was stretched or indexed.

extension Tensor {
    /// Sums over the axes that broadcasting stretched, giving a tensor of
    /// `shape` (PyTorch's `sum_to_size`): leading axes missing from `shape` are
    /// summed away and axes of size 1 in `shape` are summed with kept dimensions.
    ///
    /// `Tensor([[1, 2], [3, 4]]).summed(toShape: [1, 2])` is `[[4, 6]]`; the
    /// gradient of `x + b` with respect to a broadcast `b` is `g.summed(toShape: b.shape)`.
    ///
    /// - Precondition: `shape` broadcasts to `self.shape`.
    public func summed(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        if (try? broadcastShape(target, shape)) != shape {
            shapeFailure(ShapeError(operation: "summed(toShape:)", message: "\(format(target)) does not broadcast to \(format(shape))"))
        }
        var result = self
        let leading = rank - target.count
        if leading > 0 {
            result = result.reshaped(to: [shape[..<leading].reduce(1, *)] + shape[leading...]).sum(axis: 0)
        }
        for axis in target.indices where target[axis] == 1 && result.shape[axis] != 1 {
            result = result.sum(axis: axis, keepingDimensions: true)
        }
        return result.reshaped(to: target)
    }

    /// The tensor stretched to `shape` by numpy's broadcasting rule, as a new
    /// contiguous tensor (numpy's `broadcast_to`, materialized).
    ///
    /// - Precondition: `self.shape` broadcasts to `shape`.
    public func broadcasted(toShape target: [Int]) -> Tensor {
        if shape == target { return self }
        if (try? broadcastShape(shape, target)) != target {
            shapeFailure(ShapeError(operation: "broadcasted(toShape:)", message: "\(format(shape)) does not broadcast to \(format(target))"))
        }
        return Tensor.zeros(target) + self
    }

    /// The adjoint of ``gathering(_:axis:)``: a tensor of `shape` whose slice
    /// `indices[j]` along `axis` is the sum of this tensor's slices `j` with that
    /// index (repeated indices add up — an embedding row used twice gets both
    /// gradients). `self` has `shape` with `indices.count` at `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func scatteringAdd(_ indices: [Int], axis: Int, intoShape target: [Int]) -> Tensor {
        let a = normalizedAxis(axis, rank: target.count, operation: "scatteringAdd", shape: target)
        var expected = target
        expected[a] = indices.count
        if shape != expected {
            shapeFailure(ShapeError(operation: "scatteringAdd", message: "values of shape \(format(shape)) do not match \(indices.count) indices into \(format(target)) along axis \(axis)"))
        }
        let length = target[a]
        if let bad = indices.first(where: { $0 < 0 || $0 >= length }) {
            shapeFailure(ShapeError(operation: "scatteringAdd", message: "index \(bad) out of bounds for axis \(axis) of shape \(format(target))"))
        }
        let outer = target[..<a].reduce(1, *), inner = target[(a + 1)...].reduce(1, *), k = indices.count
        var result = Tensor.zeros(target)
        result.scalars.withUnsafeMutableBufferPointer { y in
            scalars.withUnsafeBufferPointer { x in
                guard let py = y.baseAddress, let px = x.baseAddress else { return }
                for o in 0..<outer {
                    for (j, index) in indices.enumerated() {
                        let source = px + (o * k + j) * inner, target = py + (o * length + index) * inner
                        for i in 0..<inner { target[i] += source[i] }
                    }
                }
            }
        }
        return result
    }

    /// The adjoint of ``slice(axis:_:)``: a zero tensor of `shape` holding this
    /// tensor at `range` along `axis`.
    public func padded(intoShape target: [Int], axis: Int, at range: Range<Int>) -> Tensor {
        let a = normalizedAxis(axis, rank: target.count, operation: "padded", shape: target)
        var expected = target
        expected[a] = range.count
        if shape != expected || range.lowerBound < 0 || range.upperBound > target[a] {
            shapeFailure(ShapeError(operation: "padded", message: "a slice of shape \(format(shape)) cannot sit at \(range) along axis \(axis) of \(format(target))"))
        }
        var parts: [Tensor] = []
        var before = target, after = target
        before[a] = range.lowerBound
        after[a] = target[a] - range.upperBound
        if before[a] > 0 { parts.append(.zeros(before)) }
        parts.append(self)
        if after[a] > 0 { parts.append(.zeros(after)) }
        return parts.count == 1 ? self : Tensor.concatenate(parts, axis: a)
    }
}
