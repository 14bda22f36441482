import Foundation
import Tensors

/// Problems saving or reading a model; each says what is wrong with the file.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case noSuchFile(String)
    case notSafetensors(String)
    case truncated(String)
    case corrupt(String)
    case unsupportedVersion(found: String, supported: String)
    case missingTensor(String)
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])
    /// A stored layer type that no registered layer has (see ``LayerRegistry``).
    case unknownLayer(String)
    /// Two tensors of the model would be saved under one name.
    case duplicateName(String)
    /// A model kind the file format does not describe.
    case unsupportedModel(String)

    public var description: String {
        switch self {
        case .noSuchFile(let path): "no such file: \(path)"
        case .notSafetensors(let path): "not a safetensors file: \(path)"
        case .truncated(let detail): "model file is truncated: \(detail)"
        case .corrupt(let detail): "model file is corrupt: \(detail)"
        case let .unsupportedVersion(found, supported): "model file has format version \(found); this library reads version \(supported)"
        case .missingTensor(let name): "model file has no tensor \"\(name)\""
        case let .shapeMismatch(name, expected, found): "tensor \"\(name)\" has shape \(found), the architecture needs \(expected)"
        case .unknownLayer(let type): "unknown layer type \"\(type)\" (register it with LayerRegistry.register before loading)"
        case .duplicateName(let name): "two tensors of the model are named \"\(name)\""
        case .unsupportedModel(let kind): "cannot save a model of type \(kind)"
        }
    }
}

/// One layer as stored: its registered type name and configuration.
struct StoredModule: Codable {
    var type: String
    var configuration: LayerConfiguration
}

/// One node of a stored graph: a model input (`input`), or module `module` applied to earlier nodes.
struct StoredNode: Codable {
    var input: Int?
    var module: Int?
    var inputs: [Int]?
}

/// The architecture in a file's metadata: the distinct modules, and either
/// their order (`sequence`, a ``Sequential``) or a graph (``GraphModel``).
struct StoredArchitecture: Codable {
    var kind: String
    var modules: [StoredModule]
    var sequence: [Int]?
    var nodes: [StoredNode]?
    var outputs: [Int]?
    var outputActivation: OutputActivation
}

/// Saving and loading models in the safetensors layout: an 8-byte
/// little-endian header length, a JSON header mapping tensor names to
/// `dtype` (`F32`/`F64`), `shape` and `data_offsets`, then the raw
/// little-endian tensor data. Tensors are stored under the model's unique
/// names (``Parameter/name``; state such as `running_mean1` likewise). The
/// architecture and format version live in the header's `__metadata__`, so
/// files open in Python with `safetensors.numpy.load_file`. The header's keys
/// are sorted, so the same model always gives the same bytes. Writes are
/// atomic (a temporary file renamed over the target), so a crash never leaves
/// a half-written model.
public enum ModelFile {
    /// The version of the layout this library writes and reads.
    public static let formatVersion = "2"

