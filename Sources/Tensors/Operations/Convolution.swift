// Two-dimensional convolution (C4W1) in the notes' layouts: images
// (m, n_H, n_W, n_C) with channels last, filters (f, f, n_C_prev, n_C), bias
// (1, 1, 1, n_C). Like every deep-learning framework (and the notes, whose
// conv_single_step multiplies without flipping), "convolution" here is
// cross-correlation:
//
//   Z[i, h, w, c] = Σ_{a < f_h, b < f_w, k < n_C_prev} A_pad[i, h·s + a, w·s + b, k] · W[a, b, k, c] + b[c]
//
// with output size n_H = ⌊(n_H_prev + 2p − f)/s⌋ + 1.
//
// Loop path: the notes' nested loops over (i, h, w, c), one conv_single_step
// per output value. Vectorized path: an implicit GEMM — the patch matrix of
// the input (one row per output pixel, one column per filter tap; see
// `PatchMatrix`) times the filter read as a (f·f·n_C_prev) × n_C matrix; the
// patches are gathered straight into the GEMM's packed panels, never stored.
// A 1×1 convolution with stride 1 is the plain GEMM of the input viewed as an
// (m·n_H·n_W) × n_C_prev matrix. Backward: dW = Pᵀ·dZ (the packing reads P
// transposed); dA_prev of a stride-1 convolution is the convolution of dZ with
// the filter rotated by 180° and its channel axes swapped ("full" padding
// f − 1 − p); with stride > 1 each image's patch gradients dZ·Wᵀ are computed
// by GEMM and added back into place (col2im), images in parallel. Every path
// gives the same bits for any thread count.

/// How a convolution or pooling window meets the border of its input.
public enum Padding: Sendable, Hashable {
    /// No padding (the notes' "valid" convolution): `n_out = ⌊(n − f)/s⌋ + 1`.
    case valid
    /// Zero padding so that `n_out = ⌈n/s⌉` (`n_out = n` for stride 1, the notes'
    /// "same" convolution, `p = (f − 1)/2` for odd `f`). The total padding
    /// `max((n_out − 1)·s + f − n, 0)` is split with the extra row or column at
    /// the bottom or right, as TensorFlow and Keras do.
    case same
    /// `p` rows and columns of zeros on every side (the notes' `zero_pad`):
    /// `n_out = ⌊(n + 2p − f)/s⌋ + 1`.
    case explicit(Int)

    /// Padding before and after an axis of `size` for a window of `filter` and `stride`.
    func amounts(size: Int, filter: Int, stride: Int) -> (before: Int, after: Int) {
        switch self {
        case .valid: return (0, 0)
        case .explicit(let p): return (p, p)
        case .same:
            let out = (size + stride - 1) / stride
            let total = Swift.max((out - 1) * stride + filter - size, 0)
            return (total / 2, total - total / 2)
        }
    }
}

/// The output length of a convolution or pooling window along one axis:
/// `⌊(n + 2p − f)/s⌋ + 1` (C4W1-04; for `.same`, `⌈n/s⌉`). The notes' cases:
/// `n = 6, f = 3, p = 0, s = 1 → 4`; `n = 7, f = 3, p = 0, s = 2 → 3`.
public func convolutionOutputSize(inputSize n: Int, filterSize f: Int, stride s: Int = 1, padding: Padding = .valid) -> Int {
    let (before, after) = padding.amounts(size: n, filter: f, stride: s)
    return (n + before + after - f) / s + 1
}

/// The shapes of one 2-D convolution, checked.
struct Convolution2DGeometry: Sendable, Equatable {
    var batch: Int, height: Int, width: Int, channels: Int
    var filterHeight: Int, filterWidth: Int, filters: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int
    var outHeight: Int, outWidth: Int

    init(input: [Int], filter: [Int], stride: Int, padding: Padding, operation: String) {
        self.init(input: input, filter: filter, stride: stride, vertical: padding, horizontal: padding, operation: operation)
    }

    /// The general form: padding given per spatial axis (a 1-D convolution pads only its width).
    init(input: [Int], filter: [Int], stride: Int, vertical verticalPadding: Padding, horizontal horizontalPadding: Padding, operation: String) {
        if input.count != 4 || filter.count != 4 {
            shapeFailure(ShapeError(operation: operation, message: "input \(format(input)) must be (m, n_H, n_W, n_C) and filter \(format(filter)) (f, f, n_C_prev, n_C)"))
        }
        if filter[2] != input[3] {
            shapeFailure(ShapeError(operation: operation, message: "filter \(format(filter)) expects \(filter[2]) input channels, input \(format(input)) has \(input[3])"))
        }
        require(stride >= 1, "\(operation): stride \(stride) must be at least 1")
        for padding in [verticalPadding, horizontalPadding] {
            if case .explicit(let p) = padding { require(p >= 0, "\(operation): padding \(p) must not be negative") }
        }
        (batch, height, width, channels) = (input[0], input[1], input[2], input[3])
        (filterHeight, filterWidth, filters) = (filter[0], filter[1], filter[3])
        (strideH, strideW) = (stride, stride)
        let vertical = verticalPadding.amounts(size: height, filter: filterHeight, stride: stride)
        let horizontal = horizontalPadding.amounts(size: width, filter: filterWidth, stride: stride)
        (padTop, padLeft) = (vertical.before, horizontal.before)
        outHeight = (height + vertical.before + vertical.after - filterHeight) / stride + 1
        outWidth = (width + horizontal.before + horizontal.after - filterWidth) / stride + 1
        if filterHeight < 1 || filterWidth < 1 || height + vertical.before + vertical.after < filterHeight
            || width + horizontal.before + horizontal.after < filterWidth {
            shapeFailure(ShapeError(operation: operation, message: "filter \(format(filter)) does not fit input \(format(input)) with padding \(horizontalPadding)"))
        }
    }

