/// A shape problem detected by a tensor operation.
///
/// The message always names the operation and the shapes involved, for
/// example `add: shapes [2, 3] and [4] cannot be broadcast (axis -1: 3 vs 4)`.
public struct ShapeError: Error, CustomStringConvertible, Equatable, Sendable {
    /// The operation that rejected its operands, e.g. `"add"` or `"reshape"`.
    public var operation: String
    /// What is wrong, with the offending shapes.
    public var message: String

    public init(operation: String, message: String) {
        self.operation = operation
        self.message = message
    }

    public var description: String { "\(operation): \(message)" }
}

/// Formats a shape the way error messages and `description` print it: `[2, 3]`.
func format(_ shape: [Int]) -> String { "[" + shape.map(String.init).joined(separator: ", ") + "]" }

/// Stops the program with a shape error. Operators (`+`, `matmul`, …) cannot
/// throw, so they report misuse like an out-of-bounds index does; the throwing
/// shape rules (``broadcastShape(_:_:operation:)``) let callers check first.
/// `fatalError` keeps its message in optimized builds (`precondition`'s is
/// dropped there, leaving only "Illegal instruction").
func shapeFailure(_ error: ShapeError, file: StaticString = #file, line: UInt = #line) -> Never {
    fatalError(error.description, file: file, line: line)
}

/// Stops the program with `message` unless `condition` holds, in every build
/// configuration (see ``shapeFailure(_:file:line:)``).
@inline(__always)
func require(_ condition: Bool, _ message: @autoclosure () -> String, file: StaticString = #file, line: UInt = #line) {
    if !condition { fatalError(message(), file: file, line: line) }
}

/// The shape numpy's broadcasting gives two operands, or a ``ShapeError``.
///
/// Rule: align the shapes at their trailing axes; missing leading axes count
/// as 1; on each axis the sizes must be equal or one of them must be 1, which
/// stretches to the other. Examples: `[2, 3] ⊕ [1, 3] → [2, 3]`,
/// `[2, 3] ⊕ [2, 1] → [2, 3]`, `[2, 3] ⊕ [3] → [2, 3]`, `[4, 1] ⊕ [] → [4, 1]`.
public func broadcastShape(_ a: [Int], _ b: [Int], operation: String = "broadcast") throws(ShapeError) -> [Int] {
    let rank = max(a.count, b.count)
    var result = [Int](repeating: 1, count: rank)
    for axis in 0..<rank {
        let da = axis < rank - a.count ? 1 : a[axis - (rank - a.count)]
        let db = axis < rank - b.count ? 1 : b[axis - (rank - b.count)]
        if da == db || db == 1 {
            result[axis] = da
        } else if da == 1 {
            result[axis] = db
        } else {
            throw ShapeError(
                operation: operation,
                message: "shapes \(format(a)) and \(format(b)) cannot be broadcast (axis \(axis - rank): \(da) vs \(db))")
        }
    }
    return result
}

/// Row-major strides of a shape: the last axis has stride 1.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
        strides[axis] = s
        s *= shape[axis]
    }
    return strides
}

/// Normalizes a possibly negative axis (`-1` = last) and checks its range.
func normalizedAxis(_ axis: Int, rank: Int, operation: String, shape: [Int]) -> Int {
    let a = axis < 0 ? axis + rank : axis
    if a < 0 || a >= rank {
        shapeFailure(ShapeError(operation: operation, message: "axis \(axis) is out of range for shape \(format(shape))"))
    }
    return a
}

/// `newShape` with its one allowed `-1` axis inferred so that it holds
/// `count` elements (the rule of ``Tensor/reshaped(to:)``).
func resolvedShape(_ newShape: [Int], count: Int, from shape: [Int], operation: String) -> [Int] {
    var resolved = newShape
    let inferred = newShape.indices.filter { newShape[$0] == -1 }
    let known = newShape.filter { $0 != -1 }.reduce(1, *)
    let fail = { () -> Never in
        shapeFailure(ShapeError(operation: operation, message: "cannot reshape \(format(shape)) (\(count) elements) to \(format(newShape))"))
    }
    if inferred.count > 1 || newShape.contains(where: { $0 < -1 }) { fail() }
    if let axis = inferred.first {
        if known == 0 || count % known != 0 { fail() }
        resolved[axis] = count / known
    }
    if resolved.reduce(1, *) != count { fail() }
    return resolved
}

/// `shape` with a new axis of size 1 at `axis` (negative counts from the end of the result).
func expandedShape(_ shape: [Int], at axis: Int) -> [Int] {
    let a = normalizedAxis(axis, rank: shape.count + 1, operation: "expandingShape", shape: shape)
    var result = shape
    result.insert(1, at: a)
    return result
}

/// `shape` without the listed axes (all of size 1), or without every axis of size 1.
func squeezedShape(_ shape: [Int], at axes: [Int]) -> [Int] {
    if axes.isEmpty { return shape.filter { $0 != 1 } }
    let drop = Set(axes.map { normalizedAxis($0, rank: shape.count, operation: "squeezingShape", shape: shape) })
    for a in drop.sorted() where shape[a] != 1 {
        shapeFailure(ShapeError(operation: "squeezingShape", message: "axis \(a) of shape \(format(shape)) has size \(shape[a]), not 1"))
    }
    return shape.indices.filter { !drop.contains($0) }.map { shape[$0] }
}
