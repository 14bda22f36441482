import Foundation
import NeuralNetworks
import Tensors

/// Convolution and pooling on channels-last images, named like the `op`
/// field of `shared/bench/conv.py` and `cnn.py` so rows join with the peers'
/// (compare with their `channels_last` rows). GFLOPS count 2 × the
/// multiply-adds of the direct algorithm, fwd+bwd 3 × fwd (dX and dW); the
/// pools report GB/s of minimum traffic as conv.py counts it.
func convolutionSuite(_ h: inout Harness) {
    h.note("\n== conv: convolution and pooling, channels last (m, n_H, n_W, n_C), Float ==")
    var g = RandomGenerator(seed: 12)
    let n = h.quick ? 4 : 32
    let threads = "\(Parallelism.maxThreads) threads"

    struct ConvCase { var name: String, channels: Int, size: Int, filters: Int, filter: Int, stride: Int, padding: Padding }
    let cases = [
        ConvCase(name: "N\(n) C64 56x56 K64 3x3", channels: 64, size: 56, filters: 64, filter: 3, stride: 1, padding: .explicit(1)),
        ConvCase(name: "N\(n) C64 56x56 K256 1x1", channels: 64, size: 56, filters: 256, filter: 1, stride: 1, padding: .valid),
        ConvCase(name: "N\(n) C64 56x56 K128 3x3 s2", channels: 64, size: 56, filters: 128, filter: 3, stride: 2, padding: .explicit(1)),
    ]
    for c in cases where h.selects("conv2d fwd \(c.name)") || h.selects("conv2d fwd+bwd \(c.name)") {
        let x = Tensor<Float>(randomNormal: [n, c.size, c.size, c.channels], generator: &g)
        let w = Tensor<Float>(randomNormal: [c.filter, c.filter, c.channels, c.filters], standardDeviation: 0.05, generator: &g)
        let y = conv2D(x, filter: w, stride: c.stride, padding: c.padding)
        let dy = Tensor<Float>(randomNormal: y.shape, generator: &g)
        let flops = 2 * Double(y.count) * Double(c.filter * c.filter * c.channels)
        h.measure("conv", "conv2d fwd \(c.name)", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gflops, work: flops) {
            consume(conv2D(x, filter: w, stride: c.stride, padding: c.padding))
        }
        h.measure("conv", "conv2d fwd+bwd \(c.name)", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gflops, work: 3 * flops) {
            consume(conv2D(x, filter: w, stride: c.stride, padding: c.padding))
            consume(conv2DBackwardInput(dy, filter: w, inputShape: x.shape, stride: c.stride, padding: c.padding))
            consume(conv2DBackwardFilter(dy, input: x, filterShape: w.shape, stride: c.stride, padding: c.padding))
        }
        if c.filter == 3 && c.stride == 1 {
            // The same case on the direct (indirect-GEMM) algorithm, without Winograd's
            // F(2×2, 3×3) that the rows above take (GFLOPS count the direct algorithm's work, as conv.py).
            let saved = ConvolutionConfiguration.usesWinograd
            ConvolutionConfiguration.usesWinograd = false
            defer { ConvolutionConfiguration.usesWinograd = saved }
            h.measure("conv", "conv2d fwd \(c.name)", variant: "direct (no Winograd), \(threads)", shape: "\(y.shape)", metric: .gflops, work: flops) {
                consume(conv2D(x, filter: w, stride: c.stride, padding: c.padding))
            }
        }
    }

    // Depthwise 3×3 (MobileNet) and transposed 2×2 s2 (U-Net) as conv.py's "dw" and "T" ops.
    if h.selects("conv2d fwd N\(n) C128 56x56 K128 3x3 depthwise") || h.selects("conv2d fwd+bwd N\(n) C128 56x56 K128 3x3 depthwise") {
        let x = Tensor<Float>(randomNormal: [n, 56, 56, 128], generator: &g)
        let w = Tensor<Float>(randomNormal: [3, 3, 128, 1], standardDeviation: 0.1, generator: &g)
        let y = depthwiseConv2D(x, filter: w, padding: .explicit(1))
        let dy = Tensor<Float>(randomNormal: y.shape, generator: &g)
        let flops = 2 * Double(y.count) * 9
        h.measure("conv", "conv2d fwd N\(n) C128 56x56 K128 3x3 depthwise", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gflops, work: flops) {
            consume(depthwiseConv2D(x, filter: w, padding: .explicit(1)))
        }
        h.measure("conv", "conv2d fwd+bwd N\(n) C128 56x56 K128 3x3 depthwise", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gflops,
                  work: 3 * flops) {
            consume(depthwiseConv2D(x, filter: w, padding: .explicit(1)))
            consume(depthwiseConv2DBackward(dy, input: x, filter: w, padding: .explicit(1)))
        }
    }
    if h.selects("conv_transpose2d fwd N\(n) C64 28x28 K32 2x2 s2") || h.selects("conv_transpose2d fwd+bwd N\(n) C64 28x28 K32 2x2 s2") {
        let x = Tensor<Float>(randomNormal: [n, 28, 28, 64], generator: &g)
        let w = Tensor<Float>(randomNormal: [2, 2, 32, 64], standardDeviation: 0.1, generator: &g)
        let y = convTranspose2D(x, filter: w, stride: 2)
        let dy = Tensor<Float>(randomNormal: y.shape, generator: &g)
        let flops = 2 * Double(x.count) * Double(2 * 2 * 32)
        h.measure("conv", "conv_transpose2d fwd N\(n) C64 28x28 K32 2x2 s2", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gflops, work: flops) {
            consume(convTranspose2D(x, filter: w, stride: 2))
        }
        let xv = Variable(x, requiresGradient: true), wv = Variable(w, requiresGradient: true)
        h.measure("conv", "conv_transpose2d fwd+bwd N\(n) C64 28x28 K32 2x2 s2", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gflops,
                  work: 3 * flops) {
            xv.gradient = nil
            wv.gradient = nil
            GradientTape.$isRecording.withValue(true) { convTranspose2D(xv, filter: wv, stride: 2) }.backward(seed: dy)
        }
    }

    convolutionalNetworkSteps(&h)
    leNetLayerBreakdown(&h)

    for maximum in [true, false] where ["fwd", "fwd+bwd"].contains(where: { h.selects("\(maximum ? "max_pool2d" : "avg_pool2d") \($0) N\(n) C64 56x56 2x2 s2") }) {
        let x = Tensor<Float>(randomNormal: [n, 56, 56, 64], generator: &g)
        let name = (maximum ? "max_pool2d" : "avg_pool2d")
        let y = maximum ? maxPool2D(x, size: 2) : averagePool2D(x, size: 2)
        let dy = Tensor<Float>(randomNormal: y.shape, generator: &g)
        let forwardBytes = 4 * Double(x.count + y.count)
        let backwardBytes = 4 * Double(y.count + x.count + (maximum ? x.count : 0))
        h.measure("conv", "\(name) fwd N\(n) C64 56x56 2x2 s2", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gbPerSecond, work: forwardBytes) {
            consume(maximum ? maxPool2D(x, size: 2) : averagePool2D(x, size: 2))
        }
        h.measure("conv", "\(name) fwd+bwd N\(n) C64 56x56 2x2 s2", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gbPerSecond,
                  work: forwardBytes + backwardBytes) {
            let out = maximum ? maxPool2D(x, size: 2) : averagePool2D(x, size: 2)
            consume(maximum ? maxPool2DBackward(dy, input: x, output: out, size: 2, ties: .firstMaximum)
                            : averagePool2DBackward(dy, inputShape: x.shape, size: 2))
        }
    }

    // The notes' lesson once more: the nested loops of conv_forward against the implicit GEMM.
    let small = Tensor<Float>(randomNormal: [2, 28, 28, 16], generator: &g)
    let smallFilter = Tensor<Float>(randomNormal: [3, 3, 16, 16], generator: &g)
    let smallFlops = 2 * Double(2 * 28 * 28 * 16 * 9 * 16)
    let loop = h.measure("conv", "conv2d fwd N2 C16 28x28 K16 3x3", variant: "loop (notes' nested loops)", shape: "[2, 28, 28, 16]", metric: .gflops,
                         work: smallFlops, maxSeconds: 5) {
        consume(withComputePath(.loop) { conv2D(small, filter: smallFilter, padding: .same) })
    }
    let vectorized = h.measure("conv", "conv2d fwd N2 C16 28x28 K16 3x3", variant: "vectorized, \(threads)", shape: "[2, 28, 28, 16]",
                               metric: .gflops, work: smallFlops) {
        consume(conv2D(small, filter: smallFilter, padding: .same))
    }
    h.speedup(loop, vectorized)
    digitsConvolutionalRuns(&h)
}

