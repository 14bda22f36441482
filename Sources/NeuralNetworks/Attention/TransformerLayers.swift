import Tensors

/// The position-wise feed-forward network of a transformer layer (C5W4-04):
/// `FFN(x) = W₂·max(0, W₁·x + b₁) + b₂`, applied to every token of a
/// `(d_model, m, T)` batch alike (one matrix product over all `m·T` tokens).
public final class PositionwiseFeedForward<Scalar: TensorScalar>: Module {
    public let W1: Parameter<Scalar>, b1: Parameter<Scalar>
    public let W2: Parameter<Scalar>, b2: Parameter<Scalar>

    /// `W₁` `(d_ff, d_model)` and `W₂` `(d_model, d_ff)` drawn uniformly from
    /// `±1/√fan_in` (PyTorch's `Linear`), biases zero.
    public init(modelDimensions d: Int, hiddenDimensions ff: Int, generator: inout RandomGenerator) {
        require(d >= 1 && ff >= 1, "PositionwiseFeedForward: needs positive sizes, got d_model \(d), d_ff \(ff)")
        func uniform(_ rows: Int, _ columns: Int) -> Tensor<Scalar> {
            let limit = Scalar(1 / Double(columns).squareRoot())
            return Tensor(randomUniform: [rows, columns], lower: -limit, upper: limit, generator: &generator)
        }
        W1 = Parameter(key: "W1", value: uniform(ff, d), isRegularized: true)
        b1 = Parameter(key: "b1", value: .zeros([ff, 1]), isRegularized: false)
        W2 = Parameter(key: "W2", value: uniform(d, ff), isRegularized: true)
        b2 = Parameter(key: "b2", value: .zeros([d, 1]), isRegularized: false)
    }

    /// `x` `(d_model, m, T)` → `(d_model, m, T)`; `dropout` (keep probability) acts on the hidden ReLU units.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func callAsFunction(_ x: Variable<Scalar>, dropout: Dropout<Scalar>? = nil, context: ForwardContext) -> Variable<Scalar> {
        let (d, m, t) = (x.shape[0], x.shape[1], x.shape[2])
        var h = linear(W1.variable, x.reshaped(to: [d, m * t]), b1.variable, activation: .relu)
        if let dropout { h = dropout.forward(h, context: context) }
        return linear(W2.variable, h, b2.variable).reshaped(to: [d, m, t])
    }

    public var parameters: [Parameter<Scalar>] { [W1, b1, W2, b2] }
    public var summary: String { "PositionwiseFeedForward(\(W1.value.shape[1]) → \(W1.value.shape[0]) → \(W2.value.shape[0]))" }
    public static var typeName: String { "PositionwiseFeedForward" }
    public var configuration: LayerConfiguration {
        LayerConfiguration(["modelDimensions": .int(W1.value.shape[1]), "hiddenDimensions": .int(W1.value.shape[0])])
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let d = try configuration.int("modelDimensions"), ff = try configuration.int("hiddenDimensions")
        guard d >= 1, ff >= 1 else { throw ModelFileError.corrupt("PositionwiseFeedForward with sizes \(d), \(ff)") }
        var generator = RandomGenerator(seed: 0)
        self.init(modelDimensions: d, hiddenDimensions: ff, generator: &generator)
    }
}

/// Where a transformer layer normalizes: after each residual addition (the
/// original transformer, the course's diagrams and PyTorch's default,
/// `LayerNorm(x + Sublayer(x))`), or before each sublayer
/// (`x + Sublayer(LayerNorm(x))`, PyTorch's `norm_first`, easier to train deep).
public enum NormalizationPlacement: String, Sendable {
    case afterResidual
    case beforeSublayer
}

/// One encoder layer of the transformer (C5W4-04), on `(d_model, m, T)`:
///
///     x₁ = LayerNorm(x + Dropout(MultiHead(x, x, x)))
///     y  = LayerNorm(x₁ + Dropout(FFN(x₁)))
///
/// (the "Add & Norm" after each sublayer; see ``NormalizationPlacement``).
/// The same equations as PyTorch's `TransformerEncoderLayer` with ReLU.
public final class TransformerEncoderLayer<Scalar: TensorScalar>: Module {
    public let selfAttention: MultiHeadAttention<Scalar>
    public let feedForward: PositionwiseFeedForward<Scalar>
    public let norm1: LayerNormalization<Scalar>, norm2: LayerNormalization<Scalar>
    /// Drop probability of the dropout after each sublayer and inside the feed-forward network.
    public let dropoutRate: Double
    public let placement: NormalizationPlacement

