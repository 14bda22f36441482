import Foundation
import Tensors
import XCTest

/// PyTorch's `F.batch_norm` in float64 on our layouts (`Reference/make_normalization.py`).
struct NormalizationReference: Decodable {
    struct Case: Decodable {
        let layout: String, shape: [Int], eps: Double
        let x: [Double], gamma: [Double], beta: [Double], R: [Double]
        let y: [Double], dx: [Double], dgamma: [Double], dbeta: [Double], mean: [Double], variance: [Double]
        let running_mean: [Double], running_var: [Double]
        let y_eval: [Double], dx_eval: [Double], dgamma_eval: [Double], dbeta_eval: [Double]
        var featureAxis: Int { layout == "channels" ? shape.count - 1 : 0 }
        var features: Int { shape[featureAxis] }
    }
    let batch_norm: [Case]

    static let shared: NormalizationReference = {
        let url = Bundle.module.url(forResource: "normalization", withExtension: "json", subdirectory: "Reference")!
        return try! JSONDecoder().decode(NormalizationReference.self, from: Data(contentsOf: url))
    }()
}

extension DifferentiationTests {
    /// Both layouts (channels last, dense units), training and inference, both paths.
    func testBatchNormalizationMatchesPyTorch() {
        for c in NormalizationReference.shared.batch_norm {
            onBothPaths { path in
                for training in [true, false] {
                    let label = "\(c.layout) \(c.shape) \(training ? "training" : "inference") \(path)"
                    let x = Variable(Tensor<Double>(shape: c.shape, scalars: c.x), requiresGradient: true)
                    let gamma = Variable(Tensor<Double>(shape: [c.features], scalars: c.gamma), requiresGradient: true)
                    let beta = Variable(Tensor<Double>(shape: [c.features], scalars: c.beta), requiresGradient: true)
                    let running = (mean: Tensor<Double>(shape: [c.features], scalars: c.running_mean),
                                   variance: Tensor<Double>(shape: [c.features], scalars: c.running_var))
                    let (y, mean, variance) = batchNormalization(x, gamma: gamma, beta: beta, featureAxis: c.featureAxis,
                                                                 statistics: training ? nil : running, epsilon: c.eps)
                    y.backward(seed: Tensor(shape: c.shape, scalars: c.R))
                    assertClose(y.value, training ? c.y : c.y_eval, shape: c.shape, relative: 1e-12, absolute: 1e-12, label)
                    assertClose(x.gradient!, training ? c.dx : c.dx_eval, relative: 1e-10, absolute: 1e-12, "dx \(label)")
                    assertClose(gamma.gradient!, training ? c.dgamma : c.dgamma_eval, relative: 1e-10, absolute: 1e-12, "dγ \(label)")
                    assertClose(beta.gradient!, training ? c.dbeta : c.dbeta_eval, relative: 1e-10, absolute: 1e-12, "dβ \(label)")
                    assertClose(mean, training ? c.mean : c.running_mean, relative: 1e-13, absolute: 1e-13, "μ \(label)")
                    assertClose(variance, training ? c.variance : c.running_var, relative: 1e-12, absolute: 1e-13, "σ² \(label)")
                }
            }
        }
    }

    func testBatchNormalizationGradientsByFiniteDifferences() {
        for (shape, axis) in [([3, 2, 2, 4], 3), ([4, 5], 0), ([3, 4, 2], 0), ([6, 3], 1)] {
            let features = shape[axis]
            checkGradient("batch norm \(shape) axis \(axis), training", [random(shape, -1, 3), random([features]), random([features])]) { v in
                batchNormalization(v[0], gamma: v[1], beta: v[2], featureAxis: axis).output
            }
            let running = (mean: random([features]), variance: random([features], 0.5, 2))
            checkGradient("batch norm \(shape) axis \(axis), inference", [random(shape), random([features]), random([features])]) { v in
                batchNormalization(v[0], gamma: v[1], beta: v[2], featureAxis: axis, statistics: running).output
            }
        }
    }

    /// Several sample blocks, partial SIMD groups and both layouts: the loop
    /// path's values, and one thread's bits on two. The data sit far from
    /// zero (mean 1000, spread 1) so that a one-pass Σx² − (Σx)²/m variance
    /// in Float would lose every digit; the block merge must not.
    func testBatchNormalizationKernelAcrossBlocksAndThreads() {
        for (shape, axis) in [([1, 1], 1), ([7, 3], 1), ([3000, 64], 1), ([5, 40, 40, 17], 3), ([70, 5000], 0), ([3, 5, 9], 0), ([40, 2000], 1)] {
            let features = shape[axis]
            let x = Tensor<Float>(random(shape, 999, 1001)), g = Tensor<Float>(random(shape))
            let gamma = Tensor<Float>(random([features])), beta = Tensor<Float>(random([features]))
            func run(training: Bool) -> [Tensor<Float>] {
                let vars = [x, gamma, beta].map { Variable($0, requiresGradient: true) }
                let statistics = training ? nil : (mean: Tensor<Float>(shape: [features], repeating: 1000), variance: gamma * gamma + 0.5)
                let (y, mean, variance) = batchNormalization(vars[0], gamma: vars[1], beta: vars[2], featureAxis: axis, statistics: statistics)
                y.backward(seed: g)
                return [y.value, mean, variance] + vars.map { $0.gradient! }
            }
            for training in [true, false] {
                let loop = withComputePath(.loop) { run(training: training) }
                let one = Parallelism.withMaxThreads(1) { run(training: training) }, two = Parallelism.withMaxThreads(2) { run(training: training) }
                for (i, (a, b)) in zip(one, loop).enumerated() {
                    // The mean (result 1) to a few ulps of 1000; the rest to Float's accumulated rounding.
                    assertClose(a, b.scalars.map(Double.init), relative: i == 1 ? 1e-6 : 2e-3, absolute: i == 1 ? 0 : 2e-3,
                                "\(shape) axis \(axis) result \(i) training \(training)")
                }
                XCTAssertEqual(one, two, "\(shape) axis \(axis) training \(training)")
            }
        }
    }

    /// γ and β need only one value per feature, in any shape: each gets its gradient in its own shape.
    func testBatchNormalizationParameterShapesMayDiffer() {
        let x = Variable(random([4, 3]), requiresGradient: true)
        let gamma = Variable(random([3]), requiresGradient: true), beta = Variable(random([1, 3]), requiresGradient: true)
        batchNormalization(x, gamma: gamma, beta: beta, featureAxis: 1).output.backward(seed: random([4, 3]))
        XCTAssertEqual(gamma.gradient?.shape, [3])
        XCTAssertEqual(beta.gradient?.shape, [1, 3])
        XCTAssertEqual(x.gradient?.shape, [4, 3])
    }
}