/// The bundled digits as 8×8×1 images, with the MLP's split (i % 5 == 4 held
/// out), optimizer and schedule: a small CNN against the course's 64-64-10 MLP
/// (the training suite's "digits over seeds" line).
func digitsConvolutionalRuns(_ h: inout Harness) {
    guard h.selects("digits CNN 8x8x1 conv16-pool-conv32-pool-64-10, 60 epochs") else { return }
    let (digits, labels): (Tensor<Float>, [Int]) = trained { try Datasets.digits() }
    let images = digits.transposed().reshaped(to: [labels.count, 8, 8, 1])   // (64, m) → (m, 8, 8, 1)
    let test = (0..<labels.count).filter { $0 % 5 == 4 }, train = (0..<labels.count).filter { $0 % 5 != 4 }
    let trainX = images.gathering(train, axis: 0), trainY = Tensor<Float>.oneHot(train.map { labels[$0] }, classes: 10)
    let testX = images.gathering(test, axis: 0), testY = Tensor<Float>.oneHot(test.map { labels[$0] }, classes: 10)
    let epochs = 60
    func run(seed: UInt64) -> Int {
        var g = RandomGenerator(seed: seed)
        let model = Sequential<Float>([
            Conv2D(filterSize: 3, inputChannels: 1, filters: 16, padding: .same, generator: &g), Activation(.relu),
            MaxPool2D(size: 2),
            Conv2D(filterSize: 3, inputChannels: 16, filters: 32, padding: .same, generator: &g), Activation(.relu),
            MaxPool2D(size: 2),
            Flatten(),
            Dense(inputs: 128, outputs: 64, generator: &g), Activation(.relu),
            Dense(inputs: 64, outputs: 10, generator: &g),
        ], outputActivation: .softmax)
        _ = trained { try model.fit(trainX, trainY, optimizer: Adam(learningRate: 0.001),
                                    configuration: TrainingConfiguration(epochs: epochs, batchSize: 32, l2: 1e-4, seed: seed + 1)) }
        return Int((Metrics.accuracy(model.predict(testX), testY) * Double(test.count)).rounded())
    }
    var correct = 0
    let timing = h.measure("conv", "digits CNN 8x8x1 conv16-pool-conv32-pool-64-10, \(epochs) epochs", variant: "vectorized parallel",
                           shape: "1438 train / 359 test", metric: .itemsPerSecond, work: Double(epochs * 1438), maxSeconds: h.quick ? 3 : 15) {
        correct = run(seed: 0)
    }
    h.note(String(format: "  digits CNN: test accuracy %.4f (%d/%d), %.2f s per run", Double(correct) / Double(test.count), correct, test.count, timing.median))
    if !h.quick {
        let counts = (0..<10).map { run(seed: UInt64($0)) }
        let total = counts.reduce(0, +)
        h.note(String(format: "  digits CNN over seeds 0…9: mean test accuracy %.4f (%d/%d), per seed %@", Double(total) / Double(10 * test.count),
                      total, 10 * test.count, counts.map(String.init).joined(separator: " ")))
    }
}


