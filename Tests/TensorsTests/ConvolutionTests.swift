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
    struct VariantCase: Decodable {
        let x_shape: [Int], x: [Double], w_shape: [Int], w: [Double], b: [Double], stride: Int, padding: Int
        let output_padding: Int?
        let y_shape: [Int], y: [Double], dy: [Double], dx: [Double], dw: [Double], db: [Double]
    }
    struct File: Decodable {
        let convolutions: [ConvolutionCase], pools: [PoolCase]
        let depthwise: [VariantCase], transposed: [VariantCase], one_d: [VariantCase], three_d: [VariantCase]
    }

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

    /// C4W1-02's other worked examples: TC-C1 (the 6×6 matrix with the vertical
    /// filter), TC-C2's mirrored step (dark to bright: −30), TC-C3 (the
    /// horizontal filter on a checkered image), and the Sobel and Scharr forms
    /// of the vertical filter (TC-C4) on the step image (a bright left half:
    /// 40 and 160 at the edge) — on both paths.
    func testNotesEdgeDetectionExamples() {
        func convolve(_ rows: [[Float]], _ filter: [[Float]], _ path: ComputePath) -> [[Float]] {
            let image = Tensor<Float>(shape: [1, rows.count, rows[0].count, 1], scalars: Array(rows.joined()))
            let f = Tensor<Float>(shape: [3, 3, 1, 1], scalars: Array(filter.joined()))
            let out = withComputePath(path) { conv2D(image, filter: f) }
            let width = out.shape[2]
            return (0..<out.shape[1]).map { Array(out.scalars[($0 * width)..<(($0 + 1) * width)]) }
        }
        let vertical: [[Float]] = [[1, 0, -1], [1, 0, -1], [1, 0, -1]]
        let horizontal: [[Float]] = [[1, 1, 1], [0, 0, 0], [-1, -1, -1]]
        let matrix: [[Float]] = [[3, 0, 1, 2, 7, 4], [1, 5, 8, 9, 3, 1], [2, 7, 2, 5, 1, 3],
                                 [0, 1, 3, 1, 7, 8], [4, 2, 1, 6, 2, 8], [2, 4, 5, 2, 3, 9]]
        let bright: [Float] = [10, 10, 10, 0, 0, 0], dark: [Float] = [0, 0, 0, 10, 10, 10]
        for path in [ComputePath.loop, .vectorized] {
            XCTAssertEqual(convolve(matrix, vertical, path), [[-5, -4, 0, 8], [-10, -2, 2, 3], [0, -2, -4, -7], [-3, -2, -3, -16]], "TC-C1 \(path)")
            XCTAssertEqual(convolve(Array(repeating: dark, count: 6), vertical, path), Array(repeating: [0, -30, -30, 0], count: 4), "TC-C2 \(path)")
            XCTAssertEqual(convolve(Array(repeating: bright, count: 3) + Array(repeating: dark, count: 3), horizontal, path),
                           [[0, 0, 0, 0], [30, 10, -10, -30], [30, 10, -10, -30], [0, 0, 0, 0]], "TC-C3 \(path)")
            XCTAssertEqual(convolve(Array(repeating: bright, count: 6), [[1, 0, -1], [2, 0, -2], [1, 0, -1]], path),
                           Array(repeating: [0, 40, 40, 0], count: 4), "Sobel \(path)")
            XCTAssertEqual(convolve(Array(repeating: bright, count: 6), [[3, 0, -3], [10, 0, -10], [3, 0, -3]], path),
                           Array(repeating: [0, 160, 160, 0], count: 4), "Scharr \(path)")
        }
    }

    /// C4W1-04: `⌊(n + 2p − f)/s⌋ + 1` on the notes' cases; "same" keeps n at stride 1.
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

extension ConvolutionTests {
    func testPoolingAgainstPyTorch() {
        XCTAssertEqual(Self.reference.pools.count, 4)
        for path in [ComputePath.loop, .vectorized] {
            withComputePath(path) {
                for (n, c) in Self.reference.pools.enumerated() {
                    let tag = "\(c.kind) pool case \(n) \(c.x_shape) f \(c.f) s \(c.stride) (\(path))"
                    let x = Tensor<Double>(shape: c.x_shape, scalars: c.x), dy = Tensor<Double>(shape: c.y_shape, scalars: c.dy)
                    if c.kind == "max" {
                        let y = maxPool2D(x, size: c.f, stride: c.stride)
                        assertClose(y, c.y, shape: c.y_shape, relative: 0, absolute: 0, tag)
                        let first = maxPool2DBackward(dy, input: x, output: y, size: c.f, stride: c.stride, ties: .firstMaximum)
                        assertClose(first, c.dx_first, shape: c.x_shape, relative: 0, absolute: 0, "first maximum " + tag)
                        // The notes' mask: the tie planted at (0, 0, 0, 0) and (0, 0, 1, 0) sends dA to both.
                        let all = maxPool2DBackward(dy, input: x, output: y, size: c.f, stride: c.stride)
                        XCTAssertEqual(all[0, 0, 0, 0], dy[0, 0, 0, 0], tag)
                        XCTAssertEqual(all[0, 0, 1, 0], dy[0, 0, 0, 0], "every tied maximum gets the gradient " + tag)
                        XCTAssertEqual(first[0, 0, 1, 0], 0, tag)
                    } else {
                        let y = averagePool2D(x, size: c.f, stride: c.stride)
                        assertClose(y, c.y, shape: c.y_shape, relative: 1e-12, absolute: 1e-12, tag)
                        let dx = averagePool2DBackward(dy, inputShape: c.x_shape, size: c.f, stride: c.stride)
                        assertClose(dx, c.dx_first, shape: c.x_shape, relative: 1e-12, absolute: 1e-12, "backward " + tag)
                    }
                }
            }
        }
    }

