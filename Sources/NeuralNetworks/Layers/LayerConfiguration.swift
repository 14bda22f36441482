import Tensors

/// A layer's settings as stored in a model file: named numbers, strings and
/// integer lists, written as a JSON object with sorted keys.
public struct LayerConfiguration: Codable, Equatable, Sendable {
    /// One setting.
    public enum Value: Codable, Equatable, Sendable {
        case int(Int), double(Double), string(String), ints([Int]), bool(Bool)

        public init(from decoder: Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let v = try? container.decode(Int.self) { self = .int(v) }
            else if let v = try? container.decode(Double.self) { self = .double(v) }
            else if let v = try? container.decode(Bool.self) { self = .bool(v) }
            else if let v = try? container.decode(String.self) { self = .string(v) }
            else if let v = try? container.decode([Int].self) { self = .ints(v) }
            else { throw DecodingError.dataCorruptedError(in: container, debugDescription: "unsupported layer setting") }
        }

        public func encode(to encoder: Encoder) throws {
            var container = encoder.singleValueContainer()
            switch self {
            case .int(let v): try container.encode(v)
            case .double(let v): try container.encode(v)
            case .string(let v): try container.encode(v)
            case .ints(let v): try container.encode(v)
            case .bool(let v): try container.encode(v)
            }
        }
    }

    public var values: [String: Value]

    public init(_ values: [String: Value] = [:]) { self.values = values }

    public init(from decoder: Decoder) throws { values = try [String: Value](from: decoder) }
    public func encode(to encoder: Encoder) throws { try values.encode(to: encoder) }

    /// The integer setting `key`, or a ``ModelFileError/corrupt(_:)`` naming it.
    public func int(_ key: String) throws -> Int {
        guard case .int(let v) = values[key] else { throw missing(key, "an integer") }
        return v
    }

    /// The number setting `key` (an integer in the file is accepted).
    public func double(_ key: String) throws -> Double {
        switch values[key] {
        case .double(let v): return v
        case .int(let v): return Double(v)
        default: throw missing(key, "a number")
        }
    }

    /// The string setting `key`.
    public func string(_ key: String) throws -> String {
        guard case .string(let v) = values[key] else { throw missing(key, "a string") }
        return v
    }

    /// The Boolean setting `key`.
    public func bool(_ key: String) throws -> Bool {
        guard case .bool(let v) = values[key] else { throw missing(key, "true or false") }
        return v
    }

    /// The integer-list setting `key`.
    public func ints(_ key: String) throws -> [Int] {
        if case .ints(let v) = values[key] { return v }
        throw missing(key, "a list of integers")
    }

    /// The settings in one line for error messages, sorted by key, long values shortened: `inputs 2, outputs 5`.
    var summary: String {
        func short(_ text: String) -> String { text.count > 40 ? text.prefix(40) + "…" : text }
        let settings = values.sorted { $0.key < $1.key }.map { key, value -> String in
            let text: String = switch value {
            case .int(let v): "\(v)"
            case .double(let v): "\(v)"
            case .string(let v): "\"\(short(v))\""
            case .ints(let v): short("\(v)")
            case .bool(let v): "\(v)"
            }
            return "\(short(key)) \(text)"
        }
        return settings.isEmpty ? "(no settings)" : settings.joined(separator: ", ")
    }

    private func missing(_ key: String, _ kind: String) -> ModelFileError {
        .corrupt("layer setting \"\(key)\" is missing or not \(kind)")
    }
}