/// cnn.py's network steps: the small CNN and LeNet-5 on batches of 64, and
/// torchvision's ResNet basic block on N32 C64 56² (channels last here; compare
/// with its channels_last rows). A "step" is forward + loss + backward on the
/// tape with the gradients cleared first; "train step" adds the optimizer update.
func convolutionalNetworkSteps(_ h: inout Harness) {
    var g = RandomGenerator(seed: 13)
    let threads = "\(Parallelism.maxThreads) threads"
    func step<M: Model>(_ model: M, _ x: Tensor<Float>, _ y: Tensor<Float>, _ loss: some Loss<Float>, inputGradient: Bool = false) where M.Scalar == Float {
        for p in model.parameters { p.gradient = nil }
        let input = Variable(x, requiresGradient: inputGradient)
        GradientTape.$isRecording.withValue(true) { loss(model.forward([input], context: ForwardContext(training: true))[0], y) }.backward()
    }
    let batch = h.quick ? 16 : 64
    let labels = Tensor<Float>.oneHot((0..<batch).map { $0 % 10 }, classes: 10)

    let small = Sequential<Float>([
        Conv2D(filterSize: 3, inputChannels: 1, filters: 16, padding: .same, generator: &g), Activation(.relu), MaxPool2D(size: 2),
        Conv2D(filterSize: 3, inputChannels: 16, filters: 32, padding: .same, generator: &g), Activation(.relu), MaxPool2D(size: 2),
        Flatten(), Dense(inputs: 32 * 7 * 7, outputs: 10, generator: &g),
    ], outputActivation: .softmax)
    let smallX = Tensor<Float>(randomNormal: [batch, 28, 28, 1], generator: &g)
    let smallMACs = [batch * 28 * 28 * 16 * 9, batch * 14 * 14 * 32 * 144, batch * 1568 * 10].map(Double.init)
    let smallForward = 2 * smallMACs.reduce(0, +)
    h.measure("conv", "small CNN fwd+bwd step, batch \(batch)", variant: "vectorized, \(threads)", shape: "28x28x1", metric: .gflops,
              work: 3 * smallForward - 2 * smallMACs[0]) {
        step(small, smallX, labels, SoftmaxCrossEntropy())
    }
    h.measure("conv", "small CNN fwd only, batch \(batch)", variant: "vectorized, \(threads)", shape: "28x28x1", metric: .gflops, work: smallForward) {
        consume(small.logits(smallX))
    }

    let lenet = Sequential<Float>.leNet5(generator: &g)
    let lenetX = Tensor<Float>(randomNormal: [batch, 32, 32, 3], generator: &g)
    let lenetMACs = [batch * 28 * 28 * 8 * 75, batch * 10 * 10 * 16 * 200, batch * 400 * 120, batch * 120 * 84, batch * 84 * 10].map(Double.init)
    let lenetForward = 2 * lenetMACs.reduce(0, +)
    let adam = Adam()
    h.measure("conv", "LeNet-5 fwd+bwd step, batch \(batch), 32x32x3", variant: "vectorized, \(threads)", shape: "32x32x3", metric: .gflops,
              work: 3 * lenetForward - 2 * lenetMACs[0]) {
        step(lenet, lenetX, labels, SoftmaxCrossEntropy())
    }
    h.measure("conv", "LeNet-5 train step (Adam), batch \(batch), 32x32x3", variant: "vectorized, \(threads)", shape: "32x32x3", metric: .gflops,
              work: 3 * lenetForward - 2 * lenetMACs[0]) {
        step(lenet, lenetX, labels, SoftmaxCrossEntropy())
        adam.step(lenet.parameters)
    }
    h.measure("conv", "LeNet-5 fwd only, batch \(batch), 32x32x3", variant: "vectorized, \(threads)", shape: "32x32x3", metric: .gflops, work: lenetForward) {
        consume(lenet.logits(lenetX))
    }

    let n = h.quick ? 4 : 32
    guard h.selects("ResNet basic block train step (SGD momentum) N\(n) C64 56x56 channels_last")
            || h.selects("ResNet basic block fwd (eval) N\(n) C64 56x56 channels_last") else { return }
    let input = GraphNode<Float>.input()
    // torchvision's BasicBlock, as cnn.py times it: no biases in the convolutions.
    let block = GraphModel(inputs: [input], outputs: [ResNet.basicBlock(input, inputChannels: 64, channels: 64, convolutionBias: false, generator: &g)])
    let blockX = Tensor<Float>(randomNormal: [n, 56, 56, 64], generator: &g), target = Tensor<Float>(randomNormal: [n, 56, 56, 64], generator: &g)
    let blockForward = 2 * 2 * Double(n * 56 * 56 * 64 * 576)
    let momentum = Momentum(learningRate: 0.01, beta: 0.9)
    h.measure("conv", "ResNet basic block train step (SGD momentum) N\(n) C64 56x56 channels_last", variant: "vectorized, \(threads)",
              shape: "[\(n), 56, 56, 64]", metric: .gflops, work: 3 * blockForward) {
        step(block, blockX, target, MeanSquaredError(), inputGradient: true)
        momentum.step(block.parameters)
    }
    h.measure("conv", "ResNet basic block fwd (eval) N\(n) C64 56x56 channels_last", variant: "vectorized, \(threads)", shape: "[\(n), 56, 56, 64]",
              metric: .gflops, work: blockForward) {
        consume(block.logits(blockX))
    }
}

