/// The recurrent cells of course 5 (C5W1-05, -11, -12), in the notes' stacked
/// form: each gate's weights act on `[a⟨t−1⟩, x⟨t⟩]`, so one weight matrix
/// `W = [W_a | W_x]` of shape `(G·n_a, n_a + n_x)` and one bias `(G·n_a, 1)`
/// hold all `G` gates, stacked by rows in the order given here.
public enum RecurrentCell: String, Sendable, Hashable, Codable {
    /// The basic RNN, `G = 1`: `a⟨t⟩ = tanh(W_a[a⟨t−1⟩, x⟨t⟩] + b_a)`.
    case rnn
    /// The notes' full GRU, `G = 3`, rows `[Γ_u; Γ_r; c̃]`:
    /// `Γ_u = σ(W_u[c⟨t−1⟩, x⟨t⟩] + b_u)`, `Γ_r = σ(W_r[c⟨t−1⟩, x⟨t⟩] + b_r)`,
    /// `c̃⟨t⟩ = tanh(W_c[Γ_r ∗ c⟨t−1⟩, x⟨t⟩] + b_c)`,
    /// `c⟨t⟩ = Γ_u ∗ c̃⟨t⟩ + (1 − Γ_u) ∗ c⟨t−1⟩`, `a⟨t⟩ = c⟨t⟩`. (PyTorch's GRU
    /// applies the reset gate after the recurrent product, `r ∗ (W_hn h + b_hn)`,
    /// and its update gate weighs the old state: a different function.)
    case gru
    /// The LSTM, `G = 4`, rows `[Γ_u; Γ_f; Γ_o; c̃]`:
    /// `Γ_{u,f,o} = σ(W_{u,f,o}[a⟨t−1⟩, x⟨t⟩] + b_{u,f,o})`,
    /// `c̃⟨t⟩ = tanh(W_c[a⟨t−1⟩, x⟨t⟩] + b_c)`, `c⟨t⟩ = Γ_u ∗ c̃⟨t⟩ + Γ_f ∗ c⟨t−1⟩`,
    /// `a⟨t⟩ = Γ_o ∗ tanh(c⟨t⟩)`. The notes print `a⟨t⟩ = Γ_o ∗ c⟨t⟩`, without the
    /// tanh; Hochreiter & Schmidhuber's LSTM, the course's assignment and every
    /// framework have it, and so does this one. PyTorch's `i, f, g, o` are
    /// `Γ_u, Γ_f, c̃, Γ_o`.
    case lstm

    /// `G`, the number of gate blocks in `W`'s rows.
    public var gates: Int {
        switch self {
        case .rnn: 1
        case .gru: 3
        case .lstm: 4
        }
    }
}

