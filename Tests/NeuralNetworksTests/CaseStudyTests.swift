import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// C4W2's case studies: costs, residual, inception and MobileNet blocks,
/// ResNet-50's size, compound scaling, augmentation, transfer learning.
final class CaseStudyTests: XCTestCase {
    /// C4W2-05: 2160 multiplications for the normal convolution, 432 + 240 = 672 depthwise-separable.
    func testMobileNetCostComparisonOfTheNotes() {
        XCTAssertEqual(ConvolutionCost.convolution(filterSize: 3, inputChannels: 3, outputHeight: 4, outputWidth: 4, filters: 5), 2160)
        let separable = ConvolutionCost.depthwiseSeparable(filterSize: 3, inputChannels: 3, outputHeight: 4, outputWidth: 4, filters: 5)
        XCTAssertEqual(separable.depthwise, 432)
        XCTAssertEqual(separable.pointwise, 240)
        XCTAssertEqual(separable.total, 672)
        XCTAssertEqual(Double(separable.total) / 2160, 1.0 / 5 + 1.0 / 9, accuracy: 1e-12, "1/n_C' + 1/f²")
    }

    /// Residual blocks pass the gradient check through both the main path and the shortcut.
    func testResidualBlocksPassGradientChecks() {
        var g = RandomGenerator(seed: 1)
        let x = GraphNode<Double>.input()
        var y = ResNet.basicBlock(x, inputChannels: 2, channels: 2, generator: &g)           // identity shortcut
        y = ResNet.basicBlock(y, inputChannels: 2, channels: 3, stride: 2, generator: &g)     // projection shortcut
        let model = GraphModel(inputs: [x], outputs: [Dense<Double>(inputs: 3, outputs: 2, generator: &g)(GlobalAveragePool2D<Double>()(y))],
                               outputActivation: .softmax)
        let X = Tensor<Double>(randomNormal: [3, 4, 4, 2], generator: &g), Y = Tensor<Double>.oneHot([0, 1, 1], classes: 2)
        assertGreat(gradientCheck(model, X, Y, loss: SoftmaxCrossEntropy()), "basic blocks")
        let z = GraphNode<Double>.input()
        let bottleneck = ResNet.identityBlock(ResNet.convolutionalBlock(z, inputChannels: 2, filters: (2, 2, 4), stride: 2, generator: &g),
                                              inputChannels: 4, filters: (2, 2, 4), generator: &g)
        let resnet = GraphModel(inputs: [z], outputs: [Dense<Double>(inputs: 4, outputs: 2, generator: &g)(GlobalAveragePool2D<Double>()(bottleneck))],
                                outputActivation: .softmax)
        assertGreat(gradientCheck(resnet, X, Y, loss: SoftmaxCrossEntropy()), "convolutional and identity blocks")
        XCTAssertEqual(resnet.predict(X).shape, [2, 3])
    }

    /// ResNet-50 has Keras's 25,583,592 trainable parameters for 1,000 classes; a
    /// narrow version runs end to end and keeps the stage shapes (56 → 56 → 28 → 14 → 7 for 224).
    func testResNet50() {
        var g = RandomGenerator(seed: 2)
        if isReleaseBuild {
            let full: GraphModel<Float> = ResNet.resNet50(generator: &g)
            XCTAssertEqual(full.parameters.reduce(0) { $0 + $1.value.count }, 25_583_592)
        }
        let narrow: GraphModel<Float> = ResNet.resNet50(inputShape: [32, 32, 3], classes: 5, widthDivisor: 16, generator: &g)
        let y = narrow.predict(Tensor<Float>(randomNormal: [2, 32, 32, 3], generator: &g))
        XCTAssertEqual(y.shape, [5, 2])
        XCTAssertEqual(y.sum(axis: 0).scalars.map { ($0 * 1000).rounded() }, [1000, 1000])
    }

    /// GoogLeNet's inception (3a): 192 channels in, 64 + 128 + 32 + 32 = 256 out, same spatial size.
    func testInceptionModule() {
        var g = RandomGenerator(seed: 3)
        let x = GraphNode<Float>.input()
        let module = GraphModel(inputs: [x], outputs: [Inception.module(x, inputChannels: 192, generator: &g)])
        let y = module.predict(Tensor<Float>(randomNormal: [1, 6, 6, 192], generator: &g))
        XCTAssertEqual(y.shape, [1, 6, 6, 256])
        XCTAssertEqual(Inception.Channels().output, 256)
        let parameters = module.parameters.reduce(0) { $0 + $1.value.count }
        // 1×1: 192·64+64; 3×3: 192·96+96 + 9·96·128+128; 5×5: 192·16+16 + 25·16·32+32; pool: 192·32+32
        XCTAssertEqual(parameters, 12_352 + 18_528 + 110_720 + 3_088 + 12_832 + 6_176)
    }

