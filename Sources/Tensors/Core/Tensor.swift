/// A dense, row-major, n-dimensional array of `Float` or `Double`.
///
/// `Tensor` is a value type: copies share storage until one of them is
/// mutated (copy-on-write). Elements are stored contiguously with the last
/// axis varying fastest. Any rank is supported, including 0 (a scalar).
///
/// ## Shape conventions
///
/// The library follows the course notes: a data matrix `X` is `(n_x, m)` with
/// one example per column, a column vector is `(n, 1)` and a row vector is
/// `(1, n)`. Rank-1 tensors (shape `[n]`, numpy's `(n,)`) exist — the 1-D
/// literal `[1, 2, 3]` makes one — and broadcast like a row, as in numpy.
/// The rank-1 pitfalls of numpy cannot happen silently here:
/// - ``transposed()`` requires rank ≥ 2, so `aᵀ` of a rank-1 tensor is an
///   error instead of a no-op; use ``asColumn()`` or ``asRow()`` first;
/// - matrix products require rank-2 operands, so `a·aᵀ` is always the
///   `(n, n)` outer product of an `(n, 1)` column, while ``dot(_:_:)`` is the
///   explicit scalar inner product;
/// - axis reductions take `keepingDimensions: true` to return `(n, 1)` or
///   `(1, m)` rather than a rank-1 result.
///
/// ```swift
/// let A = Tensor<Float>([[1, 2, 3], [4, 5, 6]])   // shape [2, 3]
/// let b = Tensor<Float>([[100], [200]])            // shape [2, 1]
/// let Z = A + b                                    // [[101, 102, 103], [204, 205, 206]]
/// ```
public struct Tensor<Scalar: TensorScalar>: Sendable {
    /// The size of each axis.
    public internal(set) var shape: [Int]
    /// The elements in row-major order; `scalars.count == shape.product`.
    public internal(set) var scalars: [Scalar]

    /// Creates a tensor from a shape and its elements in row-major order.
    ///
    /// - Precondition: `scalars.count` equals the product of `shape`, and no
    ///   axis is negative. Use ``init(validatingShape:scalars:)`` to get a
    ///   thrown error instead.
    public init(shape: [Int], scalars: [Scalar]) {
        do {
            try self.init(validatingShape: shape, scalars: scalars)
        } catch {
            shapeFailure(error)
        }
    }

    /// Creates a tensor from a shape and its elements, throwing a
    /// ``ShapeError`` when the element count does not match the shape.
    public init(validatingShape shape: [Int], scalars: [Scalar]) throws(ShapeError) {
        if shape.contains(where: { $0 < 0 }) {
            throw ShapeError(operation: "Tensor.init", message: "negative axis size in shape \(format(shape))")
        }
        let expected = shape.reduce(1, *)
        if expected != scalars.count {
            throw ShapeError(
                operation: "Tensor.init",
                message: "shape \(format(shape)) needs \(expected) scalars, got \(scalars.count)")
        }
        self.shape = shape
        self.scalars = scalars
    }

    /// Creates a tensor of the given shape with every element equal to `value`.
    public init(shape: [Int], repeating value: Scalar) {
        self.init(shape: shape, scalars: [Scalar](repeating: value, count: shape.reduce(1, *)))
    }

    /// Creates a rank-0 tensor holding one scalar.
    public init(_ scalar: Scalar) {
        self.shape = []
        self.scalars = [scalar]
    }

    /// Creates a rank-1 tensor (shape `[n]`). See the type's shape conventions.
    public init(_ values: [Scalar]) {
        self.shape = [values.count]
        self.scalars = values
    }

    /// Creates a rank-2 tensor from rows: `Tensor([[1, 2, 3], [4, 5, 6]])` has shape `[2, 3]`.
    ///
    /// - Precondition: all rows have the same length.
    public init(_ rows: [[Scalar]]) {
        let columns = rows.first?.count ?? 0
        for (i, row) in rows.enumerated() where row.count != columns {
            shapeFailure(ShapeError(
                operation: "Tensor.init", message: "row \(i) has \(row.count) elements, row 0 has \(columns)"))
        }
        self.shape = [rows.count, columns]
        self.scalars = rows.flatMap { $0 }
    }

    /// Creates a rank-3 tensor from nested arrays; all inner arrays must agree in length.
    public init(_ planes: [[[Scalar]]]) {
        let inner = planes.map { Tensor($0) }
        self = Tensor.stack(inner, axis: 0)
    }

    /// Allocates a tensor whose elements are written by `initializer`, which
    /// must initialize all `count` elements of the buffer it receives.
    @inline(__always)
    init(shape: [Int], unsafeUninitialized initializer: (UnsafeMutableBufferPointer<Scalar>) -> Void) {
        let count = shape.reduce(1, *)
        self.shape = shape
        self.scalars = [Scalar](unsafeUninitializedCapacity: count) { buffer, initialized in
            initializer(buffer)
            initialized = count
        }
    }

    /// The number of axes.
    public var rank: Int { shape.count }
    /// The number of elements.
    public var count: Int { scalars.count }

    /// The only element of a tensor with one element (any rank).
    ///
    /// - Precondition: `count == 1`.
    public var scalar: Scalar {
        if count != 1 {
            shapeFailure(ShapeError(operation: "scalar", message: "tensor of shape \(format(shape)) has \(count) elements, not 1"))
        }
        return scalars[0]
    }

    /// One element by one index per axis, where a scalar is expected:
    /// `let v: Float = x[0, 2]`, `x[0, 2] = 5`, `total += x[i, j]`. Negative
    /// indices count from the end. Where no scalar type is called for, `x[…]`
    /// is the tensor subscript (`Indexing.swift`): `x[0]` is row 0.
    @_disfavoredOverload
    public subscript(_ indices: Int...) -> Scalar {
        get { scalars[elementOffset(indices, shape: shape)] }
        set { scalars[elementOffset(indices, shape: shape)] = newValue }
    }

    func offset(of indices: [Int]) -> Int { elementOffset(indices, shape: shape) }

    /// Calls `body` with a pointer to the contiguous row-major elements.
    public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Scalar>) throws -> R) rethrows -> R {
        try scalars.withUnsafeBufferPointer(body)
    }

    /// Calls `body` with a mutable pointer to the elements, first making the storage unique.
    public mutating func withUnsafeMutableBufferPointer<R>(
        _ body: (inout UnsafeMutableBufferPointer<Scalar>) throws -> R
    ) rethrows -> R {
        try scalars.withUnsafeMutableBufferPointer(body)
    }
}

extension Tensor: Equatable {
    /// Tensors are equal when their shapes and all elements are equal (`NaN ≠ NaN`).
    public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
        lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
    }
}

extension Tensor: ExpressibleByArrayLiteral {
    /// A 1-D literal makes a rank-1 tensor: `let v: Tensor<Float> = [1, 2, 3]` has shape `[3]`.
    public init(arrayLiteral elements: Scalar...) {
        self.init(elements)
    }
}
