import Foundation
import NeuralNetworks
import Tensors

// swift run -c release -Xswiftc -target-cpu -Xswiftc native sequences <example> [--seed N] [--quick]
//
// Course 5's sequence models on data the project generates:
//   charlm      a character-level LSTM language model on generated dinosaur names: perplexity and samples
//   vanishing   the gradient reaching early time steps, plain RNN vs LSTM over T = 100 (C5W1-10)
//   embeddings  word2vec (negative sampling), GloVe and the neural language model on a generated corpus: neighbours and analogies
//   sentiment   averaged embeddings vs a many-to-one LSTM on generated reviews with negations
//   trigger     trigger-word detection on generated spectrograms: Conv1D + GRU, precision and recall
//   dates       date normalization: the attention model vs a transformer, exact-match accuracy, an attention heat map

func say(_ line: String) { FileHandle.standardOutput.write((line + "\n").data(using: .utf8)!) }

struct UsageError: Error, CustomStringConvertible {
    var description: String { "usage: sequences charlm|vanishing|embeddings|sentiment|trigger|dates [--seed N] [--quick]" }
}

func characterModel(seed: UInt64, quick: Bool) throws {
    let names = generatedDinosaurNames(count: quick ? 300 : 3000, seed: 2 * seed + 1)
    let heldOut = generatedDinosaurNames(count: 300, seed: 2 * seed + 2)
    let vocabulary = CharacterVocabulary(names + heldOut)
    var generator = RandomGenerator(seed: seed)
    let model = CharacterLanguageModel<Float>(vocabulary: vocabulary, units: 64, generator: &generator)
    say("\(names.count) generated names, vocabulary of \(vocabulary.count) characters (\"\\n\" ends a name); LSTM with 64 units")
    let epochs = quick ? 2 : 30
    say(String(format: "before training: held-out perplexity %.2f (the vocabulary has %d characters)", try model.perplexity(heldOut), vocabulary.count))
    let start = Date()
    try model.fit(names, optimizer: Adam(learningRate: 0.01),
                  configuration: TrainingConfiguration(epochs: epochs, batchSize: 64, clipping: .value(5), seed: seed)) { record in
        if record.epoch % 10 == 0 || record.epoch == epochs { say(String(format: "epoch %3d  cost per name %.4f", record.epoch, record.cost)) }
        return true
    }
    say(String(format: "held-out perplexity %.3f per character; training %.1f s", try model.perplexity(heldOut), Date().timeIntervalSince(start)))
    var sampler = RandomGenerator(seed: seed &+ 100)
    for temperature in [1.0, 0.5] {
        let samples = (0..<8).map { _ in model.sample(temperature: temperature, generator: &sampler) }
        say("samples at temperature \(temperature): " + samples.joined(separator: ", "))
    }
    let training = Set(names)
    let fresh = (0..<200).map { _ in model.sample(generator: &sampler) }.filter { !training.contains($0) }.count
    say("\(fresh) of 200 samples are names not in the training set")
}

func vanishing(seed: UInt64) {
    // J = r · a⟨T⟩ depends on the last state only; ‖∂J/∂x⟨t⟩‖ is how much step t can still teach.
    let (nx, n, T) = (8, 32, 100)
    var g = RandomGenerator(seed: seed)
    let x = Tensor<Double>(randomNormal: [nx, 1, T], generator: &g)
    let r = Tensor<Double>(randomNormal: [n, 1], generator: &g)
    say("‖∂J/∂x⟨t⟩‖ for J = r·a⟨\(T)⟩, weights N(0, 1/(n_a + n_x)), zero biases (LSTM forget bias 1, as Keras)")
    var rows: [(String, [Double])] = []
    for cell in [RecurrentCell.rnn, .gru, .lstm] {
        var weights = RandomGenerator(seed: seed &+ 1)
        let layer = Recurrent<Double>(cell, inputs: nx, units: n, returnsSequences: false, forgetBias: cell == .lstm ? 1 : 0,
                                      generator: &weights)
        let input = Variable(x, requiresGradient: true)
        let J = GradientTape.$isRecording.withValue(true) { (layer(input) * Variable(r)).sum() }
        J.backward()
        let gradient = input.gradient!
        let norms = (0..<T).map { t in Double(gradient.slice(axis: 2, t..<t + 1).norm()) }
        rows.append((cell == .rnn ? "RNN" : cell.rawValue.uppercased(), norms))
    }
    let steps = [100, 90, 75, 50, 25, 10, 1]
    say("step t      " + steps.map { String(format: "%10d", $0) }.joined())
    for (name, norms) in rows { say(name.padding(toLength: 12, withPad: " ", startingAt: 0) + steps.map { String(format: "%10.2e", norms[$0 - 1]) }.joined()) }
    say("(untrained, the GRU's Γ_u ≈ ½ halves what it carries at every step; a negative update-gate bias, Γ_u ≈ 0, keeps it — the notes' example)")
}

