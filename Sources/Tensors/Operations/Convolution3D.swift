// 3-D convolution (C4W4-10): volumes (m, n_D, n_H, n_W, n_C) with filters
// (f_d, f_h, f_w, n_C, n_C'); output (m, n_D', n_H', n_W', n_C') with each
// spatial size ⌊(n + 2p − f)/s⌋ + 1 — the notes' 14×14×14×1 volume with 16
// filters of 5×5×5 gives 10×10×10×16.
//
// Vectorized path: a sum over the filter's depth taps of 2-D convolutions
// (each the implicit GEMM of conv2D): for depth tap a, the input planes
// d = d'·s − p + a of every output plane d' form one batch of images, convolved
// with the filter's plane a and added into output planes d'. Loop path: the
// nested loops over every output value and tap.

/// The depth axis of a 3-D convolution: which input plane each (output plane, tap) reads.
struct DepthGeometry {
    var depth: Int, filterDepth: Int, stride: Int, padFront: Int, outDepth: Int

    init(depth: Int, filterDepth: Int, stride: Int, padding: Padding) {
        let (before, after) = padding.amounts(size: depth, filter: filterDepth, stride: stride)
        (self.depth, self.filterDepth, self.stride, padFront) = (depth, filterDepth, stride, before)
        outDepth = (depth + before + after - filterDepth) / stride + 1
    }

    /// `(output plane, input plane)` pairs of depth tap `a` whose input plane is not padding.
    func planes(tap a: Int) -> (outputs: [Int], inputs: [Int]) {
        var outputs: [Int] = [], inputs: [Int] = []
        for o in 0..<outDepth {
            let d = o * stride - padFront + a
            if d >= 0 && d < depth { outputs.append(o); inputs.append(d) }
        }
        return (outputs, inputs)
    }
}

/// The checked shapes of a 3-D convolution: the depth axis and the 2-D geometry of each plane.
func convolution3DGeometry(input: [Int], filter: [Int], stride: Int, padding: Padding, operation: String) -> (DepthGeometry, Convolution2DGeometry) {
    if input.count != 5 || filter.count != 5 || filter[3] != input[4] {
        shapeFailure(ShapeError(operation: operation, message: "input \(format(input)) must be (m, n_D, n_H, n_W, n_C) and filter \(format(filter)) (f, f, f, n_C, n_C')"))
    }
    let depth = DepthGeometry(depth: input[1], filterDepth: filter[0], stride: stride, padding: padding)
    if depth.outDepth < 1 || filter[0] < 1 {
        shapeFailure(ShapeError(operation: operation, message: "filter \(format(filter)) does not fit input \(format(input)) with padding \(padding)"))
    }
    let planes = Convolution2DGeometry(input: [input[0], input[2], input[3], input[4]], filter: Array(filter[1...]), stride: stride,
                                       padding: padding, operation: operation)
    return (depth, planes)
}

/// 3-D convolution of `input` `(m, n_D, n_H, n_W, n_C)` with `filter`
/// `(f_d, f_h, f_w, n_C, n_C')`, plus `bias` (`n_C'` values):
/// `Z[i, d, h, w, c] = Σ A_pad[i, d·s + a, h·s + b, w·s + e, k]·W[a, b, e, k, c] + b[c]`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv3D<S>(_ input: Tensor<S>, filter: Tensor<S>, bias: Tensor<S>? = nil, stride: Int = 1, padding: Padding = .valid) -> Tensor<S> {
    let (depth, g) = convolution3DGeometry(input: input.shape, filter: filter.shape, stride: stride, padding: padding, operation: "conv3D")
    var output = ComputePath.current.run(loop: {
        Convolution3DKernels.forwardLoop(input, filter, depth, g)
    }, vectorized: { () -> Tensor<S> in
        var y = Tensor<S>.zeros([g.batch, depth.outDepth, g.outHeight, g.outWidth, g.filters])
        for a in 0..<depth.filterDepth {
            let (outputs, inputs) = depth.planes(tap: a)
            if outputs.isEmpty { continue }
            var planes = g
            planes.batch = g.batch * inputs.count
            let x = input.gathering(inputs, axis: 1).reshaped(to: [planes.batch, g.height, g.width, g.channels])
            let z = conv2D(x, filter: filter[a], bias: nil, geometry: planes)
            y[.all, outputs] += z.reshaped(to: [g.batch, outputs.count, g.outHeight, g.outWidth, g.filters])
        }
        return y
    })
    addChannelBias(bias, to: &output, operation: "conv3D")
    return output
}