    /// The notes' 4×4 max-pooling example (f = 2, s = 2) and its average.
    func testNotesPoolingExample() {
        let x = Tensor<Float>(shape: [1, 4, 4, 1], scalars: [1, 3, 2, 1, 2, 9, 1, 1, 1, 3, 2, 3, 5, 6, 1, 2])
        XCTAssertEqual(maxPool2D(x, size: 2).scalars, [9, 2, 6, 3])
        XCTAssertEqual(averagePool2D(x, size: 2).scalars, [3.75, 1.25, 3.75, 2])
        // The notes' average-pooling input differs in one element (4 for 3): [[3.75, 1.25], [4, 2]].
        let notes = Tensor<Float>(shape: [1, 4, 4, 1], scalars: [1, 3, 2, 1, 2, 9, 1, 1, 1, 4, 2, 3, 5, 6, 1, 2])
        for path in [ComputePath.loop, .vectorized] {
            XCTAssertEqual(withComputePath(path) { averagePool2D(notes, size: 2) }.scalars, [3.75, 1.25, 4, 2], "\(path)")
        }
    }

    /// Channel counts that leave vector tails, windows with padding and overlap: both paths agree bitwise.
    func testPoolingPathsAgree() {
        var g = RandomGenerator(seed: 23)
        for (shape, size, stride, padding) in [([2, 7, 9, 19], 3, 2, Padding.same), ([3, 6, 6, 37], 2, 2, Padding.valid),
                                               ([1, 5, 5, 8], 3, 1, Padding.explicit(1)),
                                               // disjoint windows leaving the last row and column uncovered; gaps between windows
                                               ([2, 7, 9, 16], 2, 2, Padding.valid), ([1, 8, 8, 5], 2, 3, Padding.valid),
                                               // several bands of four output rows (the forward's jobs), overlapping and disjoint windows
                                               ([2, 19, 6, 16], 3, 2, Padding.explicit(1)), ([1, 23, 5, 32], 2, 2, Padding.valid)] {
            for maximum in [true, false] {
                let x = Tensor<Float>(randomNormal: shape, generator: &g)
                func run() -> (Tensor<Float>, Tensor<Float>, Tensor<Float>) {
                    let y = maximum ? maxPool2D(x, size: size, stride: stride, padding: padding)
                                    : averagePool2D(x, size: size, stride: stride, padding: padding)
                    let dy = Tensor<Float>(shape: y.shape, scalars: (0..<y.count).map { Float($0 % 7) - 3 })
                    let dx = maximum ? maxPool2DBackward(dy, input: x, output: y, size: size, stride: stride, padding: padding)
                                     : averagePool2DBackward(dy, inputShape: shape, size: size, stride: stride, padding: padding)
                    let first = maximum ? maxPool2DBackward(dy, input: x, output: y, size: size, stride: stride, padding: padding, ties: .firstMaximum) : dx
                    return (y, dx, first)
                }
                let vector = run(), loop = withComputePath(.loop, run)
                XCTAssertEqual(vector.0, loop.0, "\(shape) max \(maximum)")
                XCTAssertEqual(vector.1, loop.1, "\(shape) max \(maximum) backward")
                XCTAssertEqual(vector.2, loop.2, "\(shape) max \(maximum) first-maximum backward")
            }
        }
    }
}

