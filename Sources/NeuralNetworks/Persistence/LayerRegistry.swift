import Foundation
import Tensors

/// The layer types a model file can name, by ``Module/typeName``.
///
/// Each layer describes itself (its ``Module/configuration``) and rebuilds
/// itself (``Module/init(configuration:)``); loading looks the stored type name
/// up here. The library's layers are registered from the start; register your
/// own once, for each scalar type you load, before loading a model that uses it:
///
/// ```swift
/// LayerRegistry.register(MyLayer<Float>.self)
/// ```
public enum LayerRegistry {
    /// Rebuilds a layer, and says beforehand how many values that allocates (see ``ConfigurationSized``).
    typealias Factory = (make: (LayerConfiguration) throws -> AnyObject, allocatedScalars: (LayerConfiguration) -> Int?)

    /// The factories by type name and scalar type, behind a lock (registration may happen on any thread).
    private final class Table: @unchecked Sendable {
        private let lock = NSLock()
        private var factories: [String: Factory]
        init(_ factories: [String: Factory]) { self.factories = factories }
        func withLock<R>(_ body: (inout [String: Factory]) -> R) -> R {
            lock.lock()
            defer { lock.unlock() }
            return body(&factories)
        }
    }

    private static let factories = Table(builtIn())

    private static func key<S: TensorScalar>(_ typeName: String, _: S.Type) -> String { "\(typeName)/\(S.scalarType)" }

    private static func entry<M: Module>(_ type: M.Type) -> (String, Factory) {
        let allocatedScalars = { (configuration: LayerConfiguration) -> Int? in
            guard let sized = M.self as? any ConfigurationSized.Type else { return 0 }   // sizes not known: nothing to check
            return sized.allocatedScalars(configuration)
        }
        return (key(M.typeName, M.Scalar.self), (make: { try M(configuration: $0) }, allocatedScalars: allocatedScalars))
    }

    private static func builtIn() -> [String: Factory] {
        Dictionary(uniqueKeysWithValues: [
            entry(Dense<Float>.self), entry(Dense<Double>.self),
            entry(Activation<Float>.self), entry(Activation<Double>.self),
            entry(Softmax<Float>.self), entry(Softmax<Double>.self),
            entry(Dropout<Float>.self), entry(Dropout<Double>.self),
            entry(BatchNorm<Float>.self), entry(BatchNorm<Double>.self),
            entry(LayerNormalization<Float>.self), entry(LayerNormalization<Double>.self),
            entry(Reshape<Float>.self), entry(Reshape<Double>.self),
            entry(Add<Float>.self), entry(Add<Double>.self),
            entry(Multiply<Float>.self), entry(Multiply<Double>.self),
            entry(Concatenate<Float>.self), entry(Concatenate<Double>.self),
            entry(Conv2D<Float>.self), entry(Conv2D<Double>.self),
            entry(MaxPool2D<Float>.self), entry(MaxPool2D<Double>.self),
            entry(AveragePool2D<Float>.self), entry(AveragePool2D<Double>.self),
            entry(GlobalAveragePool2D<Float>.self), entry(GlobalAveragePool2D<Double>.self),
            entry(Flatten<Float>.self), entry(Flatten<Double>.self),
            entry(DepthwiseConv2D<Float>.self), entry(DepthwiseConv2D<Double>.self),
            entry(Conv2DTranspose<Float>.self), entry(Conv2DTranspose<Double>.self),
            entry(Conv1D<Float>.self), entry(Conv1D<Double>.self),
            entry(Conv3D<Float>.self), entry(Conv3D<Double>.self),
            entry(L2Normalize<Float>.self), entry(L2Normalize<Double>.self),
            entry(Recurrent<Float>.self), entry(Recurrent<Double>.self),
            entry(Embedding<Float>.self), entry(Embedding<Double>.self),
            entry(AverageEmbedding<Float>.self), entry(AverageEmbedding<Double>.self),
            entry(Bidirectional<Float>.self), entry(Bidirectional<Double>.self),
            entry(TimeDistributed<Float>.self), entry(TimeDistributed<Double>.self),
        ])
    }

    /// The values a layer of type `typeName` configured as `configuration`
    /// allocates (`nil` for an unknown type or an overflowing size): how a
    /// wrapper layer (``TimeDistributed``) sizes the layer it wraps.
    static func allocatedScalars<S: TensorScalar>(_ typeName: String, configuration: LayerConfiguration, scalar: S.Type) -> Int? {
        factories.withLock { $0[key(typeName, S.self)] }.flatMap { $0.allocatedScalars(configuration) }
    }

    /// Makes `type` loadable from model files (replacing any type registered under the same name).
    public static func register<M: Module>(_ type: M.Type) {
        let (key, factory) = entry(type)
        factories.withLock { $0[key] = factory }
    }

