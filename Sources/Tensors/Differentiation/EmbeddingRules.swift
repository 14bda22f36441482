/// The gradient of a table read by row lookups, kept as the rows that were
/// read: row `indices[k]` of `∂J/∂table` is row `k` of `values`, `(k, d)`.
/// An embedding table of a 10,000-word vocabulary receives a batch's few
/// hundred rows this way, never a dense `(V, d)` gradient; repeated indices
/// add up in ``coalesced()``.
public struct RowGradient<Scalar: TensorScalar> {
    /// Row indices, in the order their contributions arrived (may repeat).
    public private(set) var indices: [Int] = []
    /// One row per index, `(indices.count, d)` once anything was added.
    public private(set) var values: [Scalar] = []
    /// The table's row width `d`.
    public let width: Int

    public init(width: Int) { self.width = width }

    /// Adds `rows` (`indices.count · d` values, row-major) at `indices`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public mutating func add(_ rows: [Scalar], at newIndices: [Int]) {
        if rows.count != newIndices.count * width { shapeFailure(ShapeError(operation: "RowGradient.add", message: "\(rows.count) values for \(newIndices.count) rows of \(width)")) }
        indices += newIndices
        values += rows
    }

    /// The same gradient with each index once, ascending, its rows summed
    /// (in arrival order, so the sum is the same in every run).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func coalesced() -> (indices: [Int], rows: Tensor<Scalar>) {
        let order = indices.indices.sorted { indices[$0] != indices[$1] ? indices[$0] < indices[$1] : $0 < $1 }
        var unique: [Int] = [], sums: [Scalar] = []
        for k in order {
            if unique.last != indices[k] {
                unique.append(indices[k])
                sums += values[k * width..<(k + 1) * width]
            } else {
                let base = sums.count - width
                for j in 0..<width { sums[base + j] += values[k * width + j] }
            }
        }
        return (unique, Tensor(shape: [unique.count, width], scalars: sums))
    }

    /// The dense `(rows, d)` gradient (for checks and small tables).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func dense(rows: Int) -> Tensor<Scalar> {
        let (unique, summed) = coalesced()
        var out = [Scalar](repeating: 0, count: rows * width)
        for (k, r) in unique.enumerated() {
            if r < 0 || r >= rows { shapeFailure(ShapeError(operation: "RowGradient.dense", message: "row \(r) outside 0..<\(rows)")) }
            for j in 0..<width { out[r * width + j] = summed.scalars[k * width + j] }
        }
        return Tensor(shape: [rows, width], scalars: out)
    }

    /// Whether every value is finite.
    public var isFinite: Bool { values.allSatisfy(\.isFinite) }
    /// `‖g‖₂` of the coalesced gradient.
    public var norm: Scalar { coalesced().rows.norm() }
}

/// Looks up rows of `table` `(V, d)` — the embedding lookup `e_j = E·o_j` of
/// C5W2-05 without the one-hot product — and returns them as columns,
/// `(d, indices.count)`.
///
/// Backward: when `table` is a leaf, the rows of `∂J/∂output` are added to
/// its ``Variable/rowGradient`` at `indices` (repeated indices add up) and no
/// dense gradient is formed; for a computed table, the dense scatter-add.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func rowLookup<S: TensorScalar>(_ table: Variable<S>, indices: [Int]) -> Variable<S> {
    if table.value.rank != 2 { shapeFailure(ShapeError(operation: "rowLookup", message: "table \(table.shape) must be (V, d)")) }
    let (V, d) = (table.value.shape[0], table.value.shape[1])
    for i in indices where i < 0 || i >= V { shapeFailure(ShapeError(operation: "rowLookup", message: "index \(i) outside the table's 0..<\(V) rows")) }
    var out = [S](repeating: 0, count: d * indices.count)
    let n = indices.count
    table.value.withUnsafeBufferPointer { t in
        for (k, i) in indices.enumerated() { for j in 0..<d { out[j * n + k] = t[i * d + j] } }
    }
    let result = Tensor(shape: [d, n], scalars: out)
    return Variable(result, derivedFrom: [table]) { g, needs in
        guard needs[0] else { return [nil] }
        var rows = [S](repeating: 0, count: n * d)
        g.withUnsafeBufferPointer { gp in for k in 0..<n { for j in 0..<d { rows[k * d + j] = gp[j * n + k] } } }
        if table.isLeaf {
            if table.rowGradient == nil { table.rowGradient = RowGradient(width: d) }
            table.rowGradient!.add(rows, at: indices)
            return [nil]
        }
        var dense = [S](repeating: 0, count: V * d)
        for (k, i) in indices.enumerated() { for j in 0..<d { dense[i * d + j] += rows[k * d + j] } }
        return [Tensor(shape: [V, d], scalars: dense)]
    }
}