extension DifferentiationTests {
    func testConvolutionAndPoolingRules() {
        for (stride, padding) in [(1, Padding.valid), (2, Padding.explicit(1)), (1, Padding.same), (2, Padding.same)] {
            checkGradient("conv2D s\(stride) \(padding)", [random([2, 6, 5, 3]), random([3, 3, 3, 4]), random([1, 1, 1, 4])]) { v in
                conv2D(v[0], filter: v[1], bias: v[2], stride: stride, padding: padding)
            }
        }
        checkGradient("conv2D 1x1", [random([2, 3, 3, 5]), random([1, 1, 5, 2])]) { v in conv2D(v[0], filter: v[1]) }
        // In Double the 6-row kernel serves these too: the indirect forward (17 > 16 filters), its
        // unpacked filter gradient (17 ≥ 6 channels, a shifted channel tile and filter panel, 2×2
        // windows with asymmetric same padding) and the
        // indirect stride-1 input gradient (17 > 16 input channels); then a 1×1 of the same widths.
        checkGradient("conv2D indirect", [random([1, 3, 4, 17]), random([2, 2, 17, 17])]) { v in conv2D(v[0], filter: v[1], padding: .same) }
        checkGradient("conv2D indirect 1x1", [random([1, 3, 2, 17]), random([1, 1, 17, 17])]) { v in conv2D(v[0], filter: v[1]) }
        // Disjoint 2×2 windows at stride 2 (a window row of 2·4 = 8 values, one Double panel): the
        // input gradient written in place, with an uncovered last row and column.
        checkGradient("conv2D disjoint", [random([1, 5, 7, 4]), random([2, 2, 4, 3])]) { v in conv2D(v[0], filter: v[1], stride: 2) }
        // Distinct values (no ties) so that the maximum is differentiable.
        let distinct = Tensor<Double>(shape: [2, 5, 6, 3], scalars: (0..<180).map { Double(($0 * 37) % 180) / 30 - 3 })
        checkGradient("maxPool2D", [distinct]) { v in maxPool2D(v[0], size: 2, stride: 2) }
        checkGradient("maxPool2D overlapping same", [distinct]) { v in maxPool2D(v[0], size: 3, stride: 1, padding: .same) }
        checkGradient("averagePool2D", [random([2, 5, 6, 3])]) { v in averagePool2D(v[0], size: 3, stride: 2, padding: .same) }
    }
}

extension ConvolutionTests {
    /// Depthwise, transposed and 1-D convolutions against PyTorch (groups = C,
    /// conv_transpose2d with output_padding, conv1d), values and all gradients through the tape.
    func testConvolutionVariantsAgainstPyTorch() {
        enum Kind { case depthwise, transposed, oneD, threeD }
        let all: [(Kind, [VariantCase])] = [(.depthwise, Self.reference.depthwise), (.transposed, Self.reference.transposed),
                                            (.oneD, Self.reference.one_d), (.threeD, Self.reference.three_d)]
        for path in [ComputePath.loop, .vectorized] {
            withComputePath(path) {
                for (kind, cases) in all {
                    for (n, c) in cases.enumerated() {
                        let tag = "\(kind) case \(n) x \(c.x_shape) w \(c.w_shape) s \(c.stride) p \(c.padding) (\(path))"
                        let x = Variable(Tensor<Double>(shape: c.x_shape, scalars: c.x), requiresGradient: true)
                        let w = Variable(Tensor<Double>(shape: c.w_shape, scalars: c.w), requiresGradient: true)
                        let b = Variable(Tensor<Double>(c.b), requiresGradient: true)
                        let y: Variable<Double>
                        switch kind {
                        case .depthwise: y = depthwiseConv2D(x, filter: w, bias: b, stride: c.stride, padding: .explicit(c.padding))
                        case .transposed: y = convTranspose2D(x, filter: w, bias: b, stride: c.stride, padding: .explicit(c.padding),
                                                              outputPadding: c.output_padding ?? 0)
                        case .oneD: y = conv1D(x, filter: w, bias: b, stride: c.stride, padding: .explicit(c.padding))
                        case .threeD: y = conv3D(x, filter: w, bias: b, stride: c.stride, padding: .explicit(c.padding))
                        }
                        assertClose(y.value, c.y, shape: c.y_shape, relative: 1e-10, absolute: 1e-10, tag)
                        y.backward(seed: Tensor(shape: c.y_shape, scalars: c.dy))
                        assertClose(x.gradient!, c.dx, shape: c.x_shape, relative: 1e-10, absolute: 1e-10, "dx " + tag)
                        assertClose(w.gradient!, c.dw, shape: c.w_shape, relative: 1e-10, absolute: 1e-10, "dw " + tag)
                        assertClose(b.gradient!, c.db, relative: 1e-10, absolute: 1e-10, "db " + tag)
                    }
                }
            }
        }
    }