    static func architecture<M: Model>(of model: M) throws -> StoredArchitecture {
        let modules = model.namedModules.map(\.module)
        let index = Dictionary(uniqueKeysWithValues: modules.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
        let stored = modules.map { StoredModule(type: type(of: $0).typeName, configuration: $0.configuration) }
        if let sequential = model as? Sequential<M.Scalar> {
            return StoredArchitecture(kind: "sequential", modules: stored, sequence: sequential.layers.map { index[ObjectIdentifier($0)]! },
                                      outputActivation: model.outputActivation)
        }
        if let graph = model as? GraphModel<M.Scalar> {
            let nodeIndex = Dictionary(uniqueKeysWithValues: graph.nodes.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
            let inputIndex = Dictionary(uniqueKeysWithValues: graph.inputs.enumerated().map { (ObjectIdentifier($0.element), $0.offset) })
            let nodes = graph.nodes.map { node -> StoredNode in
                switch node.source {
                case .input: StoredNode(input: inputIndex[ObjectIdentifier(node)]!)
                case let .layer(layer, input): StoredNode(module: index[ObjectIdentifier(layer)]!, inputs: [nodeIndex[ObjectIdentifier(input)]!])
                case let .merge(layer, inputs): StoredNode(module: index[ObjectIdentifier(layer)]!, inputs: inputs.map { nodeIndex[ObjectIdentifier($0)]! })
                }
            }
            return StoredArchitecture(kind: "graph", modules: stored, nodes: nodes, outputs: graph.outputs.map { nodeIndex[ObjectIdentifier($0)]! },
                                      outputActivation: model.outputActivation)
        }
        throw ModelFileError.unsupportedModel("\(M.self)")
    }

    /// The tensors a model saves, by unique name: parameters, then layer state.
    static func namedTensors<M: Model>(of model: M) throws -> [(String, Tensor<M.Scalar>)] {
        var tensors: [(String, Tensor<M.Scalar>)] = []
        for (naming, module) in model.namedModules {
            for p in module.parameters { tensors.append((naming.name(p.key), p.value)) }
            for (key, value) in module.state.sorted(by: { $0.key < $1.key }) { tensors.append((naming.name(key), value)) }
        }
        var seen = Set<String>()
        for (name, _) in tensors where !seen.insert(name).inserted { throw ModelFileError.duplicateName(name) }
        return tensors
    }

    /// Reads the architecture and tensors of a file written by ``Model/save(to:)``.
    static func open<S: TensorScalar>(_ url: URL, as: S.Type) throws -> (StoredArchitecture, [any Module<S>], [String: Tensor<S>]) {
        let (tensors, metadata) = try read(from: url, as: S.self)
        guard metadata["format"] == "swift-deep-learning" else {
            throw ModelFileError.corrupt("header metadata has no swift-deep-learning format tag")
        }
        guard metadata["version"] == formatVersion else {
            throw ModelFileError.unsupportedVersion(found: metadata["version"] ?? "none", supported: formatVersion)
        }
        guard let text = metadata["architecture"],
              let architecture = try? JSONDecoder().decode(StoredArchitecture.self, from: Data(text.utf8)) else {
            throw ModelFileError.corrupt("architecture description is missing or unreadable")
        }
        // Layers are rebuilt before their tensors are checked: sizes must fit the values the file holds.
        var available = tensors.values.reduce(0) { $0 + $1.count }
        let modules = try architecture.modules.map {
            try LayerRegistry.make($0.type, configuration: $0.configuration, scalar: S.self, available: &available)
        }
        return (architecture, modules, tensors)
    }

    /// Fills a rebuilt model's parameters and state from the file's tensors.
    static func fill<M: Model>(_ model: M, from tensors: [String: Tensor<M.Scalar>]) throws {
        for (naming, module) in model.namedModules {
            for p in module.parameters {
                let name = naming.name(p.key)
                guard let t = tensors[name] else { throw ModelFileError.missingTensor(name) }
                guard t.shape == p.value.shape else { throw ModelFileError.shapeMismatch(tensor: name, expected: p.value.shape, found: t.shape) }
                p.value = t
            }
            var state: [String: Tensor<M.Scalar>] = [:]
            for key in module.state.keys {
                guard let t = tensors[naming.name(key)] else { throw ModelFileError.missingTensor(naming.name(key)) }
                state[key] = t
            }
            do { try module.restoreState(state) } catch ModelFileError.missingTensor(let key) {
                throw ModelFileError.missingTensor(naming.name(key))
            } catch let ModelFileError.shapeMismatch(key, expected, found) {
                throw ModelFileError.shapeMismatch(tensor: naming.name(key), expected: expected, found: found)
            }
        }
    }

    static func write<Scalar: TensorScalar>(_ tensors: [(String, Tensor<Scalar>)], metadata: [String: String], to url: URL) throws {
        let dtype = Scalar.scalarType == .float32 ? "F32" : "F64"
        let width = MemoryLayout<Scalar>.size
        var header: [String: Any] = ["__metadata__": metadata]
        var offset = 0
        for (name, t) in tensors {
            header[name] = ["dtype": dtype, "shape": t.shape, "data_offsets": [offset, offset + t.count * width]]
            offset += t.count * width
        }
        var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
        // Pad the header with spaces to a multiple of 8 bytes, as the reference writer does.
        json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
        var data = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(json)
        for (_, t) in tensors {
            switch Scalar.scalarType {
            case .float32:
                let bits = t.scalars.map { (Float($0)).bitPattern.littleEndian }
                bits.withUnsafeBytes { data.append(contentsOf: $0) }
            case .float64:
                let bits = t.scalars.map { (Double($0)).bitPattern.littleEndian }
                bits.withUnsafeBytes { data.append(contentsOf: $0) }
            }
        }
        try data.write(to: url, options: .atomic)
    }

    static func read<Scalar: TensorScalar>(from url: URL, as: Scalar.Type) throws -> ([String: Tensor<Scalar>], [String: String]) {
        guard FileManager.default.fileExists(atPath: url.path) else { throw ModelFileError.noSuchFile(url.path) }
        let data = try Data(contentsOf: url)
        // A safetensors header is a JSON object right after the 8-byte length.
        let startsLikeHeader = data.count > 8 && data[data.startIndex + 8] == UInt8(ascii: "{")
        guard data.count >= 8 else { throw ModelFileError.truncated("\(data.count) bytes, the 8-byte header length is missing") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            if !startsLikeHeader { throw ModelFileError.notSafetensors(url.path) }
            throw ModelFileError.truncated("header claims \(headerLength) bytes, file has \(data.count - 8) after the length")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
        guard startsLikeHeader else { throw ModelFileError.notSafetensors(url.path) }
        guard let header = (try? JSONSerialization.jsonObject(with: headerData)) as? [String: Any] else {
            throw ModelFileError.corrupt("header is not a JSON object")
        }
        let metadata = header["__metadata__"] as? [String: String] ?? [:]
        let body = data.subdata(in: (8 + Int(headerLength))..<data.count)
        var tensors: [String: Tensor<Scalar>] = [:]
        for (name, value) in header where name != "__metadata__" {
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                  let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2,
                  shape.allSatisfy({ $0 >= 0 }), offsets[0] >= 0, offsets[0] <= offsets[1] else {
                throw ModelFileError.corrupt("entry for \"\(name)\" lacks dtype, shape or data_offsets")
            }
            let width: Int
            switch dtype {
            case "F32": width = 4
            case "F64": width = 8
            default: throw ModelFileError.corrupt("tensor \"\(name)\" has unsupported dtype \(dtype)")
            }
            // A corrupt shape can overflow Int: that is an error in the file, not a trap.
            let (count, countOverflow) = shape.reduce((1, false)) { partial, extent in
                let (product, overflow) = partial.0.multipliedReportingOverflow(by: extent)
                return (product, partial.1 || overflow)
            }
            let (byteCount, bytesOverflow) = count.multipliedReportingOverflow(by: width)
            guard !countOverflow, !bytesOverflow, offsets[1] - offsets[0] == byteCount else {
                throw ModelFileError.corrupt("tensor \"\(name)\" has \(offsets[1] - offsets[0]) bytes for shape \(shape)")
            }
            guard offsets[1] <= body.count else {
                throw ModelFileError.truncated("tensor \"\(name)\" ends at byte \(offsets[1]) of a \(body.count)-byte data section")
            }
            let bytes = body.subdata(in: offsets[0]..<offsets[1])
            let values: [Scalar] = bytes.withUnsafeBytes { raw in
                (0..<count).map { i in
                    width == 4
                        ? Scalar(Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * i, as: UInt32.self))))
                        : Scalar(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * i, as: UInt64.self))))
                }
            }
            tensors[name] = Tensor(shape: shape, scalars: values)
        }
        return (tensors, metadata)
    }
}

