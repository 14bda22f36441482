// Factory functions: constants, ranges, identity and seeded random tensors.

extension Tensor {
    /// A tensor of zeros: `Tensor<Float>.zeros([n, 1])` is the notes' `np.zeros((n, 1))`.
    public static func zeros(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 0) }
    /// A tensor of ones.
    public static func ones(_ shape: [Int]) -> Tensor { Tensor(shape: shape, repeating: 1) }

    /// The `n × n` identity matrix.
    public static func identity(_ n: Int) -> Tensor {
        var result = zeros([n, n])
        for i in 0..<n { result.scalars[i * n + i] = 1 }
        return result
    }

    /// `[start, start + step, …]` up to but excluding `end` (numpy's `arange`), rank 1.
    public static func arange(_ start: Scalar, _ end: Scalar, step: Scalar = 1) -> Tensor {
        require(step != 0, "arange: step must not be zero")
        let n = Swift.max(0, Int(((end - start) / step).rounded(.up)))
        return Tensor((0..<n).map { start + Scalar($0) * step })
    }

    /// `count` evenly spaced values from `start` to `end` inclusive (numpy's `linspace`), rank 1.
    public static func linspace(_ start: Scalar, _ end: Scalar, count: Int) -> Tensor {
        require(count >= 0, "linspace: count must be non-negative, got \(count)")
        if count == 1 { return Tensor([start]) }
        let step = (end - start) / Scalar(Swift.max(count - 1, 1))
        return Tensor((0..<count).map { $0 == count - 1 ? end : start + Scalar($0) * step })
    }

    /// Uniform random values in `[lower, upper)` from the library's generator.
    ///
    /// `upper` itself never comes out: a draw that rounds up to it in `Scalar`
    /// (`lower + u·(upper − lower)` with `u` just below 1) becomes the largest
    /// value below `upper`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public init(randomUniform shape: [Int], lower: Scalar = 0, upper: Scalar = 1, generator: inout RandomGenerator) {
        let n = shape.reduce(1, *)
        var values = [Scalar]()
        values.reserveCapacity(n)
        let width = Double(upper - lower)
        for _ in 0..<n {
            let value = lower + Scalar(generator.nextUniform() * width)
            values.append(value < upper ? value : Swift.max(lower, upper.nextDown))
        }
        self.init(shape: shape, scalars: values)
    }

    /// Normal random values (`mean`, `standardDeviation`) from the library's
    /// generator: `Tensor<Float>(randomNormal: [n, 1], generator: &g)` is the
    /// notes' `np.random.randn(n, 1)`.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public init(randomNormal shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1, generator: inout RandomGenerator) {
        let n = shape.reduce(1, *)
        var values = [Scalar]()
        values.reserveCapacity(n)
        for _ in 0..<n { values.append(mean + standardDeviation * Scalar(generator.nextNormal())) }
        self.init(shape: shape, scalars: values)
    }
}
