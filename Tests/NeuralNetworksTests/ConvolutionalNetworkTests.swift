import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Convolutional layers and networks (C4W1): the notes' parameter counts and
/// LeNet-5 table, gradient checks in Double, training on images, files.
final class ConvolutionalNetworkTests: XCTestCase {
    /// C4W1-07: 10 filters of 3×3×3 with biases have 280 parameters.
    func testConvolutionLayerParameterCount() {
        var g = RandomGenerator(seed: 1)
        let layer = Conv2D<Float>(filterSize: 3, inputChannels: 3, filters: 10, generator: &g)
        XCTAssertEqual(layer.parameters.reduce(0) { $0 + $1.value.count }, 280)
        XCTAssertEqual(layer.W.value.shape, [3, 3, 3, 10])
        XCTAssertEqual(layer.b?.value.shape, [1, 1, 1, 10])
    }

    /// `useBias: false` (before batch norm, as torchvision's ResNets): 270
    /// parameters, no bias in the output, a gradient check, and a file that
    /// keeps the choice (old files, without the setting, have a bias).
    func testConvolutionWithoutBias() throws {
        var g = RandomGenerator(seed: 1)
        let layer = Conv2D<Double>(filterSize: 3, inputChannels: 3, filters: 10, useBias: false, generator: &g)
        XCTAssertNil(layer.b)
        XCTAssertEqual(layer.parameters.map(\.value.count), [270])
        XCTAssertTrue(layer.summary.hasSuffix("no bias)"), layer.summary)
        let x = Tensor<Double>(randomNormal: [2, 5, 5, 3], generator: &g)
        XCTAssertEqual(layer.forward(Variable(x), context: ForwardContext(training: false)).value, conv2D(x, filter: layer.W.value))
        let model = Sequential<Double>([
            Conv2D(filterSize: 3, inputChannels: 2, filters: 3, padding: .same, useBias: false, generator: &g), BatchNorm(channels: 3),
            Activation(.relu), GlobalAveragePool2D(), Dense(inputs: 3, outputs: 2, generator: &g),
        ], outputActivation: .softmax)
        let X = Tensor<Double>(randomNormal: [4, 4, 4, 2], generator: &g), Y = Tensor<Double>.oneHot([0, 1, 1, 0], classes: 2)
        assertGreat(gradientCheck(model, X, Y, loss: SoftmaxCrossEntropy()), "conv without bias → batch norm")
        let loaded = try savedAndLoaded(model)
        XCTAssertNil((loaded.layers[0] as! Conv2D<Double>).b)
        XCTAssertEqual(loaded.predict(X), model.predict(X))
        var settings = layer.configuration
        settings.values["useBias"] = nil
        XCTAssertNotNil(try Conv2D<Double>(configuration: settings).b, "a file without the setting")
    }

    /// C4W1-11: the LeNet-5 table row by row — output shape, activation size, parameters.
    func testLeNet5TableOfTheNotes() {
        var g = RandomGenerator(seed: 2)
        let model = Sequential<Float>.leNet5(generator: &g)
        let rows = model.layerTable(exampleShape: [32, 32, 3])
        let expected: [(String, [Int], Int, Int)] = [
            ("Conv2D", [28, 28, 8], 6272, 608), ("Activation", [28, 28, 8], 6272, 0), ("MaxPool2D", [14, 14, 8], 1568, 0),
            ("Conv2D", [10, 10, 16], 1600, 3216), ("Activation", [10, 10, 16], 1600, 0), ("MaxPool2D", [5, 5, 16], 400, 0),
            ("Flatten", [400, 1], 400, 0), ("Dense", [120, 1], 120, 48120), ("Activation", [120, 1], 120, 0),
            ("Dense", [84, 1], 84, 10164), ("Activation", [84, 1], 84, 0), ("Dense", [10, 1], 10, 850),
        ]
        XCTAssertEqual(rows.count, expected.count)
        for (row, (name, shape, size, parameters)) in zip(rows, expected) {
            XCTAssertTrue(row.layer.hasPrefix(name), "\(row.layer) vs \(name)")
            XCTAssertEqual(row.outputShape, shape, row.layer)
            XCTAssertEqual(row.size, size, row.layer)
            XCTAssertEqual(row.parameters, parameters, row.layer)
        }
        XCTAssertEqual(model.parameters.reduce(0) { $0 + $1.value.count }, 62_958)
        XCTAssertTrue(model.summary(exampleShape: [32, 32, 3]).contains("total params: 62958"))
        XCTAssertEqual(model.parameters.map(\.name), ["W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4", "W5", "b5"])
    }

