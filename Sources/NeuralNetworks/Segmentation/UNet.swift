import Tensors

/// U-Net (C4W3-10, -11; Ronneberger et al. 2015), for per-pixel classes.
public enum UNet {
    /// A U-Net for `(m, n_H, n_W, inputChannels)` images whose sides are
    /// divisible by `2^widths.count`:
    ///
    /// - contracting path: per entry of `widths`, two `3×3` same convolutions
    ///   with ReLU (the skip connection is taken here), then `2×2` max pooling;
    /// - bottom: two `3×3` convolutions of `2·widths.last` channels;
    /// - expanding path, in reverse: a `2×2` stride-2 transposed convolution
    ///   (doubling the resolution, halving the channels), concatenation with the
    ///   skip connection of the same resolution along the channel axis, two
    ///   `3×3` convolutions with ReLU;
    /// - a `1×1` convolution to `classes` logits per pixel, `(m, n_H, n_W, classes)`.
    ///
    /// Train with ``PixelwiseSoftmaxCrossEntropy``; the prediction is the per-pixel argmax.
    /// The original's unpadded convolutions and cropping are replaced by
    /// same padding, so the output has the input's size (as most implementations do).
    public static func make<S: TensorScalar>(inputChannels: Int, classes: Int, widths: [Int] = [16, 32],
                                             generator: inout RandomGenerator) -> GraphModel<S> {
        require(!widths.isEmpty && classes >= 2, "UNet: \(widths.count) levels and \(classes) classes")
        func convolutions(_ x: GraphNode<S>, _ input: Int, _ filters: Int) -> GraphNode<S> {
            let a = Activation<S>(.relu)(Conv2D<S>(filterSize: 3, inputChannels: input, filters: filters, padding: .same, generator: &generator)(x))
            return Activation<S>(.relu)(Conv2D<S>(filterSize: 3, inputChannels: filters, filters: filters, padding: .same, generator: &generator)(a))
        }
        let input = GraphNode<S>.input()
        var x = input, channels = inputChannels
        var skips: [(node: GraphNode<S>, channels: Int)] = []
        for width in widths {
            x = convolutions(x, channels, width)
            skips.append((x, width))
            x = MaxPool2D<S>(size: 2)(x)
            channels = width
        }
        x = convolutions(x, channels, 2 * channels)
        channels *= 2
        for skip in skips.reversed() {
            x = Conv2DTranspose<S>(filterSize: 2, inputChannels: channels, filters: skip.channels, stride: 2, generator: &generator)(x)
            x = Concatenate<S>(axis: -1)([skip.node, x])
            x = convolutions(x, 2 * skip.channels, skip.channels)
            channels = skip.channels
        }
        let logits = Conv2D<S>(filterSize: 1, inputChannels: channels, filters: classes, initializer: .xavier, generator: &generator)(x)
        return GraphModel(inputs: [input], outputs: [logits])
    }
}

/// Per-pixel softmax cross-entropy for segmentation: logits `(m, n_H, n_W, K)`
/// against one-hot targets of the same shape, softmax over the last (class)
/// axis, averaged over all `m·n_H·n_W` pixels (Keras's and PyTorch's default
/// "mean" reduction): `J = −(1/(m·n_H·n_W)) Σ_pixels Σ_k y_k log softmax(z)_k`,
/// `∂J/∂z = (softmax(z) − y)/(m·n_H·n_W)`.
public struct PixelwiseSoftmaxCrossEntropy<Scalar: TensorScalar>: Loss {
    public init() {}

    public func callAsFunction(_ Z: Variable<Scalar>, _ Y: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("PixelwiseSoftmaxCrossEntropy", Z.value, Y)
        require(Y.rank >= 2, "PixelwiseSoftmaxCrossEntropy: logits \(Y.shape) need a class axis last")
        let pixels = Scalar(Y.count / Y.shape.last!)
        let logProbabilities = logSoftmax(Z.value, axis: Y.rank - 1)
        return lossNode(Z, cost: -(Y * logProbabilities).sum() / pixels) { (exp(logProbabilities) - Y) / pixels }
    }
}

/// Segmentation scores from per-pixel class maps (`predicted` and `truth`
/// hold one class index per pixel, same length): per class, intersection over
/// union of the pixel sets `|P ∩ T| / |P ∪ T|` (`nil` for a class in neither),
/// and their mean over the classes present.
public func segmentationIoU(predicted: [Int], truth: [Int], classes: Int) -> (mean: Double, perClass: [Double?]) {
    require(predicted.count == truth.count, "segmentationIoU: \(predicted.count) predicted pixels, \(truth.count) true")
    var intersection = [Int](repeating: 0, count: classes), union = [Int](repeating: 0, count: classes)
    for (p, t) in zip(predicted, truth) {
        require((0..<classes).contains(p) && (0..<classes).contains(t), "segmentationIoU: class \(p) or \(t) outside 0..<\(classes)")
        if p == t { intersection[p] += 1; union[p] += 1 } else { union[p] += 1; union[t] += 1 }
    }
    let perClass = (0..<classes).map { union[$0] > 0 ? Double(intersection[$0]) / Double(union[$0]) : nil }
    let present = perClass.compactMap { $0 }
    return (present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count), perClass)
}

/// The class index with the largest value along the last axis, for each
/// position: `(…, K)` → `count / K` indices (the first on a tie).
public func argmaxLastAxis<S: TensorScalar>(_ t: Tensor<S>) -> [Int] {
    let k = t.shape.last ?? 1, values = t.scalars
    return (0..<t.count / k).map { p in
        var best = 0
        for c in 1..<k where values[p * k + c] > values[p * k + best] { best = c }
        return best
    }
}
