import Tensors

/// The neural language model of C5W2-06 (Bengio et al. 2003), the first way
/// the notes learn embeddings: the embeddings of the last `k` words, stacked
/// into one `k·d` vector, feed a tanh hidden layer and a `V`-way softmax that
/// predicts the next word:
/// `h = tanh(W₁[e_{w−k}; …; e_{w−1}] + b₁)`, `ŷ = softmax(W₂h + b₂)`,
/// `J = −(1/B) Σ_i log ŷ_{target_i}` (the stacked vector is stored
/// coordinate by coordinate, row `i·k + j` for coordinate `i` of word `j`: a
/// fixed permutation of `W₁`'s columns). The embedding table `E` `(V, d)` is
/// what is kept. (The notes also list other contexts — k words on both sides,
/// one nearby word; the last is skip-gram, ``SkipGram``.)
public final class NeuralLanguageModel<Scalar: TensorScalar> {
    /// `E`: the embeddings kept after training.
    public let embedding: Embedding<Scalar>
    /// `W₁ (h, k·d)`, `b₁`: the hidden layer.
    public let hidden: Dense<Scalar>
    /// `W₂ (V, h)`, `b₂`: the softmax layer.
    public let output: Dense<Scalar>
    /// `k`: the words of context before each target.
    public let contextLength: Int

    /// Embeddings `N(0, 1)/√d`, the hidden layer Xavier-initialized for tanh,
    /// the softmax layer He-initialized, biases zero.
    public init(vocabulary: Int, dimensions: Int, contextLength: Int = 4, hiddenUnits: Int, generator: inout RandomGenerator) {
        require(vocabulary >= 1 && dimensions >= 1 && contextLength >= 1 && hiddenUnits >= 1,
                "NeuralLanguageModel: vocabulary \(vocabulary), dimensions \(dimensions), context \(contextLength), hidden \(hiddenUnits)")
        embedding = Embedding(vocabulary: vocabulary, dimensions: dimensions, scale: 1 / Double(dimensions).squareRoot(), generator: &generator)
        hidden = Dense(inputs: contextLength * dimensions, outputs: hiddenUnits, initializer: .xavier, generator: &generator)
        output = Dense(inputs: hiddenUnits, outputs: vocabulary, generator: &generator)
        self.contextLength = contextLength
    }

    public var parameters: [Parameter<Scalar>] { embedding.parameters + hidden.parameters + output.parameters }

    /// The logits `(V, B)` for `B` contexts of `k` words each (`contexts`,
    /// context by context, oldest word first).
    public func logits(contexts: [Int]) -> Variable<Scalar> {
        let k = contextLength, d = embedding.dimensions
        require(!contexts.isEmpty && contexts.count % k == 0,
                "NeuralLanguageModel.logits: \(contexts.count) context words is not a whole number of \(k)-word contexts")
        let B = contexts.count / k
        // Looked up word position by word position, (d, k, B), then (d·k, B): each column
        // stacks its own context's k embeddings (row i·k + j: coordinate i of word j — a
        // fixed order of the concatenation).
        let byPosition = (0..<k).flatMap { j in (0..<B).map { b in contexts[b * k + j] } }
        let stacked = embedding.lookup(byPosition, shape: [k, B]).reshaped(to: [d * k, B])
        let h = tanh(linear(hidden.W.variable, stacked, hidden.b!.variable))   // both layers are built with biases
        return linear(output.W.variable, h, output.b!.variable)
    }

    /// `J = −(1/B) Σ_i log ŷ_{target_i}` for the `B` contexts and their next words.
    public func cost(contexts: [Int], targets: [Int]) -> Variable<Scalar> {
        require(contexts.count == targets.count * contextLength,
                "NeuralLanguageModel.cost: \(contexts.count) context words for \(targets.count) targets of \(contextLength)-word contexts")
        for t in targets { require(t >= 0 && t < embedding.vocabulary, "NeuralLanguageModel: target \(t) outside the vocabulary") }
        return SoftmaxCrossEntropy<Scalar>()(logits(contexts: contexts), Tensor.oneHot(targets, classes: embedding.vocabulary))
    }

    /// Trains on `(context, target)` examples (``languageModelWindows(_:context:)``):
    /// each epoch shuffles them (seeded) and takes one `optimizer` step per
    /// batch. Throws ``TrainingError/nonFinite(epoch:batch:cost:parameter:)``
    /// before an update whose cost is not finite. Returns each epoch's mean cost per batch.
    @discardableResult
    public func fit<O: Optimizer>(_ examples: [(context: [Int], target: Int)], batchSize: Int = 64, epochs: Int, optimizer: O,
                                  seed: UInt64 = 0) throws -> [Double] where O.Scalar == Scalar {
        let V = embedding.vocabulary
        guard !examples.isEmpty, batchSize >= 1, examples.allSatisfy({ $0.context.count == contextLength }) else {
            throw TrainingError.invalidInput("NeuralLanguageModel.fit: \(examples.count) examples, batch size \(batchSize), "
                                             + "contexts must have \(contextLength) words")
        }
        if let bad = examples.firstIndex(where: { !(0..<V).contains($0.target) || $0.context.contains { !(0..<V).contains($0) } }) {
            throw TrainingError.invalidInput("NeuralLanguageModel.fit: example \(bad) has a word outside the \(V)-word vocabulary")
        }
        return try wordVectorEpochs(count: examples.count, batchSize: batchSize, epochs: epochs, seed: seed, parameters: parameters,
                                    optimizer: optimizer) { batch, _ in
            cost(contexts: batch.flatMap { examples[$0].context }, targets: batch.map { examples[$0].target })
        }.map { $0.total / Double($0.batches) }
    }
}

/// The (context, target) examples of a fixed-window language model (C5W2-06,
/// "last k words"): for each position from `context` on, the `context` words
/// before it and the word itself.
public func languageModelWindows(_ sentence: [Int], context: Int) -> [(context: [Int], target: Int)] {
    require(context >= 1, "languageModelWindows: context \(context) must be at least 1")
    guard sentence.count > context else { return [] }
    return (context..<sentence.count).map { (Array(sentence[$0 - context..<$0]), sentence[$0]) }
}

/// The (context, target) examples with the `left` words before each target and
/// the `right` words after it (C5W2-06's "4 words on the left & right";
/// `right: 0` is ``languageModelWindows(_:context:)``), for every position
/// whose window fits in the sentence. Each context lists the left words, then
/// the right ones, in sentence order — `left + right` words for
/// ``NeuralLanguageModel``'s fixed context length.
public func languageModelWindows(_ sentence: [Int], left: Int, right: Int) -> [(context: [Int], target: Int)] {
    require(left >= 0 && right >= 0 && left + right >= 1, "languageModelWindows: left \(left) and right \(right) must be ≥ 0, not both 0")
    guard sentence.count > left + right else { return [] }
    return (left..<(sentence.count - right)).map { i in
        (Array(sentence[(i - left)..<i]) + Array(sentence[(i + 1)..<(i + 1 + right)]), sentence[i])
    }
}