func report(_ vectors: WordVectors<Float>, _ name: String) {
    for word in ["king", "apple", "castle", "she"] {
        let near = vectors.nearest(to: vectors[word]!, count: 4, excluding: [word]).map { String(format: "%@ %.2f", $0.word, $0.similarity) }
        say("  \(name) nearest to \(word): " + near.joined(separator: ", "))
    }
    for (a, b, c) in [("man", "woman", "king"), ("boy", "girl", "prince"), ("king", "queen", "father"), ("he", "she", "his")] {
        let answer = vectors.analogy(a, isTo: b, as: c, count: 1)!.first!
        say(String(format: "  %@ analogy %@:%@ :: %@:%@ (%.2f)", name, a, b, c, answer.word, answer.similarity))
    }
}

func embeddings(seed: UInt64, quick: Bool) throws {
    let corpus = GeneratedText.corpus(sentences: quick ? 2000 : 20000, seed: 2 * seed + 1)
    let vocabulary = WordVocabulary(corpus)
    let sentences = corpus.map(vocabulary.encode)
    say("\(corpus.count) generated sentences, \(corpus.map(\.count).reduce(0, +)) words, vocabulary \(vocabulary.count)")
    var generator = RandomGenerator(seed: seed)
    let skipGram = SkipGram<Float>(vocabulary: vocabulary.count, dimensions: 32, generator: &generator)
    let pairs = sentences.flatMap { skipGramPairs($0, window: 2) }
    var start = Date()
    let costs = try skipGram.fit(pairs: pairs, sampler: NegativeSampler(counts: vocabulary.counts), negatives: 5, batchSize: 1024,
                                 epochs: quick ? 1 : 5, optimizer: Adam(learningRate: 0.01), seed: seed)
    say(String(format: "word2vec skip-gram, negative sampling (k = 5, window 2, d = 32): %d pairs, cost %.3f → %.3f, %.1f s",
               pairs.count, costs.first!, costs.last!, Date().timeIntervalSince(start)))
    report(try WordVectors(words: vocabulary.words, vectors: skipGram.centers.E.value), "word2vec")
    let entries = cooccurrences(sentences, window: 4)
    let glove = GloVe<Float>(vocabulary: vocabulary.count, dimensions: 8, generator: &generator)
    start = Date()
    let gloveCosts = try glove.fit(entries, batchSize: 256, epochs: quick ? 5 : 100, optimizer: Adam(learningRate: 0.02), seed: seed)
    say(String(format: "GloVe (window 4, x_max 100, α 3/4, d = 8): %d non-zero counts, cost %.1f → %.2f, %.1f s",
               entries.count, gloveCosts.first!, gloveCosts.last!, Date().timeIntervalSince(start)))
    report(try WordVectors(words: vocabulary.words, vectors: glove.vectors), "GloVe")
    let windows = sentences.flatMap { languageModelWindows([0, 0] + $0, context: 2) }   // index 0 (`<pad>`) marks the start
    let lm = NeuralLanguageModel<Float>(vocabulary: vocabulary.count, dimensions: 16, contextLength: 2, hiddenUnits: 64, generator: &generator)
    start = Date()
    let lmCosts = try lm.fit(windows, batchSize: 256, epochs: quick ? 2 : 10, optimizer: Adam(learningRate: 0.003), seed: seed)
    say(String(format: "neural language model (last 2 words, d = 16, 64 tanh units, 10 epochs): %d windows, cost %.3f → %.3f, %.1f s",
               windows.count, lmCosts.first!, lmCosts.last!, Date().timeIntervalSince(start)))
    report(try WordVectors(words: vocabulary.words, vectors: lm.embedding.E.value), "neural LM")
}

func sentiment(seed: UInt64, quick: Bool) throws {
    let train = GeneratedText.reviews(count: quick ? 500 : 4000, seed: 2 * seed + 1)
    let test = GeneratedText.reviews(count: 1000, seed: 2 * seed + 2)
    let vocabulary = WordVocabulary(train.map(\.words))
    let T = (train + test).map(\.words.count).max()!
    // Indices (1, m, T), padded at the front (index 0) so a forward LSTM ends on the last word.
    func encode(_ reviews: [(words: [String], label: Int)]) -> (X: Tensor<Float>, Y: Tensor<Float>) {
        let rows = reviews.map { Array(repeating: 0, count: T - $0.words.count) + vocabulary.encode($0.words) }
        return (Tensor(shape: [1, reviews.count, T], scalars: rows.flatMap { $0.map(Float.init) }),
                Tensor<Float>.oneHot(reviews.map(\.label), classes: 2))
    }
    let (Xtrain, Ytrain) = encode(train), Xtest = encode(test).X
    let negated = test.indices.filter { test[$0].words.contains("not") }
    say("\(train.count) training and \(test.count) test reviews (\(negated.count) with a negation), vocabulary \(vocabulary.count)")
    var generator = RandomGenerator(seed: seed)
    let averaged = Sequential<Float>([AverageEmbedding(Embedding(vocabulary: vocabulary.count, dimensions: 16, scale: 0.1, generator: &generator)),
                                      Dense(inputs: 16, outputs: 2, generator: &generator)], outputActivation: .softmax)
    let lstm = Sequential<Float>([Embedding(vocabulary: vocabulary.count, dimensions: 16, scale: 0.1, generator: &generator),
                                  Recurrent(.lstm, inputs: 16, units: 32, returnsSequences: false, generator: &generator),
                                  Dense(inputs: 32, outputs: 2, generator: &generator)], outputActivation: .softmax)
    for (name, model) in [("averaged embeddings → softmax", averaged), ("embeddings → LSTM (many-to-one) → softmax", lstm)] {
        let start = Date()
        try model.fit(Xtrain, Ytrain, optimizer: Adam(learningRate: 0.01),
                      configuration: TrainingConfiguration(epochs: quick ? 2 : 15, batchSize: 64, seed: seed))
        let predicted = Metrics.labels(model.predict(Xtest)), truth = test.map(\.label)
        let accuracy = Double(zip(predicted, truth).filter { $0 == $1 }.count) / Double(test.count)
        let onNegated = Double(negated.filter { predicted[$0] == truth[$0] }.count) / Double(max(negated.count, 1))
        say(String(format: "%@: test accuracy %.3f (%.3f on negated reviews); training %.1f s", name, accuracy, onNegated,
                   Date().timeIntervalSince(start)))
    }
}

