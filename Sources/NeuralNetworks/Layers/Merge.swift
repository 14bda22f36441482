import Tensors

/// Elementwise sum of its inputs (with broadcasting): the residual connection
/// `a[l+2] = g(z[l+2] + a[l])` of ResNet (C4W2) is `Add()([z, shortcut])` then the activation.
public final class Add<Scalar: TensorScalar>: MergeLayer {
    public init() {}
    public func forward(_ inputs: [Variable<Scalar>], context: ForwardContext) -> Variable<Scalar> {
        require(!inputs.isEmpty, "Add: no inputs")
        return inputs.dropFirst().reduce(inputs[0], +)
    }
    public var summary: String { "Add" }
    public static var typeName: String { "Add" }
    public var configuration: LayerConfiguration { LayerConfiguration() }
    public convenience init(configuration: LayerConfiguration) throws { self.init() }
}

/// Elementwise product of its inputs (with broadcasting), e.g. a gate.
public final class Multiply<Scalar: TensorScalar>: MergeLayer {
    public init() {}
    public func forward(_ inputs: [Variable<Scalar>], context: ForwardContext) -> Variable<Scalar> {
        require(!inputs.isEmpty, "Multiply: no inputs")
        return inputs.dropFirst().reduce(inputs[0], *)
    }
    public var summary: String { "Multiply" }
    public static var typeName: String { "Multiply" }
    public var configuration: LayerConfiguration { LayerConfiguration() }
    public convenience init(configuration: LayerConfiguration) throws { self.init() }
}

/// Joins its inputs along `axis` — axis 0, the units, in the notes' `(units, m)`
/// layout: Inception's branches are concatenated this way (C4W2).
public final class Concatenate<Scalar: TensorScalar>: MergeLayer {
    public let axis: Int
    public init(axis: Int = 0) { self.axis = axis }
    public func forward(_ inputs: [Variable<Scalar>], context: ForwardContext) -> Variable<Scalar> {
        Variable.concatenate(inputs, axis: axis)
    }
    public var summary: String { "Concatenate(axis \(axis))" }
    public static var typeName: String { "Concatenate" }
    public var configuration: LayerConfiguration { LayerConfiguration(["axis": .int(axis)]) }
    public convenience init(configuration: LayerConfiguration) throws { self.init(axis: try configuration.int("axis")) }
}
