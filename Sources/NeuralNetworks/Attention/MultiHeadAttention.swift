import Tensors

/// Multi-head attention (C5W4-03; Vaswani et al. 2017) on the notes' sequence
/// layout `(d_model, m, T)`:
///
///     headᵢ = Attention(W_iᵠ·q, W_iᴷ·k, W_iⱽ·v) = softmax(Qᵢ·Kᵢᵀ/√d_k + M)·Vᵢ
///     MultiHead(q, k, v) = W_O·concat(head₁, …, head_h) + b_O
///
/// with `d_k = d_model/h`. The `h` query, key and value projections are the
/// rows of one stacked matrix `W_in = [Wᵠ; Wᴷ; Wⱽ]` `(3·d_model, d_model)`
/// with bias `b_in` `(3·d_model, 1)` — PyTorch's `in_proj_weight` — so
/// self-attention is one matrix product over every token of the batch, and the
/// attention node reads the heads straight out of its result
/// (``scaledDotProductAttention(stackedQueryKeyValue:heads:mask:scale:)``).
/// Cross-attention (a decoder attending to its encoder) projects the queries
/// with the first block of rows and the memory with the other two.
public final class MultiHeadAttention<Scalar: TensorScalar>: Module {
    /// `W_in` `(3·d_model, d_model)`.
    public let inProjectionWeight: Parameter<Scalar>
    /// `b_in` `(3·d_model, 1)`.
    public let inProjectionBias: Parameter<Scalar>
    /// `W_O` `(d_model, d_model)`.
    public let outProjectionWeight: Parameter<Scalar>
    /// `b_O` `(d_model, 1)`.
    public let outProjectionBias: Parameter<Scalar>
    /// `h`.
    public let heads: Int

    /// Weights drawn uniformly from `±√(6/(fan_in + fan_out))` (Glorot, PyTorch's
    /// choice for `in_proj_weight`), biases zero.
    public init(modelDimensions d: Int, heads: Int, generator: inout RandomGenerator) {
        require(d >= 1 && heads >= 1 && d % heads == 0, "MultiHeadAttention: d_model \(d) must be a positive multiple of heads \(heads)")
        self.heads = heads
        func glorot(_ rows: Int, _ columns: Int, fanOut: Int) -> Tensor<Scalar> {
            let limit = Scalar((6 / Double(columns + fanOut)).squareRoot())
            return Tensor(randomUniform: [rows, columns], lower: -limit, upper: limit, generator: &generator)
        }
        inProjectionWeight = Parameter(key: "in_proj_weight", value: glorot(3 * d, d, fanOut: 3 * d), isRegularized: true)
        inProjectionBias = Parameter(key: "in_proj_bias", value: .zeros([3 * d, 1]), isRegularized: false)
        outProjectionWeight = Parameter(key: "out_proj_weight", value: glorot(d, d, fanOut: d), isRegularized: true)
        outProjectionBias = Parameter(key: "out_proj_bias", value: .zeros([d, 1]), isRegularized: false)
    }

    /// `d_model`.
    public var modelDimensions: Int { outProjectionWeight.value.shape[0] }

    /// Self-attention: queries, keys and values all from `x` `(d_model, m, T)`;
    /// the result has `x`'s shape. `mask`: ``AttentionMask/causal`` in a decoder,
    /// ``AttentionMask/padding(keyLengths:)`` for batches of unequal lengths.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Variable<Scalar>, mask: AttentionMask = .none) -> Variable<Scalar> {
        let (d, m, t) = sequenceShape(x, "input")
        let qkv = linear(inProjectionWeight.variable, x.reshaped(to: [d, m * t]), inProjectionBias.variable).reshaped(to: [3 * d, m, t])
        return project(scaledDotProductAttention(stackedQueryKeyValue: qkv, heads: heads, mask: mask))
    }

    /// Cross-attention: queries from `query` `(d_model, m, T_q)`, keys and
    /// values from `memory` `(d_model, m, T_k)`; the result is `(d_model, m, T_q)`.
    /// A padding mask counts `memory`'s real tokens.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(query: Variable<Scalar>, memory: Variable<Scalar>, mask: AttentionMask = .none) -> Variable<Scalar> {
        let (d, m, tq) = sequenceShape(query, "query")
        let (_, mk, tk) = sequenceShape(memory, "memory")
        require(mk == m, "MultiHeadAttention: query batch \(m) and memory batch \(mk) differ")
        let w = inProjectionWeight.variable, b = inProjectionBias.variable
        let q = linear(w.rows(0..<d), query.reshaped(to: [d, m * tq]), b.rows(0..<d)).reshaped(to: [d, m, tq])
        let kv = linear(w.rows(d..<3 * d), memory.reshaped(to: [d, m * tk]), b.rows(d..<3 * d)).reshaped(to: [2 * d, m, tk])
        return project(scaledDotProductAttention(query: q, stackedKeyValue: kv, heads: heads, mask: mask))
    }

    /// `W_O·heads + b_O` over every token.
    func project(_ heads: Variable<Scalar>) -> Variable<Scalar> {
        let (d, m, t) = (heads.shape[0], heads.shape[1], heads.shape[2])
        return linear(outProjectionWeight.variable, heads.reshaped(to: [d, m * t]), outProjectionBias.variable).reshaped(to: [d, m, t])
    }

    func sequenceShape(_ x: Variable<Scalar>, _ name: String) -> (Int, Int, Int) {
        require(x.shape.count == 3 && x.shape[0] == modelDimensions,
                "MultiHeadAttention: \(name) must be (d_model = \(modelDimensions), m, T), got \(x.shape)")
        return (x.shape[0], x.shape[1], x.shape[2])
    }

    public var parameters: [Parameter<Scalar>] { [inProjectionWeight, inProjectionBias, outProjectionWeight, outProjectionBias] }
    public var summary: String { "MultiHeadAttention(d_model \(modelDimensions), \(heads) heads)" }
    public static var typeName: String { "MultiHeadAttention" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["modelDimensions": .int(modelDimensions), "heads": .int(heads)])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let d = try configuration.int("modelDimensions"), heads = try configuration.int("heads")
        guard d >= 1, heads >= 1, d % heads == 0 else { throw ModelFileError.corrupt("MultiHeadAttention with d_model \(d) and \(heads) heads") }
        var generator = RandomGenerator(seed: 0)
        self.init(modelDimensions: d, heads: heads, generator: &generator)
    }
}
