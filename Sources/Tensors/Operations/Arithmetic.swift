// Elementwise arithmetic and comparisons with numpy broadcasting.

extension Tensor {
    /// `op(self, other)` broadcast to the common shape, on the current ``ComputePath``.
    /// Equal shapes take one contiguous pass without a broadcast plan.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func broadcasting(_ op: BinaryOperation, _ other: Tensor) -> Tensor {
        guard shape == other.shape else { return broadcastingWithPlan(op, other) }
        return Tensor(shape: shape) { y in
            scalars.withUnsafeBufferPointer { a in
                other.scalars.withUnsafeBufferPointer { b in
                    guard let pa = a.baseAddress, let pb = b.baseAddress, let py = y.baseAddress else { return }
                    BinaryKernels.contiguous(op, pa, 1, pb, 1, py, y.count)
                }
            }
        }
    }

    /// `op(self, scalar)`, or `op(scalar, self)` when `scalarFirst`, without
    /// wrapping the scalar in a tensor: bitwise the same as broadcasting a rank-0 tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func broadcasting(_ op: BinaryOperation, scalar: Scalar, scalarFirst: Bool = false) -> Tensor {
        Tensor(shape: shape) { y in
            scalars.withUnsafeBufferPointer { a in
                withUnsafePointer(to: scalar) { s in
                    guard let pa = a.baseAddress, let py = y.baseAddress else { return }
                    if scalarFirst {
                        BinaryKernels.contiguous(op, s, 0, pa, 1, py, y.count)
                    } else {
                        BinaryKernels.contiguous(op, pa, 1, s, 0, py, y.count)
                    }
                }
            }
        }
    }

    /// The general path of ``broadcasting(_:_:)``: a ``BroadcastPlan`` for any pair of shapes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func broadcastingWithPlan(_ op: BinaryOperation, _ other: Tensor) -> Tensor {
        let plan: BroadcastPlan
        do { plan = try BroadcastPlan(shape, other.shape, operation: op.rawValue) } catch { shapeFailure(error) }
        return Tensor(shape: plan.shape) { y in
            scalars.withUnsafeBufferPointer { a in
                other.scalars.withUnsafeBufferPointer { b in
                    guard let pa = a.baseAddress, let pb = b.baseAddress, let py = y.baseAddress, y.count > 0 else { return }
                    ComputePath.current.run(loop: {
                        BinaryKernels.loop(op, pa, shape, pb, other.shape, py, plan.shape)
                    }, vectorized: {
                        BinaryKernels.vectorized(op, pa, pb, py, plan)
                    })
                }
            }
        }
    }

    /// `self = op(self, other)` in place; `other` must broadcast to `self`'s shape.
    /// Equal shapes take one contiguous pass without a broadcast plan.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    mutating func formBroadcasting(_ op: BinaryOperation, _ other: Tensor) {
        guard shape == other.shape else { return formBroadcastingWithPlan(op, other) }
        scalars.withUnsafeMutableBufferPointer { y in
            other.scalars.withUnsafeBufferPointer { b in
                guard let py = y.baseAddress, let pb = b.baseAddress else { return }
                BinaryKernels.contiguous(op, UnsafePointer(py), 1, pb, 1, py, y.count)
            }
        }
    }

    /// `self = op(self, scalar)` in place, without wrapping the scalar in a tensor.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    mutating func formBroadcasting(_ op: BinaryOperation, scalar: Scalar) {
        scalars.withUnsafeMutableBufferPointer { y in
            withUnsafePointer(to: scalar) { s in
                guard let py = y.baseAddress else { return }
                BinaryKernels.contiguous(op, UnsafePointer(py), 1, s, 0, py, y.count)
            }
        }
    }

    /// The general path of ``formBroadcasting(_:_:)``: a ``BroadcastPlan`` for any pair of shapes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    mutating func formBroadcastingWithPlan(_ op: BinaryOperation, _ other: Tensor) {
        let plan: BroadcastPlan
        do { plan = try BroadcastPlan(shape, other.shape, operation: op.rawValue + " (in place)") } catch { shapeFailure(error) }
        if plan.shape != shape {
            shapeFailure(ShapeError(
                operation: op.rawValue + " (in place)",
                message: "result shape \(format(plan.shape)) of \(format(shape)) and \(format(other.shape)) differs from the left operand's"))
        }
        let shape = self.shape
        scalars.withUnsafeMutableBufferPointer { y in
            other.scalars.withUnsafeBufferPointer { b in
                guard let py = y.baseAddress, let pb = b.baseAddress else { return }
                ComputePath.current.run(loop: {
                    BinaryKernels.loop(op, UnsafePointer(py), shape, pb, other.shape, py, shape)
                }, vectorized: {
                    BinaryKernels.vectorized(op, UnsafePointer(py), pb, py, plan)
                })
            }
        }
    }

    /// Elementwise sum with broadcasting: `[[1, 2, 3], [4, 5, 6]] + [100, 200, 300] = [[101, 202, 303], [104, 205, 306]]`.
    public static func + (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.add, rhs) }
    /// Elementwise difference with broadcasting.
    public static func - (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.subtract, rhs) }
    /// Elementwise (Hadamard) product with broadcasting — not the matrix product.
    public static func * (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.multiply, rhs) }
    /// Elementwise quotient with broadcasting.
    public static func / (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.divide, rhs) }

    public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.add, scalar: rhs) }
    public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.subtract, scalar: rhs) }
    public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.multiply, scalar: rhs) }
    public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.divide, scalar: rhs) }
    public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.broadcasting(.add, scalar: lhs, scalarFirst: true) }
    public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.broadcasting(.subtract, scalar: lhs, scalarFirst: true) }
    public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.broadcasting(.multiply, scalar: lhs, scalarFirst: true) }
    public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.broadcasting(.divide, scalar: lhs, scalarFirst: true) }

    /// In-place sum, writing into `lhs`'s existing storage; `rhs` must broadcast to `lhs.shape`.
    public static func += (lhs: inout Tensor, rhs: Tensor) { lhs.formBroadcasting(.add, rhs) }
    public static func -= (lhs: inout Tensor, rhs: Tensor) { lhs.formBroadcasting(.subtract, rhs) }
    public static func *= (lhs: inout Tensor, rhs: Tensor) { lhs.formBroadcasting(.multiply, rhs) }
    public static func /= (lhs: inout Tensor, rhs: Tensor) { lhs.formBroadcasting(.divide, rhs) }
    public static func += (lhs: inout Tensor, rhs: Scalar) { lhs.formBroadcasting(.add, scalar: rhs) }
    public static func -= (lhs: inout Tensor, rhs: Scalar) { lhs.formBroadcasting(.subtract, scalar: rhs) }
    public static func *= (lhs: inout Tensor, rhs: Scalar) { lhs.formBroadcasting(.multiply, scalar: rhs) }
    public static func /= (lhs: inout Tensor, rhs: Scalar) { lhs.formBroadcasting(.divide, scalar: rhs) }

    /// Elementwise negation.
    public static prefix func - (x: Tensor) -> Tensor { x.applying(.negate) }

    // MARK: Comparison masks: 1 where the relation holds, else 0 (broadcasting).

    public static func .== (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.equal, rhs) }
    public static func .!= (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.notEqual, rhs) }
    public static func .< (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.less, rhs) }
    public static func .<= (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.lessOrEqual, rhs) }
    public static func .> (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.greater, rhs) }
    public static func .>= (lhs: Tensor, rhs: Tensor) -> Tensor { lhs.broadcasting(.greaterOrEqual, rhs) }
    public static func .== (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.equal, scalar: rhs) }
    public static func .!= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.notEqual, scalar: rhs) }
    public static func .< (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.less, scalar: rhs) }
    public static func .<= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.lessOrEqual, scalar: rhs) }
    public static func .> (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.greater, scalar: rhs) }
    public static func .>= (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.broadcasting(.greaterOrEqual, scalar: rhs) }
}

/// Elementwise minimum with broadcasting; NaN in either operand gives NaN (numpy's `minimum`).
public func min<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> { a.broadcasting(.minimum, b) }
/// Elementwise maximum with broadcasting; NaN in either operand gives NaN (numpy's `maximum`).
public func max<Scalar>(_ a: Tensor<Scalar>, _ b: Tensor<Scalar>) -> Tensor<Scalar> { a.broadcasting(.maximum, b) }
/// Elementwise minimum of a tensor and a scalar.
public func min<Scalar>(_ a: Tensor<Scalar>, _ b: Scalar) -> Tensor<Scalar> { a.broadcasting(.minimum, scalar: b) }
/// Elementwise maximum of a tensor and a scalar: `max(Z, 0)` is ReLU.
public func max<Scalar>(_ a: Tensor<Scalar>, _ b: Scalar) -> Tensor<Scalar> { a.broadcasting(.maximum, scalar: b) }