/// Runs a recurrent cell over a whole sequence as one fused tape node, with
/// backpropagation through time as its hand-written backward rule.
///
/// - `x`: `(n_x, m, T_x)`, the notes' layout (internally the sequence is
///   processed step by step in time-major copies).
/// - `weight`: `(G·n_a, n_a + n_x)`, `bias`: `(G·n_a, 1)` (see ``RecurrentCell``).
/// - `initialState`: `a⟨0⟩` (the GRU's `c⟨0⟩`), `(n_a, m)`; zeros when `nil`.
///   `initialCell`: the LSTM's `c⟨0⟩`; zeros when `nil`.
/// - `lengths`: each example's length for a batch of sequences of different
///   lengths (padded to `T_x`); at a step `t ≥ length` the state is carried
///   unchanged (`a⟨t⟩ = a⟨t−1⟩`), so the last output is each sequence's last
///   state and no gradient reaches the padding.
/// - `reversed`: run from `t = T_x` down to 1 (a bidirectional RNN's backward
///   direction); outputs stay at their time positions.
/// - `returnsCellStates`: for the LSTM, also return `c⟨t⟩` below `a⟨t⟩`.
///
/// Returns `a⟨t⟩` for every step, `(n_a, m, T_x)` — `(2·n_a, m, T_x)` with
/// `[a; c]` when `returnsCellStates`.
///
/// Backward, for the LSTM with `δa` the incoming gradient plus the next step's:
/// `δΓ_o = δa ∗ tanh(c)`, `δc = δc_next + δa ∗ Γ_o ∗ (1 − tanh²c)`, `δc̃ = δc ∗ Γ_u`,
/// `δΓ_u = δc ∗ c̃`, `δΓ_f = δc ∗ c⟨t−1⟩`, `δc⟨t−1⟩ = δc ∗ Γ_f`; `δz = δΓ ∗ σ′` or
/// `δc̃ ∗ (1 − c̃²)`; `δ[a⟨t−1⟩; x⟨t⟩] = Wᵀ δz`; `δW = Σ_t δz⟨t⟩ [a⟨t−1⟩; x⟨t⟩]ᵀ`
/// (one GEMM over all steps), `δb = Σ δz`.
///
/// Two implementations, as every operation has (``ComputePath``): the loop
/// path composes the cell from per-step tensor operations and writes
/// backpropagation through time over them — the readable reference; the
/// vectorized path is one fused kernel (`RecurrentKernels`): the batch in
/// strips of 8 examples (4 on AVX2-class kernels), each run from start to end
/// by one thread on its own data with no barrier per step; `W` packed once per
/// sequence and applied to each strip's `[a⟨t−1⟩; x⟨t⟩]` rows by a register
/// tile, the gates computed while the step's rows are in cache, and
/// `δW = Σ_t δz⟨t⟩[a⟨t−1⟩; x⟨t⟩]ᵀ` as one product per strip, the strips added
/// in order. Results are bitwise identical for any thread count. A batch of
/// at most one strip runs its recurrence on one thread.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func recurrentSequence<S: TensorScalar>(
    _ cell: RecurrentCell, _ x: Variable<S>, weight: Variable<S>, bias: Variable<S>,
    initialState: Variable<S>? = nil, initialCell: Variable<S>? = nil, lengths: [Int]? = nil,
    reversed: Bool = false, returnsCellStates: Bool = false
) -> Variable<S> {
    let xs = x.value.shape, ws = weight.value.shape
    recurrentCheck(xs.count == 3, "input \(xs) must be (n_x, m, T_x)")
    let (nx, m, T) = (xs[0], xs[1], xs[2])
    let G = cell.gates
    recurrentCheck(ws.count == 2 && ws[0] % G == 0 && ws[1] == ws[0] / G + nx,
                 "\(cell): weight \(ws) must be (\(G)·n_a, n_a + \(nx)) for input \(xs)")
    let n = ws[0] / G
    recurrentCheck(bias.value.shape == [G * n, 1], "\(cell): bias \(bias.value.shape) must be [\(G * n), 1]")
    recurrentCheck(initialState.map { $0.value.shape == [n, m] } ?? true,
                 "\(cell): initial state \(initialState!.value.shape) must be [\(n), \(m)]")
    recurrentCheck(initialCell == nil || cell == .lstm, "only the LSTM has an initial cell state")
    recurrentCheck(initialCell.map { $0.value.shape == [n, m] } ?? true,
                 "lstm: initial cell state \(initialCell!.value.shape) must be [\(n), \(m)]")
    recurrentCheck(!returnsCellStates || cell == .lstm, "only the LSTM has cell states to return")
    recurrentCheck(lengths.map { $0.count == m && $0.allSatisfy { (0...T).contains($0) } } ?? true,
                 "lengths must be one per example, each in 0...\(T)")
    recurrentCheck(T >= 1 && m >= 1, "empty input \(xs)")

    if ComputePath.current == .vectorized && n > 0 {
        return fusedRecurrentSequence(cell, x, weight: weight, bias: bias, initialState: initialState, initialCell: initialCell,
                                      lengths: lengths, reversed: reversed, returnsCellStates: returnsCellStates)
    }

    // The loop path: the cell composed of per-step tensor operations, with
    // backpropagation through time written out over them.
    let W = weight.value, b = bias.value
    // Time-major copies of the input: steps[t] is x⟨t⟩, (n_x, m).
    let timeMajor = x.value.permuted([2, 0, 1])
    let inputs = (0..<T).map { timeMajor.slice(axis: 0, $0..<$0 + 1).reshaped(to: [nx, m]) }
    let masks: [Tensor<S>]? = lengths.map { lengths in
        (0..<T).map { t in Tensor(shape: [1, m], scalars: lengths.map { t < $0 ? 1 : 0 }) }
    }
    let order = reversed ? Array((0..<T).reversed()) : Array(0..<T)

    // Saved for the backward pass, all indexed by time position.
    var stacked = [Tensor<S>](repeating: Tensor<S>(0), count: T)        // [a⟨t−1⟩; x⟨t⟩] (GRU: [c⟨t−1⟩; x⟨t⟩])
    var resetStacked = [Tensor<S>](repeating: Tensor<S>(0), count: T)   // GRU: [Γ_r ∗ c⟨t−1⟩; x⟨t⟩]
    var gates = [Tensor<S>](repeating: Tensor<S>(0), count: T)          // activated gates, (G·n_a, m)
    var states = [Tensor<S>](repeating: Tensor<S>(0), count: T)         // a⟨t⟩
    var cells = [Tensor<S>](repeating: Tensor<S>(0), count: T)          // LSTM: c⟨t⟩
    var previousStates = [Tensor<S>](repeating: Tensor<S>(0), count: T)
    var previousCells = [Tensor<S>](repeating: Tensor<S>(0), count: T)

    var a = initialState?.value ?? .zeros([n, m])
    var c = initialCell?.value ?? .zeros([n, m])
    for t in order {
        previousStates[t] = a
        previousCells[t] = c
        let h = Tensor.concatenate([a, inputs[t]], axis: 0)
        stacked[t] = h
        var newState: Tensor<S>, newCell = c
        switch cell {
        case .rnn:
            let z = matmul(W, h) + b
            newState = tanh(z)
            gates[t] = newState
        case .lstm:
            let z = matmul(W, h) + b
            let sigmoids = sigmoid(z.slice(axis: 0, 0..<3 * n)), candidate = tanh(z.slice(axis: 0, 3 * n..<4 * n))
            let (u, f, o) = (sigmoids.slice(axis: 0, 0..<n), sigmoids.slice(axis: 0, n..<2 * n), sigmoids.slice(axis: 0, 2 * n..<3 * n))
            newCell = u * candidate + f * c
            newState = o * tanh(newCell)
            gates[t] = Tensor.concatenate([sigmoids, candidate], axis: 0)
        case .gru:
            let zur = matmul(W.slice(axis: 0, 0..<2 * n), h) + b.slice(axis: 0, 0..<2 * n)
            let ur = sigmoid(zur)
            let (u, r) = (ur.slice(axis: 0, 0..<n), ur.slice(axis: 0, n..<2 * n))
            let hr = Tensor.concatenate([r * a, inputs[t]], axis: 0)
            resetStacked[t] = hr
            let candidate = tanh(matmul(W.slice(axis: 0, 2 * n..<3 * n), hr) + b.slice(axis: 0, 2 * n..<3 * n))
            newState = u * candidate + (1 - u) * a
            gates[t] = Tensor.concatenate([ur, candidate], axis: 0)
        }
        if let masks {
            newState = masks[t] * newState + (1 - masks[t]) * a
            if cell == .lstm { newCell = masks[t] * newCell + (1 - masks[t]) * c }
        }
        a = newState
        c = newCell
        states[t] = a
        cells[t] = c
    }
    var outputSteps = states
    if returnsCellStates { outputSteps = (0..<T).map { Tensor.concatenate([states[$0], cells[$0]], axis: 0) } }
    // (T, rows, m) → (rows, m, T)
    let output = Tensor.stack(outputSteps, axis: 0).permuted([1, 2, 0])

    var inputsToNode = [x, weight, bias]
    if let initialState { inputsToNode.append(initialState) }
    if let initialCell { inputsToNode.append(initialCell) }
    let hasInitialState = initialState != nil, hasInitialCell = initialCell != nil
    return Variable(output, derivedFrom: inputsToNode) { g, needs in
        let rows = returnsCellStates ? 2 * n : n
        let gradientTimeMajor = g.permuted([2, 0, 1])   // (T, rows, m)
        let incoming = (0..<T).map { gradientTimeMajor.slice(axis: 0, $0..<$0 + 1).reshaped(to: [rows, m]) }
        var da = Tensor<S>.zeros([n, m]), dc = Tensor<S>.zeros([n, m])
        var dZ = [Tensor<S>](repeating: Tensor<S>(0), count: T)          // δz⟨t⟩ for the rows acting on `stacked`
        var dZReset = [Tensor<S>](repeating: Tensor<S>(0), count: T)     // GRU: δz of c̃, acting on `resetStacked`
        var dX = [Tensor<S>](repeating: Tensor<S>(0), count: T)
        for t in order.reversed() {
            var dState = da + (returnsCellStates ? incoming[t].slice(axis: 0, 0..<n) : incoming[t])
            var dCell = dc
            if returnsCellStates { dCell = dCell + incoming[t].slice(axis: 0, n..<2 * n) }
            // Padding steps carry the state: their gradient passes straight to the previous step.
            let carried = masks.map { (state: dState * (1 - $0[t]), cell: dCell * (1 - $0[t])) }
            if let masks { dState = dState * masks[t]; dCell = dCell * masks[t] }
            let aPrevious = previousStates[t]
            var dPrevious: Tensor<S>, dCellPrevious = Tensor<S>.zeros([n, m])
            switch cell {
            case .rnn:
                let dz = dState * (1 - square(gates[t]))
                dZ[t] = dz
                let dh = matmul(W, dz, transposingA: true)
                dPrevious = dh.slice(axis: 0, 0..<n)
                dX[t] = dh.slice(axis: 0, n..<n + nx)
            case .lstm:
                let gt = gates[t]
                let (u, f, o, candidate) = (gt.slice(axis: 0, 0..<n), gt.slice(axis: 0, n..<2 * n),
                                            gt.slice(axis: 0, 2 * n..<3 * n), gt.slice(axis: 0, 3 * n..<4 * n))
                let tanhCell = tanh(cells[t])
                let dcTotal = dCell + dState * o * (1 - square(tanhCell))
                let dzU = dcTotal * candidate * u * (1 - u)
                let dzF = dcTotal * previousCells[t] * f * (1 - f)
                let dzO = dState * tanhCell * o * (1 - o)
                let dzC = dcTotal * u * (1 - square(candidate))
                let dz = Tensor.concatenate([dzU, dzF, dzO, dzC], axis: 0)
                dZ[t] = dz
                let dh = matmul(W, dz, transposingA: true)
                dPrevious = dh.slice(axis: 0, 0..<n)
                dX[t] = dh.slice(axis: 0, n..<n + nx)
                dCellPrevious = dcTotal * f
            case .gru:
                let gt = gates[t]
                let (u, r, candidate) = (gt.slice(axis: 0, 0..<n), gt.slice(axis: 0, n..<2 * n), gt.slice(axis: 0, 2 * n..<3 * n))
                let dzC = dState * u * (1 - square(candidate))
                dZReset[t] = dzC
                let dhr = matmul(W.slice(axis: 0, 2 * n..<3 * n), dzC, transposingA: true)
                let dResetState = dhr.slice(axis: 0, 0..<n)
                let dzU = dState * (candidate - aPrevious) * u * (1 - u)
                let dzR = dResetState * aPrevious * r * (1 - r)
                let dzUR = Tensor.concatenate([dzU, dzR], axis: 0)
                dZ[t] = dzUR
                let dh = matmul(W.slice(axis: 0, 0..<2 * n), dzUR, transposingA: true)
                dPrevious = dh.slice(axis: 0, 0..<n) + dResetState * r + dState * (1 - u)
                dX[t] = dh.slice(axis: 0, n..<n + nx) + dhr.slice(axis: 0, n..<n + nx)
            }
            if let carried {
                dPrevious = dPrevious + carried.state
                dCellPrevious = dCellPrevious + carried.cell
            }
            da = dPrevious
            dc = dCellPrevious
        }
        var results: [Tensor<S>?] = []
        results.append(needs[0] ? Tensor.stack(dX, axis: 0).permuted([1, 2, 0]) : nil)
        if needs[1] || needs[2] {
            let dZAll = Tensor.concatenate(dZ, axis: 1), stackedAll = Tensor.concatenate(stacked, axis: 1)
            var dW = matmul(dZAll, stackedAll, transposingB: true)
            var db = dZAll.sum(axis: 1, keepingDimensions: true)
            if cell == .gru {
                let dZc = Tensor.concatenate(dZReset, axis: 1)
                dW = Tensor.concatenate([dW, matmul(dZc, Tensor.concatenate(resetStacked, axis: 1), transposingB: true)], axis: 0)
                db = Tensor.concatenate([db, dZc.sum(axis: 1, keepingDimensions: true)], axis: 0)
            }
            results.append(needs[1] ? dW : nil)
            results.append(needs[2] ? db : nil)
        } else {
            results += [nil, nil]
        }
        if hasInitialState { results.append(da) }
        if hasInitialCell { results.append(dc) }
        return results
    }
}

