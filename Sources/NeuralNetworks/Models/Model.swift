import Tensors

/// What a model's raw output is turned into by ``Model/predict(_:)``.
///
/// The library's models end in logits `Z` and train with the logit forms of
/// the losses (stable for any `z`: in `Float`, σ(20) rounds to 1 and a
/// probability-input loss would see no gradient); `predict` applies the
/// output function.
public enum OutputActivation: String, Sendable, Codable {
    /// The output as is (regression, or a model that ends in its own activation layer).
    case identity
    /// `σ(z)`: binary and multi-label outputs.
    case sigmoid
    /// Softmax over axis 0, the classes of each column.
    case softmax

    /// The output function applied to logits.
    public func callAsFunction<S>(_ Z: Tensor<S>) -> Tensor<S> {
        switch self {
        case .identity: Z
        case .sigmoid: Tensors.sigmoid(Z)
        case .softmax: Tensors.softmax(Z, axis: 0)
        }
    }
}

/// How a model names the parameters and state of one of its layers.
public enum ModuleNaming: Sendable, Equatable {
    /// The notes' numbering: key + layer number, `W2`, `b2`, `gamma2`.
    case numbered(Int)
    /// Path style: prefix + "." + key, `0.W`, `dense2.W`.
    case path(String)

    /// The model-wide name of the tensor called `key` inside the layer.
    public func name(_ key: String) -> String {
        switch self {
        case .numbered(let l): "\(key)\(l)"
        case .path(let prefix): "\(prefix).\(key)"
        }
    }
}

/// A network of layers that trains with ``Model/fit(_:_:loss:optimizer:configuration:validation:metrics:onEpoch:)``,
/// predicts, checks its gradients and saves itself: ``Sequential`` or ``GraphModel``.
public protocol Model<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// The outputs (logits for the library's models) for one variable per input.
    func forward(_ inputs: [Variable<Scalar>], context: ForwardContext) -> [Variable<Scalar>]
    /// Every layer once, in a fixed order, with how its tensors are named.
    var namedModules: [(naming: ModuleNaming, module: any Module<Scalar>)] { get }
    /// What ``predict(_:)`` applies to the output.
    var outputActivation: OutputActivation { get }
}

extension Model {
    /// All parameters, each once, in layer order (`W1, b1, W2, b2, …`).
    public var parameters: [Parameter<Scalar>] { namedModules.flatMap { $0.module.parameters } }

    /// The parameter called `name` (`"W1"`, `"dense2.b"`, …), if any.
    public subscript(parameter name: String) -> Parameter<Scalar>? {
        parameters.first { $0.name == name }
    }

    /// The output of a single-input, single-output model on the tape.
    public func forward(_ X: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar> {
        let outputs = forward([X], context: context)
        require(outputs.count == 1, "forward(_:context:): the model has \(outputs.count) outputs; pass and receive arrays")
        return outputs[0]
    }

    /// The raw output (logits) for `X` in inference mode, recording nothing.
    public func logits(_ X: Tensor<Scalar>) -> Tensor<Scalar> {
        withoutGradients { forward(Variable(X), context: ForwardContext(training: false)).value }
    }

    /// The prediction for `X` in inference mode (dropout off, BatchNorm running
    /// averages): the output function applied to the logits.
    public func predict(_ X: Tensor<Scalar>) -> Tensor<Scalar> { outputActivation(logits(X)) }

    /// Gives each parameter its model-wide name.
    func assignNames() {
        for (naming, module) in namedModules {
            for p in module.parameters { p.name = naming.name(p.key) }
        }
    }

    /// One line per layer with its parameter count, then the total.
    public var summary: String {
        let lines = namedModules.map { naming, module -> String in
            let count = module.parameters.reduce(0) { $0 + $1.value.count }
            return "\(module.summary)  params: \(count)"
        }
        let total = parameters.reduce(0) { $0 + $1.value.count }
        return (lines + ["total params: \(total)"]).joined(separator: "\n")
    }
}

/// Names of every parameter and state tensor under `namings`.
func tensorNames<S: TensorScalar>(_ modules: [(naming: ModuleNaming, module: any Module<S>)]) -> [String] {
    modules.flatMap { naming, module in
        module.parameters.map { naming.name($0.key) } + module.state.keys.sorted().map { naming.name($0) }
    }
}