/// The gradients of ``conv3D(_:filter:bias:stride:padding:)`` with respect to
/// its input and its filter, from `dZ`: per depth tap, conv2D's two gradients.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv3DBackward<S>(_ gradient: Tensor<S>, input: Tensor<S>, filter: Tensor<S>, stride: Int = 1, padding: Padding = .valid)
    -> (input: Tensor<S>, filter: Tensor<S>) {
    let (depth, g) = convolution3DGeometry(input: input.shape, filter: filter.shape, stride: stride, padding: padding, operation: "conv3DBackward")
    let outputShape = [g.batch, depth.outDepth, g.outHeight, g.outWidth, g.filters]
    if gradient.shape != outputShape {
        shapeFailure(ShapeError(operation: "conv3DBackward", message: "gradient \(format(gradient.shape)) differs from the output shape \(format(outputShape))"))
    }
    return ComputePath.current.run(loop: {
        Convolution3DKernels.backwardLoop(gradient, input, filter, depth, g)
    }, vectorized: {
        conv3DBackwardPlanes(gradient, input, filter, depth, g)
    })
}

/// The vectorized 3-D gradients: conv2D's two gradients per depth tap.
func conv3DBackwardPlanes<S>(_ gradient: Tensor<S>, _ input: Tensor<S>, _ filter: Tensor<S>, _ depth: DepthGeometry, _ g: Convolution2DGeometry)
    -> (input: Tensor<S>, filter: Tensor<S>) {
    var dx = Tensor<S>.zeros(input.shape), planesOfFilter: [Tensor<S>] = []
    for a in 0..<depth.filterDepth {
        let (outputs, inputs) = depth.planes(tap: a)
        var planes = g
        planes.batch = g.batch * inputs.count
        if outputs.isEmpty {
            planesOfFilter.append(.zeros(g.filterShape))
            continue
        }
        let dy = gradient.gathering(outputs, axis: 1).reshaped(to: [planes.batch, g.outHeight, g.outWidth, g.filters])
        let x = input.gathering(inputs, axis: 1).reshaped(to: [planes.batch, g.height, g.width, g.channels])
        dx[.all, inputs] += conv2DBackwardInput(dy, filter: filter[a], geometry: planes).reshaped(to: [g.batch, inputs.count, g.height, g.width, g.channels])
        planesOfFilter.append(conv2DBackwardFilter(dy, input: x, geometry: planes))
    }
    return (dx, Tensor.stack(planesOfFilter, axis: 0))
}

/// The nested loops of a 3-D convolution, the loop path's twin.
enum Convolution3DKernels {
    static func forwardLoop<S>(_ x: Tensor<S>, _ w: Tensor<S>, _ depth: DepthGeometry, _ g: Convolution2DGeometry) -> Tensor<S> {
        var y = Tensor<S>.zeros([g.batch, depth.outDepth, g.outHeight, g.outWidth, g.filters])
        let (D, H, W, C, K) = (depth.depth, g.height, g.width, g.channels, g.filters)
        let (fh, fw) = (g.filterHeight, g.filterWidth)
        for i in 0..<g.batch { for o in 0..<depth.outDepth { for h in 0..<g.outHeight { for v in 0..<g.outWidth { for c in 0..<K {
            var z: S = 0
            for a in 0..<depth.filterDepth {
                let d = o * depth.stride - depth.padFront + a
                if d < 0 || d >= D { continue }
                g.forEachTap(h, v) { b, e, row, column in
                    for k in 0..<C {
                        z += x.scalars[(((i * D + d) * H + row) * W + column) * C + k] * w.scalars[(((a * fh + b) * fw + e) * C + k) * K + c]
                    }
                }
            }
            y.scalars[(((i * depth.outDepth + o) * g.outHeight + h) * g.outWidth + v) * K + c] = z
        } } } } }
        return y
    }

    static func backwardLoop<S>(_ dy: Tensor<S>, _ x: Tensor<S>, _ w: Tensor<S>, _ depth: DepthGeometry, _ g: Convolution2DGeometry)
        -> (input: Tensor<S>, filter: Tensor<S>) {
        var dx = Tensor<S>.zeros(x.shape), dw = Tensor<S>.zeros(w.shape)
        let (D, H, W, C, K) = (depth.depth, g.height, g.width, g.channels, g.filters)
        let (fh, fw) = (g.filterHeight, g.filterWidth)
        for i in 0..<g.batch { for o in 0..<depth.outDepth { for h in 0..<g.outHeight { for v in 0..<g.outWidth { for c in 0..<K {
            let gradient = dy.scalars[(((i * depth.outDepth + o) * g.outHeight + h) * g.outWidth + v) * K + c]
            for a in 0..<depth.filterDepth {
                let d = o * depth.stride - depth.padFront + a
                if d < 0 || d >= D { continue }
                g.forEachTap(h, v) { b, e, row, column in
                    for k in 0..<C {
                        let pixel = (((i * D + d) * H + row) * W + column) * C + k, tap = (((a * fh + b) * fw + e) * C + k) * K + c
                        dx.scalars[pixel] += w.scalars[tap] * gradient
                        dw.scalars[tap] += x.scalars[pixel] * gradient
                    }
                }
            }
        } } } } }
        return (dx, dw)
    }
}
