// numpy-style indexing in Swift's idiom.
//
// One entry per axis, from the first; axes not mentioned are taken whole.
//   x[0]            an integer drops its axis: row 0 of a matrix, shape [n]
//   x[0, 2]         every axis indexed: a rank-0 tensor (or the element itself
//                   where a scalar is expected: `let v: Float = x[0, 2]`)
//   x[1..<3]        a range keeps its axis: rows 1 and 2, shape [2, n]
//   x[..., 2]       `...` (Swift's unbounded range) is the whole axis — numpy's
//                   `:`, not numpy's `...`; here column 2, shape [m]
//   x[.all, 2]      the same, as a value that can be stored in a variable
//   x[-1]           negative integers and range bounds count from the end
//   x[stride(from: 0, to: 6, by: 2)]   every second row; strides list positions
//   x[1..<3] = y    assignment through the same subscripts; `y` broadcasts to
//                   the selection's shape
// Errors name the axis, the index and the shape:
//   "subscript: index 5 is out of range for axis 0 of shape [3, 4]".

/// One entry of a tensor subscript: how one axis is selected.
public enum TensorIndex: Sendable, Hashable {
    /// One position; the axis is dropped. Negative values count from the end.
    case index(Int)
    /// Positions `lower..<upper` (or `lower...upper` when `inclusive`); a
    /// missing bound is the start or the end; negative bounds count from the end.
    case range(lower: Int?, upper: Int?, inclusive: Bool)
    /// The listed positions, in order (strides, permutations, repeats); the axis is kept.
    case positions([Int])
}

/// A value usable as one entry of a tensor subscript: `Int`, Swift's ranges,
/// strides over `Int`, and ``TensorIndex`` itself.
public protocol TensorIndexExpression {
    /// This entry as a ``TensorIndex``.
    var tensorIndex: TensorIndex { get }
}

extension TensorIndex: TensorIndexExpression {
    public var tensorIndex: TensorIndex { self }
}

extension TensorIndexExpression where Self == TensorIndex {
    /// The whole axis (numpy's `:`): `x[.all, 2]` is column 2.
    public static var all: TensorIndex { .range(lower: nil, upper: nil, inclusive: false) }
}

extension Int: TensorIndexExpression {
    public var tensorIndex: TensorIndex { .index(self) }
}
extension Range: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(lower: lowerBound, upper: upperBound, inclusive: false) }
}
extension ClosedRange: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(lower: lowerBound, upper: upperBound, inclusive: true) }
}
extension PartialRangeFrom: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(lower: lowerBound, upper: nil, inclusive: false) }
}
extension PartialRangeUpTo: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(lower: nil, upper: upperBound, inclusive: false) }
}
extension PartialRangeThrough: TensorIndexExpression where Bound == Int {
    public var tensorIndex: TensorIndex { .range(lower: nil, upper: upperBound, inclusive: true) }
}
extension StrideTo: TensorIndexExpression where Element == Int {
    public var tensorIndex: TensorIndex { .positions(Array(self)) }
}
extension StrideThrough: TensorIndexExpression where Element == Int {
    public var tensorIndex: TensorIndex { .positions(Array(self)) }
}
extension Array: TensorIndexExpression where Element == Int {
    /// Positions listed explicitly (numpy's integer-array indexing on one axis).
    public var tensorIndex: TensorIndex { .positions(self) }
}

/// What a subscript selects from a tensor of a given shape: for each source
/// axis the positions taken, and which axes survive into the result.
struct IndexSelection {
    let sourceShape: [Int]
    /// Positions taken on every source axis.
    let positions: [[Int]]
    /// Whether each source axis is kept (not dropped by an integer).
    let kept: [Bool]
    /// The shape of the selection.
    var shape: [Int] { (0..<sourceShape.count).filter { kept[$0] }.map { positions[$0].count } }
    var count: Int { positions.reduce(1) { $0 * $1.count } }

