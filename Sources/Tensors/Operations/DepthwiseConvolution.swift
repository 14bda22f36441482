// Depthwise convolution (C4W2-05, MobileNet): each input channel convolved
// with its own f × f filter, no sum across channels — n_C·f² multiplications
// per output pixel instead of a full convolution's n_C·n_C'·f². Filters are
// (f, f, n_C, 1) (a depth multiplier of 1, as MobileNet uses); the output has
// the input's n_C channels. Followed by a 1×1 convolution (pointwise) it is the
// depthwise-separable convolution.

extension Convolution2DGeometry {
    /// The geometry of a depthwise convolution: `filter` is `(f, f, n_C, 1)`.
    init(depthwiseInput input: [Int], filter: [Int], stride: Int, padding: Padding, operation: String) {
        if input.count != 4 || filter.count != 4 || filter[3] != 1 || filter[2] != input[3] {
            shapeFailure(ShapeError(operation: operation, message: "input \(format(input)) must be (m, n_H, n_W, n_C) and filter \(format(filter)) (f, f, n_C, 1)"))
        }
        self.init(input: input, filter: [filter[0], filter[1], input[3], input[3]], stride: stride, padding: padding, operation: operation)
    }
}

/// Depthwise convolution of `input` `(m, n_H_prev, n_W_prev, n_C)` with
/// `filter` `(f_h, f_w, n_C, 1)`, plus `bias` (`n_C` values) if given:
/// `Z[i, h, w, c] = Σ_{a, b} A_pad[i, h·s + a, w·s + b, c]·W[a, b, c, 0] + b[c]`;
/// output `(m, n_H, n_W, n_C)`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func depthwiseConv2D<S>(_ input: Tensor<S>, filter: Tensor<S>, bias: Tensor<S>? = nil, stride: Int = 1, padding: Padding = .valid) -> Tensor<S> {
    let g = Convolution2DGeometry(depthwiseInput: input.shape, filter: filter.shape, stride: stride, padding: padding, operation: "depthwiseConv2D")
    var output = Tensor<S>(shape: g.outputShape) { y in
        input.scalars.withUnsafeBufferPointer { x in
            filter.scalars.withUnsafeBufferPointer { w in
                guard let px = x.baseAddress, let pw = w.baseAddress, let py = y.baseAddress else {
                    y.initialize(repeating: 0)
                    return
                }
                ComputePath.current.run(loop: {
                    DepthwiseConvolutionKernels.forwardLoop(px, pw, py, g)
                }, vectorized: {
                    DepthwiseConvolutionKernels.forward(px, pw, py, g)
                })
            }
        }
    }
    addChannelBias(bias, to: &output, operation: "depthwiseConv2D")
    return output
}

/// The gradients of ``depthwiseConv2D(_:filter:bias:stride:padding:)`` with
/// respect to its input and its filter (either may be skipped), from `dZ`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func depthwiseConv2DBackward<S>(
    _ gradient: Tensor<S>, input: Tensor<S>, filter: Tensor<S>, stride: Int = 1, padding: Padding = .valid,
    wantInput: Bool = true, wantFilter: Bool = true
) -> (input: Tensor<S>?, filter: Tensor<S>?) {
    let g = Convolution2DGeometry(depthwiseInput: input.shape, filter: filter.shape, stride: stride, padding: padding, operation: "depthwiseConv2DBackward")
    if gradient.shape != g.outputShape {
        shapeFailure(ShapeError(operation: "depthwiseConv2DBackward", message: "gradient \(format(gradient.shape)) differs from the output shape \(format(g.outputShape))"))
    }
    // Both paths write every element (no zero-filling pass over dX); with no
    // output pixels nothing flows back and the gradients are zero.
    let empty = gradient.count == 0
    var dx = wantInput ? (empty ? Tensor<S>.zeros(input.shape) : Tensor<S>(shape: input.shape, unsafeUninitialized: { _ in })) : nil
    var dw = wantFilter ? Tensor<S>.zeros(filter.shape) : nil
    gradient.scalars.withUnsafeBufferPointer { dy in
        input.scalars.withUnsafeBufferPointer { x in
            filter.scalars.withUnsafeBufferPointer { w in
                guard let pdy = dy.baseAddress, let px = x.baseAddress, let pw = w.baseAddress else { return }
                func run(_ pdx: UnsafeMutablePointer<S>?, _ pdw: UnsafeMutablePointer<S>?) {
                    ComputePath.current.run(loop: {
                        DepthwiseConvolutionKernels.backwardLoop(pdy, px, pw, pdx, pdw, g)
                    }, vectorized: {
                        DepthwiseConvolutionKernels.backward(pdy, px, pw, pdx, pdw, g)
                    })
                }
                func withDX(_ body: (UnsafeMutablePointer<S>?) -> Void) {
                    if dx != nil { dx!.withUnsafeMutableBufferPointer { body($0.baseAddress) } } else { body(nil) }
                }
                withDX { pdx in
                    if dw != nil { dw!.withUnsafeMutableBufferPointer { run(pdx, $0.baseAddress) } } else { run(pdx, nil) }
                }
            }
        }
    }
    return (dx, dw)
}