extension Model {
    /// Writes the architecture, all parameters and layer state (BatchNorm's
    /// running averages) to `url`, atomically. Throws
    /// ``ModelFileError/duplicateName(_:)`` if two tensors would share a name.
    public func save(to url: URL) throws {
        let architecture = try ModelFile.architecture(of: self)
        let tensors = try ModelFile.namedTensors(of: self)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(architecture), as: UTF8.self)
        try ModelFile.write(tensors, metadata: ["format": "swift-deep-learning", "version": ModelFile.formatVersion,
                                                "architecture": text], to: url)
    }
}

extension Sequential {
    /// Reads a model written by ``Model/save(to:)`` from a `Sequential`. `F64`
    /// data loads into a `Float` model and vice versa, converting each value.
    public static func load(from url: URL) throws -> Sequential {
        let (architecture, modules, tensors) = try ModelFile.open(url, as: Scalar.self)
        guard architecture.kind == "sequential" else {
            throw ModelFileError.corrupt("the file holds a \(architecture.kind) model, not a sequential one")
        }
        guard let sequence = architecture.sequence else { throw ModelFileError.corrupt("the sequential architecture has no layer sequence") }
        let layers = try sequence.map { i -> any Layer<Scalar> in
            guard modules.indices.contains(i), let layer = modules[i] as? any Layer<Scalar> else {
                throw ModelFileError.corrupt("sequence entry \(i) is not a single-input layer")
            }
            return layer
        }
        let model = Sequential(layers, outputActivation: architecture.outputActivation)
        try ModelFile.fill(model, from: tensors)
        return model
    }
}

