// Elementwise choice between two tensors by a condition.

/// `a` where `condition` is nonzero, `b` elsewhere, elementwise; the three
/// operands broadcast together (numpy's `where(condition, a, b)`, PyTorch's
/// `torch.where`, TensorFlow 1's `select`). Conditions are the 0/1 masks the
/// comparison operators return (`x .> 0`); a NaN condition counts as true.
///
/// ```swift
/// let x = Tensor<Float>([-2, 3, -1])
/// select(x .> 0, x, Tensor(0))      // [0, 3, 0]: ReLU
/// ```
@_specialize(where S == Float)
@_specialize(where S == Double)
public func select<S>(_ condition: Tensor<S>, _ a: Tensor<S>, _ b: Tensor<S>) -> Tensor<S> {
    let shape: [Int]
    do {
        shape = try broadcastShape(broadcastShape(condition.shape, a.shape, operation: "select"), b.shape, operation: "select")
    } catch {
        shapeFailure(ShapeError(operation: "select", message: "condition \(format(condition.shape)), a \(format(a.shape)) and b \(format(b.shape)) cannot be broadcast together"))
    }
    func full(_ t: Tensor<S>) -> Tensor<S> { t.shape == shape ? t : t.broadcasted(toShape: shape) }
    let (c, x, y) = (full(condition), full(a), full(b))
    return Tensor(shape: shape) { out in
        c.scalars.withUnsafeBufferPointer { pc in
            x.scalars.withUnsafeBufferPointer { px in
                y.scalars.withUnsafeBufferPointer { py in
                    guard let c = pc.baseAddress, let a = px.baseAddress, let b = py.baseAddress, let o = out.baseAddress else { return }
                    SelectionKernels.select(c, a, b, o, out.count)
                }
            }
        }
    }
}

extension Tensor {
    /// This tensor with the elements where `condition` is nonzero taken from
    /// `other` — the tensor form of SIMD's `replacing(with:where:)`;
    /// `x.replacing(with: y, where: mask)` is `select(mask, y, x)`.
    public func replacing(with other: Tensor, where condition: Tensor) -> Tensor {
        select(condition, other, self)
    }

    /// This tensor with `value` where `condition` is nonzero:
    /// `x.replacing(with: 0, where: x .< 0)` is ReLU.
    public func replacing(with value: Scalar, where condition: Tensor) -> Tensor {
        select(condition, Tensor(value), self)
    }
}