func triggerWord(seed: UInt64, quick: Bool) throws {
    let report = try runTriggerWordExperiment(seed: seed + 1, trainingClips: quick ? 200 : 2000, testClips: quick ? 50 : 500,
                                              epochs: quick ? 1 : 8)
    say(report.description)
}

func dates(seed: UInt64, quick: Bool) throws {
    let (training, test, epochs) = quick ? (1_000, 200, 1) : (10_000, 1_000, 10)
    say("date normalization: \(training) generated dates for training, \(test) held out, \(DateNormalization.formats.count) formats, \(epochs) epochs")
    let (attention, attentionReport) = try DateTranslation.trainAttentionModel(seed: seed, trainingExamples: training, testExamples: test,
                                                                                epochs: epochs)
    let (transformer, transformerReport) = try DateTranslation.trainTransformer(seed: seed, trainingExamples: training, testExamples: test,
                                                                                epochs: epochs)
    let (encoderDecoder, encoderDecoderReport) = try DateTranslation.trainEncoderDecoder(seed: seed, trainingExamples: training,
                                                                                         testExamples: test, epochs: epochs)
    for report in [encoderDecoderReport, attentionReport, transformerReport] {
        say(String(format: "%@: exact match %.3f, characters %.3f, final cost %.4f, training %.1f s", report.model,
                   report.exactMatchAccuracy, report.characterAccuracy, report.finalCost, report.trainingSeconds))
    }
    let examples = ["3 May 1979", "5 April 09", "21th of August 2016", "Tue 10 Jul 2007", "Saturday May 9 2018", "March 3 2001",
                    "March 3rd 2001", "1 March 2001"]
    let (translated, weights) = DateTranslation.translateWithAttention(attention, examples)
    let byTransformer = DateTranslation.translateWithTransformer(transformer, examples)
    let byEncoderDecoder = DateTranslation.translateWithEncoderDecoder(encoderDecoder, examples)
    for (i, date) in examples.enumerated() {
        say("  \(date) → encoder–decoder \(byEncoderDecoder[i]), attention \(translated[i]), transformer \(byTransformer[i])")
    }
    // The attention weights of the first example: one row per output character, one column per input character.
    let input = Array(examples[0].lowercased()), tx = DateNormalization.inputLength
    let rows = (0..<DateNormalization.outputLength).map { t in (0..<input.count).map { Double(weights.scalars[t * tx + $0]) } }
    let directory = quick ? FileManager.default.temporaryDirectory : URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    let url = directory.appendingPathComponent("attention-\(seed).svg")
    try SVGPlot.write(SVGPlot.heatMap(rows, rowLabels: translated[0].map(String.init), columnLabels: input.map(String.init),
                                      title: "attention α⟨t,t'⟩: \"\(examples[0])\" → \(translated[0])"), to: url)
    say("attention weights of \"\(examples[0])\" written to \(url.path)")
}

do {
    var arguments = Array(CommandLine.arguments.dropFirst())
    guard let example = arguments.first else { throw UsageError() }
    arguments.removeFirst()
    var seed: UInt64 = 0, quick = false
    while let flag = arguments.first {
        arguments.removeFirst()
        switch flag {
        case "--seed":
            guard let text = arguments.first, let value = UInt64(text) else { throw UsageError() }
            arguments.removeFirst()
            seed = value
        case "--quick": quick = true
        default: throw UsageError()
        }
    }
    switch example {
    case "charlm": try characterModel(seed: seed, quick: quick)
    case "vanishing": vanishing(seed: seed)
    case "embeddings": try embeddings(seed: seed, quick: quick)
    case "sentiment": try sentiment(seed: seed, quick: quick)
    case "trigger": try triggerWord(seed: seed, quick: quick)
    case "dates": try dates(seed: seed, quick: quick)
    default: throw UsageError()
    }
} catch {
    FileHandle.standardError.write("sequences: \(error)\n".data(using: .utf8)!)
    exit(1)
}