    /// A layer of the stored type `typeName` rebuilt from `configuration`.
    ///
    /// `available` is how many values the file still holds for the layers not
    /// yet rebuilt: a layer whose configuration needs more (a damaged size such
    /// as a `Dense` with 10¹² inputs, or one whose product overflows `Int`) is a
    /// ``ModelFileError/corrupt(_:)`` before anything is allocated, not a trap or
    /// a huge allocation. The layer's share is taken from `available`.
    static func make<S: TensorScalar>(_ typeName: String, configuration: LayerConfiguration, scalar: S.Type,
                                      available: inout Int) throws -> any Module<S> {
        guard let factory = factories.withLock({ $0[key(typeName, S.self)] }) else {
            throw ModelFileError.unknownLayer(typeName)
        }
        guard let needed = factory.allocatedScalars(configuration), needed <= available else {
            let count = factory.allocatedScalars(configuration).map { "\($0)" } ?? "more than \(Int.max)"
            throw ModelFileError.corrupt("a \(typeName) layer configured as \(configuration.summary) needs \(count) stored values; "
                                         + "the file has \(available) left for it")
        }
        guard let module = try factory.make(configuration) as? any Module<S> else {
            throw ModelFileError.unknownLayer(typeName)
        }
        available -= needed
        return module
    }
}

/// A layer whose configuration sets how many values it allocates — all of
/// them parameters or state that a model file stores — so loading can check a
/// configuration against the file before rebuilding the layer.
protocol ConfigurationSized {
    /// The values a layer rebuilt from `configuration` allocates, or `nil`
    /// when that overflows `Int`. Missing or negative settings count as 0:
    /// the initializer reports them.
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int?
}

/// `a · b + c`, or `nil` on overflow; negative factors count as 0.
private func checkedSize(_ a: Int, _ b: Int, plus c: Int = 0) -> Int? {
    let (product, productOverflow) = Swift.max(a, 0).multipliedReportingOverflow(by: Swift.max(b, 0))
    let (sum, sumOverflow) = product.addingReportingOverflow(Swift.max(c, 0))
    return productOverflow || sumOverflow ? nil : sum
}

extension Dense: ConfigurationSized {
    /// `W` `(outputs, inputs)` and `b` `(outputs, 1)` unless `useBias` is false.
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? {
        guard let inputs = try? configuration.int("inputs"), let outputs = try? configuration.int("outputs") else { return 0 }
        return checkedSize(outputs, inputs, plus: (try? configuration.bool("useBias")) == false ? 0 : outputs)
    }
}

extension BatchNorm: ConfigurationSized {
    /// `gamma`, `beta`, the running mean and the running variance, `(units, 1)` or `(1, channels)` each.
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? {
        guard let units = (try? configuration.int("units")) ?? (try? configuration.int("channels")) else { return 0 }
        return checkedSize(units, 4)
    }
}

extension Conv2D: ConfigurationSized {
    /// `W` `(f_h, f_w, n_C_prev, n_C)` and `b` `(1, 1, 1, n_C)` unless `useBias` is false.
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? {
        guard let shape = try? configuration.ints("filterShape"), shape.count == 4 else { return 0 }
        guard let taps = checkedSize(shape[0], shape[1]).flatMap({ checkedSize($0, shape[2]) }) else { return nil }
        let bias = (try? configuration.bool("useBias")) == false ? 0 : shape[3]
        return checkedSize(taps, shape[3], plus: bias)
    }
}

/// Filter plus one bias per output channel: `Π filterShape + channels`.
private func filterSize(_ configuration: LayerConfiguration, rank: Int, biasAxis: Int) -> Int? {
    guard let shape = try? configuration.ints("filterShape"), shape.count == rank else { return 0 }
    var total = 1
    for d in shape {
        guard let next = checkedSize(total, d) else { return nil }
        total = next
    }
    return checkedSize(total, 1, plus: shape[biasAxis])
}

extension DepthwiseConv2D: ConfigurationSized {
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? { filterSize(configuration, rank: 4, biasAxis: 2) }
}

extension Conv2DTranspose: ConfigurationSized {
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? { filterSize(configuration, rank: 4, biasAxis: 2) }
}

extension Conv1D: ConfigurationSized {
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? { filterSize(configuration, rank: 3, biasAxis: 2) }
}

extension Embedding: ConfigurationSized {
    /// `E` `(vocabulary, dimensions)`.
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? {
        guard let v = try? configuration.int("vocabulary"), let d = try? configuration.int("dimensions") else { return 0 }
        return checkedSize(v, d)
    }
}

extension AverageEmbedding: ConfigurationSized {
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? { Embedding<Scalar>.allocatedScalars(configuration) }
}

extension Recurrent: ConfigurationSized {
    /// `W` `(G·units, units + inputs)` and `b` `(G·units, 1)`.
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? {
        guard let inputs = try? configuration.int("inputs"), let units = try? configuration.int("units"),
              let cell = (try? configuration.string("cell")).flatMap(RecurrentCell.init(rawValue:)) else { return 0 }
        guard let columns = checkedSize(units, 1, plus: inputs) else { return nil }
        return checkedSize(cell.gates, units).flatMap { rows in checkedSize(rows, columns, plus: rows) }
    }
}

extension Bidirectional: ConfigurationSized {
    /// Two recurrent layers.
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? {
        Recurrent<Scalar>.allocatedScalars(configuration).flatMap { checkedSize($0, 2) }
    }
}

extension TimeDistributed: ConfigurationSized {
    /// The wrapped layer's values.
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? {
        var values = configuration.values
        guard case .string(let wrapped)? = values.removeValue(forKey: "wrappedType") else { return 0 }
        return LayerRegistry.allocatedScalars(wrapped, configuration: LayerConfiguration(values), scalar: Scalar.self) ?? 0
    }
}

extension Conv3D: ConfigurationSized {
    static func allocatedScalars(_ configuration: LayerConfiguration) -> Int? { filterSize(configuration, rank: 5, biasAxis: 4) }
}
