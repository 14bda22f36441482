import Foundation
import Tensors

/// Cosine similarity (C5W2-04): `sim(u, v) = uᵀv / (‖u‖₂‖v‖₂)`; 0 when either is zero.
public func cosineSimilarity<S: TensorScalar>(_ u: [S], _ v: [S]) -> Double {
    require(u.count == v.count, "cosineSimilarity: vectors of \(u.count) and \(v.count) values")
    var dot = 0.0, uu = 0.0, vv = 0.0
    for (a, b) in zip(u, v) {
        let (x, y) = (Double(a), Double(b))
        dot += x * y; uu += x * x; vv += y * y
    }
    return uu > 0 && vv > 0 ? dot / (uu.squareRoot() * vv.squareRoot()) : 0
}

/// Problems reading a word-vector file; each names the line.
public enum WordVectorFileError: Error, CustomStringConvertible, Equatable {
    case noSuchFile(String)
    case empty
    /// A line that is not `word v₁ … v_d` with the file's `d`.
    case malformedLine(line: Int, detail: String)
    case duplicateWord(line: Int, word: String)
    /// The word2vec header's count differs from the lines that follow.
    case countMismatch(header: Int, found: Int)

    public var description: String {
        switch self {
        case .noSuchFile(let path): "no such word-vector file: \(path)"
        case .empty: "the word-vector file has no vectors"
        case let .malformedLine(line, detail): "line \(line): \(detail)"
        case let .duplicateWord(line, word): "line \(line): the word \"\(word)\" appeared before"
        case let .countMismatch(header, found): "the header announces \(header) words, the file has \(found)"
        }
    }
}

/// Words and their vectors (C5W2): one row of ``vectors`` `(V, d)` per word,
/// with similarity queries, the notes' analogies, and the GloVe and word2vec
/// text formats.
public struct WordVectors<Scalar: TensorScalar> {
    public let words: [String]
    /// `(V, d)`, row `i` for `words[i]`.
    public let vectors: Tensor<Scalar>
    private let index: [String: Int]

    /// Throws ``WordVectorFileError/duplicateWord(line:word:)`` (line = position + 1) for a repeated word.
    public init(words: [String], vectors: Tensor<Scalar>) throws {
        require(vectors.rank == 2 && vectors.shape[0] == words.count, "WordVectors: \(words.count) words for vectors \(vectors.shape)")
        var index: [String: Int] = [:]
        for (i, w) in words.enumerated() {
            guard index.updateValue(i, forKey: w) == nil else { throw WordVectorFileError.duplicateWord(line: i + 1, word: w) }
        }
        (self.words, self.vectors, self.index) = (words, vectors, index)
    }

    public var dimensions: Int { vectors.shape[1] }

    /// The vector of `word`, or `nil` if it is not in the vocabulary.
    public subscript(word: String) -> [Scalar]? {
        index[word].map { Array(vectors.scalars[$0 * dimensions..<($0 + 1) * dimensions]) }
    }

    /// The row of `word`.
    public func indexOf(_ word: String) -> Int? { index[word] }

    /// The `count` words most similar (cosine) to `vector`, most similar first
    /// (ties to the earlier word), leaving out `excluded`.
    public func nearest(to vector: [Scalar], count: Int = 1, excluding excluded: Set<String> = []) -> [(word: String, similarity: Double)] {
        let d = dimensions
        var scored: [(word: String, similarity: Double)] = []
        for (i, w) in words.enumerated() where !excluded.contains(w) {
            scored.append((w, cosineSimilarity(vector, Array(vectors.scalars[i * d..<(i + 1) * d]))))
        }
        return Array(scored.enumerated().sorted {
            $0.element.similarity != $1.element.similarity ? $0.element.similarity > $1.element.similarity : $0.offset < $1.offset
        }.prefix(count).map(\.element))
    }

    /// The notes' analogy (C5W2-04) "`a` is to `b` as `c` is to ?":
    /// `argmax_w sim(e_w, e_c − e_a + e_b)` over the vocabulary without the three
    /// given words (so man:woman :: king:? answers queen, not king). `nil` when
    /// a word is unknown.
    public func analogy(_ a: String, isTo b: String, as c: String, count: Int = 1) -> [(word: String, similarity: Double)]? {
        guard let ea = self[a], let eb = self[b], let ec = self[c] else { return nil }
        let target = zip(zip(ec, ea), eb).map { $0.0 - $0.1 + $1 }
        return nearest(to: target, count: count, excluding: [a, b, c])
    }

    // MARK: Files

    /// Reads the GloVe text format (`word v₁ … v_d` per line) or word2vec's text
    /// format (the same after a header line `V d`), told apart by the first
    /// line. Throws ``WordVectorFileError`` naming the line of the first problem.
    public static func read(from url: URL) throws -> WordVectors {
        guard let data = FileManager.default.contents(atPath: url.path) else { throw WordVectorFileError.noSuchFile(url.path) }
        return try parse(String(decoding: data, as: UTF8.self))
    }

