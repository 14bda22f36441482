import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// The README's "From numpy / PyTorch" table, right-hand column, compiled and
/// checked against what the numpy line gives.
final class PortingTableTests: XCTestCase {
    func testTableEntries() throws {
        // create
        XCTAssertEqual(Tensor<Float>([[1, 2], [3, 4]]).shape, [2, 2])
        XCTAssertEqual(Tensor<Float>.zeros([2, 3]).sum(), 0)
        XCTAssertEqual(Tensor<Float>.identity(3).sum(), 3)
        XCTAssertEqual(Tensor<Float>.ones([2, 3]).scalars, [1, 1, 1, 1, 1, 1])
        var x = Tensor<Float>.arange(0, 12).reshaped(to: [3, 4])
        XCTAssertEqual(Tensor<Float>.linspace(0, 1, count: 5).scalars, [0, 0.25, 0.5, 0.75, 1])
        // random
        var g = RandomGenerator(seed: 0)
        XCTAssertEqual(Tensor<Float>(randomNormal: [2, 3], generator: &g).shape, [2, 3])
        let u = Tensor<Float>(randomUniform: [2, 3], lower: -1, upper: 1, generator: &g)
        XCTAssertTrue(u.scalars.allSatisfy { $0 >= -1 && $0 < 1 })
        // index, slice
        XCTAssertEqual(x[0].scalars, [0, 1, 2, 3])
        XCTAssertEqual(x[-1].scalars, [8, 9, 10, 11])
        XCTAssertEqual(x[0, 2].scalar, 2)
        let v: Float = x[0, 2]
        XCTAssertEqual(v, 2)
        XCTAssertEqual(x[1..<3].shape, [2, 4])
        XCTAssertEqual(x[..., 2].scalars, [2, 6, 10])
        XCTAssertEqual(x[.all, 2].scalars, [2, 6, 10])
        XCTAssertEqual(x[stride(from: 0, to: 3, by: 2)].shape, [2, 4])
        XCTAssertEqual(x[[2, 0]][..., 0].scalars, [8, 0])
        XCTAssertEqual(x[1...].shape, [2, 4])
        // assign
        x[0] = Tensor(5)
        x[..., 0] = Tensor([7, 8, 9])
        x[1, 2] = 7
        XCTAssertEqual(x.scalars, [7, 5, 5, 5, 8, 5, 7, 7, 9, 9, 10, 11])
        // broadcast, compare, where
        let A = Tensor<Float>([[1, -2], [-3, 4]]), b = Tensor<Float>([10, 20])
        XCTAssertEqual((A + b).scalars, [11, 18, 7, 24])
        XCTAssertEqual(max(A, 0).scalars, [1, 0, 0, 4])
        XCTAssertEqual((A .> 0).scalars, [1, 0, 0, 1])
        XCTAssertEqual(select(A .> 0, A, b).scalars, [1, 20, 10, 4])
        XCTAssertEqual(A.replacing(with: 0, where: A .< 0).scalars, [1, 0, 0, 4])
        // reduce
        XCTAssertEqual(A.sum(axis: 0, keepingDimensions: true).shape, [1, 2])
        XCTAssertEqual(A.max(axis: 1).scalars, [1, 4])
        XCTAssertEqual(A.mean(), 0)                               // np.mean([[1, -2], [-3, 4]]) = 0
        XCTAssertEqual(A.norm(), Float(30).squareRoot(), accuracy: 1e-6)  // np.linalg.norm: √(1 + 4 + 9 + 16)
        XCTAssertEqual(A.variance(axis: 0).scalars, [4, 9])
        XCTAssertEqual(A.argmax(axis: 0), [0, 1])
        XCTAssertEqual(A.std(axis: 0).scalars, [2, 3])
        XCTAssertEqual(A.cumulativeSum(axis: 0).scalars, [1, -2, -2, 2])
        XCTAssertEqual(A.sorted().scalars, [-2, 1, -3, 4])
        XCTAssertEqual(A.argsort().scalars, [1, 0, 0, 1])
        XCTAssertEqual(Tensor<Float>([3, 1, 4, 1, 5]).topK(3).values.scalars, [5, 4, 3])
        XCTAssertEqual(Tensor<Float>([3, 1, 4, 1, 5]).topK(3).indices, [4, 2, 0])
        // reshape
        XCTAssertEqual(x.reshaped(to: [-1, 4]).shape, [3, 4])
        XCTAssertEqual(A.transposed().scalars, [1, -3, -2, 4])
        XCTAssertEqual(Tensor<Float>.zeros([2, 3, 4]).permuted([1, 0, 2]).shape, [3, 2, 4])
        XCTAssertEqual(A.expandingShape(at: 0).shape, [1, 2, 2])
        XCTAssertEqual(A.expandingShape(at: 0).squeezingShape().shape, [2, 2])
        XCTAssertEqual(Tensor.concatenate([A, A], axis: 1).shape, [2, 4])
        XCTAssertEqual(Tensor.stack([A, A], axis: 0).shape, [2, 2, 2])
        // dtype
        XCTAssertEqual(Tensor<Double>(A).scalars, [1, -2, -3, 4])
        let labels = IntegerTensor(truncating: Tensor<Float>([2.9, 0.2]))
        XCTAssertEqual(labels, [2, 0])
        XCTAssertEqual(Tensor<Float>(labels).scalars, [2, 0])
        // math, matmul, labels
        XCTAssertEqual(pow(A, 2).scalars, [1, 4, 9, 16])
        XCTAssertEqual(pow(Tensor<Float>([2, 3]), Tensor<Float>([[1], [2]])).scalars, [2, 3, 4, 9])
        XCTAssertEqual(sin(Tensor<Float>([0])).scalars, [0])
        XCTAssertEqual(exp(Tensor<Float>([0])).scalars, [1])
        XCTAssertEqual(clip(A, lower: 0, upper: 1).scalars, [1, 0, 0, 1])
        XCTAssertEqual(matmul(A, A, transposingA: true).scalars, [10, -14, -14, 20])
        XCTAssertEqual(matmul(A, A).scalars, [7, -10, -15, 22])
        // batched, as np.matmul on (2, 2, 2) @ (2, 2): each batch element times A
        XCTAssertEqual(matmul(Tensor.stack([A, Tensor<Float>.identity(2)], axis: 0), A).scalars, [7, -10, -15, 22, 1, -2, -3, 4])
        XCTAssertEqual(Tensor<Float>.oneHot(labels, classes: 3).shape, [3, 2])
        // autograd, train, save, load
        let w = Variable(A, requiresGradient: true)
        let y = (w * w).sum()
        y.backward()
        XCTAssertEqual(w.gradient, 2 * A)
        let model = Sequential<Float>.logisticRegression(features: 2)
        let (X, Y) = Datasets.moons(count: 20, seed: 1)
        try model.fit(X, Y, optimizer: Adam(learningRate: 0.001), configuration: TrainingConfiguration(epochs: 1))
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("table-\(UUID().uuidString).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.save(["x": x], to: url)
        XCTAssertEqual(try ModelFile.loadTensors(from: url, as: Float.self)["x"], x)
        try model.save(to: url)
        XCTAssertEqual(try Sequential<Float>.load(from: url).predict(X), model.predict(X))
        // print
        XCTAssertEqual("\(Tensor<Float>([[1, 2], [3, 4]]))", "[[1, 2], [3, 4]]")
        var described = ""
        debugPrint(Tensor<Float>([[1, 2], [3, 4]]), to: &described)
        XCTAssertTrue(described.contains("Float") && described.contains("[2, 2]") && described.contains("[[1, 2], [3, 4]]"), described)
    }
}
