// Scaled dot-product attention as one fused node (C5W4-02):
//
//   Attention(Q, K, V) = softmax(Q·Kᵀ/√d_k + M)·V
//
// forward and backward in `AttentionKernels`; the attention weights P are
// saved for the backward rule:
//
//   dV = Pᵀ·dO,  dS = P ⊙ (dO·Vᵀ − D) with D_i = Σ_j P_ij (dO·Vᵀ)_ij,  dQ = dS·K/√d_k,  dK = dSᵀ·Q/√d_k.

/// Which keys each query may attend to.
///
/// The mask `M` of `softmax(Q·Kᵀ/√d_k + M)` is 0 where a key is allowed and
/// `−∞` where it is not. A query with no allowed key at all (a batch item
/// whose key length is 0) gets a zero output and zero gradients instead of
/// the `0/0 = NaN` a literal `−∞` row would give.
public struct AttentionMask: Sendable, Equatable {
    /// The look-ahead mask of a decoder: query `i` sees keys `j ≤ i` (aligned
    /// at the first token, as PyTorch's `is_causal`).
    public var isCausal: Bool
    /// The padding mask: batch item `b` sees only its first `keyLengths[b]`
    /// keys (`nil`: all keys are real).
    public var keyLengths: [Int]?

    public init(isCausal: Bool = false, keyLengths: [Int]? = nil) {
        self.isCausal = isCausal
        self.keyLengths = keyLengths
    }

    /// Every query sees every key.
    public static let none = AttentionMask()
    /// The look-ahead mask.
    public static let causal = AttentionMask(isCausal: true)
    /// The padding mask for sequences of `keyLengths[b]` real tokens.
    public static func padding(keyLengths: [Int]) -> AttentionMask { AttentionMask(keyLengths: keyLengths) }
}

/// Scaled dot-product attention `softmax(Q·Kᵀ/√d_k + M)·V` on `(…, T, d)`
/// operands, one matrix per leading index (PyTorch's
/// `scaled_dot_product_attention` layout, `(batch, heads, T, d)`).
///
/// - `query` `(…, T_q, d_k)`, `key` `(…, T_k, d_k)`, `value` `(…, T_k, d_v)`,
///   with the same leading axes; the result is `(…, T_q, d_v)`.
/// - `mask`: look-ahead and/or padding; `keyLengths` has one entry per index
///   of the first axis (the batch).
/// - `scale`: defaults to `1/√d_k`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func scaledDotProductAttention<S: TensorScalar>(
    query: Variable<S>, key: Variable<S>, value: Variable<S>, mask: AttentionMask = .none, scale: S? = nil
) -> Variable<S> {
    let (q, k, v) = (query.value.shape, key.value.shape, value.value.shape)
    func fail(_ message: String) -> Never { shapeFailure(ShapeError(operation: "scaledDotProductAttention", message: message)) }
    if q.count < 2 || k.count != q.count || v.count != q.count || q.dropLast(2) != k.dropLast(2) || k.dropLast(2) != v.dropLast(2)
        || q.last != k.last || k[k.count - 2] != v[v.count - 2] {
        fail("needs query (…, T_q, d_k), key (…, T_k, d_k), value (…, T_k, d_v) with the same leading axes; got query \(format(q)), key \(format(k)), value \(format(v))")
    }
    let leading = q.dropLast(2).reduce(1, *), batch = q.count > 2 ? q[0] : 1
    let problem = AttentionProblem<S>(
        batch: batch, heads: batch == 0 ? 0 : leading / batch, queryTokens: q[q.count - 2], keyTokens: k[k.count - 2],
        keyChannels: q.last!, valueChannels: v.last!, layout: .tokenMajor,
        scale: scale ?? S(1 / Double(q.last!).squareRoot()), causal: mask.isCausal, keyLengths: mask.keyLengths)
    return attention(problem, query, key, value, outputShape: q.dropLast() + [v.last!], operation: "scaledDotProductAttention")
}

/// Multi-head scaled dot-product attention on the notes' sequence layout
/// `(features, m, T)`, the `heads` stacked along the features: head `h` of a
/// `(heads·d, m, T)` operand is its feature rows `h·d ..< (h+1)·d`.
///
/// - `query` `(heads·d_k, m, T_q)`, `key` `(heads·d_k, m, T_k)`, `value`
///   `(heads·d_v, m, T_k)`; the result `(heads·d_v, m, T_q)` holds every
///   head's `softmax(Q_h·K_hᵀ/√d_k + M)·V_h`, concatenated along the features —
///   ready for the output projection `W_O` with no reordering.
/// - `mask`: `keyLengths` has one entry per example (`m`).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func scaledDotProductAttention<S: TensorScalar>(
    query: Variable<S>, key: Variable<S>, value: Variable<S>, heads: Int, mask: AttentionMask = .none, scale: S? = nil
) -> Variable<S> {
    let (q, k, v) = (query.value.shape, key.value.shape, value.value.shape)
    func fail(_ message: String) -> Never { shapeFailure(ShapeError(operation: "scaledDotProductAttention", message: message)) }
    if heads < 1 || q.count != 3 || k.count != 3 || v.count != 3 || q[0] != k[0] || q[1] != k[1] || v[1] != q[1] || v[2] != k[2]
        || q[0] % heads != 0 || v[0] % heads != 0 {
        fail("needs query (heads·d_k, m, T_q), key (heads·d_k, m, T_k), value (heads·d_v, m, T_k) with \(heads) heads; got query \(format(q)), key \(format(k)), value \(format(v))")
    }
    let d = q[0] / heads
    let problem = AttentionProblem<S>(
        batch: q[1], heads: heads, queryTokens: q[2], keyTokens: k[2], keyChannels: d, valueChannels: v[0] / heads,
        layout: .featureMajor, scale: scale ?? S(1 / Double(d).squareRoot()), causal: mask.isCausal, keyLengths: mask.keyLengths)
    return attention(problem, query, key, value, outputShape: [v[0], q[1], q[2]], operation: "scaledDotProductAttention")
}

