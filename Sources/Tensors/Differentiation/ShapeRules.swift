// Backward rules of the movement operations: each sends the gradient back
// through the inverse movement.
//
//   reshape          dx = g reshaped to x's shape
//   permute(axes)    dx = g permuted by the inverse permutation (transpose: transpose)
//   slice            dx = g padded with zeros to x's shape
//   gather           dx = g scattered back, repeated indices adding up
//   concatenate      dxᵢ = the slice of g that came from xᵢ
//   stack            dxᵢ = slice i of g along the new axis

extension Variable {
    /// The same elements with a new shape (one axis may be `-1`).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func reshaped(to newShape: [Int]) -> Variable {
        let shape = value.shape
        return Variable(value.reshaped(to: newShape), derivedFrom: [self]) { g, _ in [g.reshaped(to: shape)] }
    }

    /// A new axis of size 1 at `axis` (see ``Tensor/expandingShape(at:)``).
    public func expandingShape(at axis: Int) -> Variable { reshaped(to: expandedShape(value.shape, at: axis)) }

    /// Removes axes of size 1 (see ``Tensor/squeezingShape(at:)``).
    public func squeezingShape(at axes: Int...) -> Variable { reshaped(to: squeezedShape(value.shape, at: axes)) }

    /// All elements as a rank-1 variable.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func flattened() -> Variable { reshaped(to: [value.count]) }

    /// The transpose, reversing all axes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func transposed() -> Variable {
        Variable(value.transposed(), derivedFrom: [self]) { g, _ in [g.transposed()] }
    }

    /// Reorders the axes: result axis `i` is input axis `axes[i]`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func permuted(_ axes: [Int]) -> Variable {
        var inverse = [Int](repeating: 0, count: axes.count)
        for (i, axis) in axes.enumerated() where axis >= 0 && axis < axes.count { inverse[axis] = i }
        return Variable(value.permuted(axes), derivedFrom: [self]) { g, _ in [g.permuted(inverse)] }
    }

    /// The sub-tensor with indices `range` along `axis`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func slice(axis: Int, _ range: Range<Int>) -> Variable {
        let shape = value.shape
        return Variable(value.slice(axis: axis, range), derivedFrom: [self]) { g, _ in
            [g.padded(intoShape: shape, axis: axis, at: range)]
        }
    }

    /// Rows `range` (axis 0).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func rows(_ range: Range<Int>) -> Variable { slice(axis: 0, range) }
    /// Columns `range` (axis 1).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func columns(_ range: Range<Int>) -> Variable { slice(axis: 1, range) }

    /// The slices at `indices` along `axis`; a repeated index receives the sum of its gradients.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func gathering(_ indices: [Int], axis: Int) -> Variable {
        let shape = value.shape
        return Variable(value.gathering(indices, axis: axis), derivedFrom: [self]) { g, _ in
            [g.scatteringAdd(indices, axis: axis, intoShape: shape)]
        }
    }

    /// Joins variables along an existing axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func concatenate(_ variables: [Variable], axis: Int) -> Variable {
        let value = Tensor.concatenate(variables.map { $0.value }, axis: axis)
        let a = normalizedAxis(axis, rank: value.rank, operation: "concatenate", shape: value.shape)
        let extents = variables.map { $0.value.shape[a] }
        return Variable(value, derivedFrom: variables) { g, needs in
            var start = 0
            return zip(extents, needs).map { extent, needed in
                defer { start += extent }
                return needed ? g.slice(axis: a, start..<(start + extent)) : nil
            }
        }
    }

    /// Stacks equally shaped variables along a new axis.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public static func stack(_ variables: [Variable], axis: Int) -> Variable {
        guard let first = variables.first else {
            shapeFailure(ShapeError(operation: "stack", message: "no variables given"))
        }
        if let other = variables.first(where: { $0.value.shape != first.value.shape }) {
            shapeFailure(ShapeError(operation: "stack", message: "shapes differ: \(format(first.value.shape)) and \(format(other.value.shape))"))
        }
        let a = normalizedAxis(axis, rank: first.value.rank + 1, operation: "stack", shape: first.value.shape)
        var expanded = first.value.shape
        expanded.insert(1, at: a)
        return concatenate(variables.map { $0.reshaped(to: expanded) }, axis: a)
    }
}

extension Variable {
    /// The elements as an `(n, 1)` column.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func asColumn() -> Variable { reshaped(to: [value.count, 1]) }
    /// The elements as a `(1, n)` row.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func asRow() -> Variable { reshaped(to: [1, value.count]) }
}

extension Variable: CustomStringConvertible {
    /// The value, marked when derivatives flow to it.
    public var description: String {
        (requiresGradient ? (isLeaf ? "Variable (requires gradient) " : "Variable (recorded) ") : "Variable ") + value.description
    }
}

/// The inner product `Σᵢ aᵢbᵢ` of two variables with the same number of elements, as a rank-0 variable.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func dot<S>(_ a: Variable<S>, _ b: Variable<S>) -> Variable<S> {
    if a.value.count != b.value.count {
        shapeFailure(ShapeError(operation: "dot", message: "element counts differ: \(format(a.shape)) · \(format(b.shape))"))
    }
    return (a.flattened() * b.flattened()).sum()
}
