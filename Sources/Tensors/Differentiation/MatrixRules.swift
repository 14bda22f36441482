// Backward rules of the matrix products. For C = op(A)·op(B) with incoming G = ∂J/∂C:
//
//   C = A·B     dA = G·Bᵀ        dB = Aᵀ·G
//   C = Aᵀ·B    dA = B·Gᵀ        dB = A·G
//   C = A·Bᵀ    dA = G·B         dB = Gᵀ·A
//   C = Aᵀ·Bᵀ   dA = Bᵀ·Gᵀ       dB = Gᵀ·Aᵀ
//
// each computed by one `matmul` with transpose flags (no transposed copy is made).
// Batched operands whose batch axes were broadcast get their gradient summed back.
//
// The fused dense node Z = W·X + b (C1W4-06):
//   dW = G·Xᵀ    db = Σ_columns G    dX = Wᵀ·G   (dX only when X needs it)

/// The matrix product `op(A)·op(B)` on the tape; rank ≥ 3 operands multiply
/// batch by batch (see the tensor form). A rank-1 `b` is a matrix–vector product.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func matmul<S>(_ a: Variable<S>, _ b: Variable<S>, transposingA: Bool = false, transposingB: Bool = false) -> Variable<S> {
    if b.value.rank == 1 && a.value.rank == 2 {
        return matmul(a, b.reshaped(to: [b.value.count, 1]), transposingA: transposingA).reshaped(to: [-1])
    }
    let x = a.value, y = b.value
    let c = matmul(x, y, transposingA: transposingA, transposingB: transposingB)
    return Variable(c, derivedFrom: [a, b]) { g, needs in
        var da: Tensor<S>?, db: Tensor<S>?
        switch (transposingA, transposingB) {
        case (false, false):
            if needs[0] { da = matmul(g, y, transposingB: true) }
            if needs[1] { db = matmul(x, g, transposingA: true) }
        case (true, false):
            if needs[0] { da = matmul(y, g, transposingB: true) }
            if needs[1] { db = matmul(x, g) }
        case (false, true):
            if needs[0] { da = matmul(g, y) }
            if needs[1] { db = matmul(g, x, transposingA: true) }
        case (true, true):
            if needs[0] { da = matmul(y, g, transposingA: true, transposingB: true) }
            if needs[1] { db = matmul(g, x, transposingA: true, transposingB: true) }
        }
        return [da?.summed(toShape: x.shape), db?.summed(toShape: y.shape)]
    }
}

/// The dense layer's affine map as one fused node: `Z = W·X + b` with `W`
/// `(n, n_prev)`, `X` `(n_prev, m)` and `b` `(n, 1)`, one example per column;
/// with `activation: .relu`, `A = max(0, W·X + b)`.
///
/// Backward (C1W4-06): `dW = dZ·Xᵀ`, `db = Σ_columns dZ`, `dX = Wᵀ·dZ`; the
/// input gradient is skipped when `X` needs none (a network's first layer).
/// The bias (and, when nothing is recorded, the ReLU) is applied inside the
/// product (the tensor form of `linear`); recorded, the
/// ReLU is its own node on `Z`, whose derivative at `z = 0` is the notes' 1,
/// which the output alone cannot tell from `z < 0`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func linear<S>(_ W: Variable<S>, _ X: Variable<S>, _ b: Variable<S>, activation: LinearActivation = .identity) -> Variable<S> {
    let w = W.value, x = X.value
    if activation == .relu {
        let recorded = GradientTape.isRecording && (W.requiresGradient || X.requiresGradient || b.requiresGradient)
        return recorded ? relu(linear(W, X, b)) : Variable(linear(w, x, b.value, activation: .relu))
    }
    let z = linear(w, x, b.value)
    return Variable(z, derivedFrom: [W, X, b]) { g, needs in
        [needs[0] ? matmul(g, x, transposingB: true) : nil,
         needs[1] ? matmul(w, g, transposingA: true) : nil,
         needs[2] ? g.sum(axis: 1, keepingDimensions: true) : nil]
    }
}
