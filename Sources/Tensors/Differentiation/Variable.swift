// Reverse-mode, define-by-run differentiation (the notes' computation graph, C1W2-11):
// values flow left to right as operations run, each operation records its inputs and
// its backward rule, and `backward()` walks the recorded graph right to left,
// accumulating derivatives with the chain rule.

/// A tensor on the gradient tape.
///
/// Operations on variables (`+`, `matmul`, `exp`, `sum`, …) compute their value
/// at once and, when any input ``requiresGradient`` and recording is on, record
/// a node holding their inputs and a *pullback*: the rule that turns `∂J/∂output`
/// into `∂J/∂input` for each input. ``backward(seed:)`` visits the recorded nodes
/// in reverse order and **adds** (`+=`) each contribution, so a value used twice
/// — a residual connection, a shared weight, an RNN cell unrolled over time —
/// receives the sum of both paths.
///
/// ```swift
/// // C1W2-11: J = 3(a + bc) with a = 5, b = 3, c = 2.
/// let a = Variable<Double>(5, requiresGradient: true)
/// let b = Variable<Double>(3, requiresGradient: true)
/// let c = Variable<Double>(2, requiresGradient: true)
/// let J = 3 * (a + b * c)        // J.value = 33
/// J.backward()                   // a.gradient = 3, b.gradient = 6, c.gradient = 9
/// ```
///
/// Leaves are variables made with ``init(_:requiresGradient:)``: parameters,
/// inputs whose gradient is wanted (neural style transfer's image), constants.
/// Only leaves keep a ``gradient``; intermediate values pass theirs on and drop
/// it. A variable is a reference: the graph lives as long as its last output
/// does, and is freed with it.
public final class Variable<Scalar: TensorScalar> {
    /// The value computed by the forward pass. Change it only on leaves (an
    /// optimizer updating a parameter); the recorded rules of interior nodes
    /// use the values they saw when they ran.
    public var value: Tensor<Scalar>
    /// `∂J/∂value` accumulated by ``backward(seed:)`` calls (leaves only;
    /// `nil` until the first one). Set it to `nil` before a new step.
    public var gradient: Tensor<Scalar>?
    /// Whether derivatives flow to this variable.
    public let requiresGradient: Bool
    /// For a table read by ``rowLookup(_:indices:)`` (an embedding matrix):
    /// the rows of `∂J/∂value` that the lookups produced, accumulated like
    /// ``gradient`` but never made dense. The full gradient is ``gradient``
    /// (other uses) plus this. Set it to `nil` before a new step.
    public var rowGradient: RowGradient<Scalar>?

    /// The recorded inputs and backward rule; empty and `nil` for leaves.
    let inputs: [Variable<Scalar>]
    let pullback: Pullback<Scalar>?
    /// `∂J/∂value` collected from this variable's consumers during one backward pass.
    var pendingGradient: Tensor<Scalar>?

    /// A leaf holding `value`: a constant, or, with `requiresGradient`, a
    /// value whose gradient ``backward(seed:)`` accumulates.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public init(_ value: Tensor<Scalar>, requiresGradient: Bool = false) {
        self.value = value
        self.requiresGradient = requiresGradient
        self.inputs = []
        self.pullback = nil
    }

    /// A rank-0 leaf holding one scalar.
    public convenience init(_ scalar: Scalar, requiresGradient: Bool = false) {
        self.init(Tensor(scalar), requiresGradient: requiresGradient)
    }

    /// The result of an operation on `inputs`, with its backward rule.
    ///
    /// This is how every operation of the library records itself, and how a
    /// fused region (a loss, a normalization, a recurrent cell) declares its
    /// own derivative while the rest stays automatic (JAX's `custom_vjp`).
    /// `pullback(g, needs)` receives `g = ∂J/∂value` (the shape of `value`) and
    /// which inputs need a gradient, and returns `∂J/∂inputs[i]` with the shape
    /// of `inputs[i].value` — or `nil` where `needs[i]` is false, so work nobody
    /// uses (the input gradient of a first layer) is skipped.
    ///
    /// Nothing is recorded, and the result is a constant, when no input
    /// requires a gradient or inside ``withoutGradients(_:)``.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public init(_ value: Tensor<Scalar>, derivedFrom inputs: [Variable<Scalar>], pullback: @escaping Pullback<Scalar>) {
        self.value = value
        if GradientTape.isRecording && inputs.contains(where: { $0.requiresGradient }) {
            self.requiresGradient = true
            self.inputs = inputs
            self.pullback = pullback
        } else {
            self.requiresGradient = false
            self.inputs = []
            self.pullback = nil
        }
    }

    /// The shape of ``value``.
    public var shape: [Int] { value.shape }
    /// Whether this variable was made directly rather than computed by a recorded operation.
    public var isLeaf: Bool { pullback == nil }

    /// The same value as a constant: derivatives stop here (truncated
    /// backpropagation through time detaches the carried state every k steps).
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func detached() -> Variable { Variable(value) }
}