    /// C4W4-10: a 14-long signal with a 5-long filter gives 10; the notes' 3-D shapes
    /// come from the same formula. C4W3-11: f = 3, p = 1, s = 2 doubles a grid with output padding 1.
    func testNotesShapesForOtherConvolutions() {
        let signal = Tensor<Float>(shape: [1, 14, 1], repeating: 1), filter = Tensor<Float>(shape: [5, 1, 1], repeating: 1)
        XCTAssertEqual(conv1D(signal, filter: filter).shape, [1, 10, 1])
        XCTAssertEqual(conv1D(signal, filter: filter).scalars, [Float](repeating: 5, count: 10))
        let grid = Tensor<Float>(shape: [1, 2, 2, 1], repeating: 1), up = Tensor<Float>(shape: [3, 3, 1, 1], repeating: 1)
        XCTAssertEqual(convTranspose2D(grid, filter: up, stride: 2, padding: .explicit(1), outputPadding: 1).shape, [1, 4, 4, 1])
        XCTAssertEqual(convTranspose2D(grid, filter: Tensor<Float>(shape: [2, 2, 1, 1], repeating: 1), stride: 2, padding: .same).shape, [1, 4, 4, 1])
        // The 14×14×14×1 volume (printed "4×4×4" in the notes) with 16 filters of 5×5×5 → 10×10×10×16.
        var g = RandomGenerator(seed: 9)
        let volume = Tensor<Float>(randomNormal: [1, 14, 14, 14, 1], generator: &g)
        let y = conv3D(volume, filter: Tensor<Float>(randomNormal: [5, 5, 5, 1, 16], generator: &g))
        XCTAssertEqual(y.shape, [1, 10, 10, 10, 16])
        XCTAssertEqual(conv3D(y, filter: Tensor<Float>(shape: [5, 5, 5, 16, 32], repeating: 0.01)).shape, [1, 6, 6, 6, 32])
    }

    /// The direct kernels for few filters (n_C ≤ 16: LeNet's layers, and the
    /// stride-1 input gradient of layers with few input channels): groups of
    /// four interior pixels, borders, strides, padding, filter counts below,
    /// at and between the vector widths. The forward pass is bitwise equal to
    /// the loop path (same sum order, separate multiply and add); the filter
    /// gradient (8 or 16 filters) sums per image, the input gradient is a GEMM
    /// or direct full convolution: both agree within rounding. Thread counts
    /// never change the bits.
    func testDirectConvolutionPathsAgree() {
        var g = RandomGenerator(seed: 37)
        let cases: [(x: [Int], f: (Int, Int), filters: Int, stride: Int, padding: Padding)] = [
            ([3, 12, 13, 3], (5, 5), 8, 1, .valid), ([2, 10, 11, 8], (5, 5), 16, 1, .valid), ([2, 9, 12, 1], (3, 3), 16, 1, .same),
            ([2, 11, 10, 5], (3, 3), 6, 2, .explicit(1)), ([1, 13, 14, 4], (3, 2), 8, 2, .same), ([2, 7, 9, 7], (3, 3), 13, 1, .explicit(2)),
            ([1, 6, 5, 2], (1, 3), 3, 1, .same), ([2, 8, 6, 5], (2, 2), 6, 2, .valid),   // windows tiling the input: dX in place
        ]
        for c in cases {
            let x = Tensor<Float>(randomNormal: c.x, generator: &g)
            let w = Tensor<Float>(randomNormal: [c.f.0, c.f.1, c.x[3], c.filters], generator: &g)
            func run() -> [Tensor<Float>] {
                let y = conv2D(x, filter: w, stride: c.stride, padding: c.padding)
                let dy = Tensor<Float>(shape: y.shape, scalars: (0..<y.count).map { Float($0 % 7) - 3 })
                return [y, conv2DBackwardFilter(dy, input: x, filterShape: w.shape, stride: c.stride, padding: c.padding),
                        conv2DBackwardInput(dy, filter: w, inputShape: x.shape, stride: c.stride, padding: c.padding)]
            }
            let vector = run(), loop = withComputePath(.loop, run)
            XCTAssertEqual(loop[0], vector[0], "forward \(c)")
            assertClose(vector[1], loop[1].scalars.map(Double.init), relative: 1e-5, absolute: 1e-4, "filter gradient \(c)")
            assertClose(vector[2], loop[2].scalars.map(Double.init), relative: 1e-5, absolute: 1e-4, "input gradient \(c)")
            XCTAssertEqual(Parallelism.withMaxThreads(1, run), vector, "threads \(c)")
        }
    }

