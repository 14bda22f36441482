import Foundation
import Tensors

// The case-study networks of C4W2, built from layers on graph nodes (Keras's
// functional style), so residual additions and parallel branches are plain
// merges: a block takes the node it starts from and returns the node it ends at.

/// Multiplications of the convolutions compared in C4W2-05: filter parameters
/// × filter positions × filters.
public enum ConvolutionCost {
    /// A normal convolution: `f·f·n_C_prev × n_H·n_W × n_C` — the notes'
    /// 6×6×3 input with 5 filters of 3×3×3 costs 3·3·3 × 4·4 × 5 = 2160.
    public static func convolution(filterSize f: Int, inputChannels: Int, outputHeight: Int, outputWidth: Int, filters: Int) -> Int {
        f * f * inputChannels * outputHeight * outputWidth * filters
    }

    /// A depthwise-separable convolution, depthwise `f·f × n_H·n_W × n_C_prev`
    /// plus pointwise `n_C_prev × n_H·n_W × n_C`: the notes' 432 + 240 = 672,
    /// `672/2160 ≈ 0.31 = 1/n_C + 1/f²`.
    public static func depthwiseSeparable(filterSize f: Int, inputChannels: Int, outputHeight: Int, outputWidth: Int, filters: Int)
        -> (depthwise: Int, pointwise: Int, total: Int) {
        let depthwise = f * f * outputHeight * outputWidth * inputChannels
        let pointwise = inputChannels * outputHeight * outputWidth * filters
        return (depthwise, pointwise, depthwise + pointwise)
    }
}

/// Residual networks (C4W2-02): `a[l+2] = g(z[l+2] + a[l])`, with a 1×1
/// projection on the shortcut when the shapes differ.
public enum ResNet {
    /// The basic block (ResNet-18/34, the notes' two-layer form): two 3×3
    /// convolutions with batch norm, the input added before the last ReLU.
    /// With `stride > 1` or a change of channels the shortcut is a 1×1
    /// convolution with that stride, then batch norm. The convolutions have
    /// biases as in the course's Keras assignment; `convolutionBias: false`
    /// builds torchvision's `BasicBlock`, whose convolutions have none (batch
    /// norm's `β` takes their role).
    public static func basicBlock<S: TensorScalar>(
        _ x: GraphNode<S>, inputChannels: Int, channels: Int, stride: Int = 1, convolutionBias: Bool = true, generator: inout RandomGenerator
    ) -> GraphNode<S> {
        var main = Conv2D<S>(filterSize: 3, inputChannels: inputChannels, filters: channels, stride: stride, padding: .same,
                             useBias: convolutionBias, generator: &generator)(x)
        main = Activation<S>(.relu)(BatchNorm<S>(channels: channels)(main))
        main = Conv2D<S>(filterSize: 3, inputChannels: channels, filters: channels, padding: .same, useBias: convolutionBias,
                         generator: &generator)(main)
        main = BatchNorm<S>(channels: channels)(main)
        let shortcut = stride == 1 && inputChannels == channels ? x
            : BatchNorm<S>(channels: channels)(Conv2D<S>(filterSize: 1, inputChannels: inputChannels, filters: channels, stride: stride,
                                                          useBias: convolutionBias, generator: &generator)(x))
        return Activation<S>(.relu)(Add<S>()([main, shortcut]))
    }

    /// The bottleneck identity block (ResNet-50): 1×1 (F₁) → f×f (F₂, same) →
    /// 1×1 (F₃), each with batch norm, ReLU after the first two and after the
    /// addition of the unchanged input (`inputChannels` must equal F₃).
    public static func identityBlock<S: TensorScalar>(
        _ x: GraphNode<S>, inputChannels: Int, filters: (Int, Int, Int), filterSize: Int = 3, generator: inout RandomGenerator
    ) -> GraphNode<S> {
        require(inputChannels == filters.2, "ResNet.identityBlock: the input's \(inputChannels) channels must equal F₃ = \(filters.2)")
        let main = bottleneck(x, inputChannels: inputChannels, filters: filters, filterSize: filterSize, stride: 1, generator: &generator)
        return Activation<S>(.relu)(Add<S>()([main, x]))
    }

    /// The bottleneck convolutional block: the identity block's path with
    /// `stride` on its first 1×1 convolution, and a 1×1 convolution (F₃,
    /// `stride`) with batch norm on the shortcut so the shapes match.
    public static func convolutionalBlock<S: TensorScalar>(
        _ x: GraphNode<S>, inputChannels: Int, filters: (Int, Int, Int), filterSize: Int = 3, stride: Int = 2, generator: inout RandomGenerator
    ) -> GraphNode<S> {
        let main = bottleneck(x, inputChannels: inputChannels, filters: filters, filterSize: filterSize, stride: stride, generator: &generator)
        let shortcut = BatchNorm<S>(channels: filters.2)(
            Conv2D<S>(filterSize: 1, inputChannels: inputChannels, filters: filters.2, stride: stride, generator: &generator)(x))
        return Activation<S>(.relu)(Add<S>()([main, shortcut]))
    }

