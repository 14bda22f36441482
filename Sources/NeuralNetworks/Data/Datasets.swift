import Foundation
import Tensors

/// Small data sets generated from a seed, in the notes' layout (`X` is `(2, m)`, `Y` is `(1, m)`).
public enum Datasets {
    /// The planar "flower" of the C1W3 assignment: two classes of `m/2` points
    /// each on the petals of `r = a·sin(4t)`, with noise 0.2 on `t` and `r`.
    /// Logistic regression cannot separate it; a tanh hidden layer can.
    public static func flower<S: TensorScalar>(count m: Int = 400, petals a: Double = 4, seed: UInt64) -> (X: Tensor<S>, Y: Tensor<S>) {
        twoClasses(count: m, seed: seed) { j, u, g in
            let t = Double(j) * 3.12 + 3.12 * u + 0.2 * g.nextNormal()
            let r = a * Foundation.sin(4 * t) + 0.2 * g.nextNormal()
            return (r * Foundation.sin(t), r * Foundation.cos(t))
        }
    }

    /// Two interleaving half circles ("moons") with Gaussian noise of `noise`.
    public static func moons<S: TensorScalar>(count m: Int = 400, noise: Double = 0.1, seed: UInt64) -> (X: Tensor<S>, Y: Tensor<S>) {
        twoClasses(count: m, seed: seed) { j, u, g in
            let angle = Double.pi * u
            let (px, py) = j == 0 ? (Foundation.cos(angle), Foundation.sin(angle)) : (1 - Foundation.cos(angle), 0.5 - Foundation.sin(angle))
            return (px + noise * g.nextNormal(), py + noise * g.nextNormal())
        }
    }

    /// `m/2` points of class 0 then of class 1; `point(class, u, generator)` places
    /// the point at position `u ∈ [0, 1]` along its class's curve.
    static func twoClasses<S: TensorScalar>(
        count m: Int, seed: UInt64, point: (Int, Double, inout RandomGenerator) -> (Double, Double)
    ) -> (X: Tensor<S>, Y: Tensor<S>) {
        var g = RandomGenerator(seed: seed)
        let perClass = m / 2
        var x = [S](), y = [S](), labels = [S]()
        for j in 0..<2 {
            for i in 0..<perClass {
                let (px, py) = point(j, Double(i) / Double(Swift.max(perClass - 1, 1)), &g)
                x.append(S(px))
                y.append(S(py))
                labels.append(S(j))
            }
        }
        return (Tensor(shape: [2, 2 * perClass], scalars: x + y), Tensor(shape: [1, 2 * perClass], scalars: labels))
    }
}

/// A bundled data set could not be found in the package's resources.
public struct MissingResourceError: Error, CustomStringConvertible {
    public var name: String
    public var description: String { "resource \(name) is missing from the NeuralNetworks bundle" }
}

extension Datasets {
    /// scikit-learn's handwritten digits (BSD-3; see `Resources/DIGITS-NOTICE.txt`):
    /// 1,797 8×8 images as `X` of shape `(64, 1797)` scaled to [0, 1] (pixel / 16),
    /// and their labels 0…9, in scikit-learn's order.
    public static func digits<S: TensorScalar>() throws -> (X: Tensor<S>, labels: [Int]) {
        guard let url = Bundle.module.url(forResource: "digits", withExtension: "csv") else {
            throw MissingResourceError(name: "digits.csv")
        }
        let (pixels, label) = try CSVTable<S>(contentsOf: url).features(label: "label")
        return (pixels / 16, label.scalars.map { Int($0) })
    }
}

// MARK: Float when nothing else says otherwise
//
// `let (X, Y) = Datasets.moons(seed: 1)` has no type context for the generic
// versions; these overloads make it `Float`. They are disfavored, so wherever
// the context names a type (`let d: (X: Tensor<Double>, Y: Tensor<Double>) = …`)
// the generic versions serve.

extension Datasets {
    /// ``flower(count:petals:seed:)`` in `Float`.
    @_disfavoredOverload
    public static func flower(count m: Int = 400, petals a: Double = 4, seed: UInt64) -> (X: Tensor<Float>, Y: Tensor<Float>) {
        flower(count: m, petals: a, seed: seed) as (X: Tensor<Float>, Y: Tensor<Float>)
    }

    /// ``moons(count:noise:seed:)`` in `Float`.
    @_disfavoredOverload
    public static func moons(count m: Int = 400, noise: Double = 0.1, seed: UInt64) -> (X: Tensor<Float>, Y: Tensor<Float>) {
        moons(count: m, noise: noise, seed: seed) as (X: Tensor<Float>, Y: Tensor<Float>)
    }

    /// ``digits()`` in `Float`.
    @_disfavoredOverload
    public static func digits() throws -> (X: Tensor<Float>, labels: [Int]) {
        try digits() as (X: Tensor<Float>, labels: [Int])
    }
}
