/// The element types a ``Tensor`` can hold: `Float` and `Double`.
///
/// Every kernel in the library exists in a concrete `Float` version (built on
/// `SIMD16<Float>`) and a concrete `Double` version (built on `SIMD8<Double>`);
/// generic tensor code picks one through ``scalarType``. The protocol is not
/// meant to be adopted by other types.
public protocol TensorScalar: BinaryFloatingPoint, SIMDScalar, Sendable, Codable, LosslessStringConvertible {
    /// Which concrete kernel family serves this type.
    static var scalarType: ScalarType { get }
}

/// The concrete element formats the kernels are written for.
public enum ScalarType: Sendable {
    /// IEEE 754 binary32 (`Float`).
    case float32
    /// IEEE 754 binary64 (`Double`).
    case float64
}

extension Float: TensorScalar {
    @inlinable public static var scalarType: ScalarType { .float32 }
}

extension Double: TensorScalar {
    @inlinable public static var scalarType: ScalarType { .float64 }
}

// MARK: - Pointer casts used by the type dispatch in every kernel entry point

@inline(__always)
func cast<S, T>(_ p: UnsafePointer<S>, to: T.Type) -> UnsafePointer<T> {
    UnsafeRawPointer(p).assumingMemoryBound(to: T.self)
}

@inline(__always)
func cast<S, T>(_ p: UnsafeMutablePointer<S>, to: T.Type) -> UnsafeMutablePointer<T> {
    UnsafeMutableRawPointer(p).assumingMemoryBound(to: T.self)
}
