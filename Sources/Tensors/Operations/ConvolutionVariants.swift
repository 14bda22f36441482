// Convolutions built on the 2-D one (same kernels, same layouts):
//
// - Transposed convolution (C4W3-11, U-Net's up-sampling): the adjoint of
//   conv2D — each input pixel scatters its filter-weighted copy into a window
//   of the larger output. Output size (n − 1)·s − 2p + f + output padding;
//   the notes' f = 3, p = 1, s = 2 doubles a grid with output padding 1
//   (2×2 → 4×4), as PyTorch's `output_padding` does; `.same` gives n·s (Keras).
//   Filters are (f, f, n_C_out, n_C_in), Keras's layout for Conv2DTranspose.
// - 1-D convolution (C4W4-10): a signal (m, n_W, n_C) with filters
//   (f, n_C, n_C') is the 2-D convolution of a one-row image; the notes' 14-long
//   signal with a 5-long filter gives 10.

/// The geometry of the convolution whose input gradient a transposed convolution is.
func transposedGeometry(input: [Int], filter: [Int], stride: Int, padding: Padding, outputPadding: Int, operation: String) -> Convolution2DGeometry {
    if input.count != 4 || filter.count != 4 || filter[3] != input[3] {
        shapeFailure(ShapeError(operation: operation, message: "input \(format(input)) must be (m, n_H, n_W, n_C_in) and filter \(format(filter)) (f, f, n_C_out, n_C_in)"))
    }
    require(stride >= 1, "\(operation): stride \(stride) must be at least 1")
    require(outputPadding >= 0 && outputPadding < stride, "\(operation): output padding \(outputPadding) must be in 0..<stride (\(stride))")
    func outputSize(_ n: Int, _ f: Int) -> Int {
        switch padding {
        case .same: return n * stride
        case .valid: return (n - 1) * stride + f + outputPadding
        case .explicit(let p): return (n - 1) * stride - 2 * p + f + outputPadding
        }
    }
    let output = [input[0], outputSize(input[1], filter[0]), outputSize(input[2], filter[1]), filter[2]]
    if output[1] < 1 || output[2] < 1 {
        shapeFailure(ShapeError(operation: operation, message: "filter \(format(filter)) with padding \(padding) leaves no output for input \(format(input))"))
    }
    let g = Convolution2DGeometry(input: output, filter: filter, stride: stride, padding: padding, operation: operation)
    if g.outHeight != input[1] || g.outWidth != input[2] {
        shapeFailure(ShapeError(operation: operation, message: "filter \(format(filter)), stride \(stride) and padding \(padding) cannot produce an output whose convolution is \(format(input))"))
    }
    return g
}

/// Transposed convolution of `input` `(m, n_H, n_W, n_C_in)` with `filter`
/// `(f, f, n_C_out, n_C_in)`, plus `bias` (`n_C_out` values) if given; output
/// `(m, (n_H − 1)·s − 2p + f + outputPadding, …, n_C_out)` (`n·s` for `.same`).
/// It is ``conv2DBackwardInput(_:filter:inputShape:stride:padding:)`` of the
/// same filter, stride and padding.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func convTranspose2D<S>(
    _ input: Tensor<S>, filter: Tensor<S>, bias: Tensor<S>? = nil, stride: Int = 1, padding: Padding = .valid, outputPadding: Int = 0
) -> Tensor<S> {
    let g = transposedGeometry(input: input.shape, filter: filter.shape, stride: stride, padding: padding, outputPadding: outputPadding,
                               operation: "convTranspose2D")
    var output = conv2DBackwardInput(input, filter: filter, geometry: g)
    addChannelBias(bias, to: &output, operation: "convTranspose2D")
    return output
}

/// The geometry of a 1-D convolution as a one-row 2-D one (no padding of the height).
func oneDimensionalGeometry(input: [Int], filter: [Int], stride: Int, padding: Padding, operation: String) -> Convolution2DGeometry {
    if input.count != 3 || filter.count != 3 {
        shapeFailure(ShapeError(operation: operation, message: "input \(format(input)) must be (m, n_W, n_C) and filter \(format(filter)) (f, n_C, n_C')"))
    }
    return Convolution2DGeometry(input: [input[0], 1, input[1], input[2]], filter: [1] + filter, stride: stride,
                                 vertical: .valid, horizontal: padding, operation: operation)
}

/// 1-D convolution of `input` `(m, n_W, n_C)` with `filter` `(f, n_C, n_C')`
/// plus `bias` (`n_C'` values): `Z[i, w, c] = Σ_{b, k} A_pad[i, w·s + b, k]·W[b, k, c] + b[c]`,
/// output `(m, ⌊(n_W + 2p − f)/s⌋ + 1, n_C')`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv1D<S>(_ input: Tensor<S>, filter: Tensor<S>, bias: Tensor<S>? = nil, stride: Int = 1, padding: Padding = .valid) -> Tensor<S> {
    let g = oneDimensionalGeometry(input: input.shape, filter: filter.shape, stride: stride, padding: padding, operation: "conv1D")
    let y = conv2D(input.reshaped(to: [g.batch, 1, g.width, g.channels]), filter: filter.reshaped(to: g.filterShape), bias: bias, geometry: g)
    return y.reshaped(to: [g.batch, g.outWidth, g.filters])
}