    var outputShape: [Int] { [batch, outHeight, outWidth, filters] }
    var filterShape: [Int] { [filterHeight, filterWidth, channels, filters] }
    var taps: Int { filterHeight * filterWidth * channels }
    var outputPixels: Int { batch * outHeight * outWidth }

    var patches: PatchMatrix {
        PatchMatrix(height: height, width: width, channels: channels, filterHeight: filterHeight, filterWidth: filterWidth,
                    strideH: strideH, strideW: strideW, padTop: padTop, padLeft: padLeft,
                    outHeight: outHeight, outWidth: outWidth)
    }

    /// A 1×1 filter with stride 1 and no padding: the input is the patch matrix.
    var isPointwise: Bool {
        filterHeight == 1 && filterWidth == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0
    }

    /// Calls `body(a, b, row, column)` for every tap `(a, b)` of output pixel
    /// `(h, v)`'s window whose input pixel `(row, column)` lies inside the
    /// image (taps on the zero padding contribute nothing and are skipped),
    /// rows then columns — the order every kernel sums in.
    @inline(__always)
    func forEachTap(_ h: Int, _ v: Int, _ body: (_ a: Int, _ b: Int, _ row: Int, _ column: Int) -> Void) {
        for a in 0..<filterHeight {
            let row = h * strideH - padTop + a
            if row < 0 || row >= height { continue }
            for b in 0..<filterWidth {
                let column = v * strideW - padLeft + b
                if column < 0 || column >= width { continue }
                body(a, b, row, column)
            }
        }
    }

    /// The output columns whose whole window lies inside the image (no tap
    /// on the padding): `⌈p/s⌉ ≤ v ≤ ⌊(W − f + p)/s⌋`, empty if there are none.
    var interiorColumns: Range<Int> {
        let first = (padLeft + strideW - 1) / strideW
        let lastStart = width - filterWidth + padLeft   // v·s ≤ W − f + p
        let end = lastStart < 0 ? 0 : Swift.min(outWidth, lastStart / strideW + 1)
        return first < end ? first..<end : 0..<0
    }

    /// Multiply-adds of the direct algorithm.
    var multiplyAdds: Int { outputPixels * filters * taps }
}

/// Runs an implicit-GEMM product on the blocked kernel when large, the direct one otherwise.
func convolutionGEMM<S: TensorScalar>(_ g: GEMMProblem<S>) {
    #if DEBUG
    if g.m * g.n * g.k >= 64 * 64 * 64 { DebugBuildNotice.emitOnce() }
    #endif
    let kernel = GEMMConfiguration.kernel
    if g.m * g.n * g.k < GEMMConfiguration.blockingLimit {
        DirectGEMM.run(g, kernel: kernel, threads: true)
    } else {
        BlockedGEMM.run(g, kernel: kernel, threads: true)
    }
}

/// 2-D convolution (cross-correlation, as in the notes and every framework) of
/// `input` `(m, n_H_prev, n_W_prev, n_C_prev)` with `filter` `(f_h, f_w, n_C_prev, n_C)`,
/// plus `bias` `(1, 1, 1, n_C)` (or `[n_C]`) if given:
/// `Z[i, h, w, c] = Σ A_pad[i, h·s + a, w·s + b, k]·W[a, b, k, c] + b[c]`,
/// output `(m, n_H, n_W, n_C)` with `n_H = ⌊(n_H_prev + 2p − f)/s⌋ + 1`.
/// The notes' 6×6 image with a vertical edge convolved with the 3×3
/// vertical-edge filter `[[1, 0, −1]]×3` gives the 4×4 `[[0, 30, 30, 0]]×4`.
/// On the vectorized path, stride-1 3×3 filters with many channels and filters
/// use Winograd's F(2×2, 3×3) algorithm (2.25× fewer multiplications, results
/// equal up to rounding; see ``ConvolutionConfiguration/usesWinograd``).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv2D<S>(_ input: Tensor<S>, filter: Tensor<S>, bias: Tensor<S>? = nil, stride: Int = 1, padding: Padding = .valid) -> Tensor<S> {
    conv2D(input, filter: filter, bias: bias,
           geometry: Convolution2DGeometry(input: input.shape, filter: filter.shape, stride: stride, padding: padding, operation: "conv2D"))
}

