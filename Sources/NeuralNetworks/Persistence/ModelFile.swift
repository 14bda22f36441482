import Foundation
import Tensors

/// Problems reading a saved model; each says what is wrong with the file.
public enum ModelFileError: Error, CustomStringConvertible, Equatable {
    case truncated(String)
    case corrupt(String)
    case unsupportedVersion(found: String, supported: String)
    case missingTensor(String)
    case shapeMismatch(tensor: String, expected: [Int], found: [Int])

    public var description: String {
        switch self {
        case .truncated(let detail): "model file is truncated: \(detail)"
        case .corrupt(let detail): "model file is corrupt: \(detail)"
        case let .unsupportedVersion(found, supported): "model file has format version \(found); this library reads version \(supported)"
        case .missingTensor(let name): "model file has no tensor \"\(name)\""
        case let .shapeMismatch(name, expected, found): "tensor \"\(name)\" has shape \(found), the architecture needs \(expected)"
        }
    }
}

/// One layer's configuration as stored in a model file.
struct LayerSpecification: Codable, Equatable {
    var type: String
    var inputs: Int?
    var outputs: Int?
    var function: String?
    var slope: Double?
    var keepProbability: Double?
    var seed: UInt64?
    var units: Int?
    var epsilon: Double?
    var momentum: Double?
    var exampleShape: [Int]?
}

/// Saving and loading models in the safetensors layout: an 8-byte
/// little-endian header length, a JSON header mapping tensor names to
/// `dtype` (`F32`/`F64`), `shape` and `data_offsets`, then the raw
/// little-endian tensor data. The architecture and format version live in
/// the header's `__metadata__`, so files open in Python with
/// `safetensors.numpy.load_file`. Writes are atomic (a temporary file renamed
/// over the target), so a crash never leaves a half-written model.
extension Sequential {
    public static var formatVersion: String { "1" }

    /// Writes the architecture and all parameters (and BatchNorm running averages) to `url`.
    public func save(to url: URL) throws {
        var specifications: [LayerSpecification] = []
        var tensors: [(String, Tensor<Scalar>)] = []
        for layer in layers {
            switch layer {
            case let dense as Dense<Scalar>:
                specifications.append(LayerSpecification(type: "Dense", inputs: dense.W.value.shape[1], outputs: dense.W.value.shape[0]))
            case let activation as Activation<Scalar>:
                var spec = LayerSpecification(type: "Activation")
                switch activation.function {
                case .sigmoid: spec.function = "sigmoid"
                case .tanh: spec.function = "tanh"
                case .relu: spec.function = "relu"
                case .identity: spec.function = "identity"
                case .leakyRelu(let slope): (spec.function, spec.slope) = ("leakyRelu", slope)
                }
                specifications.append(spec)
            case is Softmax<Scalar>:
                specifications.append(LayerSpecification(type: "Softmax"))
            case let dropout as Dropout<Scalar>:
                specifications.append(LayerSpecification(type: "Dropout", keepProbability: dropout.keepProbability, seed: dropout.seed))
            case let norm as BatchNorm<Scalar>:
                specifications.append(LayerSpecification(type: "BatchNorm", units: norm.gamma.value.shape[0],
                                                         epsilon: Double(norm.epsilon), momentum: Double(norm.momentum)))
                let (mean, variance) = Self.runningStatisticNames(norm)
                tensors.append((mean, norm.runningMean))
                tensors.append((variance, norm.runningVariance))
            case let reshape as Reshape<Scalar>:
                specifications.append(LayerSpecification(type: "Reshape", exampleShape: reshape.exampleShape))
            default:
                throw ModelFileError.corrupt("layer \(layer.summary) cannot be saved")
            }
        }
        tensors = parameters.map { ($0.name, $0.value) } + tensors
        let architecture = String(decoding: try JSONEncoder().encode(specifications), as: UTF8.self)
        try Self.writeSafetensors(tensors, metadata: ["format": "swift-deep-learning", "version": Self.formatVersion,
                                                      "architecture": architecture], to: url)
    }

