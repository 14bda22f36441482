import Tensors

/// The networks the notes build, ready to train. Each ends in logits and
/// names its output function, so `fit` without a loss uses the matching logit
/// loss (``BinaryCrossEntropyWithLogits`` or ``SoftmaxCrossEntropy``) and
/// `predict` returns probabilities.
extension Sequential {
    /// Logistic regression (C1W2): `ŷ = σ(wᵀx + b)` as one `Dense(n_x → 1)`
    /// with zero initialization (fine here: the cost is convex) and a sigmoid output.
    public static func logisticRegression(features: Int) -> Sequential {
        Sequential([Dense(weight: .zeros([1, features]), bias: .zeros([1, 1]))], outputActivation: .sigmoid)
    }

    /// The shallow network of C1W3: `LINEAR → TANH → LINEAR → SIGMOID`, weights
    /// `randn · 0.01` as in the notes.
    public static func shallowNetwork(inputs: Int, hidden: Int, outputs: Int = 1, generator: inout RandomGenerator) -> Sequential {
        Sequential([
            Dense(inputs: inputs, outputs: hidden, initializer: .scaledNormal(0.01), generator: &generator),
            Activation(.tanh),
            Dense(inputs: hidden, outputs: outputs, initializer: .scaledNormal(0.01), generator: &generator),
        ], outputActivation: .sigmoid)
    }

    /// The L-layer network of C1W4: `[LINEAR → RELU] × (L − 1) → LINEAR → SIGMOID`
    /// (or `→ SOFTMAX` for several classes). `layerSizes` is `[n[0], n[1], …, n[L]]`;
    /// hidden weights use He initialization by default.
    public static func deepNetwork(
        layerSizes: [Int], hiddenActivation: ActivationFunction = .relu, softmaxOutput: Bool = false,
        initializer: Initializer = .he, generator: inout RandomGenerator
    ) -> Sequential {
        require(layerSizes.count >= 2, "deepNetwork: need at least input and output sizes, got \(layerSizes)")
        var layers: [any Layer<Scalar>] = []
        for l in 1..<layerSizes.count {
            layers.append(Dense(inputs: layerSizes[l - 1], outputs: layerSizes[l], initializer: initializer, generator: &generator))
            if l < layerSizes.count - 1 { layers.append(Activation(hiddenActivation)) }
        }
        return Sequential(layers, outputActivation: softmaxOutput ? .softmax : .sigmoid)
    }
}
