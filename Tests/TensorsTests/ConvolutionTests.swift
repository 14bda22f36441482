import Foundation
import Tensors
import XCTest

/// Convolution against the notes' worked examples and PyTorch
/// (`Reference/make_convolution.py`, float64), on both compute paths.
final class ConvolutionTests: XCTestCase {
    struct ConvolutionCase: Decodable {
        let x_shape: [Int], x: [Double], w_shape: [Int], w: [Double], b: [Double]
        let stride: Int, padding: PaddingValue
        let y_shape: [Int], y: [Double], dy: [Double], dx: [Double], dw: [Double], db: [Double]
    }
    enum PaddingValue: Decodable {
        case same, explicit(Int)
        init(from decoder: Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let p = try? c.decode(Int.self) { self = .explicit(p) } else { self = .same }
        }
        var padding: Padding { if case .explicit(let p) = self { return .explicit(p) } else { return .same } }
    }
    struct PoolCase: Decodable {
        let kind: String, x_shape: [Int], x: [Double], f: Int, stride: Int
        let y_shape: [Int], y: [Double], dy: [Double], dx_first: [Double]
    }
    struct File: Decodable { let convolutions: [ConvolutionCase], pools: [PoolCase] }

    static let reference: File = {
        let url = Bundle.module.url(forResource: "convolution", withExtension: "json", subdirectory: "Reference")!
        return try! JSONDecoder().decode(File.self, from: Data(contentsOf: url))
    }()

    /// C4W1-02: the 6×6 image, bright left half, convolved with the vertical-edge filter.
    func testNotesVerticalEdgeExample() {
        let row: [Float] = [10, 10, 10, 0, 0, 0]
        let image = Tensor<Float>(shape: [1, 6, 6, 1], scalars: Array([[Float]](repeating: row, count: 6).joined()))
        let filter = Tensor<Float>(shape: [3, 3, 1, 1], scalars: [1, 0, -1, 1, 0, -1, 1, 0, -1])
        for path in [ComputePath.loop, .vectorized] {
            let edges = withComputePath(path) { conv2D(image, filter: filter) }
            XCTAssertEqual(edges.shape, [1, 4, 4, 1])
            XCTAssertEqual(edges.scalars, Array([[Float]](repeating: [0, 30, 30, 0], count: 4).joined()), "\(path)")
        }
    }

    /// C4W1-05: `⌊(n + 2p − f)/s⌋ + 1` on the notes' cases; "same" keeps n at stride 1.
    func testOutputSizeFormula() {
        XCTAssertEqual(convolutionOutputSize(inputSize: 6, filterSize: 3), 4)
        XCTAssertEqual(convolutionOutputSize(inputSize: 6, filterSize: 3, padding: .explicit(1)), 6)
        XCTAssertEqual(convolutionOutputSize(inputSize: 7, filterSize: 3, stride: 2), 3)
        XCTAssertEqual(convolutionOutputSize(inputSize: 39, filterSize: 3), 37, "the notes' 39×39×3 example")
        XCTAssertEqual(convolutionOutputSize(inputSize: 37, filterSize: 5, stride: 2), 17)
        XCTAssertEqual(convolutionOutputSize(inputSize: 17, filterSize: 5, stride: 2), 7)
        XCTAssertEqual(convolutionOutputSize(inputSize: 32, filterSize: 5), 28, "LeNet-5's first layer")
        XCTAssertEqual(convolutionOutputSize(inputSize: 9, filterSize: 3, stride: 2, padding: .same), 5)
        XCTAssertEqual(convolutionOutputSize(inputSize: 9, filterSize: 4, padding: .same), 9)
    }

    /// C4W1 "one by one convolution": a 6×6×32 volume and a 1×1×32 filter give a 6×6 map of dot products.
    func testOneByOneConvolutionIsAPerPixelDotProduct() {
        var g = RandomGenerator(seed: 5)
        let x = Tensor<Double>(randomNormal: [1, 6, 6, 32], generator: &g)
        let w = Tensor<Double>(randomNormal: [1, 1, 32, 1], generator: &g)
        let y = conv2D(x, filter: w)
        XCTAssertEqual(y.shape, [1, 6, 6, 1])
        for h in 0..<6 { for v in 0..<6 {
            let expected = (0..<32).reduce(0.0) { $0 + x[0, h, v, $1] * w[0, 0, $1, 0] }
            XCTAssertEqual(y[0, h, v, 0], expected, accuracy: 1e-12)
        } }
    }

