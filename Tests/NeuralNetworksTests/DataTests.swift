import NeuralNetworks
import Tensors
import XCTest

final class DataTests: XCTestCase {
    func testSplitsAreSeededAndDisjoint() {
        let m = 1000
        let X = Tensor<Float>(shape: [1, m], scalars: (0..<m).map(Float.init)), Y = X
        let a = trainDevTestSplit(X, Y, train: 0.98, dev: 0.01, seed: 3)
        XCTAssertEqual([a.train.X.shape[1], a.dev.X.shape[1], a.test.X.shape[1]], [980, 10, 10])   // TC-M13 at m = 1000
        let b = trainDevTestSplit(X, Y, train: 0.98, dev: 0.01, seed: 3)
        XCTAssertEqual(a.dev.X, b.dev.X, "same seed, same split")
        let all = a.train.X.scalars + a.dev.X.scalars + a.test.X.scalars
        XCTAssertEqual(Set(all).count, m)
        let c = trainDevTestSplit(X, Y, train: 0.6, dev: 0.2, seed: 4)
        XCTAssertEqual([c.train.X.shape[1], c.dev.X.shape[1], c.test.X.shape[1]], [600, 200, 200])
    }

    /// A training-dev set (C3W2-06): a seeded fraction of the training columns,
    /// X and Y together, disjoint from what is left to train on.
    func testTrainingDevSplitHoldsOutPartOfTheTrainingData() {
        let m = 50
        let X = Tensor<Float>(shape: [2, m], scalars: (0..<(2 * m)).map(Float.init)), Y = X.rows(0..<1) * -1
        let (train, trainingDev) = trainingDevSplit(X, Y, fraction: 0.2, seed: 9)
        XCTAssertEqual([train.X.shape[1], trainingDev.X.shape[1]], [40, 10])
        XCTAssertEqual(Set(train.X.rows(0..<1).scalars + trainingDev.X.rows(0..<1).scalars), Set((0..<m).map(Float.init)))
        XCTAssertEqual(trainingDev.Y, trainingDev.X.rows(0..<1) * -1, "Y's columns follow X's")
        XCTAssertEqual(trainingDev.X.rows(1..<2), trainingDev.X.rows(0..<1) + Float(m), "whole columns are taken")
        XCTAssertEqual(trainingDevSplit(X, Y, fraction: 0.2, seed: 9).trainingDev.X, trainingDev.X, "same seed, same split")
        XCTAssertNotEqual(trainingDevSplit(X, Y, fraction: 0.2, seed: 10).trainingDev.X, trainingDev.X)
    }

    /// TC-N1: statistics come from the training set and are reused on test data.
    func testNormalizerUsesTrainingStatistics() {
        let train = Tensor<Double>([[1, 2, 3, 4], [10, 10, 10, 10]])
        let normalize = Normalizer(fitting: train)
        XCTAssertEqual(normalize.mean.scalars, [2.5, 10])
        XCTAssertEqual(normalize.standardDeviation.scalars[0], 1.25.squareRoot(), accuracy: 1e-15)
        XCTAssertEqual(normalize.standardDeviation.scalars[1], 1, "constant features are left unscaled")
        let test = normalize(Tensor<Double>([[2.5], [12]]))
        XCTAssertEqual(test.scalars, [0, 2])
        let z = normalize(train)
        XCTAssertEqual(z.mean(axis: 1).scalars[0], 0, accuracy: 1e-15)
        XCTAssertEqual(z.variance(axis: 1).scalars[0], 1, accuracy: 1e-12)
    }

    func testCSVLoadingAndErrors() throws {
        // TC-X1: the notes' housing table (size, bedrooms, price in k$).
        let table = try CSVTable<Float>(text: "size,bedrooms,price\n2104, 3, 400\n1600,3,330\r\n\n2400,3,369\n3000,4,540\n")
        XCTAssertEqual(table.columnNames, ["size", "bedrooms", "price"])
        XCTAssertEqual(table.values.shape, [3, 4])
        let (X, Y) = try table.features(label: "price")
        XCTAssertEqual(X.shape, [2, 4])
        XCTAssertEqual(Y.scalars, [400, 330, 369, 540])
        XCTAssertThrowsError(try CSVTable<Float>(text: "a,b\n1,2\n3\n")) { error in
            XCTAssertEqual(error as? CSVError, .wrongFieldCount(line: 3, expected: 2, found: 1))
        }
        XCTAssertThrowsError(try CSVTable<Float>(text: "a,b\n1,2\n3,x4\n")) { error in
            XCTAssertEqual((error as? CSVError)?.description, "CSV line 3, column 2: \"x4\" is not a number")
        }
        XCTAssertThrowsError(try CSVTable<Float>(text: "a,b\n")) { XCTAssertEqual($0 as? CSVError, .empty) }
        XCTAssertThrowsError(try table.features(label: "rooms")) { XCTAssertEqual($0 as? CSVError, .unknownColumn("rooms")) }
        let headless = try CSVTable<Double>(text: "1,2\n3,4", hasHeader: false)
        XCTAssertEqual(headless.columnNames, ["column1", "column2"])
    }
}