    /// MobileNet blocks: the v2 block adds its input only when it can; full networks run.
    func testMobileNetBlocksAndNetworks() {
        var g = RandomGenerator(seed: 4)
        let x = GraphNode<Float>.input()
        let residual = MobileNet.invertedResidualBlock(x, inputChannels: 8, outputChannels: 8, generator: &g)
        let strided = MobileNet.invertedResidualBlock(x, inputChannels: 8, outputChannels: 16, stride: 2, generator: &g)
        let v1Block = MobileNet.depthwiseSeparableBlock(x, inputChannels: 8, filters: 16, stride: 2, generator: &g)
        let model = GraphModel(inputs: [x], outputs: [residual, strided, v1Block])
        let outputs = model.forward([Variable(Tensor<Float>(randomNormal: [2, 6, 6, 8], generator: &g))], context: ForwardContext(training: false))
        XCTAssertEqual(outputs.map(\.shape), [[2, 6, 6, 8], [2, 3, 3, 16], [2, 3, 3, 16]])
        XCTAssertEqual(model.summary.components(separatedBy: "Add").count - 1, 1, "only the stride-1, same-width block is residual")
        let v1: GraphModel<Float> = MobileNet.mobileNetV1(inputShape: [32, 32, 3], classes: 4, widthMultiplier: 0.125, generator: &g)
        XCTAssertEqual(v1.predict(Tensor<Float>(randomNormal: [1, 32, 32, 3], generator: &g)).shape, [4, 1])
        XCTAssertEqual(v1.namedModules.filter { $0.module is DepthwiseConv2D<Float> }.count, 13)
        let v2: GraphModel<Float> = MobileNet.mobileNetV2(inputShape: [32, 32, 3], classes: 4, widthMultiplier: 0.25, generator: &g)
        XCTAssertEqual(v2.predict(Tensor<Float>(randomNormal: [1, 32, 32, 3], generator: &g)).shape, [4, 1])
        XCTAssertEqual(v2.namedModules.filter { $0.module is DepthwiseConv2D<Float> }.count, 17)
    }

    func testCompoundScaling() {
        let scaling = CompoundScaling()
        let m = scaling.multipliers(1)
        XCTAssertEqual(m.depth, 1.2, accuracy: 1e-12)
        XCTAssertEqual(m.width, 1.1, accuracy: 1e-12)
        XCTAssertEqual(m.resolution, 1.15, accuracy: 1e-12)
        XCTAssertEqual(scaling.flopsGrowth(1), 1.2 * 1.1 * 1.1 * 1.15 * 1.15, accuracy: 1e-12)
        XCTAssertEqual(scaling.flopsGrowth(1), 2, accuracy: 0.1, "α·β²·γ² ≈ 2")
        let b1 = scaling.scale(layers: [1, 2, 2], channels: [16, 24, 40], resolution: 224, phi: 1)
        XCTAssertEqual(b1.layers, [2, 3, 3])
        XCTAssertEqual(b1.channels, [16, 24, 48])
        XCTAssertEqual(b1.resolution, 258)
    }

    func testAugmentation() {
        let images = Tensor<Float>(shape: [2, 2, 3, 1], scalars: (0..<12).map(Float.init))
        XCTAssertEqual(ImageAugmentation.mirrored(images).scalars, [2, 1, 0, 5, 4, 3, 8, 7, 6, 11, 10, 9])
        let rgb = Tensor<Float>.zeros([1, 1, 1, 3])
        XCTAssertEqual(ImageAugmentation.colorShifted(rgb, by: [20, -20, 20]).scalars, [20, -20, 20], "the notes' (+20, −20, +20)")
        var g1 = RandomGenerator(seed: 5), g2 = RandomGenerator(seed: 5)
        let augment = ImageAugmentation(mirroring: true, crop: (2, 2), colorShift: 10)
        let big = Tensor<Float>(shape: [6, 4, 5, 3], scalars: (0..<360).map(Float.init))
        let a = augment(big, generator: &g1), b = augment(big, generator: &g2)
        XCTAssertEqual(a, b, "one seed, one result")
        XCTAssertEqual(a.shape, [6, 2, 2, 3])
        // Each crop is a 2×2 window of its own image, shifted per channel by at most 10.
        for i in 0..<6 {
            let window = a[i]
            let low = big[i].min() - 10, high = big[i].max() + 10
            XCTAssertTrue(window.scalars.allSatisfy { $0 >= low && $0 <= high })
        }
        XCTAssertNotEqual(a, augment(big, generator: &g1), "the next draw differs")
    }

    /// C4W2-07: a frozen base keeps its weights and batch-norm statistics; the new head learns.
    func testTransferLearningFreezesTheBase() throws {
        var g = RandomGenerator(seed: 6)
        let base = Sequential<Float>([
            Conv2D(filterSize: 3, inputChannels: 1, filters: 4, padding: .same, generator: &g), BatchNorm(channels: 4), Activation(.relu),
            GlobalAveragePool2D(), Dense(inputs: 4, outputs: 3, generator: &g),
        ], outputActivation: .softmax)
        let head = Dense<Float>(inputs: 4, outputs: 2, generator: &g)
        let model = base.transferred(head: [head], outputActivation: .softmax)
        XCTAssertEqual(model.layers.count, 5)
        let frozen = base.layers.prefix(4).flatMap { $0.parameters }.map { $0.value }
        let norm = base.layers[1] as! BatchNorm<Float>
        let statistics = (norm.runningMean, norm.runningVariance)
        let headBefore = head.W.value
        let X = Tensor<Float>(randomNormal: [8, 5, 5, 1], generator: &g), Y = Tensor<Float>.oneHot([0, 1, 0, 1, 1, 0, 0, 1], classes: 2)
        try model.fit(X, Y, optimizer: Adam(learningRate: 0.01), configuration: TrainingConfiguration(epochs: 5, batchSize: 4))
        XCTAssertEqual(base.layers.prefix(4).flatMap { $0.parameters }.map { $0.value }, frozen, "frozen weights unchanged")
        XCTAssertEqual(norm.runningMean, statistics.0, "a frozen batch norm keeps its statistics")
        XCTAssertEqual(norm.runningVariance, statistics.1)
        XCTAssertNotEqual(head.W.value, headBefore, "the head trains")
    }
}
