import Foundation
import Tensors
import XCTest

/// The numpy-porting API: select (numpy's where) against numpy on broadcast
/// shapes (`Reference/make_selection.py`), element-type conversions, axis
/// insertion and removal, integer tensors.
final class TensorAPITests: XCTestCase {
    struct SelectCase: Decodable {
        let c_shape: [Int], c: [Double?], a_shape: [Int], a: [Double], b_shape: [Int], b: [Double]
        let out_shape: [Int], out: [Double]
    }
    struct Conversion: Decodable { let double: [Double], float_bits: [UInt32] }
    struct File: Decodable { let select: [SelectCase], to_float: Conversion }

    static let reference: File = {
        let url = Bundle.module.url(forResource: "selection", withExtension: "json", subdirectory: "Reference")!
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }()

    func testSelectMatchesNumpyWhere() {
        XCTAssertEqual(Self.reference.select.count, 40)
        for path in [ComputePath.loop, .vectorized] {
            withComputePath(path) {
                for (n, c) in Self.reference.select.enumerated() {
                    let condition = Tensor<Double>(shape: c.c_shape, scalars: c.c.map { $0 ?? .nan })
                    let a = Tensor<Double>(shape: c.a_shape, scalars: c.a), b = Tensor<Double>(shape: c.b_shape, scalars: c.b)
                    let y = select(condition, a, b)
                    XCTAssertEqual(y.shape, c.out_shape, "case \(n) (\(path))")
                    XCTAssertEqual(y.scalars, c.out, "case \(n) (\(path))")
                    let f = select(Tensor<Float>(condition), Tensor<Float>(a), Tensor<Float>(b))
                    XCTAssertEqual(f.scalars, c.out.map(Float.init), "Float case \(n) (\(path))")
                }
            }
        }
    }

    func testSelectOnLongInputsAgreesAcrossPaths() {
        var g = RandomGenerator(seed: 3)
        let n = 70_001   // several parallel chunks and a vector tail
        let x = Tensor<Float>(randomNormal: [n], generator: &g)
        let y = x.replacing(with: 0, where: x .< 0)
        XCTAssertEqual(y, relu(x), "replacing(with:where:) as ReLU")
        XCTAssertEqual(withComputePath(.loop) { x.replacing(with: 0, where: x .< 0) }, y)
        XCTAssertEqual(x.replacing(with: -x, where: x .< 0), abs(x))
    }

    func testConversionsBetweenElementTypes() {
        let doubles = Self.reference.to_float.double
        let floats = Tensor<Float>(Tensor<Double>(doubles))
        XCTAssertEqual(floats.scalars.map(\.bitPattern), Self.reference.to_float.float_bits, "Double → Float rounds as numpy's astype")
        let back = Tensor<Double>(floats)
        XCTAssertEqual(back.scalars, floats.scalars.map(Double.init), "Float → Double is exact")
        let same = Tensor<Float>(floats)
        XCTAssertEqual(same, floats)
        let labels: IntegerTensor = [3, -1, 7]
        XCTAssertEqual(Tensor<Float>(labels).scalars, [3, -1, 7])
        XCTAssertEqual(IntegerTensor(truncating: Tensor<Double>([2.7, -2.7, 0.5, -0.0])).scalars, [2, -2, 0, 0], "toward zero, as astype(int)")
    }

    func testAxisInsertionAndRemoval() {
        let x = Tensor<Float>(shape: [3, 4], repeating: 1)
        XCTAssertEqual(x.expandingShape(at: 0).shape, [1, 3, 4])
        XCTAssertEqual(x.expandingShape(at: 1).shape, [3, 1, 4])
        XCTAssertEqual(x.expandingShape(at: -1).shape, [3, 4, 1])
        XCTAssertEqual(x.expandingShape(at: 2).shape, [3, 4, 1])
        let y = Tensor<Float>(shape: [1, 3, 1], repeating: 2)
        XCTAssertEqual(y.squeezingShape().shape, [3])
        XCTAssertEqual(y.squeezingShape(at: 0).shape, [3, 1])
        XCTAssertEqual(y.squeezingShape(at: -1, 0).shape, [3])
        XCTAssertEqual(Tensor<Float>(shape: [1, 1], repeating: 5).squeezingShape().shape, [], "down to rank 0")
    }

    func testIntegerTensorBasics() {
        let ids = IntegerTensor([[1, 0], [2, 1]])
        XCTAssertEqual(ids.shape, [2, 2])
        let E = Tensor<Float>([[0, 0.5], [1, 1.5], [2, 2.5]])   // 3 tokens, 2 features
        let looked = E.gathering(ids, axis: 0)
        XCTAssertEqual(looked.shape, [2, 2, 2], "the indexed axis becomes the indices' shape")
        XCTAssertEqual(looked.scalars, [1, 1.5, 0, 0.5, 2, 2.5, 1, 1.5])
        XCTAssertEqual(Tensor<Float>.oneHot(IntegerTensor([2, 0]), classes: 3), Tensor<Float>([[0, 1], [0, 0], [1, 0]]))
        XCTAssertEqual(IntegerTensor.arange(4).reshaped(to: [2, -1]), IntegerTensor([[0, 1], [2, 3]]))
        let Y = Tensor<Float>([[0.1, 0.7], [0.9, 0.3]])
        XCTAssertEqual(Y.argmax(axis: 0), [1, 0])
        XCTAssertEqual(Y.argmax(axis: 1), [1, 0])
        XCTAssertEqual(Y.argmin(axis: 0).shape, [2])
    }
}

extension DifferentiationTests {
    func testSelectionAndAxisRules() {
        let c = Tensor<Double>([[1, 0, 1], [0, 0, 1]])
        checkGradient("select", [random([2, 3]), random([1, 3])]) { v in select(c, v[0], v[1]) }
        checkGradient("select broadcasting both", [random([2, 1]), random([3])]) { v in select(c, v[0], v[1]) * v[0] }
        checkGradient("expand/squeeze", [random([2, 3])]) { v in v[0].expandingShape(at: 1).squeezingShape(at: 1) * v[0] }
    }
}