/// The attention node of both layouts.
@_specialize(where S == Float)
@_specialize(where S == Double)
func attention<S: TensorScalar>(
    _ p: AttentionProblem<S>, _ query: Variable<S>, _ key: Variable<S>, _ value: Variable<S>, outputShape: [Int], operation: String
) -> Variable<S> {
    if let lengths = p.keyLengths {
        if lengths.count != p.batch {
            shapeFailure(ShapeError(operation: operation, message: "\(lengths.count) key lengths for a batch of \(p.batch)"))
        }
        if let bad = lengths.first(where: { $0 < 0 || $0 > p.keyTokens }) {
            shapeFailure(ShapeError(operation: operation, message: "key length \(bad) outside 0...\(p.keyTokens)"))
        }
    }
    if query.value.count == 0 || key.value.count == 0 || value.value.count == 0 {   // nothing to attend with or to: zeros
        let (q, k, v) = (query.value.shape, key.value.shape, value.value.shape)
        return Variable(.zeros(outputShape), derivedFrom: [query, key, value]) { _, needs in
            [needs[0] ? .zeros(q) : nil, needs[1] ? .zeros(k) : nil, needs[2] ? .zeros(v) : nil]
        }
    }
    let recording = GradientTape.isRecording && [query, key, value].contains { $0.requiresGradient }
    let path = ComputePath.current
    let (q, k, v) = (query.value, key.value, value.value)
    var output = Tensor<S>.zeros(outputShape)
    var weights = recording ? Tensor<S>.zeros([p.items, p.queryTokens, p.keyTokens]) : nil
    // The kernels only read the operands; they take mutable pointers so that one head type serves inputs and outputs.
    withMutablePointers(q, k, v) { q, k, v in
        output.withUnsafeMutableBufferPointer { o in
            func run(_ w: UnsafeMutablePointer<S>?) {
                path.run(loop: { AttentionKernels.forwardLoop(p, q, k, v, o.baseAddress!, w) },
                         vectorized: { AttentionKernels.forward(p, q, k, v, o.baseAddress!, w) })
            }
            if weights == nil { run(nil) } else { weights!.withUnsafeMutableBufferPointer { run($0.baseAddress!) } }
        }
    }
    guard recording, let weights else { return Variable(output) }
    return Variable(output, derivedFrom: [query, key, value]) { g, needs in
        var dq = needs[0] ? Tensor<S>.zeros(q.shape) : nil
        var dk = needs[1] ? Tensor<S>.zeros(k.shape) : nil
        var dv = needs[2] ? Tensor<S>.zeros(v.shape) : nil
        func withPointer(_ t: inout Tensor<S>?, _ body: (UnsafeMutablePointer<S>?) -> Void) {
            if t == nil { body(nil) } else { t!.withUnsafeMutableBufferPointer { body($0.baseAddress!) } }
        }
        withMutablePointers(q, k, v) { qp, kp, vp in
            withMutablePointers(weights, g, g) { wp, gp, _ in
                withPointer(&dq) { dqp in
                    withPointer(&dk) { dkp in
                        withPointer(&dv) { dvp in
                            path.run(loop: { AttentionKernels.backwardLoop(p, qp, kp, vp, wp, gp, dqp, dkp, dvp) },
                                     vectorized: { AttentionKernels.backward(p, qp, kp, vp, wp, gp, dqp, dkp, dvp) })
                        }
                    }
                }
            }
        }
        return [dq, dk, dv]
    }
}

/// Calls `body` with the storage of three tensors that it only reads, as
/// mutable pointers (no copy is made: the tensors are not written).
@inline(__always)
func withMutablePointers<S, R>(
    _ a: Tensor<S>, _ b: Tensor<S>, _ c: Tensor<S>,
    _ body: (UnsafeMutablePointer<S>, UnsafeMutablePointer<S>, UnsafeMutablePointer<S>) -> R
) -> R {
    a.withUnsafeBufferPointer { a in
        b.withUnsafeBufferPointer { b in
            c.withUnsafeBufferPointer { c in
                body(UnsafeMutablePointer(mutating: a.baseAddress!), UnsafeMutablePointer(mutating: b.baseAddress!),
                     UnsafeMutablePointer(mutating: c.baseAddress!))
            }
        }
    }
}
