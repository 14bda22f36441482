import Tensors

/// Layers applied in order: `A[l] = layer_l(A[l−1])`.
///
/// Parameters are named in the notes' style when that is unambiguous: the
/// l-th `Dense` or `Conv2D` layer's are `W{l}`, `b{l}`, and a layer with parameters that
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
            if layer is Dense<Scalar> || layer is Conv2D<Scalar> { l += 1 }
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

extension Sequential {
    /// One row per layer for one example of shape `exampleShape` (without the
    /// batch axis: `[32, 32, 3]` for images, `[n_x]` for dense data): the
    /// layer, its output's shape as the notes' tables write it (`(28, 28, 8)`
    /// for feature maps, `(120, 1)` for dense activations), the activation
    /// size and the parameter count (C4W1-11's LeNet-5 table).
    public func layerTable(exampleShape: [Int]) -> [(layer: String, outputShape: [Int], size: Int, parameters: Int)] {
        let input = exampleShape.count == 1 ? exampleShape + [1] : [1] + exampleShape
        var a = Variable(Tensor<Scalar>.zeros(input))
        var rows: [(layer: String, outputShape: [Int], size: Int, parameters: Int)] = []
        withoutGradients {
            let context = ForwardContext(training: false)
            for layer in layers {
                a = layer.forward(a, context: context)
                let shape = a.shape.count >= 3 ? Array(a.shape.dropFirst()) : a.shape
                rows.append((layer.summary, shape, shape.reduce(1, *), layer.parameters.reduce(0) { $0 + $1.value.count }))
            }
        }
        return rows
    }

    /// ``layerTable(exampleShape:)`` as text, with the input row and the total.
    public func summary(exampleShape: [Int]) -> String {
        let rows = layerTable(exampleShape: exampleShape)
        let inputShape = exampleShape.count == 1 ? exampleShape + [1] : exampleShape
        func line(_ name: String, _ shape: [Int], _ size: Int, _ parameters: Int) -> String {
            let shapeText = "(" + shape.map(String.init).joined(separator: ", ") + ")"
            return name.padding(toLength: 44, withPad: " ", startingAt: 0) + shapeText.padding(toLength: 16, withPad: " ", startingAt: 0)
                + String(size).padding(toLength: 10, withPad: " ", startingAt: 0) + String(parameters)
        }
        var lines = ["layer".padding(toLength: 44, withPad: " ", startingAt: 0) + "output".padding(toLength: 16, withPad: " ", startingAt: 0)
                     + "size".padding(toLength: 10, withPad: " ", startingAt: 0) + "params"]
        lines.append(line("Input", inputShape, inputShape.reduce(1, *), 0))
        lines += rows.map { line($0.layer, $0.outputShape, $0.size, $0.parameters) }
        lines.append("total params: \(rows.reduce(0) { $0 + $1.parameters })")
        return lines.joined(separator: "\n")
    }
}
