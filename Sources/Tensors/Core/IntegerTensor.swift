/// A dense, row-major, n-dimensional array of `Int`: class labels, indices,
/// positions and counts — what numpy calls an `int64` array and PyTorch a
/// `LongTensor`.
///
/// It is produced by ``Tensor/argmax(axis:)``, ``Tensor/argmin(axis:)``,
/// ``Tensor/argsort(axis:descending:)`` and ``Tensor/topK(_:axis:)``, and
/// consumed by ``Tensor/gathering(_:axis:)-(IntegerTensor,_)``,
/// ``Tensor/oneHot(_:classes:)-(IntegerTensor,_)`` and, later, embedding
/// lookups and CTC labels. It has the same indexing subscripts as ``Tensor``
/// (`labels[0]`, `labels[2..<5]`) and converts to and from floating-point
/// tensors (``Tensor/init(_:)-(IntegerTensor)``, ``init(truncating:)``).
///
/// ```swift
/// let labels = IntegerTensor([3, 1, 2, 0])          // shape [4]
/// let Y = Tensor<Float>.oneHot(labels, classes: 4)  // shape [4, 4]
/// let predicted = Y.argmax(axis: 0)                 // IntegerTensor [3, 1, 2, 0]
/// ```
public struct IntegerTensor: Sendable, Hashable {
    /// The size of each axis.
    public internal(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public internal(set) var scalars: [Int]

    /// Creates a tensor from a shape and its elements in row-major order.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape` (use
    ///   ``init(validatingShape:scalars:)`` for a thrown error instead).
    public init(shape: [Int], scalars: [Int]) {
        do {
            try self.init(validatingShape: shape, scalars: scalars)
        } catch {
            shapeFailure(error)
        }
    }

    /// Creates a tensor from a shape and its elements, throwing a
    /// ``ShapeError`` when the element count does not match the shape.
    public init(validatingShape shape: [Int], scalars: [Int]) throws(ShapeError) {
        if shape.contains(where: { $0 < 0 }) {
            throw ShapeError(operation: "IntegerTensor.init", message: "negative axis size in shape \(format(shape))")
        }
        let expected = shape.reduce(1, *)
        if expected != scalars.count {
            throw ShapeError(operation: "IntegerTensor.init", message: "shape \(format(shape)) needs \(expected) scalars, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// A tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Int) {
        self.init(shape: shape, scalars: [Int](repeating: value, count: shape.reduce(1, *)))
    }

    /// A rank-0 tensor holding one integer.
    public init(_ scalar: Int) {
        self.shape = []
        self.scalars = [scalar]
    }

    /// A rank-1 tensor (shape `[n]`).
    public init(_ values: [Int]) {
        self.shape = [values.count]
        self.scalars = values
    }

    /// A rank-2 tensor from rows of equal length.
    public init(_ rows: [[Int]]) {
        let columns = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() where row.count != columns {
            shapeFailure(ShapeError(operation: "IntegerTensor.init", message: "row \(i) has \(row.count) elements, row 0 has \(columns)"))
        }
        self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
    }

    /// Converts a floating-point tensor, rounding toward zero as numpy's
    /// `astype(int)` and PyTorch's `.long()` do (`2.7 → 2`, `−2.7 → −2`).
    ///
    /// - Precondition: every element is finite and fits in `Int`.
    public init<S: TensorScalar>(truncating tensor: Tensor<S>) {
        let values = tensor.scalars.map { x -> Int in
            guard let i = Int(exactly: x.rounded(.towardZero)) else {
                shapeFailure(ShapeError(operation: "IntegerTensor(truncating:)", message: "element \(x) of a tensor of shape \(format(tensor.shape)) is not representable as Int"))
            }
            return i
        }
        self.init(shape: tensor.shape, scalars: values)
    }

    /// `0, 1, …, n − 1` (numpy's `arange(n)`).
    public static func arange(_ n: Int) -> IntegerTensor {
        require(n >= 0, "IntegerTensor.arange: count \(n) is negative")
        return IntegerTensor(Array(0..<n))
    }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }

    /// The only element of a tensor with one element (any rank).
    public var scalar: Int {
        if count != 1 {
            shapeFailure(ShapeError(operation: "scalar", message: "tensor of shape \(format(shape)) has \(count) elements, not 1"))
        }
        return scalars[0]
    }

    /// The same elements with a new shape of equal element count; one axis
    /// may be `-1` and is then inferred.
    public func reshaped(to newShape: [Int]) -> IntegerTensor {
        IntegerTensor(shape: resolvedShape(newShape, count: count, from: shape, operation: "reshape"), scalars: scalars)
    }
}

extension Tensor {
    /// Converts integers to this scalar type (`Tensor<Float>(labels)`),
    /// exactly up to 2²⁴ for Float and 2⁵³ for Double. (Disfavored so that
    /// `Tensor([1, 2, 3])` stays the floating-point literal it was.)
    @_disfavoredOverload
    public init(_ integers: IntegerTensor) {
        self.init(shape: integers.shape, scalars: integers.scalars.map { Scalar($0) })
    }

    /// Converts between element types: `Tensor<Double>(x)` for a Float `x`
    /// is exact; Double → Float rounds to nearest (numpy's `astype`).
    @_specialize(where Scalar == Float, Other == Double)
    @_specialize(where Scalar == Double, Other == Float)
    public init<Other: TensorScalar>(_ other: Tensor<Other>) {
        if let same = other as? Tensor<Scalar> {
            self = same
            return
        }
        self.init(shape: other.shape, unsafeUninitialized: { y in
            other.scalars.withUnsafeBufferPointer { x in
                for i in 0..<x.count { y[i] = Scalar(x[i]) }
            }
        })
    }
}

extension IntegerTensor: ExpressibleByArrayLiteral {
    /// A rank-1 tensor: `let labels: IntegerTensor = [3, 1, 2, 0]`.
    public init(arrayLiteral elements: Int...) {
        self.init(elements)
    }
}