extension GraphModel {
    /// Reads a model written by ``Model/save(to:)`` from a `GraphModel`.
    public static func load(from url: URL) throws -> GraphModel {
        let (architecture, modules, tensors) = try ModelFile.open(url, as: Scalar.self)
        guard architecture.kind == "graph" else {
            throw ModelFileError.corrupt("the file holds a \(architecture.kind) model, not a graph")
        }
        guard let stored = architecture.nodes, let outputIndices = architecture.outputs else {
            throw ModelFileError.corrupt("the graph architecture has no \(architecture.nodes == nil ? "nodes" : "outputs")")
        }
        var nodes: [GraphNode<Scalar>] = [], inputs: [Int: GraphNode<Scalar>] = [:]
        for (position, node) in stored.enumerated() {
            let predecessors = try (node.inputs ?? []).map { i -> GraphNode<Scalar> in
                guard i >= 0 && i < position else { throw ModelFileError.corrupt("node \(position) reads node \(i), which does not come before it") }
                return nodes[i]
            }
            if let input = node.input {
                let made = GraphNode<Scalar>.input()
                guard inputs.updateValue(made, forKey: input) == nil else { throw ModelFileError.corrupt("input \(input) appears twice") }
                nodes.append(made)
            } else if let m = node.module, modules.indices.contains(m) {
                if let layer = modules[m] as? any Layer<Scalar>, predecessors.count == 1 {
                    nodes.append(GraphNode(.layer(layer, predecessors[0])))
                } else if let layer = modules[m] as? any MergeLayer<Scalar>, !predecessors.isEmpty {   // merging nothing would trap in predict
                    nodes.append(GraphNode(.merge(layer, predecessors)))
                } else {
                    throw ModelFileError.corrupt("node \(position) applies module \(m) to \(predecessors.count) inputs")
                }
            } else {
                throw ModelFileError.corrupt("node \(position) is neither an input nor a known module")
            }
        }
        guard inputs.keys.sorted() == Array(0..<inputs.count) else { throw ModelFileError.corrupt("model inputs are not numbered 0…n−1") }
        let outputs = try outputIndices.map { i -> GraphNode<Scalar> in
            guard nodes.indices.contains(i) else { throw ModelFileError.corrupt("output node \(i) does not exist") }
            return nodes[i]
        }
        let model = GraphModel(inputs: (0..<inputs.count).map { inputs[$0]! }, outputs: outputs,
                               outputActivation: architecture.outputActivation)
        try ModelFile.fill(model, from: tensors)
        return model
    }
}

extension ModelFile {
    /// Saves named tensors as one safetensors file (what `np.savez`,
    /// `torch.save(dict)` or `safetensors.numpy.save_file` do), written
    /// atomically, names in sorted order so equal inputs give equal bytes.
    /// Python reads it with `safetensors.numpy.load_file(path)`.
    public static func save<S: TensorScalar>(_ tensors: [String: Tensor<S>], to url: URL) throws {
        try write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: [:], to: url)
    }

    /// Reads every tensor of a safetensors file (F32 or F64) as `S`; throws
    /// ``ModelFileError`` for a missing, truncated, corrupt or foreign file.
    public static func loadTensors<S: TensorScalar>(from url: URL, as: S.Type) throws -> [String: Tensor<S>] {
        try read(from: url, as: S.self).0
    }
}
