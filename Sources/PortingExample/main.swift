import Foundation
import NeuralNetworks
import Tensors

// swift run -c release -Xswiftc -target-cpu -Xswiftc native porting
//
// The kind of program a numpy / PyTorch user ports first, line by line, through
// the public API only: build tensors, broadcast, index and reduce, train a small
// network with Adam, save it, load it back and predict. The numpy each step
// replaces is in the comments. CI runs it; it checks its own results and exits
// with status 1 if one is wrong.

var failures: [String] = []
var checks = 0
@MainActor func check(_ condition: Bool, _ what: String) {
    checks += 1
    print((condition ? "ok    " : "FAIL  ") + what)
    if !condition { failures.append(what) }
}

// x = np.arange(12, dtype=np.float32).reshape(3, 4)
let x = Tensor<Float>.arange(0, 12).reshaped(to: [3, 4])
print("x =", x)
// x[0], x[1:3], x[:, 2], x[-1, -1]
check(x[0] == Tensor([0, 1, 2, 3]), "x[0] is row 0")
check(x[1..<3].shape == [2, 4], "x[1..<3] keeps the axis")
check(x[..., 2] == Tensor([2, 6, 10]), "x[..., 2] is column 2")
let last: Float = x[-1, -1]
check(last == 11, "x[-1, -1] counts from the end")

// centered = x - x.mean(axis=0, keepdims=True); scaled = centered / x.std(axis=0, keepdims=True)
let centered = x - x.mean(axis: 0, keepingDimensions: true)
check(centered.sum(axis: 0) == Tensor([0, 0, 0, 0]), "columns centered by broadcasting")
let spread = x.variance(axis: 0, keepingDimensions: true)
check(spread.shape == [1, 4] && spread[0, 0] == spread[0, 3], "axis reductions keep dimensions on request")

// np.where(x > 5, x, 0); x.astype(np.float64); np.expand_dims(x, 0)
let clipped = select(x .> 5, x, Tensor(0))
check(clipped.sum() == 6 + 7 + 8 + 9 + 10 + 11, "select is numpy's where")
let wide = Tensor<Double>(x)
check(wide.sum() == 66, "Tensor<Double>(x) converts")
check(x.expandingShape(at: 0).shape == [1, 3, 4], "expandingShape is expand_dims / unsqueeze")

// x[0] = -1; x[:, 0] = [7, 8, 9]
var y = x
y[0] = Tensor(-1)
y[..., 0] = Tensor([7, 8, 9])
check(y[0] == Tensor([7, -1, -1, -1]), "assignment through subscripts broadcasts")

// A small classifier: two moons, (n_x, m) = (2, 400), labels (1, 400).
let (X, Y) = Datasets.moons(count: 400, noise: 0.1, seed: 7)
let split = trainDevTestSplit(X, Y, train: 0.8, dev: 0.1, seed: 8)
var generator = RandomGenerator(seed: 9)
let model = Sequential<Float>.deepNetwork(layerSizes: [2, 16, 8, 1], generator: &generator)
// torch.optim.Adam(model.parameters(), lr=0.01); for epoch in range(60): ...
let history = try model.fit(split.train.X, split.train.Y, optimizer: Adam(learningRate: 0.01),
                            configuration: TrainingConfiguration(epochs: 60, batchSize: 32, seed: 10))
let accuracy = Metrics.accuracy(model.predict(split.test.X), split.test.Y)
print(String(format: "cost %.4f → %.4f, test accuracy %.3f", history.costs.first!, history.costs.last!, accuracy))
check(history.costs.last! < history.costs.first! / 2, "training lowers the cost")
check(accuracy >= 0.95, "test accuracy ≥ 0.95")

// torch.save(model.state_dict(), path); model2.load_state_dict(torch.load(path))
let file = FileManager.default.temporaryDirectory.appendingPathComponent("porting-\(ProcessInfo.processInfo.processIdentifier).safetensors")
try model.save(to: file)
defer { try? FileManager.default.removeItem(at: file) }
let reloaded = try Sequential<Float>.load(from: file)
check(reloaded.predict(split.test.X) == model.predict(split.test.X), "the reloaded model predicts the same bits")

// predicted = (model(X) > 0.5).astype(int); np.argmax over classes for several outputs
let probabilities = reloaded.predict(split.test.X)
let predicted = IntegerTensor(truncating: probabilities .> 0.5)
check(predicted.shape == [1, split.test.X.shape[1]], "integer labels keep the examples' layout")

if failures.isEmpty {
    print("all \(checks) checks passed")
} else {
    FileHandle.standardError.write("porting: \(failures.count) check(s) failed: \(failures.joined(separator: "; "))\n".data(using: .utf8)!)
    exit(1)
}
