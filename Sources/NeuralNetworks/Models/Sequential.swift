import Tensors

/// Layers applied in order: `A[l] = layer_l(A[l−1])`.
///
/// Parameters are named in the notes' style when that is unambiguous: the
/// l-th `Dense` layer's are `W{l}`, `b{l}`, and a layer with parameters that
/// follows it shares its number (`gamma{l}`, `beta{l}` for BatchNorm). When
/// two tensors would get the same name (`[BatchNorm, Dense, BatchNorm]`), every
/// name is path-style instead, by layer position: `0.gamma`, `1.W`, `2.gamma`.
public final class Sequential<Scalar: TensorScalar>: Model {
    public let layers: [any Layer<Scalar>]
    public let outputActivation: OutputActivation
    public let namedModules: [(naming: ModuleNaming, module: any Module<Scalar>)]

    /// A model applying `layers` in order; `predict` applies `outputActivation`
    /// to the last layer's output (`.identity` when the last layer is itself an activation).
    public init(_ layers: [any Layer<Scalar>], outputActivation: OutputActivation = .identity) {
        self.layers = layers
        self.outputActivation = outputActivation
        // A layer listed twice is one module: its parameters are updated once per step.
        var seen = Set<ObjectIdentifier>()
        let distinct = layers.enumerated().filter { seen.insert(ObjectIdentifier($0.element)).inserted }
        var l = 0
        let numbered: [(naming: ModuleNaming, module: any Module<Scalar>)] = distinct.map { _, layer in
            if layer is Dense<Scalar> { l += 1 }
            return (.numbered(Swift.max(l, 1)), layer)
        }
        let names = tensorNames(numbered)
        if Set(names).count == names.count {
            namedModules = numbered
        } else {
            namedModules = distinct.map { (.path("\($0.offset)"), $0.element) }
        }
        assignNames()
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ inputs: [Variable<Scalar>], context: ForwardContext) -> [Variable<Scalar>] {
        require(inputs.count == 1, "Sequential: takes one input, got \(inputs.count)")
        return [layers.reduce(inputs[0]) { $1.forward($0, context: context) }]
    }
}
