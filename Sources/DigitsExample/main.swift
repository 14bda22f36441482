import Foundation
import NeuralNetworks
import Tensors

// swift run -c release -Xswiftc -target-cpu -Xswiftc native digits [output-directory]
//
// Trains the notes' deep network (64-64-10, ReLU, softmax, He initialization,
// Adam α = 0.001, mini-batches of 32, 200 epochs, L2 λ = 1e-4 as scikit-learn's
// MLPClassifier uses by default; logits trained with softmax cross-entropy) on scikit-learn's digits with
// every fifth example (i % 5 == 4) held out, reports the test accuracy, saves
// the model and writes the cost curve as SVG.

let output = URL(fileURLWithPath: CommandLine.arguments.dropFirst().first ?? ".", isDirectory: true)
do {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: output.path, isDirectory: &isDirectory), isDirectory.boolValue,
          FileManager.default.isWritableFile(atPath: output.path) else {
        FileHandle.standardError.write("digits: output directory \(output.path) does not exist or is not writable\n".data(using: .utf8)!)
        exit(1)
    }
    let (X, labels): (Tensor<Float>, [Int]) = try Datasets.digits()
    let test = (0..<labels.count).filter { $0 % 5 == 4 }, train = (0..<labels.count).filter { $0 % 5 != 4 }
    let Xtrain = X.gathering(train, axis: 1), Ytrain = Tensor<Float>.oneHot(train.map { labels[$0] }, classes: 10)
    let Xtest = X.gathering(test, axis: 1), Ytest = Tensor<Float>.oneHot(test.map { labels[$0] }, classes: 10)

    var generator = RandomGenerator(seed: 0)
    let model = Sequential<Float>.deepNetwork(layerSizes: [64, 64, 10], softmaxOutput: true, generator: &generator)
    print(model.summary)
    let start = Date()
    let history = try model.fit(
        Xtrain, Ytrain, optimizer: Adam(learningRate: 0.001),
        configuration: TrainingConfiguration(epochs: 200, batchSize: 32, l2: 1e-4, seed: 1),
        onEpoch: { record in
            if record.epoch % 20 == 0 { print("epoch \(record.epoch)  cost \(String(format: "%.5f", record.cost))") }
            return true
        })
    let seconds = Date().timeIntervalSince(start)
    let accuracy = Metrics.accuracy(model.predict(Xtest), Ytest)
    print(String(format: "test accuracy %.4f on %d held-out digits; training took %.2f s", accuracy, test.count, seconds))

    let modelURL = output.appendingPathComponent("digits.safetensors")
    try model.save(to: modelURL)
    let curveURL = output.appendingPathComponent("digits-cost.svg")
    try SVGPlot.write(SVGPlot.lineChart(history.costs, title: "digits 64-64-10, Adam: training cost"), to: curveURL)
    print("saved \(modelURL.path) and \(curveURL.path)")
} catch {
    FileHandle.standardError.write("digits: \(error)\n".data(using: .utf8)!)
    exit(1)
}
