import Tensors

/// Words and their indices, built from a corpus: index 0 is `<pad>` (never a
/// word), index 1 `<unk>` (words not seen, or seen fewer than the minimum),
/// then the words by descending frequency (ties alphabetical).
public struct WordVocabulary: Equatable, Sendable {
    public let words: [String]
    /// How often each word occurred (0 for `<pad>` and `<unk>`).
    public let counts: [Int]
    private let index: [String: Int]

    public init(_ sentences: [[String]], minimumCount: Int = 1) {
        var frequency: [String: Int] = [:]
        for s in sentences { for w in s { frequency[w, default: 0] += 1 } }
        let kept = frequency.filter { $0.value >= minimumCount }.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
        words = ["<pad>", "<unk>"] + kept.map(\.key)
        counts = [0, 0] + kept.map(\.value)
        index = Dictionary(uniqueKeysWithValues: words.enumerated().map { ($1, $0) })
    }

    public var count: Int { words.count }
    /// The index of `word`, `<unk>`'s (1) when unknown.
    public func indexOf(_ word: String) -> Int { index[word] ?? 1 }
    public func encode(_ sentence: [String]) -> [Int] { sentence.map(indexOf) }
}

/// Text the project generates from seeded templates, so course 5's word
/// models have data with known structure and no licence to track.
public enum GeneratedText {
    /// Sentences about people and things where each noun's contexts carry two
    /// independent attributes — gender (he/she, his/her) and rank (royal:
    /// castle, crown, rules; common: house, village, works; young: garden,
    /// school, plays) — so embeddings trained on it should place
    /// man:woman :: king:queen :: boy:girl, and fruit near fruit.
    public static func corpus(sentences count: Int, seed: UInt64) -> [[String]] {
        let people: [(male: String, female: String, rank: Int)] = [
            ("king", "queen", 0), ("prince", "princess", 0), ("emperor", "empress", 0),
            ("man", "woman", 1), ("father", "mother", 1), ("husband", "wife", 1), ("uncle", "aunt", 1),
            ("boy", "girl", 2), ("son", "daughter", 2), ("brother", "sister", 2),
        ]
        let places = [["castle", "palace", "throne"], ["house", "village", "farm"], ["garden", "school", "park"]]
        let verbs = [["rules", "commands", "reigns"], ["works", "cooks", "builds"], ["plays", "learns", "runs"]]
        let things = [["crown", "kingdom", "army"], ["tools", "bread", "cart"], ["ball", "toys", "books"]]
        let fruits = ["apple", "orange", "pear", "banana", "grape", "melon"]
        var g = RandomGenerator(seed: seed)
        func pick<T>(_ list: [T]) -> T { list[g.nextIndex(below: list.count)] }
        return (0..<count).map { _ in
            let person = pick(people), female = g.nextUniform() < 0.5
            let noun = female ? person.female : person.male
            let (pronoun, possessive) = female ? ("she", "her") : ("he", "his")
            let rank = person.rank
            switch g.nextIndex(below: 5) {
            case 0: return ["the", noun, pick(verbs[rank]), "in", "the", pick(places[rank])]
            case 1: return ["the", noun, "said", pronoun, pick(verbs[rank]), "with", possessive, pick(things[rank])]
            case 2: return [pronoun, "is", "the", noun, "of", "the", pick(places[rank])]
            case 3: return ["the", noun, "eats", "a", pick(fruits), "and", "a", pick(fruits)]
            default: return [possessive, pick(things[rank]), "is", "in", "the", pick(places[rank]), "with", "the", noun]
            }
        }
    }

    /// Short restaurant reviews labelled 0 (negative) or 1 (positive)
    /// (C5W2-10). A fifth of them negate the adjective ("the food was not
    /// good"), which flips the label: an average of word embeddings cannot see
    /// the order that decides it, a recurrent model can.
    public static func reviews(count: Int, seed: UInt64) -> [(words: [String], label: Int)] {
        let subjects = ["the food", "the dessert", "the service", "the staff", "the meal", "the place", "the soup", "the wine"]
        let positive = ["excellent", "good", "great", "delicious", "friendly", "lovely", "wonderful", "tasty"]
        let negative = ["slow", "bad", "awful", "terrible", "rude", "bland", "cold", "horrible"]
        let openers = ["", "honestly", "overall", "i think"]
        let closers = ["", "and we will return", "for the price", "as always"]
        var g = RandomGenerator(seed: seed)
        func pick(_ list: [String]) -> [String] { list[g.nextIndex(below: list.count)].split(separator: " ").map(String.init) }
        return (0..<count).map { _ in
            let good = g.nextUniform() < 0.5, negated = g.nextUniform() < 0.2
            let adjective = pick(good ? positive : negative)
            let words = pick(openers) + pick(subjects) + ["was"] + (negated ? ["not"] : []) + adjective + pick(closers)
            return (words, (good != negated) ? 1 : 0)
        }
    }
}

/// The mean of a sequence's word embeddings, padding (index 0) left out:
/// the notes' simple sentiment model (C5W2-10) feeds it to a softmax. Input
/// indices `(1, m, T)`; output `(d, m)`.
public final class AverageEmbedding<Scalar: TensorScalar>: Layer {
    public let embedding: Embedding<Scalar>

    public init(_ embedding: Embedding<Scalar>) { self.embedding = embedding }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        let shape = input.shape
        require(shape.count == 3 && shape[0] == 1, "AverageEmbedding: indices \(input.shape) must be (1, m, T)")
        let (m, T) = (shape[1], shape[2])
        let e = embedding.forward(input, context: context)                        // (d, m, T)
        let mask = input.value.reshaped(to: [1, m, T]).scalars.map { $0 == 0 ? Scalar(0) : 1 }
        let counts = (0..<m).map { i in Swift.max(1, mask[i * T..<(i + 1) * T].reduce(0, +)) }
        let summed = (e * Variable(Tensor(shape: [1, m, T], scalars: mask))).sum(axis: 2)   // (d, m)
        return summed / Variable(Tensor(shape: [1, m], scalars: counts))
    }

    public var parameters: [Parameter<Scalar>] { embedding.parameters }
    public var summary: String { "AverageEmbedding(\(embedding.vocabulary) words → \(embedding.dimensions))" }
    public static var typeName: String { "AverageEmbedding" }
    public var configuration: LayerConfiguration { embedding.configuration }
    public convenience init(configuration: LayerConfiguration) throws { self.init(try Embedding(configuration: configuration)) }
}
