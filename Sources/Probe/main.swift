import Foundation
import NeuralNetworks
import Tensors

// probe <command> — small programs the tests run as separate processes:
//
//   probe add | matmul | linear | crossentropy | axis | topk | pow | batchnorm
//                               make one invalid call: an optimized build must still stop
//                               with a message naming the operation and the shapes
//                               (`fatalError` keeps its text under -O, `precondition` does not)
//   probe products              two 128³ products: a debug build says once that it is one
//   probe train <file>          train a small model with a fixed seed, save it to <file> and
//                               print the bit patterns of its parameters: two processes must agree

let arguments = Array(CommandLine.arguments.dropFirst())
let a = Tensor<Float>.zeros([2, 3])
switch arguments.first {
case "add": print(a + Tensor<Float>.zeros([4]))
case "matmul": print(matmul(a, Tensor<Float>.zeros([4, 5])))
case "linear": print(linear(a, Tensor<Float>.zeros([3, 5]), Tensor<Float>.zeros([3, 1])))
case "crossentropy": print(softmaxCrossEntropy(logits: a, labels: Tensor<Float>.zeros([3, 2])).cost)
case "axis": print(a.sum(axis: 2))
case "topk": print(a.topK(4).values)
case "pow": print(pow(a, Tensor<Float>.zeros([4])))
case "batchnorm": print(batchNormalization(Variable(a), gamma: Variable(.ones([2])), beta: Variable(.zeros([3])), featureAxis: 1).output)
case "products":
    let b = Tensor<Float>.ones([128, 128])
    print(matmul(b, b).sum(), matmul(b, b).sum())
case "train" where arguments.count == 2:
    // Large enough that the products take the blocked, parallel GEMM path.
    var generator = RandomGenerator(seed: 3)
    let X = Tensor<Float>(randomNormal: [400, 512], generator: &generator)
    let Y = Tensor<Float>.oneHot((0..<512).map { _ in generator.nextIndex(below: 10) }, classes: 10)
    let model = Sequential<Float>([
        Dense(inputs: 400, outputs: 384, generator: &generator), BatchNorm(units: 384), Activation(.relu),
        Dropout(keepProbability: 0.8), Dense(inputs: 384, outputs: 10, generator: &generator),
    ], outputActivation: .softmax)
    do {
        try model.fit(X, Y, optimizer: Adam(learningRate: 0.01), configuration: TrainingConfiguration(epochs: 3, batchSize: 256, seed: 4))
        try model.save(to: URL(fileURLWithPath: arguments[1]))
    } catch {
        FileHandle.standardError.write("probe: \(error)\n".data(using: .utf8)!)
        exit(1)
    }
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325   // FNV-1a over every parameter's bits
    for p in model.parameters {
        for x in p.value.scalars {
            hash = (hash ^ UInt64(x.bitPattern)) &* 0x100_0000_01b3
        }
    }
    print(String(hash, radix: 16), GEMMConfiguration.kernel.rawValue)
default:
    print("usage: probe add|matmul|axis|topk|pow|products|train <file>")
    exit(2)
}