    /// The indirect kernels (more than 16 filters; six-pixel tiles against 256- or 512-bit filter vectors): tiles
    /// of six pixels with partial last tiles (widths 3, 7, 13), padding taps
    /// through the zero row, strides 1 and 2, filter counts with a partial
    /// last panel (20, 33) and whole ones (32); the stride-1 input gradient of
    /// a layer with more than 16 input channels runs through it too. The
    /// filter gradient's unpacked kernel: channel counts with a shifted last
    /// tile (5 → GEMM, 17, 18), eight-channel tiles (8, 16, 24; 512-bit vectors
    /// only: the 256-bit family takes six-channel tiles there, the last shifted
    /// back for 8 and 16), bands of rows, padding larger than the
    /// image border (the 3×5 image with padding 2), a single image split into
    /// groups of row bands, and 1×1 filters. Within rounding of the
    /// loop path (the micro-kernel may fuse multiply-adds), bitwise equal
    /// across thread counts.
    func testIndirectConvolutionPathsAgree() {
        var g = RandomGenerator(seed: 43)
        let cases: [(x: [Int], f: Int, filters: Int, stride: Int, padding: Padding)] = [
            ([2, 9, 13, 5], 3, 20, 1, .same), ([1, 8, 7, 18], 3, 33, 2, .explicit(1)), ([2, 5, 3, 17], 3, 32, 1, .explicit(2)),
            ([1, 10, 12, 24], 5, 21, 1, .valid), ([1, 7, 9, 3], 1, 40, 2, .valid), ([3, 19, 11, 18], 3, 17, 1, .same),
            ([2, 3, 5, 6], 3, 16, 2, .explicit(2)), ([1, 40, 9, 8], 3, 24, 1, .same), ([2, 6, 7, 12], 1, 48, 1, .valid),
            ([1, 9, 6, 20], 3, 24, 3, .valid),   // 3×3 windows at stride 3 tile 9×6 (the in-place input gradient), 6 wide
            // Disjoint windows (stride = filter, no padding): dX written in place, with
            // uncovered rows and columns, row tiles shifted back, rows narrower than a tile.
            ([2, 8, 12, 8], 2, 24, 2, .valid), ([1, 9, 15, 8], 2, 20, 2, .valid), ([2, 5, 8, 16], 2, 18, 2, .valid),
            ([1, 7, 10, 16], 3, 17, 3, .valid),
            // Channel counts a multiple of 8 with at least one 512-bit panel of filters: the 8-row filter-gradient
            // tile with 512-bit vectors, six-row tiles with 256-bit ones (the last shifted back for 8 and 16).
            ([2, 9, 11, 16], 3, 40, 1, .same), ([1, 12, 10, 24], 3, 32, 2, .explicit(1)), ([2, 5, 6, 8], 1, 64, 1, .valid),
            // 64 filters and more: the forward's four-vector panels (6 × 64 Float tiles), alone, twice,
            // and followed by a two-vector panel (a partial one for 80), with pixel counts not a multiple of 6.
            ([1, 7, 9, 16], 3, 80, 1, .same), ([2, 6, 5, 8], 3, 128, 2, .explicit(1)), ([1, 5, 7, 12], 1, 96, 1, .valid),
        ]
        // Both micro-kernel families, whichever the calibration chose: 6 × 2·8 and 6 × 2·16 Float tiles.
        withEachGEMMKernel([GEMMKernel.fma6x16, .fma12x32]) { kernel in
            for c in cases {
                let x = Tensor<Float>(randomNormal: c.x, generator: &g)
                let w = Tensor<Float>(randomNormal: [c.f, c.f, c.x[3], c.filters], generator: &g)
                func run() -> [Tensor<Float>] {
                    let y = conv2D(x, filter: w, stride: c.stride, padding: c.padding)
                    let dy = Tensor<Float>(shape: y.shape, scalars: (0..<y.count).map { Float($0 % 7) - 3 })
                    return [y, conv2DBackwardInput(dy, filter: w, inputShape: x.shape, stride: c.stride, padding: c.padding),
                            conv2DBackwardFilter(dy, input: x, filterShape: w.shape, stride: c.stride, padding: c.padding)]
                }
                let vector = run(), loop = withComputePath(.loop, run)
                assertClose(vector[0], loop[0].scalars.map(Double.init), relative: 1e-5, absolute: 1e-4, "forward \(c)")
                assertClose(vector[1], loop[1].scalars.map(Double.init), relative: 1e-5, absolute: 1e-4, "input gradient \(c)")
                assertClose(vector[2], loop[2].scalars.map(Double.init), relative: 1e-5, absolute: 1e-3, "filter gradient \(c) \(kernel)")
                XCTAssertEqual(Parallelism.withMaxThreads(1, run), vector, "threads \(c) \(kernel)")
            }
            // Double: 512-bit panels of 16 and 32 filters (80 = two wide, one two-vector panel).
            let x = Tensor<Double>(randomNormal: [2, 7, 6, 9], generator: &g)
            let w = Tensor<Double>(randomNormal: [3, 3, 9, 80], generator: &g)
            let y = conv2D(x, filter: w, stride: 1, padding: .same)
            let loop = withComputePath(.loop) { conv2D(x, filter: w, stride: 1, padding: .same) }
            assertClose(y, loop.scalars, relative: 1e-12, absolute: 1e-12, "Double forward \(kernel)")
        }
    }

