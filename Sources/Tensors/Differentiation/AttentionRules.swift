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
    return attention(problem, [query, key, value], q: .init(input: 0, offset: 0), k: .init(input: 1, offset: 0), v: .init(input: 2, offset: 0),
                     outputShape: q.dropLast() + [v.last!], operation: "scaledDotProductAttention")
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
    return attention(problem, [query, key, value], q: .init(input: 0, offset: 0), k: .init(input: 1, offset: 0), v: .init(input: 2, offset: 0),
                     outputShape: [v[0], q[1], q[2]], operation: "scaledDotProductAttention")
}

/// Multi-head self-attention straight from one stacked projection
/// `[Q; K; V] = W_in·x + b_in` `(3·heads·d, m, T)` (PyTorch's `in_proj`
/// layout): `Q`, `K` and `V` are read, and differentiated, in place — no
/// slices are copied. The result is `(heads·d, m, T)`, as
/// ``scaledDotProductAttention(query:key:value:heads:mask:scale:)`` gives.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func scaledDotProductAttention<S: TensorScalar>(
    stackedQueryKeyValue qkv: Variable<S>, heads: Int, mask: AttentionMask = .none, scale: S? = nil
) -> Variable<S> {
    let shape = qkv.value.shape
    if heads < 1 || shape.count != 3 || shape[0] % (3 * heads) != 0 {
        shapeFailure(ShapeError(operation: "scaledDotProductAttention", message: "needs stacked [Q; K; V] (3·heads·d, m, T) with \(heads) heads; got \(format(shape))"))
    }
    let d = shape[0] / (3 * heads), block = heads * d * shape[1] * shape[2]
    let problem = AttentionProblem<S>(
        batch: shape[1], heads: heads, queryTokens: shape[2], keyTokens: shape[2], keyChannels: d, valueChannels: d,
        layout: .featureMajor, scale: scale ?? S(1 / Double(d).squareRoot()), causal: mask.isCausal, keyLengths: mask.keyLengths)
    return attention(problem, [qkv], q: .init(input: 0, offset: 0), k: .init(input: 0, offset: block), v: .init(input: 0, offset: 2 * block),
                     outputShape: [heads * d, shape[1], shape[2]], operation: "scaledDotProductAttention")
}

/// Multi-head attention of `query` `(heads·d, m, T_q)` over a stacked
/// key–value projection `[K; V]` `(2·heads·d, m, T_k)` (cross-attention: the
/// decoder's queries, the encoder's keys and values), read in place.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func scaledDotProductAttention<S: TensorScalar>(
    query: Variable<S>, stackedKeyValue kv: Variable<S>, heads: Int, mask: AttentionMask = .none, scale: S? = nil
) -> Variable<S> {
    let (q, shape) = (query.value.shape, kv.value.shape)
    if heads < 1 || q.count != 3 || shape.count != 3 || q[0] % heads != 0 || shape[0] != 2 * q[0] || shape[1] != q[1] {
        shapeFailure(ShapeError(operation: "scaledDotProductAttention", message: "needs query (heads·d, m, T_q) and stacked [K; V] (2·heads·d, m, T_k) with \(heads) heads; got query \(format(q)), key–value \(format(shape))"))
    }
    let d = q[0] / heads
    let problem = AttentionProblem<S>(
        batch: q[1], heads: heads, queryTokens: q[2], keyTokens: shape[2], keyChannels: d, valueChannels: d,
        layout: .featureMajor, scale: scale ?? S(1 / Double(d).squareRoot()), causal: mask.isCausal, keyLengths: mask.keyLengths)
    return attention(problem, [query, kv], q: .init(input: 0, offset: 0), k: .init(input: 1, offset: 0),
                     v: .init(input: 1, offset: heads * d * shape[1] * shape[2]),
                     outputShape: [heads * d, q[1], q[2]], operation: "scaledDotProductAttention")
}

/// Where an attention operand lives: input `input` of the node, from element `offset` on.
struct AttentionOperand {
    var input: Int, offset: Int
}

