import Tensors

/// A word-embedding layer (C5W2-05): the lookup `e_j = E·o_j` done as a row
/// read, without one-hot vectors.
///
/// The table `E` is stored `(V, d)` — one row per word, as PyTorch and Keras
/// store it; the notes' `E` is its transpose, `(d, V)`, with `e_j` its column
/// `j`. Input: word indices as numbers (exact in `Float` up to 2²⁴) of shape
/// `(m)` or `(1, m)` — one word per example — or `(1, m, T)` for sequences
/// (the notes' `(n_x, m, T_x)` with one index as the feature, which is also
/// the axis `fit` batches along); output: `(d, m)` or `(d, m, T)`. The backward pass adds
/// into the rows it used (``RowGradient``; repeated words add up) and the
/// optimizers update only those rows. Initialization: `N(0, 1)·scale`
/// (PyTorch's `nn.Embedding` uses `N(0, 1)`).
public final class Embedding<Scalar: TensorScalar>: Layer {
    public let E: Parameter<Scalar>

    public init(vocabulary: Int, dimensions: Int, scale: Double = 1, generator: inout RandomGenerator) {
        require(vocabulary >= 1 && dimensions >= 1, "Embedding: \(vocabulary) words of \(dimensions) dimensions")
        E = Parameter(key: "E", value: Tensor(randomNormal: [vocabulary, dimensions], standardDeviation: Scalar(scale), generator: &generator),
                      isRegularized: false)
    }

    /// A layer with a given table `(V, d)` (pretrained embeddings, e.g. from ``EmbeddingFile``).
    public init(table: Tensor<Scalar>) {
        require(table.rank == 2, "Embedding: table \(table.shape) must be (V, d)")
        E = Parameter(key: "E", value: table, isRegularized: false)
    }

    public var vocabulary: Int { E.value.shape[0] }
    public var dimensions: Int { E.value.shape[1] }

    public func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        var shape = input.shape
        require(shape.count == 1 || ((shape.count == 2 || shape.count == 3) && shape[0] == 1),
                "Embedding: indices \(input.shape) must be (m), (1, m) or (1, m, T)")
        if shape.count >= 2 { shape.removeFirst() }
        let indices = input.value.scalars.map { value -> Int in
            let i = Int(exactly: value.rounded()) ?? -1
            require(Scalar(i) == value && i >= 0 && i < vocabulary, "Embedding: index \(value) is not a word of the \(vocabulary)-word vocabulary")
            return i
        }
        return lookup(indices, shape: shape)
    }

    /// The embeddings of `indices` laid out as `(d,) + shape` (`shape` holds `indices.count` elements).
    public func lookup(_ indices: [Int], shape: [Int]) -> Variable<Scalar> {
        require(shape.reduce(1, *) == indices.count, "Embedding.lookup: shape \(shape) for \(indices.count) indices")
        for i in indices { require(i >= 0 && i < vocabulary, "Embedding: index \(i) outside the \(vocabulary)-word vocabulary") }
        return rowLookup(E.variable, indices: indices).reshaped(to: [dimensions] + shape)
    }

    public var parameters: [Parameter<Scalar>] { [E] }
    public var summary: String { "Embedding(\(vocabulary) words → \(dimensions))" }
    public static var typeName: String { "Embedding" }
    public var configuration: LayerConfiguration { LayerConfiguration(["vocabulary": .int(vocabulary), "dimensions": .int(dimensions)]) }
    public convenience init(configuration: LayerConfiguration) throws {
        let v = try configuration.int("vocabulary"), d = try configuration.int("dimensions")
        guard v >= 1, d >= 1 else { throw ModelFileError.corrupt("Embedding of \(v) words and \(d) dimensions") }
        self.init(table: .zeros([v, d]))
    }
}