    /// Winograd's F(2×2, 3×3) (stride-1 3×3 filters, whole vectors of
    /// channels and filters, ≥ 48 tiles per image): odd output sizes (partial
    /// 2 × 2 tiles), padding 0, 1 and 2 (windows on the zero row), partial
    /// 48-tile blocks and blocks across image ends, tile counts not a multiple
    /// of six, four-vector panels of 64 filters with and without a two-vector
    /// panel after them, and a one-row image. The filter gradient by F(3×3,
    /// 2×2) runs on both kernel families (panels of four 512-bit or two
    /// 256-bit vectors) and is checked to be taken. Float agrees with the loop twin within the
    /// transforms' rounding (measured worst: see the tolerance), Double within
    /// 1e-11, and the bits do not depend on the thread count. The algorithm is
    /// really taken: its result differs from the direct (indirect-GEMM) one,
    /// which ``ConvolutionConfiguration/usesWinograd`` `= false` restores.
    func testWinogradConvolutionAgreesWithLoop() {
        var g = RandomGenerator(seed: 53)
        let cases: [(x: [Int], filters: Int, padding: Padding)] = [
            ([2, 13, 15, 16], 64, .same), ([1, 14, 12, 32], 48, .explicit(2)), ([2, 17, 21, 16], 80, .valid),
            ([1, 13, 16, 64], 64, .same), ([2, 17, 15, 32], 32, .same), ([1, 1, 200, 32], 32, .same), ([2, 13, 14, 16], 128, .same),
        ]
        defer { ConvolutionConfiguration.usesWinograd = true }
        withEachGEMMKernel([GEMMKernel.fma6x16, .fma12x32]) { kernel in
            for c in cases {
                let x = Tensor<Float>(randomNormal: c.x, generator: &g)
                let w = Tensor<Float>(randomNormal: [3, 3, c.x[3], c.filters], generator: &g)
                let run = { conv2D(x, filter: w, padding: c.padding) }
                let winograd = run(), loop = withComputePath(.loop, run)
                assertClose(winograd, loop.scalars.map(Double.init), relative: 1e-5, absolute: 1e-4, "forward \(c) \(kernel)")
                XCTAssertEqual(Parallelism.withMaxThreads(1, run), winograd, "threads \(c) \(kernel)")
                // The filter gradient by F(3×3, 2×2).
                let dy = Tensor<Float>(randomNormal: winograd.shape, generator: &g)
                let gradient = { conv2DBackwardFilter(dy, input: x, filterShape: w.shape, padding: c.padding) }
                let dw = gradient(), dwLoop = withComputePath(.loop, gradient)
                assertClose(dw, dwLoop.scalars.map(Double.init), relative: 1e-5, absolute: 1e-3, "filter gradient \(c) \(kernel)")
                XCTAssertEqual(Parallelism.withMaxThreads(1, gradient), dw, "filter gradient threads \(c) \(kernel)")
                ConvolutionConfiguration.usesWinograd = false
                let direct = run(), directGradient = gradient()
                ConvolutionConfiguration.usesWinograd = true
                XCTAssertNotEqual(direct, winograd, "Winograd not taken \(c) \(kernel)")
                // Its filter gradient wherever the filters fill whole panels (64 wide, 16 for the 6-row family).
                if c.filters % (kernel == .fma12x32 ? 64 : 16) == 0 {
                    XCTAssertNotEqual(directGradient, dw, "Winograd filter gradient not taken \(c) \(kernel)")
                }
                assertClose(direct, loop.scalars.map(Double.init), relative: 1e-5, absolute: 1e-4, "direct \(c) \(kernel)")
            }
            let x = Tensor<Double>(randomNormal: [2, 15, 13, 16], generator: &g)
            let w = Tensor<Double>(randomNormal: [3, 3, 16, 64], generator: &g)
            let y = conv2D(x, filter: w, padding: .same)
            let loop = withComputePath(.loop) { conv2D(x, filter: w, padding: .same) }
            assertClose(y, loop.scalars, relative: 1e-11, absolute: 1e-11, "Double forward \(kernel)")
            // The stride-1 input gradient is a convolution with the rotated filter (64 → 16 channels
            // here: Winograd with 16 filters is not taken, the direct kernel is; so 16 → 64 too).
            for (input, filter) in [(x, w), (Tensor<Double>(randomNormal: [1, 14, 13, 32], generator: &g),
                                             Tensor<Double>(randomNormal: [3, 3, 32, 32], generator: &g))] {
                let dy = Tensor<Double>(randomNormal: conv2D(input, filter: filter, padding: .same).shape, generator: &g)
                let run = { conv2DBackwardInput(dy, filter: filter, inputShape: input.shape, padding: .same) }
                assertClose(run(), withComputePath(.loop, run).scalars, relative: 1e-11, absolute: 1e-11, "Double input gradient \(kernel)")
            }
            let dyDouble = Tensor<Double>(randomNormal: y.shape, generator: &g)
            let gradient = { conv2DBackwardFilter(dyDouble, input: x, filterShape: w.shape, padding: .same) }
            let dw = gradient()
            assertClose(dw, withComputePath(.loop, gradient).scalars, relative: 1e-11, absolute: 1e-10, "Double filter gradient \(kernel)")
            ConvolutionConfiguration.usesWinograd = false
            XCTAssertNotEqual(conv2D(x, filter: w, padding: .same), y, "Double: Winograd not taken \(kernel)")
            // F(3×3, 2×2) for the filter gradient, in panels of four 512-bit or two 256-bit vectors.
            XCTAssertNotEqual(gradient(), dw, "Double: Winograd filter gradient not taken \(kernel)")
            // Where it was not measured faster, the direct algorithm runs: fewer than 48 tiles per image.
            let small = Tensor<Float>(randomNormal: [2, 9, 9, 32], generator: &g), f = Tensor<Float>(randomNormal: [3, 3, 32, 64], generator: &g)
            let direct = conv2D(small, filter: f, padding: .same)
            ConvolutionConfiguration.usesWinograd = true
            XCTAssertEqual(conv2D(small, filter: f, padding: .same), direct, "small image \(kernel)")
        }
    }