    func testAgainstPyTorch() {
        XCTAssertEqual(Self.reference.convolutions.count, 11)
        for path in [ComputePath.loop, .vectorized] {
            withComputePath(path) {
                for (n, c) in Self.reference.convolutions.enumerated() {
                    let tag = "case \(n) x \(c.x_shape) w \(c.w_shape) s \(c.stride) \(c.padding.padding) (\(path))"
                    let x = Tensor<Double>(shape: c.x_shape, scalars: c.x), w = Tensor<Double>(shape: c.w_shape, scalars: c.w)
                    let b = Tensor<Double>(c.b), dy = Tensor<Double>(shape: c.y_shape, scalars: c.dy)
                    let y = conv2D(x, filter: w, bias: b, stride: c.stride, padding: c.padding.padding)
                    assertClose(y, c.y, shape: c.y_shape, relative: 1e-10, absolute: 1e-10, tag)
                    let dx = conv2DBackwardInput(dy, filter: w, inputShape: c.x_shape, stride: c.stride, padding: c.padding.padding)
                    assertClose(dx, c.dx, shape: c.x_shape, relative: 1e-10, absolute: 1e-10, "dx " + tag)
                    let dw = conv2DBackwardFilter(dy, input: x, filterShape: c.w_shape, stride: c.stride, padding: c.padding.padding)
                    assertClose(dw, c.dw, shape: c.w_shape, relative: 1e-10, absolute: 1e-10, "dw " + tag)
                    // Float agrees to Float precision.
                    let yf = conv2D(Tensor<Float>(x), filter: Tensor<Float>(w), bias: Tensor<Float>(b), stride: c.stride, padding: c.padding.padding)
                    assertClose(yf, c.y, shape: c.y_shape, relative: 1e-4, absolute: 1e-4, "Float " + tag)
                }
            }
        }
    }

    /// Random shapes large enough for the blocked kernel, several threads: the
    /// vectorized path matches the loop path, and the bits do not depend on the thread count.
    func testPathsAgreeOnLargerShapes() {
        var g = RandomGenerator(seed: 17)
        var cases = [([2, 17, 13, 8], [3, 3, 8, 24], 1, Padding.same),
                     ([3, 12, 12, 5], [3, 3, 5, 7], 2, Padding.explicit(1)),
                     ([2, 9, 9, 16], [1, 1, 16, 32], 1, Padding.valid)]
        if isReleaseBuild {   // products above the blocking limit: the packed, blocked kernel reads the patches
            cases += [([5, 20, 20, 32], [3, 3, 32, 64], 1, Padding.same), ([6, 22, 18, 32], [3, 3, 32, 48], 2, Padding.explicit(1))]
        }
        for (shape, filter, stride, padding) in cases {
            let x = Tensor<Double>(randomNormal: shape, generator: &g), w = Tensor<Double>(randomNormal: filter, generator: &g)
            let y = conv2D(x, filter: w, stride: stride, padding: padding)
            let dy = Tensor<Double>(randomNormal: y.shape, generator: &g)
            let loop = withComputePath(.loop) {
                (conv2D(x, filter: w, stride: stride, padding: padding),
                 conv2DBackwardInput(dy, filter: w, inputShape: shape, stride: stride, padding: padding),
                 conv2DBackwardFilter(dy, input: x, filterShape: filter, stride: stride, padding: padding))
            }
            let dx = conv2DBackwardInput(dy, filter: w, inputShape: shape, stride: stride, padding: padding)
            let dw = conv2DBackwardFilter(dy, input: x, filterShape: filter, stride: stride, padding: padding)
            assertClose(y, loop.0.scalars, relative: 1e-12, absolute: 1e-12, "forward \(shape)")
            assertClose(dx, loop.1.scalars, relative: 1e-12, absolute: 1e-12, "dx \(shape)")
            assertClose(dw, loop.2.scalars, relative: 1e-12, absolute: 1e-12, "dw \(shape)")
            let single = Parallelism.withMaxThreads(1) {
                (conv2D(x, filter: w, stride: stride, padding: padding),
                 conv2DBackwardInput(dy, filter: w, inputShape: shape, stride: stride, padding: padding),
                 conv2DBackwardFilter(dy, input: x, filterShape: filter, stride: stride, padding: padding))
            }
            XCTAssertEqual(single.0, y, "same bits on one thread")
            XCTAssertEqual(single.1, dx)
            XCTAssertEqual(single.2, dw)
        }
    }
}
