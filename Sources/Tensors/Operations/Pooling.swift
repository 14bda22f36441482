// Pooling over windows of channels-last images (C4W1-10): max pooling keeps
// each window's largest value, average pooling its mean; the pooling layer has
// no parameters. Output size ⌊(n + 2p − f)/s⌋ + 1 per spatial axis; the
// channel count is unchanged. Windows are clipped to the image, so padding
// never wins a maximum and is not counted in an average (Keras's "same").

/// Which window elements receive the gradient of a max pooling when several
/// hold the maximum.
public enum MaxPoolingTies: Sendable, Hashable {
    /// Every tied maximum gets the window's gradient — the notes'
    /// `create_mask_from_window`, `mask = (x == np.max(x))`.
    case allMaxima
    /// Only the first maximum in row-major window order — PyTorch and TensorFlow.
    case firstMaximum
}

/// Max pooling with an `f × f` window and stride `s` (default `f`): input
/// `(m, n_H_prev, n_W_prev, n_C)`, output `(m, n_H, n_W, n_C)`. NaN propagates.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func maxPool2D<S>(_ input: Tensor<S>, size: Int, stride: Int? = nil, padding: Padding = .valid) -> Tensor<S> {
    pool2D(input, size: size, stride: stride ?? size, padding: padding, maximum: true, operation: "maxPool2D")
}

/// Average pooling with an `f × f` window and stride `s` (default `f`).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func averagePool2D<S>(_ input: Tensor<S>, size: Int, stride: Int? = nil, padding: Padding = .valid) -> Tensor<S> {
    pool2D(input, size: size, stride: stride ?? size, padding: padding, maximum: false, operation: "averagePool2D")
}

func pool2D<S>(_ input: Tensor<S>, size: Int, stride: Int, padding: Padding, maximum: Bool, operation: String) -> Tensor<S> {
    let g = Pooling2DGeometry(input: input.shape, size: size, stride: stride, padding: padding, operation: operation)
    return Tensor<S>(shape: g.outputShape) { y in
        input.scalars.withUnsafeBufferPointer { x in
            guard let px = x.baseAddress, let py = y.baseAddress else { return }
            ComputePath.current.run(loop: {
                PoolingKernels.forwardLoop(px, py, g, maximum: maximum)
            }, vectorized: {
                PoolingKernels.forward(px, py, g, maximum: maximum)
            })
        }
    }
}

/// The gradient of ``maxPool2D(_:size:stride:padding:)``: `dA_prev` from
/// `dZ`, the pooled input and its output (each window's maximum), routed by `ties`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func maxPool2DBackward<S>(
    _ gradient: Tensor<S>, input: Tensor<S>, output: Tensor<S>, size: Int, stride: Int? = nil, padding: Padding = .valid,
    ties: MaxPoolingTies = .allMaxima
) -> Tensor<S> {
    let g = Pooling2DGeometry(input: input.shape, size: size, stride: stride ?? size, padding: padding, operation: "maxPool2DBackward")
    if gradient.shape != g.outputShape || output.shape != g.outputShape {
        shapeFailure(ShapeError(operation: "maxPool2DBackward", message: "gradient \(format(gradient.shape)) and output \(format(output.shape)) must both be \(format(g.outputShape))"))
    }
    return Tensor<S>(shape: input.shape) { dx in
        // Every path writes every element (the kernels zero what no window reaches).
        gradient.scalars.withUnsafeBufferPointer { dy in
            input.scalars.withUnsafeBufferPointer { x in
                output.scalars.withUnsafeBufferPointer { y in
                    guard let pdy = dy.baseAddress, let px = x.baseAddress, let py = y.baseAddress, let pdx = dx.baseAddress else {
                        dx.initialize(repeating: 0)   // no windows: nothing flows back
                        return
                    }
                    ComputePath.current.run(loop: {
                        PoolingKernels.maxBackwardLoop(pdy, px, py, pdx, g, firstOnly: ties == .firstMaximum)
                    }, vectorized: {
                        PoolingKernels.backward(pdy, px, py, pdx, g, maximum: true, firstOnly: ties == .firstMaximum)
                    })
                }
            }
        }
    }
}

/// The gradient of ``averagePool2D(_:size:stride:padding:)``: each window's
/// gradient spread evenly over the pixels it averaged.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func averagePool2DBackward<S>(_ gradient: Tensor<S>, inputShape: [Int], size: Int, stride: Int? = nil, padding: Padding = .valid) -> Tensor<S> {
    let g = Pooling2DGeometry(input: inputShape, size: size, stride: stride ?? size, padding: padding, operation: "averagePool2DBackward")
    if gradient.shape != g.outputShape {
        shapeFailure(ShapeError(operation: "averagePool2DBackward", message: "gradient \(format(gradient.shape)) must be \(format(g.outputShape))"))
    }
    return Tensor<S>(shape: inputShape) { dx in
        // Every path writes every element (the kernels zero what no window reaches).
        gradient.scalars.withUnsafeBufferPointer { dy in
            guard let pdy = dy.baseAddress, let pdx = dx.baseAddress else {
                dx.initialize(repeating: 0)   // no windows: nothing flows back
                return
            }
            ComputePath.current.run(loop: {
                PoolingKernels.averageBackwardLoop(pdy, pdx, g)
            }, vectorized: {
                PoolingKernels.backward(pdy, nil, nil, pdx, g, maximum: false, firstOnly: false)
            })
        }
    }
}
