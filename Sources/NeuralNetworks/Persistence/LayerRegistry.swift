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
    typealias Factory = (LayerConfiguration) throws -> AnyObject

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
        (key(M.typeName, M.Scalar.self), { try M(configuration: $0) })
    }

    private static func builtIn() -> [String: Factory] {
        Dictionary(uniqueKeysWithValues: [
            entry(Dense<Float>.self), entry(Dense<Double>.self),
            entry(Activation<Float>.self), entry(Activation<Double>.self),
            entry(Softmax<Float>.self), entry(Softmax<Double>.self),
            entry(Dropout<Float>.self), entry(Dropout<Double>.self),
            entry(BatchNorm<Float>.self), entry(BatchNorm<Double>.self),
            entry(Reshape<Float>.self), entry(Reshape<Double>.self),
            entry(Add<Float>.self), entry(Add<Double>.self),
            entry(Multiply<Float>.self), entry(Multiply<Double>.self),
            entry(Concatenate<Float>.self), entry(Concatenate<Double>.self),
        ])
    }

    /// Makes `type` loadable from model files (replacing any type registered under the same name).
    public static func register<M: Module>(_ type: M.Type) {
        let (key, factory) = entry(type)
        factories.withLock { $0[key] = factory }
    }

    /// A layer of the stored type `typeName` rebuilt from `configuration`.
    static func make<S: TensorScalar>(_ typeName: String, configuration: LayerConfiguration, scalar: S.Type) throws -> any Module<S> {
        guard let factory = factories.withLock({ $0[key(typeName, S.self)] }) else {
            throw ModelFileError.unknownLayer(typeName)
        }
        guard let module = try factory(configuration) as? any Module<S> else {
            throw ModelFileError.unknownLayer(typeName)
        }
        return module
    }
}