    /// Shapes at the kernels' edges (found in review): padding wider than the
    /// filter (windows of border pixels that miss the image entirely) on the
    /// direct, depthwise and 1-D paths; empty batches; batches large enough
    /// that the filter gradients group images into shared sums (70 images:
    /// more than the 64 chunks allowed). Both paths agree, thread counts
    /// give the same bits, and an empty batch has a zero filter gradient.
    func testConvolutionEdgeShapes() {
        var g = RandomGenerator(seed: 47)
        func noise(_ shape: [Int], _ seed: UInt64) -> Tensor<Float> {
            var r = RandomGenerator(seed: seed)
            return Tensor<Float>(randomNormal: shape, generator: &r)
        }
        func agree(_ label: String, _ run: () -> [Tensor<Float>]) {
            let vector = run(), loop = withComputePath(.loop, run)
            for (v, l) in zip(vector, loop) {
                assertClose(v, l.scalars.map(Double.init), relative: 1e-5, absolute: 1e-4, label)
            }
            XCTAssertEqual(Parallelism.withMaxThreads(1, run), vector, "threads \(label)")
        }
        let x = Tensor<Float>(randomNormal: [2, 5, 5, 3], generator: &g)
        let w = Tensor<Float>(randomNormal: [3, 3, 3, 8], generator: &g)
        agree("direct, padding 4") {
            let y = conv2D(x, filter: w, padding: .explicit(4))
            let dy = noise(y.shape, 1)
            return [y, conv2DBackwardFilter(dy, input: x, filterShape: w.shape, padding: .explicit(4)),
                    conv2DBackwardInput(dy, filter: w, inputShape: x.shape, padding: .explicit(4))]
        }
        let signal = Tensor<Float>(randomNormal: [1, 4, 3], generator: &g), taps = Tensor<Float>(randomNormal: [3, 3, 8], generator: &g)
        agree("conv1D, padding 4") { [conv1D(signal, filter: taps, padding: .explicit(4))] }
        let dx = Tensor<Float>(randomNormal: [1, 5, 5, 8], generator: &g), dwf = Tensor<Float>(randomNormal: [3, 3, 8, 1], generator: &g)
        agree("depthwise, padding 4") {
            let y = depthwiseConv2D(dx, filter: dwf, padding: .explicit(4))
            let (gx, gw) = depthwiseConv2DBackward(noise(y.shape, 2), input: dx, filter: dwf, padding: .explicit(4))
            return [y, gx!, gw!]
        }
        for filters in [8, 17] {
            let many = Tensor<Float>(randomNormal: [70, 6, 6, 6], generator: &g)
            let f = Tensor<Float>(randomNormal: [3, 3, 6, filters], generator: &g)
            agree("70 images, \(filters) filters") {
                let y = conv2D(many, filter: f, padding: .same)
                return [conv2DBackwardFilter(noise(y.shape, 3), input: many, filterShape: f.shape, padding: .same)]
            }
            let empty = Tensor<Float>(shape: [0, 8, 8, 16], repeating: 0)
            let dwEmpty = conv2DBackwardFilter(Tensor<Float>(shape: [0, 8, 8, filters], repeating: 0), input: empty,
                                               filterShape: [3, 3, 16, filters], padding: .same)
            XCTAssertEqual(dwEmpty, Tensor<Float>.zeros([3, 3, 16, filters]), "empty batch, \(filters) filters")
        }
    }

