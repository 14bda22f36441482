import Foundation
import Tensors

/// Updates parameters from their gradients (C2W2), one step per mini-batch.
/// Optimizers keep per-parameter state (velocities, squared averages) keyed
/// by parameter identity; frozen parameters are skipped.
public protocol Optimizer<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// Applies one update with learning rate `α` to every trainable parameter.
    func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar)
}

/// Plain gradient descent: `W := W − α·dW` (C1W2-09).
public final class GradientDescent<Scalar: TensorScalar>: Optimizer {
    public init() {}
    public func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        for p in parameters where p.isTrainable {
            p.value.add(p.gradient, scaledBy: -learningRate)
        }
    }
}

/// Momentum (C2W2-05): `v = β·v + (1 − β)·dW`, `W := W − α·v`; β = 0.9, v starts at 0.
public final class Momentum<Scalar: TensorScalar>: Optimizer {
    public let beta: Scalar
    private var velocity: [ObjectIdentifier: Tensor<Scalar>] = [:]

    public init(beta: Scalar = 0.9) { self.beta = beta }

    public func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        for p in parameters where p.isTrainable {
            let key = ObjectIdentifier(p)
            var v = velocity.removeValue(forKey: key) ?? .zeros(p.value.shape)   // removed: updated in place
            v.formExponentialAverage(with: p.gradient, beta: beta)
            p.value.add(v, scaledBy: -learningRate)
            velocity[key] = v
        }
    }
}

/// RMSprop exactly as the notes write it (C2W2-06):
/// `S = β₂·S + (1 − β₂)·dW²`, `W := W − α·dW / √(S + ε)` — ε inside the
/// square root, as on the slide (Adam puts it outside); β₂ = 0.999, ε = 1e-8.
public final class RMSprop<Scalar: TensorScalar>: Optimizer {
    public let beta2: Scalar
    public let epsilon: Scalar
    private var squares: [ObjectIdentifier: Tensor<Scalar>] = [:]

    public init(beta2: Scalar = 0.999, epsilon: Scalar = 1e-8) {
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        for p in parameters where p.isTrainable {
            let key = ObjectIdentifier(p)
            var s = squares.removeValue(forKey: key) ?? .zeros(p.value.shape)
            s.formExponentialAverage(with: p.gradient, beta: beta2, squared: true)
            p.value.applyRMSpropUpdate(gradient: p.gradient, squareAverage: s, learningRate: learningRate, epsilon: epsilon)
            squares[key] = s
        }
    }
}

/// Adam (C2W2-07): with step `t = 1, 2, …`
/// `V = β₁V + (1 − β₁)dW`, `S = β₂S + (1 − β₂)dW²`, `V̂ = V/(1 − β₁ᵗ)`, `Ŝ = S/(1 − β₂ᵗ)`,
/// `W := W − α·V̂/(√Ŝ + ε)`; β₁ = 0.9, β₂ = 0.999, ε = 1e-8.
public final class Adam<Scalar: TensorScalar>: Optimizer {
    public let beta1: Scalar
    public let beta2: Scalar
    public let epsilon: Scalar
    /// Steps taken so far (the `t` of the bias correction).
    public private(set) var t = 0
    private var moments: [ObjectIdentifier: (v: Tensor<Scalar>, s: Tensor<Scalar>)] = [:]

    public init(beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8) {
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
    }

    public func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        t += 1
        let correction1 = 1 - Scalar(Foundation.pow(Double(beta1), Double(t)))
        let correction2 = 1 - Scalar(Foundation.pow(Double(beta2), Double(t)))
        for p in parameters where p.isTrainable {
            let key = ObjectIdentifier(p)
            var (v, s) = moments.removeValue(forKey: key) ?? (.zeros(p.value.shape), .zeros(p.value.shape))
            p.value.applyAdamStep(gradient: p.gradient, firstMoment: &v, secondMoment: &s, beta1: beta1, beta2: beta2,
                                  learningRate: learningRate, firstCorrection: correction1,
                                  secondCorrection: correction2, epsilon: epsilon)
            moments[key] = (v, s)
        }
    }
}