    init(_ entries: [TensorIndex], shape: [Int], operation: String = "subscript") {
        if entries.count > shape.count {
            shapeFailure(ShapeError(operation: operation, message: "\(entries.count) indices for shape \(format(shape))"))
        }
        func resolve(_ i: Int, axis: Int, allowEnd: Bool = false) -> Int {
            let n = shape[axis], r = i < 0 ? i + n : i
            if r < 0 || r > n || (r == n && !allowEnd) {
                shapeFailure(ShapeError(operation: operation, message: "index \(i) is out of range for axis \(axis) of shape \(format(shape))"))
            }
            return r
        }
        var positions: [[Int]] = [], kept: [Bool] = []
        for axis in 0..<shape.count {
            let entry = axis < entries.count ? entries[axis] : .all
            switch entry {
            case .index(let i):
                positions.append([resolve(i, axis: axis)]); kept.append(false)
            case .positions(let list):
                positions.append(list.map { resolve($0, axis: axis) }); kept.append(true)
            case .range(let lower, let upper, let inclusive):
                let start = lower.map { resolve($0, axis: axis, allowEnd: true) } ?? 0
                var end = shape[axis]
                if let upper {
                    end = inclusive ? resolve(upper, axis: axis) + 1 : resolve(upper, axis: axis, allowEnd: true)
                }
                if end < start {
                    shapeFailure(ShapeError(operation: operation, message: "range \(start)..<\(end) is empty backwards on axis \(axis) of shape \(format(shape))"))
                }
                positions.append(Array(start..<end)); kept.append(true)
            }
        }
        self.sourceShape = shape
        self.positions = positions
        self.kept = kept
    }

    /// The selection as runs of contiguous source elements: the trailing axes
    /// taken whole, and the axis before them when its positions are
    /// consecutive, form one run of `length`; `offset(r)` is run `r`'s source offset.
    func runs() -> (count: Int, length: Int, offset: (Int) -> Int) {
        let rank = sourceShape.count
        let strides = contiguousStrides(sourceShape)
        var axis = rank - 1, length = 1
        while axis >= 0 && positions[axis].count == sourceShape[axis] && positions[axis] == Array(0..<sourceShape[axis]) {
            length *= sourceShape[axis]
            axis -= 1
        }
        var base = 0
        if axis >= 0, let first = positions[axis].first,
           positions[axis] == Array(first..<(first + positions[axis].count)) {
            length *= positions[axis].count
            base = first * strides[axis]
            axis -= 1
        }
        let outer = axis >= 0 ? Array(0...axis) : []
        let runCount = outer.reduce(1) { $0 * positions[$1].count }
        let taken = positions
        return (runCount, length, { r in
            var rest = r, offset = base
            for a in outer.reversed() {
                let n = taken[a].count
                offset += taken[a][rest % n] * strides[a]
                rest /= n
            }
            return offset
        })
    }
}

/// Copies the elements a selection picks from `source` (or, with
/// `scatter`, writes `selection`-ordered elements back into `source`'s layout).
@_specialize(where T == Float)
@_specialize(where T == Double)
@_specialize(where T == Int)
func copySelection<T>(_ selection: IndexSelection, from source: UnsafePointer<T>, to target: UnsafeMutablePointer<T>, scatter: Bool) {
    let (runCount, length, offset) = selection.runs()
    if runCount == 0 || length == 0 { return }
    CopyKernels.copyRuns(source, target, runs: runCount, length: length) { r in
        scatter ? (r * length, offset(r)) : (offset(r), r * length)
    }
}

/// `values` (of `shape`) repeated to `target` by numpy's broadcasting rules,
/// for assignment through a subscript.
func broadcastElements<T>(_ values: [T], shape: [Int], to target: [Int], operation: String) -> [T] {
    if shape == target { return values }
    do {
        let result = try broadcastShape(shape, target, operation: operation)
        if result != target { throw ShapeError(operation: operation, message: "") }
    } catch {
        shapeFailure(ShapeError(operation: operation, message: "value of shape \(format(shape)) cannot be assigned to a selection of shape \(format(target))"))
    }
    let padded = [Int](repeating: 1, count: target.count - shape.count) + shape
    let strides = contiguousStrides(padded)
    let count = target.reduce(1, *)
    var out: [T] = []
    out.reserveCapacity(count)
    var index = [Int](repeating: 0, count: target.count)
    for _ in 0..<count {
        var o = 0
        for a in 0..<target.count where padded[a] != 1 { o += index[a] * strides[a] }
        out.append(values[o])
        var a = target.count - 1
        while a >= 0 {
            index[a] += 1
            if index[a] < target[a] { break }
            index[a] = 0
            a -= 1
        }
    }
    return out
}

/// The subscripts shared by ``Tensor`` and ``IntegerTensor``.
protocol IndexableStorage {
    associatedtype Element
    var shape: [Int] { get }
    var scalars: [Element] { get set }
    init(shape: [Int], scalars: [Element])
}