    /// `dropoutRate` 0.1 as PyTorch's and the paper's default.
    public init(modelDimensions d: Int, heads: Int, feedForwardDimensions ff: Int, dropoutRate: Double = 0.1,
                placement: NormalizationPlacement = .afterResidual, epsilon: Double = 1e-5, generator: inout RandomGenerator) {
        require(dropoutRate >= 0 && dropoutRate < 1, "TransformerEncoderLayer: dropout rate must be in [0, 1), got \(dropoutRate)")
        selfAttention = MultiHeadAttention(modelDimensions: d, heads: heads, generator: &generator)
        feedForward = PositionwiseFeedForward(modelDimensions: d, hiddenDimensions: ff, generator: &generator)
        norm1 = LayerNormalization(features: d, epsilon: epsilon)
        norm2 = LayerNormalization(features: d, epsilon: epsilon)
        self.dropoutRate = dropoutRate
        self.placement = placement
    }

    /// `x` `(d_model, m, T)` → `(d_model, m, T)`; `mask` (padding) applies to the self-attention.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ x: Variable<Scalar>, mask: AttentionMask = .none, context: ForwardContext) -> Variable<Scalar> {
        let dropout = dropoutRate > 0 ? Dropout<Scalar>(keepProbability: 1 - dropoutRate) : nil
        func drop(_ v: Variable<Scalar>) -> Variable<Scalar> { dropout?.forward(v, context: context) ?? v }
        switch placement {
        case .afterResidual:
            let x1 = norm1.forward(x + drop(selfAttention(x, mask: mask)), context: context)
            return norm2.forward(x1 + drop(feedForward(x1, dropout: dropout, context: context)), context: context)
        case .beforeSublayer:
            let x1 = x + drop(selfAttention(norm1.forward(x, context: context), mask: mask))
            return x1 + drop(feedForward(norm2.forward(x1, context: context), dropout: dropout, context: context))
        }
    }

    public var parameters: [Parameter<Scalar>] {
        selfAttention.parameters + feedForward.parameters + norm1.parameters + norm2.parameters
    }
    public var summary: String { "TransformerEncoderLayer(\(settings.description))" }
    public static var typeName: String { "TransformerEncoderLayer" }
    public var configuration: LayerConfiguration { settings.configuration }
    var settings: TransformerLayerSettings {
        TransformerLayerSettings(attention: selfAttention, feedForward: feedForward, dropoutRate: dropoutRate, placement: placement, epsilon: norm1.epsilon)
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let s = try TransformerLayerSettings(configuration, typeName: Self.typeName)
        var generator = RandomGenerator(seed: 0)
        self.init(modelDimensions: s.d, heads: s.heads, feedForwardDimensions: s.ff, dropoutRate: s.dropoutRate, placement: s.placement,
                  epsilon: s.epsilon, generator: &generator)
    }
}

/// One decoder layer of the transformer (C5W4-04), on `(d_model, m, T_y)`
/// with the encoder's output `memory` `(d_model, m, T_x)`:
///
///     y₁ = LayerNorm(y + Dropout(MultiHead(y, y, y) with the look-ahead mask))
///     y₂ = LayerNorm(y₁ + Dropout(MultiHead(y₁, memory, memory)))
///     out = LayerNorm(y₂ + Dropout(FFN(y₂)))
public final class TransformerDecoderLayer<Scalar: TensorScalar>: Module {
    public let selfAttention: MultiHeadAttention<Scalar>
    public let crossAttention: MultiHeadAttention<Scalar>
    public let feedForward: PositionwiseFeedForward<Scalar>
    public let norm1: LayerNormalization<Scalar>, norm2: LayerNormalization<Scalar>, norm3: LayerNormalization<Scalar>
    public let dropoutRate: Double
    public let placement: NormalizationPlacement

    public init(modelDimensions d: Int, heads: Int, feedForwardDimensions ff: Int, dropoutRate: Double = 0.1,
                placement: NormalizationPlacement = .afterResidual, epsilon: Double = 1e-5, generator: inout RandomGenerator) {
        require(dropoutRate >= 0 && dropoutRate < 1, "TransformerDecoderLayer: dropout rate must be in [0, 1), got \(dropoutRate)")
        selfAttention = MultiHeadAttention(modelDimensions: d, heads: heads, generator: &generator)
        crossAttention = MultiHeadAttention(modelDimensions: d, heads: heads, generator: &generator)
        feedForward = PositionwiseFeedForward(modelDimensions: d, hiddenDimensions: ff, generator: &generator)
        norm1 = LayerNormalization(features: d, epsilon: epsilon)
        norm2 = LayerNormalization(features: d, epsilon: epsilon)
        norm3 = LayerNormalization(features: d, epsilon: epsilon)
        self.dropoutRate = dropoutRate
        self.placement = placement
    }

