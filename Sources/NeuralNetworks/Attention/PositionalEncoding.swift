import Foundation
import Tensors

/// The transformer's sinusoidal positional encoding (C5W4-04), `(d, T)`:
/// column `pos` encodes position `pos` with
///
///     PE(pos, 2i)   = sin(pos / 10000^(2i/d))
///     PE(pos, 2i+1) = cos(pos / 10000^(2i/d))
///
/// (Vaswani et al. 2017). The notes print `sin(pos/1000^d)`, which is garbled:
/// the base is 10,000 and the exponent `2i/d` makes each pair of rows a
/// sinusoid of its own wavelength, from 2π to 10000·2π.
///
/// It is added to token embeddings in the notes' sequence layout
/// `(d, m, T)` by broadcasting: `x + encoding.reshaped(to: [d, 1, T])`
/// (``addingPositionalEncoding(_:)``).
public func positionalEncoding<S: TensorScalar>(length: Int, dimensions: Int, as _: S.Type = S.self) -> Tensor<S> {
    require(length >= 0 && dimensions >= 1, "positionalEncoding: needs length ≥ 0 and dimensions ≥ 1, got \(length) and \(dimensions)")
    var values = [S](repeating: 0, count: dimensions * length)
    for row in 0..<dimensions {
        let frequency = 1 / Foundation.pow(10000, Double(row - row % 2) / Double(dimensions))
        for pos in 0..<length {
            let angle = Double(pos) * frequency
            values[row * length + pos] = S(row % 2 == 0 ? Foundation.sin(angle) : Foundation.cos(angle))
        }
    }
    return Tensor(shape: [dimensions, length], scalars: values)
}

/// `x + PE` for a sequence batch `x` `(d, m, T)` (a constant: no gradient flows into the encoding).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func addingPositionalEncoding<S: TensorScalar>(_ x: Variable<S>) -> Variable<S> {
    require(x.shape.count == 3, "addingPositionalEncoding: needs a (d, m, T) sequence batch, got \(x.shape)")
    let (d, T) = (x.shape[0], x.shape[2])
    return x + Variable(positionalEncoding(length: T, dimensions: d, as: S.self).reshaped(to: [d, 1, T]))
}
