@testable import Tensors
import XCTest

/// The plan-free fast paths of elementwise binary operations (equal shapes,
/// tensor ⊕ scalar in both orders, and their in-place forms) against the
/// general broadcast-plan path: bitwise equal on the loop path and on the
/// vectorized path, for every ``BinaryOperation``, Float and Double.
final class ElementwiseFastPathTests: XCTestCase {
    /// The IEEE bit pattern of a Float or Double.
    static func bits<S: TensorScalar>(_ x: S) -> UInt64 {
        withUnsafeBytes(of: x) { $0.count == 4 ? UInt64($0.load(as: UInt32.self)) : $0.load(as: UInt64.self) }
    }

    /// Shapes of every rank from 0 to 4, empty ones, lengths that are not
    /// multiples of the SIMD width, and (release only) several parallel chunks.
    static func shapes(_ g: inout RandomGenerator) -> [[Int]] {
        var shapes: [[Int]] = [[], [0], [3, 0], [1], [5], [16], [17], [2, 2], [1, 1, 1], [1000]]
        if isReleaseBuild { shapes += [[70_001], [300_007]] }
        for _ in 0..<12 {
            let rank = g.nextIndex(below: 5)
            shapes.append((0..<rank).map { _ in g.nextIndex(below: 7) + (rank > 2 ? 0 : 1) })
        }
        return shapes
    }

    /// Random normal values with zeros of both signs, infinities, NaNs and
    /// repeated values (so equality comparisons hold somewhere).
    static func values<S: TensorScalar>(_ shape: [Int], _ g: inout RandomGenerator) -> Tensor<S> {
        var t = Tensor<S>(randomNormal: shape, generator: &g)
        let specials: [S] = [0, -0.0, .infinity, -.infinity, .nan, 1, -1, 0.5]
        t.withUnsafeMutableBufferPointer { x in
            for i in x.indices where g.nextIndex(below: 5) == 0 {
                x[i] = specials[g.nextIndex(below: specials.count)]
            }
        }
        return t
    }

    func assertBitwise<S: TensorScalar>(
        _ fast: Tensor<S>, _ general: Tensor<S>, _ message: @autoclosure () -> String,
        file: StaticString = #filePath, line: UInt = #line
    ) {
        XCTAssertEqual(fast.shape, general.shape, "shape " + message(), file: file, line: line)
        let (f, r) = (fast.scalars.map(Self.bits), general.scalars.map(Self.bits))
        if f != r, let i = zip(f, r).enumerated().first(where: { $0.element.0 != $0.element.1 })?.offset {
            XCTFail("element \(i): fast \(fast.scalars[i]) vs general \(general.scalars[i]) " + message(), file: file, line: line)
        }
    }

    func check<S: TensorScalar>(_: S.Type, seed: UInt64) {
        var g = RandomGenerator(seed: seed)
        for shape in Self.shapes(&g) {
            let a: Tensor<S> = Self.values(shape, &g)
            var b: Tensor<S> = Self.values(shape, &g)
            // Some equal elements, so `==`, `<=` and `>=` see ties.
            b.withUnsafeMutableBufferPointer { x in
                a.withUnsafeBufferPointer { y in for i in x.indices where i % 3 == 0 { x[i] = y[i] } }
            }
            let scalars: [S] = a.count > 1000
                ? [S(g.nextNormal()), .nan]
                : [S(g.nextNormal()), 0, -0.0, .nan, .infinity, a.scalars.first ?? 1]
            for path in [ComputePath.loop, .vectorized] {
                withComputePath(path) {
                    for op in BinaryOperation.allCases {
                        let tag = "\(S.self) \(path) \(op) \(shape)"
                        assertBitwise(a.broadcasting(op, b), a.broadcastingWithPlan(op, b), "tensor ⊕ tensor " + tag)
                        var fast = a, general = a
                        fast.formBroadcasting(op, b)
                        general.formBroadcastingWithPlan(op, b)
                        assertBitwise(fast, general, "in place ⊕= tensor " + tag)
                        for s in scalars {
                            let t = Tensor<S>(s)
                            assertBitwise(a.broadcasting(op, scalar: s), a.broadcastingWithPlan(op, t), "tensor ⊕ \(s) " + tag)
                            assertBitwise(a.broadcasting(op, scalar: s, scalarFirst: true), t.broadcastingWithPlan(op, a),
                                          "\(s) ⊕ tensor " + tag)
                            var fast = a, general = a
                            fast.formBroadcasting(op, scalar: s)
                            general.formBroadcastingWithPlan(op, t)
                            assertBitwise(fast, general, "in place ⊕= \(s) " + tag)
                        }
                    }
                }
            }
        }
    }

    func testFastPathsMatchTheGeneralPathFloat() { check(Float.self, seed: 11) }
    func testFastPathsMatchTheGeneralPathDouble() { check(Double.self, seed: 12) }

    /// The public operators reach the fast paths with the operands in the right
    /// order (`s - x` is not `x - s`) and agree with the general path.
    func testOperatorsKeepOperandOrder() {
        var g = RandomGenerator(seed: 13)
        let x: Tensor<Float> = Self.values([3, 5], &g), y: Tensor<Float> = Self.values([3, 5], &g)
        let s: Float = 0.75, t = Tensor<Float>(s)
        for path in [ComputePath.loop, .vectorized] {
            withComputePath(path) {
                assertBitwise(x + s, x.broadcastingWithPlan(.add, t), "x + s \(path)")
                assertBitwise(s + x, t.broadcastingWithPlan(.add, x), "s + x \(path)")
                assertBitwise(x - s, x.broadcastingWithPlan(.subtract, t), "x - s \(path)")
                assertBitwise(s - x, t.broadcastingWithPlan(.subtract, x), "s - x \(path)")
                assertBitwise(x * s, x.broadcastingWithPlan(.multiply, t), "x * s \(path)")
                assertBitwise(s * x, t.broadcastingWithPlan(.multiply, x), "s * x \(path)")
                assertBitwise(x / s, x.broadcastingWithPlan(.divide, t), "x / s \(path)")
                assertBitwise(s / x, t.broadcastingWithPlan(.divide, x), "s / x \(path)")
                assertBitwise(x - y, x.broadcastingWithPlan(.subtract, y), "x - y \(path)")
                assertBitwise(x / y, x.broadcastingWithPlan(.divide, y), "x / y \(path)")
                assertBitwise(min(x, s), x.broadcastingWithPlan(.minimum, t), "min(x, s) \(path)")
                assertBitwise(max(x, s), x.broadcastingWithPlan(.maximum, t), "max(x, s) \(path)")
                assertBitwise(x .< s, x.broadcastingWithPlan(.less, t), "x .< s \(path)")
                assertBitwise(x .>= s, x.broadcastingWithPlan(.greaterOrEqual, t), "x .>= s \(path)")
                var u = x
                u -= s
                assertBitwise(u, x.broadcastingWithPlan(.subtract, t), "x -= s \(path)")
                u = x
                u /= y
                assertBitwise(u, x.broadcastingWithPlan(.divide, y), "x /= y \(path)")
            }
        }
        XCTAssertEqual((Float(1) - Tensor<Float>([4, 2])).scalars, [-3, -1])
        XCTAssertEqual((Float(1) / Tensor<Float>([4, 2])).scalars, [0.25, 0.5])
        XCTAssertEqual((Tensor<Float>([4, 2]) - 1).scalars, [3, 1])
    }
}