    /// C4W3-08's small YOLO-style detector: each width a `conv → batch norm →
    /// ReLU → pool` stage halving the resolution, then a 3×3 and a 1×1
    /// convolution to `anchors·(5 + C)` logits per grid cell.
    func testTinyYOLOBuilderShapes() {
        var g = RandomGenerator(seed: 3)
        let grid = YOLOGrid(rows: 3, columns: 3, anchors: [AnchorBox(width: 0.5, height: 1.5), AnchorBox(width: 1.5, height: 0.5)], classes: 3)
        XCTAssertEqual(grid.channels, 16)
        let model = Sequential<Float>.tinyYOLO(grid: grid, size: 12, widths: [4, 8], generator: &g)
        let rows = model.layerTable(exampleShape: [12, 12, 3])
        XCTAssertEqual(rows.map(\.outputShape), [[12, 12, 4], [12, 12, 4], [12, 12, 4], [6, 6, 4], [6, 6, 8], [6, 6, 8], [6, 6, 8],
                                                 [3, 3, 8], [3, 3, 8], [3, 3, 8], [3, 3, 16]])
        let convolutions = model.layers.compactMap { $0 as? Conv2D<Float> }
        XCTAssertEqual(convolutions.map(\.W.value.shape), [[3, 3, 3, 4], [3, 3, 4, 8], [3, 3, 8, 8], [1, 1, 8, 16]])
        let x = Tensor<Float>(randomNormal: [2, 12, 12, 3], generator: &g)
        XCTAssertEqual(model.forward(Variable(x), context: ForwardContext(training: false)).value.shape, [2, 3, 3, 16])
    }

    /// Every convolutional layer inside a small network passes the notes' gradient check in Double.
    func testGradientCheckOfASmallConvolutionalNetwork() {
        var g = RandomGenerator(seed: 3)
        let model = Sequential<Double>([
            Conv2D(filterSize: 3, inputChannels: 2, filters: 3, padding: .same, generator: &g), Activation(.tanh),
            AveragePool2D(size: 2),
            Conv2D(filterSize: 2, inputChannels: 3, filters: 4, stride: 2, padding: .explicit(1), generator: &g), Activation(.tanh),
            Flatten(),
            Dense(inputs: 16, outputs: 3, generator: &g),
        ], outputActivation: .softmax)
        let X = Tensor<Double>(randomNormal: [4, 6, 6, 2], generator: &g)
        let Y = Tensor<Double>.oneHot([0, 2, 1, 2], classes: 3)
        assertGreat(gradientCheck(model, X, Y, loss: SoftmaxCrossEntropy()), "conv → avg pool → strided conv → dense")
        let pooled = Sequential<Double>([
            Conv2D(filterSize: 3, inputChannels: 2, filters: 3, generator: &g), MaxPool2D(size: 2), GlobalAveragePool2D(),
            Dense(inputs: 3, outputs: 3, generator: &g),
        ], outputActivation: .softmax)
        assertGreat(gradientCheck(pooled, X, Y, loss: SoftmaxCrossEntropy()), "conv → max pool → global average pool → dense")
    }

    /// Images are (m, n_H, n_W, n_C): fit batches along axis 0 and learns a
    /// task a convolution solves (is the bright bar vertical or horizontal?).
    func testFitTrainsOnImages() throws {
        var g = RandomGenerator(seed: 4)
        let m = 64
        var pixels = [Float](repeating: 0, count: m * 6 * 6)
        var labels = [Int]()
        for i in 0..<m {
            let vertical = i % 2 == 0, at = Int(g.nextUniform() * 6) % 6
            for k in 0..<6 { pixels[i * 36 + (vertical ? k * 6 + at : at * 6 + k)] = 1 }
            labels.append(vertical ? 1 : 0)
        }
        let X = Tensor<Float>(shape: [m, 6, 6, 1], scalars: pixels), Y = Tensor<Float>.oneHot(labels, classes: 2)
        let model = Sequential<Float>([
            Conv2D(filterSize: 3, inputChannels: 1, filters: 4, padding: .same, generator: &g), Activation(.relu),
            GlobalAveragePool2D(), Dense(inputs: 4, outputs: 2, generator: &g),
        ], outputActivation: .softmax)
        let history = try model.fit(X, Y, optimizer: Adam(learningRate: 0.05), configuration: TrainingConfiguration(epochs: 40, batchSize: 16, seed: 5))
        XCTAssertLessThan(history.costs.last!, history.costs.first! / 4)
        XCTAssertEqual(Metrics.accuracy(model.predict(X), Y), 1)
        // Mismatched example counts are a thrown error naming both shapes.
        XCTAssertThrowsError(try model.fit(X, Tensor<Float>.oneHot(Array(labels.dropLast()), classes: 2), optimizer: Adam(),
                                           configuration: TrainingConfiguration(epochs: 1))) { error in
            XCTAssertTrue("\(error)".contains("X has 64 examples but Y has 63"), "\(error)")
        }
    }