/// A backward rule: given `∂J/∂output` and which inputs need a gradient,
/// `∂J/∂input` for each input (nil where not needed).
public typealias Pullback<Scalar: TensorScalar> = (_ gradient: Tensor<Scalar>, _ needs: [Bool]) -> [Tensor<Scalar>?]

/// Whether operations on variables record themselves for differentiation.
public enum GradientTape {
    /// `true` unless inside ``withoutGradients(_:)`` on the current task.
    @TaskLocal public static var isRecording = true
}

/// Runs `body` without recording any operation: results are constants and no
/// graph is kept (inference, evaluation, optimizer updates).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
    try GradientTape.$isRecording.withValue(false, operation: body)
}

extension Variable {
    /// Backpropagation from this variable: computes `∂self/∂x` for every leaf
    /// `x` that requires a gradient and adds it to `x.gradient`.
    ///
    /// - Parameter seed: `∂J/∂self`; omitted for a one-element `self` (a cost),
    ///   where it is 1.
    ///
    /// Nodes are visited in reverse topological order (each node after every
    /// node that consumed it), so each pullback runs once with the complete
    /// gradient of its output.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func backward(seed: Tensor<Scalar>? = nil) {
        if let seed, seed.shape != value.shape {
            shapeFailure(ShapeError(operation: "backward", message: "seed shape \(format(seed.shape)) differs from the output's \(format(value.shape))"))
        }
        if seed == nil && value.count != 1 {
            shapeFailure(ShapeError(operation: "backward", message: "output of shape \(format(value.shape)) is not a scalar; pass its gradient as the seed"))
        }
        if !requiresGradient {
            shapeFailure(ShapeError(operation: "backward", message: "the output depends on no variable that requires a gradient (or was computed inside withoutGradients)"))
        }
        let order = topologicalOrder()
        pendingGradient = seed ?? Tensor(shape: value.shape, repeating: 1)
        for node in order.reversed() {
            guard let g = node.pendingGradient else { continue }
            node.pendingGradient = nil
            guard let pullback = node.pullback else {
                if node.gradient == nil { node.gradient = g } else { node.gradient! += g }
                continue
            }
            let needs = node.inputs.map { $0.requiresGradient }
            let inputGradients = pullback(g, needs)
            for (input, inputGradient) in zip(node.inputs, inputGradients) where input.requiresGradient {
                guard let inputGradient else { continue }
                if inputGradient.shape != input.value.shape {
                    shapeFailure(ShapeError(operation: "backward", message: "a rule returned a gradient of shape \(format(inputGradient.shape)) for an input of shape \(format(input.value.shape))"))
                }
                if input.pendingGradient == nil { input.pendingGradient = inputGradient } else { input.pendingGradient! += inputGradient }
            }
        }
    }

    /// The variables this one depends on (through nodes that require
    /// gradients), each after all of its own inputs: a depth-first post-order.
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    func topologicalOrder() -> [Variable] {
        var order: [Variable] = []
        var visited: Set<ObjectIdentifier> = [ObjectIdentifier(self)]
        var stack: [(node: Variable, next: Int)] = [(self, 0)]
        while let (node, next) = stack.last {
            if next < node.inputs.count {
                stack[stack.count - 1].next += 1
                let input = node.inputs[next]
                if input.requiresGradient && visited.insert(ObjectIdentifier(input)).inserted {
                    stack.append((input, 0))
                }
            } else {
                stack.removeLast()
                order.append(node)
            }
        }
        return order
    }
}

/// `f(x)` and `∂f/∂x` for a scalar-valued `f` written only as its forward
/// computation (C2W3-09: the framework finds the gradient of the cost).
///
/// ```swift
/// // J(w) = (w − 5)²
/// let (J, dJdw) = valueWithGradient(at: Tensor<Double>(0)) { w in square(w - 5) }   // 25, −10
/// ```
@_specialize(where S == Float)
@_specialize(where S == Double)
public func valueWithGradient<S>(at x: Tensor<S>, of f: (Variable<S>) -> Variable<S>) -> (value: S, gradient: Tensor<S>) {
    let (value, gradients) = valueWithGradient(at: [x]) { f($0[0]) }
    return (value, gradients[0])
}

/// `f(x₁, …, xₙ)` and its gradient with respect to each argument.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func valueWithGradient<S>(at xs: [Tensor<S>], of f: ([Variable<S>]) -> Variable<S>) -> (value: S, gradients: [Tensor<S>]) {
    let variables = xs.map { Variable($0, requiresGradient: true) }
    let y = GradientTape.$isRecording.withValue(true) { f(variables) }
    y.backward()
    return (y.value.scalar, variables.map { $0.gradient ?? .zeros($0.value.shape) })
}

/// `∂f/∂x` for a scalar-valued `f`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func gradient<S>(at x: Tensor<S>, of f: (Variable<S>) -> Variable<S>) -> Tensor<S> {
    valueWithGradient(at: x, of: f).gradient
}