    /// Reads a model written by ``save(to:)``. `F64` data loads into a
    /// `Float` model and vice versa, converting each value.
    public static func load(from url: URL) throws -> Sequential {
        let (tensors, metadata) = try readSafetensors(from: url)
        guard metadata["format"] == "swift-deep-learning" else {
            throw ModelFileError.corrupt("header metadata has no swift-deep-learning format tag")
        }
        guard metadata["version"] == formatVersion else {
            throw ModelFileError.unsupportedVersion(found: metadata["version"] ?? "none", supported: formatVersion)
        }
        guard let architecture = metadata["architecture"],
              let specifications = try? JSONDecoder().decode([LayerSpecification].self, from: Data(architecture.utf8)) else {
            throw ModelFileError.corrupt("architecture description is missing or unreadable")
        }
        func tensor(_ name: String, _ shape: [Int]) throws -> Tensor<Scalar> {
            guard let t = tensors[name] else { throw ModelFileError.missingTensor(name) }
            guard t.shape == shape else { throw ModelFileError.shapeMismatch(tensor: name, expected: shape, found: t.shape) }
            return t
        }
        // Build the layers with placeholder values, let Sequential name the
        // parameters (W1, b1, gamma1, …) as it always does, then fill them by name.
        var layers: [any Layer<Scalar>] = []
        for spec in specifications {
            switch spec.type {
            case "Dense":
                guard let inputs = spec.inputs, let outputs = spec.outputs else { throw ModelFileError.corrupt("Dense layer without sizes") }
                layers.append(Dense(weight: .zeros([outputs, inputs]), bias: .zeros([outputs, 1])))
            case "Activation":
                let function: ActivationFunction
                switch spec.function {
                case "sigmoid": function = .sigmoid
                case "tanh": function = .tanh
                case "relu": function = .relu
                case "identity": function = .identity
                case "leakyRelu": function = .leakyRelu(slope: spec.slope ?? 0.01)
                default: throw ModelFileError.corrupt("unknown activation \(spec.function ?? "nil")")
                }
                layers.append(Activation(function))
            case "Softmax":
                layers.append(Softmax())
            case "Dropout":
                layers.append(Dropout(keepProbability: spec.keepProbability ?? 1, seed: spec.seed ?? 0))
            case "BatchNorm":
                guard let units = spec.units else { throw ModelFileError.corrupt("BatchNorm layer without units") }
                layers.append(BatchNorm<Scalar>(units: units, epsilon: Scalar(spec.epsilon ?? 1e-5), momentum: Scalar(spec.momentum ?? 0.9)))
            case "Reshape":
                layers.append(Reshape(exampleShape: spec.exampleShape ?? [-1]))
            default:
                throw ModelFileError.corrupt("unknown layer type \(spec.type)")
            }
        }
        let model = Sequential(layers)
        for p in model.parameters { p.value = try tensor(p.name, p.value.shape) }
        for norm in layers.compactMap({ $0 as? BatchNorm<Scalar> }) {
            let (mean, variance) = runningStatisticNames(norm)
            let units = norm.gamma.value.shape
            norm.restoreRunningStatistics(mean: try tensor(mean, units), variance: try tensor(variance, units))
        }
        return model
    }

    /// BatchNorm's running averages are stored under the number its γ carries:
    /// `gamma2` → `running_mean2`, `running_variance2`.
    static func runningStatisticNames(_ norm: BatchNorm<Scalar>) -> (String, String) {
        let index = norm.gamma.name.drop { !$0.isNumber }
        return ("running_mean\(index)", "running_variance\(index)")
    }

    static func writeSafetensors(_ tensors: [(String, Tensor<Scalar>)], metadata: [String: String], to url: URL) throws {
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

    static func readSafetensors(from url: URL) throws -> ([String: Tensor<Scalar>], [String: String]) {
        let data = try Data(contentsOf: url)
        guard data.count >= 8 else { throw ModelFileError.truncated("\(data.count) bytes, the 8-byte header length is missing") }
        let headerLength = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard headerLength <= UInt64(data.count - 8) else {
            throw ModelFileError.truncated("header claims \(headerLength) bytes, file has \(data.count - 8) after the length")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(headerLength)))
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
