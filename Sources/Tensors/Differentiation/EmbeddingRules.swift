import Foundation

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
        if indices.isEmpty {   // the first contribution is kept as it is, not copied
            (indices, values) = (newIndices, rows)
        } else {
            indices += newIndices
            values += rows
        }
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

/// Word2vec's negative-sampling cost (C5W2-08) for a batch of `B` (centre,
/// context) pairs, each with `k` negatives, as one fused node:
/// `J = (1/B) Σ_b [softplus(−θ_{t_b}ᵀe_{c_b}) + Σ_i softplus(θ_{n_bi}ᵀe_{c_b})]`,
/// i.e. `−(1/B) Σ_b [log σ(θ_tᵀe_c) + Σ_i log σ(−θ_nᵀe_c)]`, with
/// `softplus(x) = max(x, 0) + log(1 + e^−|x|)` (no overflow).
///
/// - `centerTable` `E` and `contextTable` `Θ`: `(V, d)`, a word per row.
/// - `centers`, `contexts`: `B` word indices; `negatives`: `B·k`, pair by pair.
///
/// Backward, with `δs = (σ(s) − y)/B` for each score `s = θ_jᵀe_c` (`y = 1`
/// for the context, 0 for a negative): `∂J/∂e_c = Σ_j δs_j θ_j`,
/// `∂J/∂θ_j = δs_j e_c`. A leaf table receives them as a ``RowGradient`` (the
/// `B` or `B·(1 + k)` rows used; repeats add up), a computed one as a dense
/// scatter-add. It computes what a lookup, a product, a sum over `d` and
/// softplus per score would, without any of their intermediate tensors.
/// The pullback reads the tables when it runs (so that an optimizer's
/// in-place row update copies nothing): update them only after `backward()`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func negativeSamplingCost<S: TensorScalar>(
    centerTable: Variable<S>, contextTable: Variable<S>, centers: [Int], contexts: [Int], negatives: [Int]
) -> Variable<S> {
    func fail(_ message: String) -> Never { shapeFailure(ShapeError(operation: "negativeSamplingCost", message: message)) }
    let (E, Θ) = (centerTable.value, contextTable.value)
    if E.rank != 2 || Θ.rank != 2 || E.shape[1] != Θ.shape[1] { fail("tables \(E.shape) and \(Θ.shape) must be (V, d) with the same d") }
    let B = centers.count
    if B == 0 || contexts.count != B || negatives.count % B != 0 {
        fail("\(B) centres, \(contexts.count) contexts and \(negatives.count) negatives (k per pair)")
    }
    let k = negatives.count / B, d = E.shape[1], words = 1 + k
    for i in centers where i < 0 || i >= E.shape[0] { fail("centre \(i) outside the table's 0..<\(E.shape[0]) rows") }
    for words in [contexts, negatives] {
        for i in words where i < 0 || i >= Θ.shape[0] { fail("word \(i) outside the table's 0..<\(Θ.shape[0]) rows") }
    }
    // The context table's rows per pair: the context, then its negatives.
    var rows = [Int](), scores = [S](repeating: 0, count: B * words)
    rows.reserveCapacity(B * words)
    for b in 0..<B { rows.append(contexts[b]); rows += negatives[b * k..<(b + 1) * k] }
    // The scores are inner products: the reduction kernels' loop or vectorized form, by the compute path.
    let loopPath = ComputePath.current == .loop
    func dot(_ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ n: Int) -> S {
        loopPath ? ReductionKernels.dotLoop(a, b, n) : ReductionKernels.dotVectorized(a, b, n)
    }
    var cost = 0.0
    E.withUnsafeBufferPointer { e in
        Θ.withUnsafeBufferPointer { θ in
            for b in 0..<B {
                let center = e.baseAddress! + centers[b] * d
                for w in 0..<words {
                    let s = dot(center, θ.baseAddress! + rows[b * words + w] * d, d)
                    scores[b * words + w] = s
                    let x = Double(w == 0 ? -s : s)   // softplus(−s) for the context, softplus(s) for a negative
                    cost += Swift.max(x, 0) + log1p(exp(-Swift.abs(x)))
                }
            }
        }
    }
    // The pullback reads the tables through their variables: holding their tensors
    // would make an optimizer's in-place row update copy both whole tables.
    return Variable(Tensor(S(cost / Double(B))), derivedFrom: [centerTable, contextTable]) { g, needs in
        let (E, Θ) = (centerTable.value, contextTable.value)
        // δs = (σ(s) − y)·g/B
        let scale = Double(g.scalars[0]) / Double(B)
        var delta = [S](repeating: 0, count: scores.count)
        for (index, s) in scores.enumerated() {
            let sigmoid = 1 / (1 + exp(-Double(s))), label: Double = index % words == 0 ? 1 : 0
            delta[index] = S((sigmoid - label) * scale)
        }
        var centerRows = [S](repeating: 0, count: needs[0] ? B * d : 0)
        var contextRows = [S](repeating: 0, count: needs[1] ? B * words * d : 0)
        E.withUnsafeBufferPointer { e in
            Θ.withUnsafeBufferPointer { θ in
                centerRows.withUnsafeMutableBufferPointer { centerOut in
                    contextRows.withUnsafeMutableBufferPointer { contextOut in
                        for b in 0..<B {
                            let center = e.baseAddress! + centers[b] * d
                            for w in 0..<words {
                                let δ = delta[b * words + w], row = θ.baseAddress! + rows[b * words + w] * d
                                if needs[0] {
                                    let out = centerOut.baseAddress! + b * d
                                    for j in 0..<d { out[j] += δ * row[j] }
                                }
                                if needs[1] {
                                    let out = contextOut.baseAddress! + (b * words + w) * d
                                    for j in 0..<d { out[j] = δ * center[j] }
                                }
                            }
                        }
                    }
                }
            }
        }
        func deliver(_ table: Variable<S>, _ values: [S], at indices: [Int]) -> Tensor<S>? {
            if table.isLeaf {
                if table.rowGradient == nil { table.rowGradient = RowGradient(width: d) }
                table.rowGradient!.add(values, at: indices)
                return nil
            }
            var dense = [S](repeating: 0, count: table.value.count)
            for (n, i) in indices.enumerated() { for j in 0..<d { dense[i * d + j] += values[n * d + j] } }
            return Tensor(shape: table.value.shape, scalars: dense)
        }
        return [needs[0] ? deliver(centerTable, centerRows, at: centers) : nil,
                needs[1] ? deliver(contextTable, contextRows, at: rows) : nil]
    }
}