    static func bottleneck<S: TensorScalar>(
        _ x: GraphNode<S>, inputChannels: Int, filters: (Int, Int, Int), filterSize: Int, stride: Int, generator: inout RandomGenerator
    ) -> GraphNode<S> {
        var a = Conv2D<S>(filterSize: 1, inputChannels: inputChannels, filters: filters.0, stride: stride, generator: &generator)(x)
        a = Activation<S>(.relu)(BatchNorm<S>(channels: filters.0)(a))
        a = Conv2D<S>(filterSize: filterSize, inputChannels: filters.0, filters: filters.1, padding: .same, generator: &generator)(a)
        a = Activation<S>(.relu)(BatchNorm<S>(channels: filters.1)(a))
        a = Conv2D<S>(filterSize: 1, inputChannels: filters.1, filters: filters.2, generator: &generator)(a)
        return BatchNorm<S>(channels: filters.2)(a)
    }

    /// ResNet-50 (Keras's `ResNet50` layout): 7×7/2 convolution (64) → batch
    /// norm → ReLU → 3×3/2 max pooling → stages of [3, 4, 6, 3] bottleneck
    /// blocks with filters (64, 64, 256), (128, 128, 512), (256, 256, 1024),
    /// (512, 512, 2048), the first block of each a convolutional block (stride
    /// 1 in the first stage, 2 after) → global average pooling → dense softmax.
    /// 25,583,592 trainable parameters for 1,000 classes, as Keras's.
    /// `widthDivisor` divides every channel count (for small experiments).
    public static func resNet50<S: TensorScalar>(
        inputShape: [Int] = [224, 224, 3], classes: Int = 1000, widthDivisor: Int = 1, generator: inout RandomGenerator
    ) -> GraphModel<S> {
        require(inputShape.count == 3 && widthDivisor >= 1, "ResNet.resNet50: inputShape \(inputShape) must be (n_H, n_W, n_C)")
        func width(_ c: Int) -> Int { Swift.max(1, c / widthDivisor) }
        let input = GraphNode<S>.input()
        var x = Conv2D<S>(filterSize: 7, inputChannels: inputShape[2], filters: width(64), stride: 2, padding: .explicit(3), generator: &generator)(input)
        x = Activation<S>(.relu)(BatchNorm<S>(channels: width(64))(x))
        x = MaxPool2D<S>(size: 3, stride: 2, padding: .explicit(1))(x)
        var channels = width(64)
        for (stage, (blocks, filters)) in zip([3, 4, 6, 3], [(64, 64, 256), (128, 128, 512), (256, 256, 1024), (512, 512, 2048)]).enumerated() {
            let f = (width(filters.0), width(filters.1), width(filters.2))
            x = convolutionalBlock(x, inputChannels: channels, filters: f, stride: stage == 0 ? 1 : 2, generator: &generator)
            channels = f.2
            for _ in 1..<blocks { x = identityBlock(x, inputChannels: channels, filters: f, generator: &generator) }
        }
        x = GlobalAveragePool2D<S>()(x)
        let logits = Dense<S>(inputs: channels, outputs: classes, generator: &generator)(x)
        return GraphModel(inputs: [input], outputs: [logits], outputActivation: .softmax)
    }
}

/// The inception module (C4W2-04, GoogLeNet): parallel 1×1, 3×3 and 5×5
/// convolutions and 3×3 max pooling on the same input, concatenated along the
/// channels; 1×1 bottlenecks before the 3×3 and 5×5 convolutions and after
/// the pooling keep the cost down.
public enum Inception {
    /// Channel counts of one module; the defaults are GoogLeNet's inception (3a)
    /// on a 28×28×192 input: 64 + 128 + 32 + 32 = 256 output channels.
    public struct Channels: Sendable, Equatable {
        public var oneByOne = 64, threeByThreeReduce = 96, threeByThree = 128, fiveByFiveReduce = 16, fiveByFive = 32, poolProjection = 32
        public init() {}
        public var output: Int { oneByOne + threeByThree + fiveByFive + poolProjection }
    }

