import Tensors

/// What every building block of a model has: parameters, saved state, and a
/// description from which it can be rebuilt (persistence looks the type up by
/// ``typeName`` in ``LayerRegistry``, so a new layer type needs no change there).
public protocol Module<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// The layer's parameters (empty for activations).
    var parameters: [Parameter<Scalar>] { get }
    /// Tensors that are saved with the model but not trained (BatchNorm's
    /// running averages), by their name inside the layer.
    var state: [String: Tensor<Scalar>] { get }
    /// Restores tensors saved from ``state``; throws when one is missing or misshapen.
    func restoreState(_ state: [String: Tensor<Scalar>]) throws
    /// A short description for summaries, e.g. `Dense(784 → 128)`.
    var summary: String { get }
    /// The name files store for this type, e.g. `"Dense"`.
    static var typeName: String { get }
    /// Everything besides tensors needed to rebuild the layer.
    var configuration: LayerConfiguration { get }
    /// Rebuilds a layer (parameters at placeholder values) from its configuration.
    init(configuration: LayerConfiguration) throws
}

extension Module {
    public var parameters: [Parameter<Scalar>] { [] }
    public var state: [String: Tensor<Scalar>] { [:] }
    public func restoreState(_ state: [String: Tensor<Scalar>]) throws {}

    /// Stops (or resumes) training of this layer's parameters — transfer
    /// learning keeps trained layers and retrains a new head.
    public func setTrainable(_ trainable: Bool) {
        for p in parameters { p.isTrainable = trainable }
    }
}

/// One step of a network: `A = layer(A_prev)` on the gradient tape.
///
/// A layer keeps no per-call state: what its backward pass needs is recorded
/// on the tape by the operations it runs, so one layer can be called several
/// times in one graph (a shared encoder, a recurrent cell) and its parameters
/// receive the sum of the gradients of every use.
///
/// Shapes follow the notes: activations are `(units, m)`, one example per column.
public protocol Layer<Scalar>: Module {
    /// `A = layer(A_prev)`; `context` says whether this is training (dropout,
    /// batch statistics) and supplies randomness.
    func forward(_ input: Variable<Scalar>, context: ForwardContext) -> Variable<Scalar>
}

extension Layer {
    /// The layer applied in inference mode.
    public func callAsFunction(_ input: Variable<Scalar>) -> Variable<Scalar> {
        forward(input, context: ForwardContext(training: false))
    }

    /// The layer applied to a tensor in inference mode, recording nothing.
    public func callAsFunction(_ input: Tensor<Scalar>) -> Tensor<Scalar> {
        withoutGradients { forward(Variable(input), context: ForwardContext(training: false)).value }
    }
}

/// A block that combines several inputs into one (``Add``, ``Concatenate``,
/// ``Multiply``), for graphs built with ``GraphModel``.
public protocol MergeLayer<Scalar>: Module {
    func forward(_ inputs: [Variable<Scalar>], context: ForwardContext) -> Variable<Scalar>
}

/// What a forward pass needs besides its input: the mode, the random
/// generator, and the state updates to apply once the step is accepted.
///
/// Randomness (dropout masks) comes from ``generator``, which the caller
/// controls: ``fit`` seeds it from its configuration, gradient checking
/// replays the same seed for every evaluation so every evaluation sees the
/// same masks.
public final class ForwardContext {
    /// Training mode: dropout active, batch normalization on batch statistics.
    public let training: Bool
    /// The source of every random draw in the pass.
    public var generator: RandomGenerator
    private var pendingUpdates: [() -> Void] = []

    public init(training: Bool, generator: RandomGenerator = RandomGenerator(seed: 0)) {
        self.training = training
        self.generator = generator
    }

    /// Queues a change of layer state (BatchNorm's running averages) that only
    /// happens if the step is accepted: ``fit`` commits after its NaN/Inf guard.
    public func deferUpdate(_ update: @escaping () -> Void) {
        pendingUpdates.append(update)
    }

    /// Applies the queued updates, in order.
    public func commitUpdates() {
        for update in pendingUpdates { update() }
        pendingUpdates.removeAll(keepingCapacity: true)
    }

    /// Drops the queued updates (a rejected step).
    public func discardUpdates() { pendingUpdates.removeAll(keepingCapacity: true) }
}