/// LeNet-5's two convolutions and the ResNet block's 3×3 one pass at a time
/// (forward, filter gradient, input gradient): where the steps spend their time.
func leNetLayerBreakdown(_ h: inout Harness) {
    var g = RandomGenerator(seed: 14)
    let threads = "\(Parallelism.maxThreads) threads"
    let batch = h.quick ? 16 : 64, n = h.quick ? 4 : 32
    for (name, size, channels, filters, f, images) in [("LeNet-5 conv1", 32, 3, 8, 5, batch), ("LeNet-5 conv2", 14, 8, 16, 5, batch),
                                                        ("ResNet block conv", 56, 64, 64, 3, n), ("pointwise conv", 56, 64, 256, 1, n)] {
        let label = "\(name) N\(images) C\(channels) \(size)x\(size) K\(filters) \(f)x\(f)"
        let padding: Padding = f == 3 ? .same : .valid
        let batch = images
        guard ["fwd", "dW", "dX"].contains(where: { h.selects("\(label) \($0)") }) else { continue }
        let x = Tensor<Float>(randomNormal: [batch, size, size, channels], generator: &g)
        let w = Tensor<Float>(randomNormal: [f, f, channels, filters], standardDeviation: 0.1, generator: &g)
        let y = conv2D(x, filter: w, padding: padding)
        let dy = Tensor<Float>(randomNormal: y.shape, generator: &g)
        let flops = 2 * Double(y.count) * Double(f * f * channels)
        h.measure("conv", "\(label) fwd", variant: "vectorized, \(threads)", shape: "\(y.shape)", metric: .gflops, work: flops) {
            consume(conv2D(x, filter: w, padding: padding))
        }
        h.measure("conv", "\(label) dW", variant: "vectorized, \(threads)", shape: "\(w.shape)", metric: .gflops, work: flops) {
            consume(conv2DBackwardFilter(dy, input: x, filterShape: w.shape, padding: padding))
        }
        h.measure("conv", "\(label) dX", variant: "vectorized, \(threads)", shape: "\(x.shape)", metric: .gflops, work: flops) {
            consume(conv2DBackwardInput(dy, filter: w, inputShape: x.shape, padding: padding))
        }
    }
}
