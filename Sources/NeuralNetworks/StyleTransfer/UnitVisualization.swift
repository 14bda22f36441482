import Tensors

/// The input window an output position of a stack of layers sees: for a
/// position `i` of the last layer's output, input rows (or columns)
/// `i·jump + offset ..< i·jump + offset + size` (before clipping to the image).
///
/// Computed layer by layer with `size_l = size_{l−1} + (f − 1)·jump_{l−1}`,
/// `offset_l = offset_{l−1} − p·jump_{l−1}`, `jump_l = jump_{l−1}·s` for
/// convolutions and poolings of filter `f`, stride `s`, padding `p` (the
/// lower side's for `.same`); other layers (activations, batch norm) keep it.
public struct ReceptiveField: Equatable, Sendable {
    public var size: Int
    public var jump: Int
    public var offset: Int

    /// The field of `layers` applied in order to images of `inputSize` pixels per side.
    public init<S: TensorScalar>(layers: [any Layer<S>], inputSize: Int) {
        (size, jump, offset) = (1, 1, 0)
        var n = inputSize
        for layer in layers {
            let geometry: (f: Int, s: Int, padding: Padding)?
            switch layer {
            case let c as Conv2D<S>: geometry = (c.W.value.shape[0], c.stride, c.padding)
            case let c as DepthwiseConv2D<S>: geometry = (c.W.value.shape[0], c.stride, c.padding)
            case let p as MaxPool2D<S>: geometry = (p.size, p.stride, p.padding)
            case let p as AveragePool2D<S>: geometry = (p.size, p.stride, p.padding)
            default: geometry = nil
            }
            guard let (f, s, padding) = geometry else { continue }
            let before: Int
            switch padding {
            case .valid: before = 0
            case .explicit(let p): before = p
            case .same: before = Swift.max(0, ((n + s - 1) / s - 1) * s + f - n) / 2
            }
            size += (f - 1) * jump
            offset -= before * jump
            jump *= s
            n = convolutionOutputSize(inputSize: n, filterSize: f, stride: s, padding: padding)
        }
    }

    /// The input rows (or columns) output position `i` sees, clipped to `0..<inputSize`.
    public func window(_ i: Int, inputSize: Int) -> Range<Int> {
        Swift.max(0, i * jump + offset)..<Swift.min(inputSize, i * jump + offset + size)
    }
}

/// "What are deep ConvNets learning?" (C4W4-06; Zeiler & Fergus 2013): the
/// `count` image patches of `images (m, n_H, n_W, n_C)` that activate unit
/// (channel) `unit` of the last of `layers` the most. Each is the receptive
/// field of the position with that activation (clipped to the image), with
/// the activation; one patch per (image, position), strongest first, ties in
/// (image, row, column) order.
public func topActivatingPatches<S: TensorScalar>(
    layers: [any Layer<S>], unit: Int, images: Tensor<S>, count: Int = 9
) -> [(image: Int, rows: Range<Int>, columns: Range<Int>, activation: Double)] {
    require(images.rank == 4 && images.shape[1] == images.shape[2],
            "topActivatingPatches: images \(images.shape) must be square (m, n, n, n_C)")
    let activation = withoutGradients { () -> Tensor<S> in
        var a = Variable(images)
        let context = ForwardContext(training: false)
        for layer in layers { a = layer.forward(a, context: context) }
        return a.value
    }
    require(activation.rank == 4 && (0..<activation.shape[3]).contains(unit),
            "topActivatingPatches: unit \(unit) of an activation \(activation.shape)")
    let (m, h, w, c) = (activation.shape[0], activation.shape[1], activation.shape[2], activation.shape[3])
    let values = activation.scalars
    let positions = (0..<m * h * w).sorted { a, b in
        let (x, y) = (values[a * c + unit], values[b * c + unit])
        return x != y ? x > y : a < b
    }
    let field = ReceptiveField(layers: layers, inputSize: images.shape[1])
    return positions.prefix(count).map { p in
        let (i, r, q) = (p / (h * w), (p / w) % h, p % w)
        return (i, field.window(r, inputSize: images.shape[1]), field.window(q, inputSize: images.shape[2]), Double(values[p * c + unit]))
    }
}
