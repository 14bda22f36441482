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

    /// The LeNet-5-style network of the notes' table (C4W1-11) for
    /// `32×32×3` images: `CONV1 (f = 5, s = 1, 8 filters) → ReLU → MAXPOOL (2, 2) →
    /// CONV2 (f = 5, s = 1, 16 filters) → ReLU → MAXPOOL (2, 2) → FLATTEN (400) →
    /// FC3 (120) → ReLU → FC4 (84) → ReLU → softmax (10)`: 62,958 parameters
    /// (608 + 3,216 + 48,120 + 10,164 + 850). `inputShape` and `classes` scale it
    /// to other images (the first dense layer takes whatever the convolutions leave).
    public static func leNet5(inputShape: [Int] = [32, 32, 3], filters: (Int, Int) = (8, 16), classes: Int = 10,
                              generator: inout RandomGenerator) -> Sequential {
        require(inputShape.count == 3, "leNet5: inputShape \(inputShape) must be (n_H, n_W, n_C)")
        let h = (convolutionOutputSize(inputSize: inputShape[0], filterSize: 5) / 2 - 4) / 2
        let w = (convolutionOutputSize(inputSize: inputShape[1], filterSize: 5) / 2 - 4) / 2
        require(h >= 1 && w >= 1, "leNet5: images of \(inputShape) are too small for two 5×5 convolutions and poolings")
        return Sequential([
            Conv2D(filterSize: 5, inputChannels: inputShape[2], filters: filters.0, generator: &generator), Activation(.relu),
            MaxPool2D(size: 2),
            Conv2D(filterSize: 5, inputChannels: filters.0, filters: filters.1, generator: &generator), Activation(.relu),
            MaxPool2D(size: 2),
            Flatten(),
            Dense(inputs: h * w * filters.1, outputs: 120, generator: &generator), Activation(.relu),
            Dense(inputs: 120, outputs: 84, generator: &generator), Activation(.relu),
            Dense(inputs: 84, outputs: classes, generator: &generator),
        ], outputActivation: .softmax)
    }
}
