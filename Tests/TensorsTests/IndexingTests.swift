import Foundation
import Tensors
import XCTest

/// The subscripts against numpy (`Reference/make_indexing.py`): 60 random
/// shapes and subscripts (integers, negative positions, open/closed ranges,
/// strides, position lists, whole axes), reading and assigning, on both paths.
final class IndexingTests: XCTestCase {
    struct Case: Decodable {
        let shape: [Int], entries: [[String: JSONValue]], out_shape: [Int], out: [Double]
        let value_shape: [Int], value: [Double], assigned: [Double]
    }
    enum JSONValue: Decodable {
        case int(Int), list([Int?]), bool(Bool), mixed([JSONValue?])
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = .bool(b); return }
            if let i = try? c.decode(Int.self) { self = .int(i); return }
            if let l = try? c.decode([Int?].self) { self = .list(l); return }
            self = .mixed(try c.decode([JSONValue?].self))
        }
    }
    struct File: Decodable { let cases: [Case] }

    static let cases: [Case] = {
        let url = Bundle.module.url(forResource: "indexing", withExtension: "json", subdirectory: "Reference")!
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url)).cases
    }()

    func index(_ entry: [String: JSONValue]) -> TensorIndex {
        switch (entry["i"], entry["r"], entry["p"], entry["all"]) {
        case (.int(let k)?, _, _, _): return .index(k)
        case (_, .mixed(let r)?, _, _):
            func int(_ v: JSONValue?) -> Int? { if case .int(let i)? = v { return i } else { return nil } }
            guard case .bool(let closed)? = r[2] else { fatalError("bad range \(r)") }
            return .range(lower: int(r[0] ?? nil), upper: int(r[1] ?? nil), inclusive: closed)
        case (_, _, .list(let p)?, _): return .positions(p.map { $0! })
        case (_, _, _, .bool(true)?): return .all
        default: fatalError("unknown entry \(entry)")
        }
    }

    func testSubscriptsMatchNumpy() {
        XCTAssertEqual(Self.cases.count, 60)
        for path in [ComputePath.loop, .vectorized] {
            withComputePath(path) {
                for (n, c) in Self.cases.enumerated() {
                    let x = Tensor<Double>(shape: c.shape, scalars: (0..<c.shape.reduce(1, *)).map(Double.init))
                    let entries = c.entries.map(index)
                    let tag = "case \(n) \(c.shape) \(entries) (\(path))"
                    let selected = x[indices: entries]
                    XCTAssertEqual(selected.shape, c.out_shape, tag)
                    XCTAssertEqual(selected.scalars, c.out, tag)
                    var y = x
                    y[indices: entries] = Tensor(shape: c.value_shape, scalars: c.value)
                    XCTAssertEqual(y.scalars, c.assigned, "assignment " + tag)
                    // The integer tensor shares the machinery.
                    let ix = IntegerTensor(shape: c.shape, scalars: Array(0..<c.shape.reduce(1, *)))
                    XCTAssertEqual(ix[indices: entries].scalars.map(Double.init), c.out, "IntegerTensor " + tag)
                }
            }
        }
    }

    func testSwiftSpellings() {
        let x = Tensor<Float>(shape: [3, 4], scalars: (0..<12).map(Float.init))
        XCTAssertEqual(x[0], Tensor<Float>([0, 1, 2, 3]), "an integer drops its axis")
        XCTAssertEqual(x[0].shape, [4])
        XCTAssertEqual(x[1, 2].shape, [], "every axis indexed: rank 0")
        let element: Float = x[1, 2]
        XCTAssertEqual(element, 6, "where a Float is expected, the element")
        XCTAssertEqual(x[-1, -1].scalar, 11, "negative positions count from the end")
        XCTAssertEqual(x[1..<3].shape, [2, 4], "a range keeps its axis")
        XCTAssertEqual(x[..., 2], Tensor<Float>([2, 6, 10]), "... is one whole axis")
        XCTAssertEqual(x[.all, 2], Tensor<Float>([2, 6, 10]))
        XCTAssertEqual(x[1, ..., ].shape, [4])
        XCTAssertEqual(x[0..., 1...2].shape, [3, 2])
        XCTAssertEqual(x[..<2, ...1].scalars, [0, 1, 4, 5])
        XCTAssertEqual(x[stride(from: 0, to: 3, by: 2), 0].scalars, [0, 8])
        XCTAssertEqual(x[stride(from: 2, through: 0, by: -1), 0].scalars, [8, 4, 0], "a negative stride reverses")
        XCTAssertEqual(x[[2, 0, 2], 3].scalars, [11, 3, 11], "position lists repeat and reorder")
        var y = x
        y[0] = Tensor(-1)
        XCTAssertEqual(y[0].scalars, [-1, -1, -1, -1], "a rank-0 value fills the selection")
        y[..., 0] = Tensor([7, 8, 9])
        XCTAssertEqual(y[..., 0].scalars, [7, 8, 9])
        y[2, 3] = 5
        XCTAssertEqual(y.scalars.last, 5, "element assignment")
        let labels: IntegerTensor = [3, 1, 2, 0]
        let first: Int = labels[0]
        XCTAssertEqual(first, 3)
        XCTAssertEqual(labels[1...], [1, 2, 0])
    }
}
