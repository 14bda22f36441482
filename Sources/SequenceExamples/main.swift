import Foundation
import NeuralNetworks
import Tensors

// swift run -c release -Xswiftc -target-cpu -Xswiftc native sequences <example> [--seed N] [--quick]
//
// Course 5's sequence models on data the project generates:
//   charlm      a character-level LSTM language model on generated dinosaur names: perplexity and samples
//   vanishing   the gradient reaching early time steps, plain RNN vs LSTM over T = 100 (C5W1-10)

func say(_ line: String) { FileHandle.standardOutput.write((line + "\n").data(using: .utf8)!) }

struct UsageError: Error, CustomStringConvertible {
    var description: String { "usage: sequences charlm|vanishing [--seed N] [--quick]" }
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
    default: throw UsageError()
    }
} catch {
    FileHandle.standardError.write("sequences: \(error)\n".data(using: .utf8)!)
    exit(1)
}