    /// `y` `(d_model, m, T_y)` attending causally to itself and to `memory`
    /// `(d_model, m, T_x)`, whose padding `memoryMask` describes.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ y: Variable<Scalar>, memory: Variable<Scalar>, memoryMask: AttentionMask = .none,
                        context: ForwardContext) -> Variable<Scalar> {
        let dropout = dropoutRate > 0 ? Dropout<Scalar>(keepProbability: 1 - dropoutRate) : nil
        func drop(_ v: Variable<Scalar>) -> Variable<Scalar> { dropout?.forward(v, context: context) ?? v }
        switch placement {
        case .afterResidual:
            let y1 = norm1.forward(y + drop(selfAttention(y, mask: .causal)), context: context)
            let y2 = norm2.forward(y1 + drop(crossAttention(query: y1, memory: memory, mask: memoryMask)), context: context)
            return norm3.forward(y2 + drop(feedForward(y2, dropout: dropout, context: context)), context: context)
        case .beforeSublayer:
            let y1 = y + drop(selfAttention(norm1.forward(y, context: context), mask: .causal))
            let y2 = y1 + drop(crossAttention(query: norm2.forward(y1, context: context), memory: memory, mask: memoryMask))
            return y2 + drop(feedForward(norm3.forward(y2, context: context), dropout: dropout, context: context))
        }
    }

    public var parameters: [Parameter<Scalar>] {
        selfAttention.parameters + crossAttention.parameters + feedForward.parameters + norm1.parameters + norm2.parameters + norm3.parameters
    }
    public var summary: String { "TransformerDecoderLayer(\(settings.description))" }
    public static var typeName: String { "TransformerDecoderLayer" }
    public var configuration: LayerConfiguration { settings.configuration }
    var settings: TransformerLayerSettings {
        TransformerLayerSettings(attention: selfAttention, feedForward: feedForward, dropoutRate: dropoutRate, placement: placement, epsilon: norm1.epsilon)
    }
    public convenience init(configuration: LayerConfiguration) throws {
        let s = try TransformerLayerSettings(configuration, typeName: Self.typeName)
        var generator = RandomGenerator(seed: 0)
        self.init(modelDimensions: s.d, heads: s.heads, feedForwardDimensions: s.ff, dropoutRate: s.dropoutRate, placement: s.placement,
                  epsilon: s.epsilon, generator: &generator)
    }
}

/// What the encoder and decoder layers store about themselves besides tensors.
struct TransformerLayerSettings {
    var d: Int, heads: Int, ff: Int, dropoutRate: Double, placement: NormalizationPlacement, epsilon: Double

    init<S>(attention: MultiHeadAttention<S>, feedForward: PositionwiseFeedForward<S>, dropoutRate: Double, placement: NormalizationPlacement,
            epsilon: Double) {
        (d, heads, ff) = (attention.modelDimensions, attention.heads, feedForward.W1.value.shape[0])
        (self.dropoutRate, self.placement, self.epsilon) = (dropoutRate, placement, epsilon)
    }

    init(_ configuration: LayerConfiguration, typeName: String) throws {
        (d, heads, ff) = (try configuration.int("modelDimensions"), try configuration.int("heads"), try configuration.int("feedForwardDimensions"))
        (dropoutRate, epsilon) = (try configuration.double("dropoutRate"), try configuration.double("epsilon"))
        guard d >= 1, heads >= 1, d % heads == 0, ff >= 1, dropoutRate >= 0, dropoutRate < 1, epsilon >= 0,
              let placement = NormalizationPlacement(rawValue: try configuration.string("placement")) else {
            throw ModelFileError.corrupt("\(typeName) with d_model \(d), \(heads) heads, d_ff \(ff), dropout \(dropoutRate)")
        }
        self.placement = placement
    }

    var configuration: LayerConfiguration {
        LayerConfiguration(["modelDimensions": .int(d), "heads": .int(heads), "feedForwardDimensions": .int(ff),
                            "dropoutRate": .double(dropoutRate), "placement": .string(placement.rawValue), "epsilon": .double(epsilon)])
    }

    var description: String { "d_model \(d), \(heads) heads, d_ff \(ff)" }
}