    /// One module on `x` (`inputChannels` channels); the output keeps the
    /// spatial size and has `channels.output` channels. Each convolution is
    /// followed by ReLU.
    public static func module<S: TensorScalar>(
        _ x: GraphNode<S>, inputChannels: Int, channels: Channels = Channels(), generator: inout RandomGenerator
    ) -> GraphNode<S> {
        func conv(_ node: GraphNode<S>, _ f: Int, _ input: Int, _ filters: Int) -> GraphNode<S> {
            Activation<S>(.relu)(Conv2D<S>(filterSize: f, inputChannels: input, filters: filters, padding: .same, generator: &generator)(node))
        }
        let a = conv(x, 1, inputChannels, channels.oneByOne)
        let b = conv(conv(x, 1, inputChannels, channels.threeByThreeReduce), 3, channels.threeByThreeReduce, channels.threeByThree)
        let c = conv(conv(x, 1, inputChannels, channels.fiveByFiveReduce), 5, channels.fiveByFiveReduce, channels.fiveByFive)
        let d = conv(MaxPool2D<S>(size: 3, stride: 1, padding: .same)(x), 1, inputChannels, channels.poolProjection)
        return Concatenate<S>(axis: -1)([a, b, c, d])
    }
}

/// MobileNet (C4W2-05): depthwise-separable convolutions.
public enum MobileNet {
    /// v1's block: 3×3 depthwise (stride `stride`) → batch norm → ReLU → 1×1
    /// pointwise (`filters`) → batch norm → ReLU.
    public static func depthwiseSeparableBlock<S: TensorScalar>(
        _ x: GraphNode<S>, inputChannels: Int, filters: Int, stride: Int = 1, generator: inout RandomGenerator
    ) -> GraphNode<S> {
        var a = DepthwiseConv2D<S>(filterSize: 3, channels: inputChannels, stride: stride, padding: .same, generator: &generator)(x)
        a = Activation<S>(.relu)(BatchNorm<S>(channels: inputChannels)(a))
        a = Conv2D<S>(filterSize: 1, inputChannels: inputChannels, filters: filters, generator: &generator)(a)
        return Activation<S>(.relu)(BatchNorm<S>(channels: filters)(a))
    }

    /// v2's bottleneck: 1×1 expansion (`expansion × inputChannels`) → batch
    /// norm → ReLU6 → 3×3 depthwise (stride) → batch norm → ReLU6 → 1×1
    /// projection (`outputChannels`) → batch norm, no activation (linear
    /// bottleneck); the input is added when stride is 1 and the channels match.
    public static func invertedResidualBlock<S: TensorScalar>(
        _ x: GraphNode<S>, inputChannels: Int, outputChannels: Int, expansion: Int = 6, stride: Int = 1, generator: inout RandomGenerator
    ) -> GraphNode<S> {
        let expanded = inputChannels * expansion
        var a = x
        if expansion != 1 {
            a = Conv2D<S>(filterSize: 1, inputChannels: inputChannels, filters: expanded, generator: &generator)(a)
            a = Activation<S>(.relu6)(BatchNorm<S>(channels: expanded)(a))
        }
        a = DepthwiseConv2D<S>(filterSize: 3, channels: expanded, stride: stride, padding: .same, generator: &generator)(a)
        a = Activation<S>(.relu6)(BatchNorm<S>(channels: expanded)(a))
        a = Conv2D<S>(filterSize: 1, inputChannels: expanded, filters: outputChannels, generator: &generator)(a)
        a = BatchNorm<S>(channels: outputChannels)(a)
        return stride == 1 && inputChannels == outputChannels ? Add<S>()([a, x]) : a
    }

    /// MobileNet v1: a 3×3/2 convolution (32) then the 13 depthwise-separable
    /// blocks of the paper, global average pooling and a dense softmax;
    /// `widthMultiplier` (α) scales every channel count.
    public static func mobileNetV1<S: TensorScalar>(
        inputShape: [Int] = [224, 224, 3], classes: Int = 1000, widthMultiplier: Double = 1, generator: inout RandomGenerator
    ) -> GraphModel<S> {
        func width(_ c: Int) -> Int { Swift.max(1, Int((Double(c) * widthMultiplier).rounded())) }
        let input = GraphNode<S>.input()
        var x = Conv2D<S>(filterSize: 3, inputChannels: inputShape[2], filters: width(32), stride: 2, padding: .same, generator: &generator)(input)
        x = Activation<S>(.relu)(BatchNorm<S>(channels: width(32))(x))
        var channels = width(32)
        let blocks: [(Int, Int)] = [(64, 1), (128, 2), (128, 1), (256, 2), (256, 1), (512, 2),
                                    (512, 1), (512, 1), (512, 1), (512, 1), (512, 1), (1024, 2), (1024, 1)]
        for (filters, stride) in blocks {
            x = depthwiseSeparableBlock(x, inputChannels: channels, filters: width(filters), stride: stride, generator: &generator)
            channels = width(filters)
        }
        x = GlobalAveragePool2D<S>()(x)
        return GraphModel(inputs: [input], outputs: [Dense<S>(inputs: channels, outputs: classes, generator: &generator)(x)],
                          outputActivation: .softmax)
    }