    /// Parses the text of a GloVe or word2vec text file.
    public static func parse(_ text: String) throws -> WordVectors {
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
        if lines.last?.isEmpty == true { lines.removeLast() }
        var header: (count: Int, dimensions: Int)?
        var firstLine = 1
        if let first = lines.first {
            let fields = first.split(separator: " ", omittingEmptySubsequences: true)
            if fields.count == 2, let v = Int(fields[0]), let d = Int(fields[1]) {
                guard v >= 0, d >= 1 else { throw WordVectorFileError.malformedLine(line: 1, detail: "header \"\(first)\" needs a count and a positive dimension") }
                header = (v, d)
                firstLine = 2
            }
        }
        var words: [String] = [], values: [Scalar] = []
        var dimensions = header?.dimensions
        for (offset, line) in lines.enumerated().dropFirst(firstLine - 1) {
            let number = offset + 1
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count >= 2 else { throw WordVectorFileError.malformedLine(line: number, detail: "expected a word and its values, found \"\(line.prefix(40))\"") }
            let d = fields.count - 1
            if let dimensions, dimensions != d {
                throw WordVectorFileError.malformedLine(line: number, detail: "\(d) values where the file has \(dimensions)")
            }
            dimensions = d
            for (k, field) in fields.dropFirst().enumerated() {
                guard let v = Double(field), v.isFinite else {
                    throw WordVectorFileError.malformedLine(line: number, detail: "value \(k + 1) \"\(field.prefix(20))\" is not a finite number")
                }
                values.append(Scalar(v))
            }
            words.append(String(fields[0]))
        }
        guard let dimensions, !words.isEmpty else { throw WordVectorFileError.empty }
        if let header, header.count != words.count { throw WordVectorFileError.countMismatch(header: header.count, found: words.count) }
        do {
            return try WordVectors(words: words, vectors: Tensor(shape: [words.count, dimensions], scalars: values))
        } catch WordVectorFileError.duplicateWord(let position, let word) {
            throw WordVectorFileError.duplicateWord(line: position + firstLine - 1, word: word)
        }
    }

    /// The file's text: GloVe's format, or word2vec's with its header.
    public func text(word2vecHeader: Bool = false) -> String {
        var out = word2vecHeader ? "\(words.count) \(dimensions)\n" : ""
        for (i, w) in words.enumerated() {
            out += w
            for v in vectors.scalars[i * dimensions..<(i + 1) * dimensions] { out += " \(v)" }
            out += "\n"
        }
        return out
    }

    /// Writes ``text(word2vecHeader:)`` to `url` atomically.
    public func write(to url: URL, word2vecHeader: Bool = false) throws {
        try Data(text(word2vecHeader: word2vecHeader).utf8).write(to: url, options: .atomic)
    }
}

/// Debiasing word embeddings (C5W2-11; Bolukbasi et al. 2016). The notes give
/// the three steps without formulas; these are the paper's.
public enum Debiasing {
    /// The bias direction `g`: the mean of `e_a − e_b` over definitional pairs
    /// such as (he, she), (male, female) — the notes' step 1. (The paper takes
    /// the first principal component of the centred pairs; for one pair the two agree.)
    public static func biasDirection<S>(pairs: [(String, String)], in vectors: WordVectors<S>) -> [Double]? {
        var sum = [Double](repeating: 0, count: vectors.dimensions)
        for (a, b) in pairs {
            guard let ea = vectors[a], let eb = vectors[b] else { return nil }
            for k in sum.indices { sum[k] += Double(ea[k]) - Double(eb[k]) }
        }
        return pairs.isEmpty ? nil : sum.map { $0 / Double(pairs.count) }
    }

    /// Step 2, neutralize: removes the component along `g`,
    /// `e_debiased = e − (e·g / ‖g‖²) g`.
    public static func neutralize(_ e: [Double], direction g: [Double]) -> [Double] {
        require(e.count == g.count, "Debiasing.neutralize: \(e.count) and \(g.count) values")
        let scale = dot(e, g) / dot(g, g)
        return zip(e, g).map { $0 - scale * $1 }
    }

    /// Step 3, equalize a pair (grandmother, grandfather): both end up the
    /// same distance from every neutralized word, differing only along `g`.
    /// With `μ = (e₁ + e₂)/2`, `μ_B = (μ·g/‖g‖²) g`, `ν = μ − μ_B`, and each
    /// word's bias component `e_{iB} = (e_i·g/‖g‖²) g`:
    /// `e_i' = ν + √|1 − ‖ν‖²| · (e_{iB} − μ_B)/‖e_{iB} − μ_B‖` (the paper's form,
    /// for unit-length embeddings; the course's assignment divides by
    /// `‖e_i − μ‖` instead).
    public static func equalize(_ e1: [Double], _ e2: [Double], direction g: [Double]) -> ([Double], [Double]) {
        require(e1.count == g.count && e2.count == g.count, "Debiasing.equalize: vectors of different lengths")
        let gg = dot(g, g)
        let mu = zip(e1, e2).map { ($0 + $1) / 2 }
        let muB = g.map { $0 * dot(mu, g) / gg }
        let nu = zip(mu, muB).map { $0 - $1 }
        let scale = Swift.abs(1 - dot(nu, nu)).squareRoot()
        func corrected(_ e: [Double]) -> [Double] {
            let eB = g.map { $0 * dot(e, g) / gg }
            let difference = zip(eB, muB).map { $0 - $1 }
            let length = dot(difference, difference).squareRoot()
            return zip(nu, difference).map { $0 + scale * (length > 0 ? $1 / length : 0) }
        }
        return (corrected(e1), corrected(e2))
    }

    static func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
}