extension IndexableStorage {
    func selecting(_ entries: [TensorIndex]) -> Self {
        let selection = IndexSelection(entries, shape: shape)
        let result = [Element](unsafeUninitializedCapacity: selection.count) { buffer, initialized in
            scalars.withUnsafeBufferPointer { x in
                if let px = x.baseAddress, let py = buffer.baseAddress {
                    copySelection(selection, from: px, to: py, scatter: false)
                }
            }
            initialized = selection.count
        }
        return Self(shape: selection.shape, scalars: result)
    }

    mutating func assign(_ value: Self, to entries: [TensorIndex]) {
        let selection = IndexSelection(entries, shape: shape)
        let values = broadcastElements(value.scalars, shape: value.shape, to: selection.shape, operation: "subscript assignment")
        values.withUnsafeBufferPointer { v in
            scalars.withUnsafeMutableBufferPointer { y in
                if let pv = v.baseAddress, let py = y.baseAddress {
                    copySelection(selection, from: pv, to: py, scatter: true)
                }
            }
        }
    }
}

extension Tensor: IndexableStorage {}
extension IntegerTensor: IndexableStorage {}

extension Tensor {
    /// The selection `x[i, 1..<3, …]`: integers drop their axis, ranges,
    /// strides, position lists and ``TensorIndex/all`` keep it, axes not
    /// mentioned are taken whole; negative positions count from the end.
    /// Setting assigns through the same selection, broadcasting the new value.
    /// See the file header of `Indexing.swift` for the whole syntax.
    public subscript(_ indices: any TensorIndexExpression...) -> Tensor {
        get { selecting(indices.map(\.tensorIndex)) }
        set { assign(newValue, to: indices.map(\.tensorIndex)) }
    }

    /// The selection described by a list of entries built at run time:
    /// `x[indices: [.index(0), .all, .positions([2, 0])]]`.
    public subscript(indices indices: [TensorIndex]) -> Tensor {
        get { selecting(indices) }
        set { assign(newValue, to: indices) }
    }

    /// `x[..., j]`: the whole first axis, then the given entries.
    public subscript(_ all: UnboundedRange, _ rest: any TensorIndexExpression...) -> Tensor {
        get { selecting([.all] + rest.map(\.tensorIndex)) }
        set { assign(newValue, to: [.all] + rest.map(\.tensorIndex)) }
    }

    /// `x[i, ..., k]`: an entry, the whole second axis, then the given entries.
    public subscript(_ first: any TensorIndexExpression, _ all: UnboundedRange, _ rest: any TensorIndexExpression...) -> Tensor {
        get { selecting([first.tensorIndex, .all] + rest.map(\.tensorIndex)) }
        set { assign(newValue, to: [first.tensorIndex, .all] + rest.map(\.tensorIndex)) }
    }
}

extension IntegerTensor {
    /// The same selections as ``Tensor``'s subscript.
    public subscript(_ indices: any TensorIndexExpression...) -> IntegerTensor {
        get { selecting(indices.map(\.tensorIndex)) }
        set { assign(newValue, to: indices.map(\.tensorIndex)) }
    }

    /// The selection described by a list of entries built at run time.
    public subscript(indices indices: [TensorIndex]) -> IntegerTensor {
        get { selecting(indices) }
        set { assign(newValue, to: indices) }
    }

    /// `x[..., j]`: the whole first axis, then the given entries.
    public subscript(_ all: UnboundedRange, _ rest: any TensorIndexExpression...) -> IntegerTensor {
        get { selecting([.all] + rest.map(\.tensorIndex)) }
        set { assign(newValue, to: [.all] + rest.map(\.tensorIndex)) }
    }

    /// One element by one index per axis (negative indices count from the
    /// end), where an `Int` is expected: `let label: Int = labels[3]`.
    @_disfavoredOverload
    public subscript(_ indices: Int...) -> Int {
        get { scalars[elementOffset(indices, shape: shape)] }
        set { scalars[elementOffset(indices, shape: shape)] = newValue }
    }
}

/// The row-major offset of one element; every axis indexed, negative indices
/// counted from the end.
func elementOffset(_ indices: [Int], shape: [Int]) -> Int {
    if indices.count != shape.count {
        shapeFailure(ShapeError(operation: "subscript", message: "\(indices.count) indices for an element of shape \(format(shape))"))
    }
    var offset = 0
    for axis in 0..<shape.count {
        let i = indices[axis], r = i < 0 ? i + shape[axis] : i
        if r < 0 || r >= shape[axis] {
            shapeFailure(ShapeError(operation: "subscript", message: "index \(i) is out of range for axis \(axis) of shape \(format(shape))"))
        }
        offset = offset * shape[axis] + r
    }
    return offset
}
