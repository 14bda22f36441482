import Tensors

/// The networks the notes build, ready to train. Each ends in its output
/// activation, so `predict` returns probabilities; train the binary ones with
/// ``BinaryCrossEntropy`` and the softmax ones with ``CategoricalCrossEntropy``.
extension Sequential {
    /// Logistic regression (C1W2): `ŷ = σ(wᵀx + b)` as one `Dense(n_x → 1)`
    /// with zero initialization (fine here: the cost is convex) and a sigmoid.
    public static func logisticRegression(features: Int) -> Sequential {
        var unused = RandomGenerator(seed: 0)
        return Sequential([Dense(inputs: features, outputs: 1, initializer: .zeros, generator: &unused),
                           Activation(.sigmoid)])
    }

    /// The shallow network of C1W3: `LINEAR → TANH → LINEAR → SIGMOID`, weights
    /// `randn · 0.01` as in the notes.
    public static func shallowNetwork(inputs: Int, hidden: Int, outputs: Int = 1, generator: inout RandomGenerator) -> Sequential {
        Sequential([
            Dense(inputs: inputs, outputs: hidden, initializer: .scaledNormal(0.01), generator: &generator),
            Activation(.tanh),
            Dense(inputs: hidden, outputs: outputs, initializer: .scaledNormal(0.01), generator: &generator),
            Activation(.sigmoid),
        ])
    }

    /// The L-layer network of C1W4: `[LINEAR → RELU] × (L − 1) → LINEAR → SIGMOID`
    /// (or `→ SOFTMAX` for several classes). `layerSizes` is `[n[0], n[1], …, n[L]]`;
    /// hidden weights use He initialization by default.
    public static func deepNetwork(
        layerSizes: [Int], hiddenActivation: ActivationFunction = .relu, softmaxOutput: Bool = false,
        initializer: Initializer = .he, generator: inout RandomGenerator
    ) -> Sequential {
        precondition(layerSizes.count >= 2, "deepNetwork: need at least input and output sizes, got \(layerSizes)")
        var layers: [any Layer<Scalar>] = []
        for l in 1..<layerSizes.count {
            layers.append(Dense(inputs: layerSizes[l - 1], outputs: layerSizes[l], initializer: initializer, generator: &generator))
            if l < layerSizes.count - 1 {
                layers.append(Activation(hiddenActivation))
            } else {
                layers.append(softmaxOutput ? Softmax() as any Layer<Scalar> : Activation(.sigmoid))
            }
        }
        return Sequential(layers)
    }
}