    /// A convolutional model saves and loads like any other, predictions bit for bit.
    func testConvolutionalModelRoundTrip() throws {
        var g = RandomGenerator(seed: 6)
        let model = Sequential<Float>([
            Conv2D(filterSize: 3, inputChannels: 1, filters: 2, stride: 2, padding: .same, generator: &g), Activation(.relu),
            MaxPool2D(size: 2, stride: 1, ties: .firstMaximum), AveragePool2D(size: 1), Flatten(),
            Dense(inputs: 8, outputs: 1, generator: &g),
        ], outputActivation: .sigmoid)
        let X = Tensor<Float>(randomNormal: [3, 6, 6, 1], generator: &g)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("cnn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let loaded = try Sequential<Float>.load(from: url)
        XCTAssertEqual(loaded.predict(X), model.predict(X))
        XCTAssertEqual(loaded.layers.map(\.summary), model.layers.map(\.summary))
    }
}

extension ConvolutionalNetworkTests {
    /// Batch norm over the channels of feature maps: statistics per channel over
    /// (m, n_H, n_W); a gradient check in training mode; files keep the mode.
    func testBatchNormOverChannels() throws {
        var g = RandomGenerator(seed: 8)
        let norm = BatchNorm<Double>(channels: 3)
        let x = Tensor<Double>(randomNormal: [4, 5, 5, 3], generator: &g) * 3 + 2
        let y = norm.forward(Variable(x), context: ForwardContext(training: true)).value
        let perChannel = y.reshaped(to: [-1, 3])
        for (mean, variance) in zip(perChannel.mean(axis: 0).scalars, perChannel.variance(axis: 0).scalars) {
            XCTAssertEqual(mean, 0, accuracy: 1e-12)
            XCTAssertEqual(variance, 1, accuracy: 1e-4)   // ε = 1e-5 in the denominator
        }
        let model = Sequential<Double>([
            Conv2D(filterSize: 3, inputChannels: 2, filters: 3, padding: .same, generator: &g), BatchNorm(channels: 3), Activation(.relu),
            GlobalAveragePool2D(), Dense(inputs: 3, outputs: 2, generator: &g),
        ], outputActivation: .softmax)
        let X = Tensor<Double>(randomNormal: [5, 4, 4, 2], generator: &g), Y = Tensor<Double>.oneHot([0, 1, 1, 0, 1], classes: 2)
        assertGreat(gradientCheck(model, X, Y, loss: SoftmaxCrossEntropy()), "conv → batch norm over channels → relu")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("bn-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try model.save(to: url)
        let loaded = try Sequential<Double>.load(from: url)
        XCTAssertEqual(loaded.predict(X), model.predict(X))
        XCTAssertEqual(loaded.layers[1].summary, "BatchNorm(channels: 3)")
    }
}

extension ConvolutionalNetworkTests {
    /// The other convolution layers inside models: gradient checks and a file round trip.
    func testDepthwiseTransposedOneAndThreeDimensionalLayers() throws {
        var g = RandomGenerator(seed: 10)
        let imageModel = Sequential<Double>([
            DepthwiseConv2D(filterSize: 3, channels: 2, padding: .same, generator: &g), Activation(.tanh),
            Conv2DTranspose(filterSize: 3, inputChannels: 2, filters: 3, stride: 2, padding: .explicit(1), outputPadding: 1, generator: &g),
            Activation(.tanh), GlobalAveragePool2D(), Dense(inputs: 3, outputs: 2, generator: &g),
        ], outputActivation: .softmax)
        let X = Tensor<Double>(randomNormal: [3, 3, 3, 2], generator: &g), Y = Tensor<Double>.oneHot([0, 1, 1], classes: 2)
        assertGreat(gradientCheck(imageModel, X, Y, loss: SoftmaxCrossEntropy()), "depthwise → transposed")
        XCTAssertEqual(imageModel.layerTable(exampleShape: [3, 3, 2])[2].outputShape, [6, 6, 3], "f = 3, p = 1, s = 2 doubles the grid")
        let volumeModel = Sequential<Double>([
            Conv3D(filterSize: 2, inputChannels: 1, filters: 2, generator: &g), Activation(.tanh), Flatten(),
            Dense(inputs: 2 * 2 * 2 * 2, outputs: 1, generator: &g),
        ], outputActivation: .sigmoid)
        let V = Tensor<Double>(randomNormal: [2, 3, 3, 3, 1], generator: &g), Yv = Tensor<Double>([[0, 1]])
        assertGreat(gradientCheck(volumeModel, V, Yv, loss: BinaryCrossEntropyWithLogits()), "Conv3D")
        let signalModel = Sequential<Double>([Conv1D(filterSize: 3, inputChannels: 2, filters: 2, padding: .same, generator: &g), Flatten(),
                                              Dense(inputs: 10, outputs: 1, generator: &g)], outputActivation: .sigmoid)
        let S = Tensor<Double>(randomNormal: [2, 5, 2], generator: &g)
        assertGreat(gradientCheck(signalModel, S, Yv, loss: BinaryCrossEntropyWithLogits()), "Conv1D")
        for model in [imageModel, volumeModel, signalModel] {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("layers-\(UUID().uuidString).safetensors")
            defer { try? FileManager.default.removeItem(at: url) }
            try model.save(to: url)
            XCTAssertEqual(try Sequential<Double>.load(from: url).layers.map(\.summary), model.layers.map(\.summary))
        }
    }
}
