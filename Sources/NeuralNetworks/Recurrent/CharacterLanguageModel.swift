import Foundation
import Tensors

/// The characters a character-level model reads and writes (C5W1-09), with
/// index 0 the end-of-sequence mark (`"\n"`, the notes' `<EOS>`).
public struct CharacterVocabulary: Equatable, Sendable {
    /// Index `i` is `characters[i]`; `characters[0]` is `"\n"`.
    public let characters: [Character]
    private let indices: [Character: Int]

    /// The vocabulary of every character in `texts`, sorted, after the end mark.
    public init(_ texts: [String]) {
        let distinct = Set(texts.joined()).subtracting(["\n"]).sorted()
        characters = ["\n"] + distinct
        indices = Dictionary(uniqueKeysWithValues: characters.enumerated().map { ($1, $0) })
    }

    public var count: Int { characters.count }

    /// The indices of `text`'s characters, or `nil` if one is not in the vocabulary.
    public func encode(_ text: String) -> [Int]? {
        var out: [Int] = []
        for c in text {
            guard let i = indices[c] else { return nil }
            out.append(i)
        }
        return out
    }

    public func decode(_ indices: [Int]) -> String { String(indices.map { characters[$0] }) }
}

/// A character-level language model (C5W1-08, -09): `x⟨1⟩ = 0`,
/// `x⟨t⟩ = y⟨t−1⟩` one-hot, a recurrent layer (LSTM by default) and a dense
/// softmax over the vocabulary at every step; trained with the sequence
/// cross-entropy `L = Σ_t L⟨t⟩` (each text ends with the end mark, which is
/// predicted too) and gradient clipping, and sampled one character at a time.
public final class CharacterLanguageModel<Scalar: TensorScalar> {
    public let vocabulary: CharacterVocabulary
    public let recurrent: Recurrent<Scalar>
    public let output: Dense<Scalar>
    public let model: Sequential<Scalar>

    public init(vocabulary: CharacterVocabulary, cell: RecurrentCell = .lstm, units: Int = 64, generator: inout RandomGenerator) {
        self.vocabulary = vocabulary
        recurrent = Recurrent(cell, inputs: vocabulary.count, units: units, generator: &generator)
        output = Dense(inputs: units, outputs: vocabulary.count, initializer: .xavier, generator: &generator)
        model = Sequential([recurrent, TimeDistributed(output)])
    }

    /// Inputs `(V, m, T)` and one-hot targets `(V, m, T)` for `texts`, padded to
    /// the longest (`T` = its length + 1 for the end mark; padding targets are
    /// zero columns, which the loss skips).
    public func batch(_ texts: [String]) throws -> (X: Tensor<Scalar>, Y: Tensor<Scalar>) {
        let encoded = try texts.map { text -> [Int] in
            guard let e = vocabulary.encode(text) else { throw TrainingError.invalidInput("text \"\(text)\" has characters outside the vocabulary") }
            return e + [0]
        }
        let (V, m, T) = (vocabulary.count, texts.count, encoded.map(\.count).max() ?? 1)
        var x = [Scalar](repeating: 0, count: V * m * T), y = x
        for (i, sequence) in encoded.enumerated() {
            for (t, k) in sequence.enumerated() {
                y[(k * m + i) * T + t] = 1
                if t + 1 < T { x[(k * m + i) * T + t + 1] = 1 }   // x⟨t+1⟩ = y⟨t⟩
            }
        }
        return (Tensor(shape: [V, m, T], scalars: x), Tensor(shape: [V, m, T], scalars: y))
    }

    /// Trains on `texts` with mini-batches, with `configuration` as given (the
    /// course's assignment clips gradients to [−5, 5]: pass `clipping: .value(5)`).
    @discardableResult
    public func fit<O: Optimizer>(_ texts: [String], optimizer: O, configuration: TrainingConfiguration,
                                  onEpoch: ((EpochRecord) -> Bool)? = nil) throws -> History where O.Scalar == Scalar {
        let (X, Y) = try batch(texts)
        return try model.fit(X, Y, loss: SequenceSoftmaxCrossEntropy(), optimizer: optimizer, configuration: configuration, onEpoch: onEpoch)
    }

    /// Perplexity on `texts`: `exp` of the mean negative log-likelihood per
    /// predicted character (end marks included).
    public func perplexity(_ texts: [String]) throws -> Double {
        let (X, Y) = try batch(texts)
        let logits = model.logits(X)
        let total = Double(SequenceSoftmaxCrossEntropy<Scalar>()(logits, Y).cost) * Double(texts.count)
        return Foundation.exp(total / Double(Y.sum()))
    }

    /// Samples one text (C5W1-09): from `x⟨1⟩ = 0` and a zero state, each step's
    /// softmax (with logits divided by `temperature`: below 1 sharper, above 1
    /// flatter) is sampled with `generator`, and the character is fed back as
    /// the next input, until the end mark or `maxLength` characters.
    public func sample(maxLength: Int = 40, temperature: Double = 1, generator: inout RandomGenerator) -> String {
        require(temperature > 0, "CharacterLanguageModel.sample: temperature \(temperature) must be positive")
        let V = vocabulary.count, n = recurrent.units
        var x = Tensor<Scalar>.zeros([V, 1, 1])
        var state = Tensor<Scalar>.zeros([n, 1]), cell = Tensor<Scalar>.zeros([n, 1])
        var text: [Int] = []
        return withoutGradients {
            while text.count < maxLength {
                let isLSTM = recurrent.cell == .lstm
                let out = recurrentSequence(recurrent.cell, Variable(x), weight: recurrent.W.variable, bias: recurrent.b.variable,
                                            initialState: Variable(state), initialCell: isLSTM ? Variable(cell) : nil,
                                            returnsCellStates: isLSTM).value.reshaped(to: [isLSTM ? 2 * n : n, 1])
                state = out.slice(axis: 0, 0..<n)
                if isLSTM { cell = out.slice(axis: 0, n..<2 * n) }
                let logits = output(state).scalars.map { Double($0) / temperature }
                let largest = logits.max()!
                let weights = logits.map { Foundation.exp($0 - largest) }
                var u = generator.nextUniform() * weights.reduce(0, +), k = 0
                while k < V - 1 && u >= weights[k] { u -= weights[k]; k += 1 }
                if k == 0 { break }
                text.append(k)
                x = Tensor.oneHot([k], classes: V).reshaped(to: [V, 1, 1])
            }
            return vocabulary.decode(text)
        }
    }
}

/// Generated dinosaur-like names (the course's assignment trains on real
/// ones): a seeded choice of a start, a middle and an ending from fixed
/// syllable lists, so a character model has structure to learn and the data
/// needs no download and no licence.
public func generatedDinosaurNames(count: Int, seed: UInt64) -> [String] {
    let starts = ["tyranno", "veloci", "stego", "brachio", "tri", "ptero", "allo", "spino", "ankylo", "diplo", "iguano", "micro",
                  "giganto", "pachy", "compso", "dilopho", "para", "carno", "masso", "plateo", "apato", "bronto", "cerato", "dromaeo"]
    let middles = ["", "", "", "ra", "lo", "ce", "na", "to", "phalo", "do", "gna", "ri"]
    let ends = ["saurus", "raptor", "don", "tops", "ceratops", "mimus", "venator", "titan", "nychus", "gnathus", "odon", "suchus"]
    var g = RandomGenerator(seed: seed)
    return (0..<count).map { _ in
        starts[g.nextIndex(below: starts.count)] + middles[g.nextIndex(below: middles.count)] + ends[g.nextIndex(below: ends.count)]
    }
}