    /// Depthwise kernels on shapes that reach every branch: 3×3 filters at
    /// stride 1 and 2 with interior runs (the register kernels) and borders,
    /// other filter sizes, channel counts with and without vector tails, and
    /// several images. The output and the input gradient are bitwise equal to
    /// the loop path (same sum order); the filter gradient sums per row first,
    /// so it agrees within rounding. All three are bitwise independent of the
    /// thread count.
    func testDepthwisePathsAgree() {
        var g = RandomGenerator(seed: 31)
        let cases: [(x: [Int], f: (Int, Int), stride: Int, padding: Padding)] = [
            ([3, 9, 7, 21], (3, 3), 2, .same), ([2, 12, 11, 24], (3, 3), 1, .same), ([2, 10, 13, 19], (3, 3), 1, .valid),
            ([2, 9, 9, 16], (3, 3), 1, .explicit(2)), ([2, 11, 12, 8], (3, 3), 2, .explicit(1)), ([2, 8, 9, 5], (2, 3), 1, .same),
            ([1, 7, 6, 9], (5, 5), 1, .same), ([2, 6, 6, 4], (3, 3), 1, .valid),
            ([2, 9, 10, 32], (3, 3), 1, .same), ([1, 9, 11, 48], (3, 3), 2, .same),   // 512-bit lanes with the wide family
        ]
        // 256-bit vectors, and 512-bit ones with the wide kernel family where 16 divides the channels (16, 32, 48).
        withEachGEMMKernel([GEMMKernel.fma6x16, .fma12x32]) { kernel in
            for c in cases {
                let x = Tensor<Float>(randomNormal: c.x, generator: &g)
                let w = Tensor<Float>(randomNormal: [c.f.0, c.f.1, c.x[3], 1], generator: &g)
                func run() -> [Tensor<Float>] {
                    let y = depthwiseConv2D(x, filter: w, stride: c.stride, padding: c.padding)
                    let dy = Tensor<Float>(shape: y.shape, scalars: (0..<y.count).map { Float($0 % 5) - 2 })
                    let (dx, dw) = depthwiseConv2DBackward(dy, input: x, filter: w, stride: c.stride, padding: c.padding)
                    return [y, dx!, dw!]
                }
                let vector = run(), loop = withComputePath(.loop, run)
                XCTAssertEqual(loop[0], vector[0], "forward \(c)")
                XCTAssertEqual(loop[1], vector[1], "input gradient \(c)")
                assertClose(vector[2], loop[2].scalars.map(Double.init), relative: 1e-5, absolute: 1e-5, "filter gradient \(c) \(kernel)")
                XCTAssertEqual(Parallelism.withMaxThreads(1, run), vector, "threads \(c) \(kernel)")
            }
            // Double: 8-lane vectors over 20 channels (two full, one partial), stride 2.
            let x = Tensor<Double>(randomNormal: [2, 9, 8, 20], generator: &g)
            let w = Tensor<Double>(randomNormal: [3, 3, 20, 1], generator: &g)
            let y = depthwiseConv2D(x, filter: w, stride: 2, padding: .same)
            let loop = withComputePath(.loop) { depthwiseConv2D(x, filter: w, stride: 2, padding: .same) }
            assertClose(y, loop.scalars, relative: 1e-12, absolute: 1e-12, "Double depthwise forward \(kernel)")
        }
    }
}

extension DifferentiationTests {
    func testConvolutionVariantRules() {
        checkGradient("depthwiseConv2D", [random([2, 5, 6, 3]), random([3, 3, 3, 1]), random([3])]) { v in
            depthwiseConv2D(v[0], filter: v[1], bias: v[2], stride: 2, padding: .same)
        }
        // Five channels (one SIMD4<Double> block and a tail) at stride 1: the 3×3 pixel-major sweep
        // of the forward pass and the input gradient (seven columns: a group of four and a single
        // pixel), and the filter gradient's register kernel.
        checkGradient("depthwiseConv2D 3x3 registers", [random([1, 5, 7, 5]), random([3, 3, 5, 1])]) { v in
            depthwiseConv2D(v[0], filter: v[1], padding: .same)
        }
        checkGradient("convTranspose2D", [random([2, 3, 2, 3]), random([3, 3, 2, 3]), random([2])]) { v in
            convTranspose2D(v[0], filter: v[1], bias: v[2], stride: 2, padding: .explicit(1), outputPadding: 1)
        }
        checkGradient("conv1D", [random([2, 9, 3]), random([3, 3, 2]), random([2])]) { v in
            conv1D(v[0], filter: v[1], bias: v[2], stride: 2, padding: .same)
        }
        checkGradient("conv3D", [random([1, 4, 4, 3, 2]), random([2, 2, 2, 2, 2]), random([2])]) { v in
            conv3D(v[0], filter: v[1], bias: v[2], stride: 2, padding: .same)
        }
    }
}
