import Tensors

/// A value in a model under construction (Keras' symbolic tensor): a model
/// input, or the output of a layer applied to other nodes.
///
/// ```swift
/// // A residual block: a[l+2] = relu(z[l+2] + a[l]).
/// let x = GraphNode<Float>.input()
/// let h = Activation<Float>(.relu)(Dense(inputs: 16, outputs: 16, generator: &rng)(x))
/// let z = Dense<Float>(inputs: 16, outputs: 16, generator: &rng)(h)
/// let y = Activation<Float>(.relu)(Add()([z, x]))
/// let model = GraphModel(inputs: [x], outputs: [y])
/// ```
public final class GraphNode<Scalar: TensorScalar> {
    enum Source {
        case input
        case layer(any Layer<Scalar>, GraphNode)
        case merge(any MergeLayer<Scalar>, [GraphNode])
    }

    /// Set once; only `deinit` clears it (to `.input`).
    private(set) var source: Source

    init(_ source: Source) { self.source = source }

    deinit {
        // Freeing a node frees the predecessors only it kept alive, theirs in turn, …:
        // on a long chain that recursion overflows the stack. Detach them here and
        // free them one at a time instead.
        var pending = predecessors
        source = .input
        while var node = pending.popLast() {
            if isKnownUniquelyReferenced(&node) {
                pending.append(contentsOf: node.predecessors)
                node.source = .input
            }
        }
    }

    /// A new model input.
    public static func input() -> GraphNode { GraphNode(.input) }

    var predecessors: [GraphNode] {
        switch source {
        case .input: []
        case .layer(_, let input): [input]
        case .merge(_, let inputs): inputs
        }
    }
}

extension Layer {
    /// This layer applied to a node of a graph under construction.
    public func callAsFunction(_ node: GraphNode<Scalar>) -> GraphNode<Scalar> { GraphNode(.layer(self, node)) }
}

extension MergeLayer {
    /// This layer applied to several nodes of a graph under construction.
    public func callAsFunction(_ nodes: [GraphNode<Scalar>]) -> GraphNode<Scalar> { GraphNode(.merge(self, nodes)) }
}

/// A model whose layers form any directed acyclic graph — several inputs and
/// outputs, branches joined by ``Add``, ``Concatenate`` or ``Multiply``, a
/// layer applied at several places (its parameters shared, their gradient the
/// sum of every use) — the functional API the course builds ResNet and
/// Inception with.
///
/// Parameters are named path-style by layer type and order of first use:
/// `dense1.W`, `dense1.b`, `batchnorm1.gamma`, ….
public final class GraphModel<Scalar: TensorScalar>: Model {
    public let inputs: [GraphNode<Scalar>]
    public let outputs: [GraphNode<Scalar>]
    public let outputActivation: OutputActivation
    public let namedModules: [(naming: ModuleNaming, module: any Module<Scalar>)]
    /// Every node the outputs depend on, each after its predecessors.
    let nodes: [GraphNode<Scalar>]

    /// The model computing `outputs` from `inputs`.
    ///
    /// - Precondition: every input node the outputs depend on is listed in `inputs`.
    public init(inputs: [GraphNode<Scalar>], outputs: [GraphNode<Scalar>], outputActivation: OutputActivation = .identity) {
        self.inputs = inputs
        self.outputs = outputs
        self.outputActivation = outputActivation
        // Depth-first post-order from the outputs (each node after its predecessors, in
        // their order), with an explicit stack: a long chain of layers, such as a
        // damaged model file can describe, must not overflow the call stack.
        var order: [GraphNode<Scalar>] = [], visited = Set<ObjectIdentifier>()
        var pending: [(node: GraphNode<Scalar>, expanded: Bool)] = outputs.reversed().map { ($0, false) }
        while let (node, expanded) = pending.popLast() {
            if expanded {
                order.append(node)
            } else if visited.insert(ObjectIdentifier(node)).inserted {
                pending.append((node, true))
                pending.append(contentsOf: node.predecessors.reversed().map { ($0, false) })
            }
        }
        let inputIDs = Set(inputs.map(ObjectIdentifier.init))
        for node in order {
            if case .input = node.source, !inputIDs.contains(ObjectIdentifier(node)) {
                fatalError("GraphModel: an output depends on an input node that is not among the model's inputs")
            }
        }
        nodes = order
        var seen = Set<ObjectIdentifier>(), counts: [String: Int] = [:]
        var modules: [(naming: ModuleNaming, module: any Module<Scalar>)] = []
        for node in order {
            let module: any Module<Scalar>
            switch node.source {
            case .input: continue
            case .layer(let layer, _): module = layer
            case .merge(let layer, _): module = layer
            }
            guard seen.insert(ObjectIdentifier(module)).inserted else { continue }
            let type = Swift.type(of: module).typeName.lowercased()
            counts[type, default: 0] += 1
            modules.append((.path("\(type)\(counts[type]!)"), module))
        }
        namedModules = modules
        assignNames()
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func forward(_ inputValues: [Variable<Scalar>], context: ForwardContext) -> [Variable<Scalar>] {
        require(inputValues.count == inputs.count, "GraphModel: takes \(inputs.count) inputs, got \(inputValues.count)")
        var values: [ObjectIdentifier: Variable<Scalar>] = [:]
        for (node, value) in zip(inputs, inputValues) { values[ObjectIdentifier(node)] = value }
        for node in nodes {
            switch node.source {
            case .input: continue
            case let .layer(layer, input):
                values[ObjectIdentifier(node)] = layer.forward(values[ObjectIdentifier(input)]!, context: context)
            case let .merge(layer, inputs):
                values[ObjectIdentifier(node)] = layer.forward(inputs.map { values[ObjectIdentifier($0)]! }, context: context)
            }
        }
        return outputs.map { values[ObjectIdentifier($0)]! }
    }
}