    /// MobileNet v2: a 3×3/2 convolution (32), the 17 inverted-residual blocks
    /// of the paper (t, c, n, s) = (1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2),
    /// (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1), a 1×1
    /// convolution to 1280, global average pooling and a dense softmax.
    public static func mobileNetV2<S: TensorScalar>(
        inputShape: [Int] = [224, 224, 3], classes: Int = 1000, widthMultiplier: Double = 1, generator: inout RandomGenerator
    ) -> GraphModel<S> {
        func width(_ c: Int) -> Int { Swift.max(1, Int((Double(c) * widthMultiplier).rounded())) }
        let input = GraphNode<S>.input()
        var x = Conv2D<S>(filterSize: 3, inputChannels: inputShape[2], filters: width(32), stride: 2, padding: .same, generator: &generator)(input)
        x = Activation<S>(.relu6)(BatchNorm<S>(channels: width(32))(x))
        var channels = width(32)
        for (t, c, n, s) in [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)] {
            for i in 0..<n {
                x = invertedResidualBlock(x, inputChannels: channels, outputChannels: width(c), expansion: t, stride: i == 0 ? s : 1,
                                          generator: &generator)
                channels = width(c)
            }
        }
        let last = Swift.max(1280, width(1280))
        x = Conv2D<S>(filterSize: 1, inputChannels: channels, filters: last, generator: &generator)(x)
        x = GlobalAveragePool2D<S>()(Activation<S>(.relu6)(BatchNorm<S>(channels: last)(x)))
        return GraphModel(inputs: [input], outputs: [Dense<S>(inputs: last, outputs: classes, generator: &generator)(x)],
                          outputActivation: .softmax)
    }
}

/// EfficientNet's compound scaling (C4W2-06; Tan & Le 2019): one coefficient
/// φ scales depth by `α^φ`, width by `β^φ` and resolution by `γ^φ`, with
/// `α·β²·γ² ≈ 2` so that each step of φ roughly doubles the FLOPs. The
/// paper's grid search on the B0 baseline gave α = 1.2, β = 1.1, γ = 1.15.
public struct CompoundScaling: Sendable, Equatable {
    public var depth: Double, width: Double, resolution: Double

    public init(depth: Double = 1.2, width: Double = 1.1, resolution: Double = 1.15) {
        (self.depth, self.width, self.resolution) = (depth, width, resolution)
    }

    /// Multipliers for coefficient φ: `(α^φ, β^φ, γ^φ)`.
    public func multipliers(_ phi: Double) -> (depth: Double, width: Double, resolution: Double) {
        (Foundation.pow(depth, phi), Foundation.pow(width, phi), Foundation.pow(resolution, phi))
    }

    /// A baseline scaled by φ: layer counts rounded up, channel counts rounded
    /// to the nearest multiple of `divisor` (never down by more than 10 %, as
    /// the reference implementation does), resolution rounded.
    public func scale(layers: [Int], channels: [Int], resolution r: Int, phi: Double, divisor: Int = 8)
        -> (layers: [Int], channels: [Int], resolution: Int) {
        let m = multipliers(phi)
        let scaledLayers = layers.map { Int((Double($0) * m.depth).rounded(.up)) }
        let scaledChannels = channels.map { c -> Int in
            let target = Double(c) * m.width
            var rounded = Swift.max(divisor, Int((target + Double(divisor) / 2) / Double(divisor)) * divisor)
            if Double(rounded) < 0.9 * target { rounded += divisor }
            return rounded
        }
        return (scaledLayers, scaledChannels, Int((Double(r) * m.resolution).rounded()))
    }

    /// FLOPs grow by about `(α·β²·γ²)^φ`.
    public func flopsGrowth(_ phi: Double) -> Double { Foundation.pow(depth * width * width * resolution * resolution, phi) }
}

extension Sequential {
    /// Transfer learning (C4W2-07): a new model made of this model's first
    /// `keeping` layers (all but the last by default) and `head`, with the kept
    /// layers frozen — their parameters receive no updates and their batch
    /// norms run on their running statistics — unless `fineTuning` is true.
    /// The kept layers are shared with this model, not copied.
    public func transferred(keeping count: Int? = nil, head: [any Layer<Scalar>], fineTuning: Bool = false,
                            outputActivation: OutputActivation) -> Sequential {
        let kept = Array(layers.prefix(count ?? Swift.max(layers.count - 1, 0)))
        for layer in kept { layer.setTrainable(fineTuning) }
        return Sequential(kept + head, outputActivation: outputActivation)
    }
}