/// The attention node of every layout: `inputs` are the distinct variables,
/// `q`, `k`, `v` say where each operand starts in them (a stacked projection
/// holds several operands, read and differentiated in place).
@_specialize(where S == Float)
@_specialize(where S == Double)
func attention<S: TensorScalar>(
    _ p: AttentionProblem<S>, _ inputs: [Variable<S>], q: AttentionOperand, k: AttentionOperand, v: AttentionOperand,
    outputShape: [Int], operation: String
) -> Variable<S> {
    if let lengths = p.keyLengths {
        if lengths.count != p.batch {
            shapeFailure(ShapeError(operation: operation, message: "\(lengths.count) key lengths for a batch of \(p.batch)"))
        }
        if let bad = lengths.first(where: { $0 < 0 || $0 > p.keyTokens }) {
            shapeFailure(ShapeError(operation: operation, message: "key length \(bad) outside 0...\(p.keyTokens)"))
        }
    }
    let shapes = inputs.map(\.value.shape)
    if p.items * p.queryTokens * p.keyTokens * p.keyChannels * p.valueChannels == 0 {   // nothing to attend with or to: zeros
        return Variable(.zeros(outputShape), derivedFrom: inputs) { _, needs in
            zip(needs, shapes).map { $0 ? Tensor<S>.zeros($1) : nil }
        }
    }
    let recording = GradientTape.isRecording && inputs.contains { $0.requiresGradient }
    let path = ComputePath.current
    let values = inputs.map(\.value)
    var output = Tensor<S>.zeros(outputShape)
    // P for the backward rule. Not zeroed: each query block's row is written up to the keys the block meets,
    // which is all the backward rule reads (masked-out blocks and blocks with no key are skipped by both).
    var weights = recording ? Tensor<S>(shape: [p.items, p.queryTokens, p.keyTokens], unsafeUninitialized: { _ in }) : nil
    // The kernels only read the operands; they take mutable pointers so that one head type serves inputs and outputs.
    withMutablePointers(values) { bases in
        let (qp, kp, vp) = (bases[q.input] + q.offset, bases[k.input] + k.offset, bases[v.input] + v.offset)
        output.withUnsafeMutableBufferPointer { o in
            func run(_ w: UnsafeMutablePointer<S>?) {
                path.run(loop: { AttentionKernels.forwardLoop(p, qp, kp, vp, o.baseAddress!, w) },
                         vectorized: { AttentionKernels.forward(p, qp, kp, vp, o.baseAddress!, w) })
            }
            if weights == nil { run(nil) } else { weights!.withUnsafeMutableBufferPointer { run($0.baseAddress!) } }
        }
    }
    guard recording, let weights else { return Variable(output) }
    return Variable(output, derivedFrom: inputs) { g, needs in
        var gradients = zip(needs, shapes).map { $0 ? Tensor<S>.zeros($1) : nil }
        withMutablePointers(values + [weights, g]) { bases in
            let (qp, kp, vp) = (bases[q.input] + q.offset, bases[k.input] + k.offset, bases[v.input] + v.offset)
            let (wp, gp) = (bases[values.count], bases[values.count + 1])
            withMutablePointers(&gradients) { out in
                let dq = out[q.input].map { $0 + q.offset }, dk = out[k.input].map { $0 + k.offset }
                let dv = out[v.input].map { $0 + v.offset }
                path.run(loop: { AttentionKernels.backwardLoop(p, qp, kp, vp, wp, gp, dq, dk, dv) },
                         vectorized: { AttentionKernels.backward(p, qp, kp, vp, wp, gp, dq, dk, dv) })
            }
        }
        return gradients
    }
}

/// Calls `body` with the storage of tensors that it only reads, as mutable
/// pointers (no copy is made: the tensors are not written).
func withMutablePointers<S, R>(_ tensors: [Tensor<S>], _ body: ([UnsafeMutablePointer<S>]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<S>] = []
    func next(_ i: Int) -> R {
        if i == tensors.count { return body(pointers) }
        return tensors[i].withUnsafeBufferPointer { buffer in
            pointers.append(UnsafeMutablePointer(mutating: buffer.baseAddress!))
            return next(i + 1)
        }
    }
    return next(0)
}

/// Calls `body` with the storage of the tensors that exist (nil for the others), to be written.
func withMutablePointers<S, R>(_ tensors: inout [Tensor<S>?], _ body: ([UnsafeMutablePointer<S>?]) -> R) -> R {
    var pointers: [UnsafeMutablePointer<S>?] = []
    func next(_ i: Int) -> R {
        if i == tensors.count { return body(pointers) }
        guard var tensor = tensors[i] else { pointers.append(nil); return next(i + 1) }
        tensors[i] = nil   // the local copy is the only reference while its storage is written
        let result = tensor.withUnsafeMutableBufferPointer { buffer in
            pointers.append(buffer.baseAddress!)
            return next(i + 1)
        }
        tensors[i] = tensor
        return result
    }
    return next(0)
}