/// The vectorized path of ``recurrentSequence(_:_:weight:bias:initialState:initialCell:lengths:reversed:returnsCellStates:)``:
/// the fused kernel of `RecurrentKernels` (arguments already checked).
func fusedRecurrentSequence<S: TensorScalar>(
    _ cell: RecurrentCell, _ x: Variable<S>, weight: Variable<S>, bias: Variable<S>,
    initialState: Variable<S>?, initialCell: Variable<S>?, lengths: [Int]?, reversed: Bool, returnsCellStates: Bool
) -> Variable<S> {
    let xs = x.value.shape
    let (nx, m, T) = (xs[0], xs[1], xs[2])
    let n = weight.value.shape[0] / cell.gates
    let plan = RecurrentPlan(cell: cell, nx: nx, n: n, m: m, T: T, reversed: reversed, scalarType: S.scalarType)
    let trace = RecurrentKernels.forward(plan, x: x.value, weight: weight.value, bias: bias.value,
                                         initialState: initialState?.value, initialCell: initialCell?.value, lengths: lengths)
    // Step blocks (m̄, ·) → (rows, m, T): a⟨t⟩, then c⟨t⟩ below it when asked.
    let rows = returnsCellStates ? 2 * n : n
    let output = Tensor<S>(shape: [rows, m, T], unsafeUninitialized: { out in
        RecurrentKernels.gatherFromSteps(trace.stacked, rows: n, plan, out.baseAddress!, blocks: T + 1, firstBlock: 1,
                                         rowWidth: plan.K, firstColumn: 0)
        if let cells = trace.cells, returnsCellStates {
            RecurrentKernels.gatherFromSteps(cells, rows: n, plan, out.baseAddress! + n * m * T, blocks: T + 1, firstBlock: 1,
                                             rowWidth: n, firstColumn: 0)
        }
    })
    var inputsToNode = [x, weight, bias]
    if let initialState { inputsToNode.append(initialState) }
    if let initialCell { inputsToNode.append(initialCell) }
    let hasInitialState = initialState != nil, hasInitialCell = initialCell != nil
    let W = weight.value
    return Variable(output, derivedFrom: inputsToNode) { g, needs in
        let gradients = RecurrentKernels.backward(trace, gradient: g, weight: W, returnsCellStates: returnsCellStates,
                                                  needsInput: needs[0], needsParameters: needs[1] || needs[2])
        var results: [Tensor<S>?] = [gradients.dx, needs[1] ? gradients.dW : nil, needs[2] ? gradients.db : nil]
        if hasInitialState { results.append(gradients.da0) }
        if hasInitialCell { results.append(gradients.dc0) }
        return results
    }
}

/// Stops with a ``ShapeError`` naming `recurrentSequence` — its message survives optimized builds.
func recurrentCheck(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { shapeFailure(ShapeError(operation: "recurrentSequence", message: message())) }
}