@_specialize(where S == Float)
@_specialize(where S == Double)
func conv2D<S>(_ input: Tensor<S>, filter: Tensor<S>, bias: Tensor<S>?, geometry: Convolution2DGeometry) -> Tensor<S> {
    var output = Tensor<S>(shape: geometry.outputShape) { y in
        input.scalars.withUnsafeBufferPointer { x in
            filter.scalars.withUnsafeBufferPointer { w in
                guard let px = x.baseAddress, let pw = w.baseAddress, let py = y.baseAddress else {
                    y.initialize(repeating: 0)   // an empty batch or filter bank: nothing to sum
                    return
                }
                ComputePath.current.run(loop: {
                    ConvolutionKernels.forwardLoop(px, pw, py, geometry)
                }, vectorized: {
                    ConvolutionKernels.forward(px, pw, py, geometry)
                })
            }
        }
    }
    addChannelBias(bias, to: &output, operation: "conv2D")
    return output
}

/// The gradient of ``conv2D(_:filter:bias:stride:padding:)`` with respect to
/// its input: `dA_prev` of shape `inputShape` from `dZ` (the output's shape).
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv2DBackwardInput<S>(_ gradient: Tensor<S>, filter: Tensor<S>, inputShape: [Int], stride: Int = 1, padding: Padding = .valid) -> Tensor<S> {
    conv2DBackwardInput(gradient, filter: filter, geometry: Convolution2DGeometry(
        input: inputShape, filter: filter.shape, stride: stride, padding: padding, operation: "conv2DBackwardInput"))
}

@_specialize(where S == Float)
@_specialize(where S == Double)
func conv2DBackwardInput<S>(_ gradient: Tensor<S>, filter: Tensor<S>, geometry: Convolution2DGeometry) -> Tensor<S> {
    let inputShape = [geometry.batch, geometry.height, geometry.width, geometry.channels]
    if gradient.shape != geometry.outputShape {
        shapeFailure(ShapeError(operation: "conv2DBackwardInput", message: "gradient \(format(gradient.shape)) differs from the output shape \(format(geometry.outputShape))"))
    }
    return Tensor<S>(shape: inputShape) { dx in
        // Every path writes every element (no separate zero-filling pass).
        gradient.scalars.withUnsafeBufferPointer { dy in
            filter.scalars.withUnsafeBufferPointer { w in
                guard let pdy = dy.baseAddress, let pw = w.baseAddress, let pdx = dx.baseAddress else {
                    dx.initialize(repeating: 0)   // nothing flows back
                    return
                }
                ComputePath.current.run(loop: {
                    ConvolutionKernels.backwardInputLoop(pdy, pw, pdx, geometry)
                }, vectorized: {
                    ConvolutionKernels.backwardInput(pdy, pw, pdx, geometry)
                })
            }
        }
    }
}

/// The gradient of ``conv2D(_:filter:bias:stride:padding:)`` with respect to
/// its filter: `dW` of shape `filterShape` from the input `A_prev` and `dZ`.
@_specialize(where S == Float)
@_specialize(where S == Double)
public func conv2DBackwardFilter<S>(_ gradient: Tensor<S>, input: Tensor<S>, filterShape: [Int], stride: Int = 1, padding: Padding = .valid) -> Tensor<S> {
    conv2DBackwardFilter(gradient, input: input, geometry: Convolution2DGeometry(
        input: input.shape, filter: filterShape, stride: stride, padding: padding, operation: "conv2DBackwardFilter"))
}

@_specialize(where S == Float)
@_specialize(where S == Double)
func conv2DBackwardFilter<S>(_ gradient: Tensor<S>, input: Tensor<S>, geometry: Convolution2DGeometry) -> Tensor<S> {
    let filterShape = geometry.filterShape
    if gradient.shape != geometry.outputShape {
        shapeFailure(ShapeError(operation: "conv2DBackwardFilter", message: "gradient \(format(gradient.shape)) differs from the output shape \(format(geometry.outputShape))"))
    }
    return Tensor<S>(shape: filterShape) { dw in
        gradient.scalars.withUnsafeBufferPointer { dy in
            input.scalars.withUnsafeBufferPointer { x in
                guard let pdy = dy.baseAddress, let px = x.baseAddress, let pdw = dw.baseAddress else {
                    dw.initialize(repeating: 0)
                    return
                }
                ComputePath.current.run(loop: {
                    ConvolutionKernels.backwardFilterLoop(pdy, px, pdw, geometry)
                }, vectorized: {
                    ConvolutionKernels.backwardFilter(pdy, px, pdw, geometry)
                })
            }
        }
    }
}

/// Adds one bias value per channel (the last axis) to `output`, after
/// checking that `bias` holds exactly that many values.
func addChannelBias<S>(_ bias: Tensor<S>?, to output: inout Tensor<S>, operation: String) {
    guard let bias else { return }
    let channels = output.shape[output.rank - 1]
    if bias.count != channels {
        shapeFailure(ShapeError(operation: operation, message: "bias \(format(bias.shape)) must hold one value per output channel (\(channels))"))
    }
    output += bias.reshaped(to: [channels])
}
