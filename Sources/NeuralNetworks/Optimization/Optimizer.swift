import Foundation
import Tensors

/// Updates parameters from their gradients (C2W2), one step per mini-batch.
///
/// The learning rate `α` lives on the optimizer, as in Keras and PyTorch:
/// `Adam(learningRate: 0.01)`; ``Model/fit(_:_:loss:optimizer:configuration:validation:metrics:onEpoch:)``
/// starts every epoch from it and applies the configuration's
/// ``LearningRateSchedule``; it can be changed between calls
/// (`optimizer.learningRate = 0.001`). Defaults are Keras's: 0.01 for gradient
/// descent and momentum, 0.001 for RMSprop and Adam. Without a type context
/// every optimizer is `Float` (`let adam = Adam()` is an `Adam<Float>`).
///
/// Each parameter carries its own ``OptimizerState`` (velocities, squared
/// averages, step count), written by the optimizer that last stepped it; a
/// different optimizer starts that state afresh. Frozen parameters and
/// parameters without a gradient are skipped.
public protocol Optimizer<Scalar>: AnyObject {
    associatedtype Scalar: TensorScalar
    /// `α`, the rate ``step(_:)`` uses and `fit` starts each epoch's schedule from.
    var learningRate: Double { get set }
    /// Applies one update with learning rate `α` to every trainable parameter.
    func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar)
}

extension Optimizer {
    /// Applies one update with the optimizer's own ``learningRate``.
    public func step(_ parameters: [Parameter<Scalar>]) {
        step(parameters, learningRate: Scalar(learningRate))
    }
}

extension Optimizer {
    /// Updates the rows of the parameters that have a ``Parameter/rowGradient``
    /// (embedding tables) and no dense gradient: the touched rows of the value
    /// and of the optimizer's moments are gathered into a small parameter, the
    /// optimizer's ordinary rule steps it, and the rows are written back. Rows
    /// not looked up keep their value and their moments — PyTorch's
    /// `SparseAdam` ("lazy" Adam); the step count `t` is the parameter's.
    /// The library's optimizers call it first in ``step(_:learningRate:)``; an
    /// optimizer of your own calls it too, or embedding tables are not updated.
    public func stepRows(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        for p in parameters where p.isTrainable {
            guard let rows = p.rowGradient else { continue }
            if p.gradient != nil {   // also used densely: one dense update
                p.gradient! += rows.dense(rows: p.value.shape[0])
                p.rowGradient = nil
                continue
            }
            let (indices, summed) = rows.coalesced()
            guard !indices.isEmpty else { continue }
            let rowsOf = { (t: Tensor<Scalar>) in t.gathering(indices, axis: 0) }
            let small = Parameter(key: p.key, value: rowsOf(p.value), isRegularized: false)
            small.gradient = summed
            var state = p.optimizerState
            state.firstMoment = state.firstMoment.map(rowsOf)
            state.secondMoment = state.secondMoment.map(rowsOf)
            small.optimizerState = state
            step([small], learningRate: learningRate)
            func scatter(_ source: Tensor<Scalar>, into target: inout Tensor<Scalar>) { scatterRows(source, at: indices, into: &target) }
            scatter(small.value, into: &p.value)
            var updated = small.optimizerState
            if let first = updated.firstMoment {
                var full = p.optimizerState.owner === updated.owner ? (p.optimizerState.firstMoment ?? .zeros(p.value.shape)) : .zeros(p.value.shape)
                scatter(first, into: &full)
                updated.firstMoment = full
            }
            if let second = updated.secondMoment {
                var full = p.optimizerState.owner === updated.owner ? (p.optimizerState.secondMoment ?? .zeros(p.value.shape)) : .zeros(p.value.shape)
                scatter(second, into: &full)
                updated.secondMoment = full
            }
            p.optimizerState = updated
        }
    }
}

/// Writes row `k` of `source` `(k, d)` over row `indices[k]` of `target`.
@_specialize(where S == Float)
@_specialize(where S == Double)
func scatterRows<S: TensorScalar>(_ source: Tensor<S>, at indices: [Int], into target: inout Tensor<S>) {
    let d = source.shape[1]
    source.withUnsafeBufferPointer { s in
        target.withUnsafeMutableBufferPointer { t in
            for (k, r) in indices.enumerated() { for j in 0..<d { t[r * d + j] = s[k * d + j] } }
        }
    }
}

/// The token an optimizer leaves in the states it owns.
final class OptimizerIdentity {}

extension Parameter {
    /// The parameter's optimizer state, reset when `owner` did not write it.
    func state(ownedBy owner: OptimizerIdentity) -> OptimizerState<Scalar> {
        if optimizerState.owner === owner { return optimizerState }
        var fresh = OptimizerState<Scalar>()
        fresh.owner = owner
        return fresh
    }
}

/// Plain gradient descent: `W := W − α·dW` (C1W2-09).
public final class GradientDescent<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Double

    init(rate: Double) { learningRate = rate }

    /// Gradient descent with step size `learningRate` (Keras's SGD default 0.01).
    @_disfavoredOverload   // with no type context, the Float form below wins even when a literal is passed
    public convenience init(learningRate: Double = 0.01) { self.init(rate: learningRate) }
    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        stepRows(parameters, learningRate: learningRate)
        for p in parameters where p.isTrainable {
            guard let gradient = p.gradient else { continue }
            p.value.add(gradient, scaledBy: -learningRate)
            p.optimizerState.step += 1
        }
    }
}

/// Momentum (C2W2-05): `v = β·v + (1 − β)·dW`, `W := W − α·v`; β = 0.9, v
/// starts at 0. The notes also show `v = β·v + dW` (``Form/accumulated``),
/// PyTorch's `SGD(momentum: β)`: since both start from `v = 0`, every step
/// is exactly `1/(1 − β)` times the averaged form's, so α is chosen
/// `(1 − β)` times smaller for the same run.
public final class Momentum<Scalar: TensorScalar>: Optimizer {
    /// How the velocity takes in each gradient.
    public enum Form: Sendable {
        /// `v = β·v + (1 − β)·dW`: an exponentially weighted average (the notes).
        case exponentialAverage
        /// `v = β·v + dW`: the notes' alternative; PyTorch's `SGD` with `momentum` (no dampening).
        case accumulated
    }

    public var learningRate: Double
    public let beta: Scalar
    public let form: Form
    private let identity = OptimizerIdentity()

    init(rate: Double, beta: Scalar, form: Form) {
        learningRate = rate
        self.beta = beta
        self.form = form
    }

    @_disfavoredOverload   // with no type context, the Float form below wins even when a literal is passed
    public convenience init(learningRate: Double = 0.01, beta: Scalar = 0.9, form: Form = .exponentialAverage) {
        self.init(rate: learningRate, beta: beta, form: form)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        stepRows(parameters, learningRate: learningRate)
        for p in parameters where p.isTrainable {
            guard let gradient = p.gradient else { continue }
            var state = p.state(ownedBy: identity)
            p.optimizerState = OptimizerState()   // one reference left: the velocity is updated in place
            var v = state.firstMoment ?? .zeros(p.value.shape)
            state.firstMoment = nil
            switch form {
            case .exponentialAverage: v.formExponentialAverage(with: gradient, beta: beta)
            case .accumulated: v.formAccumulation(with: gradient, beta: beta)
            }
            p.value.add(v, scaledBy: -learningRate)
            state.firstMoment = v
            state.step += 1
            p.optimizerState = state
        }
    }
}

/// RMSprop (C2W2-06): `S = β₂·S + (1 − β₂)·dW²`, then by default exactly as
/// the notes write it, `W := W − α·dW / √(S + ε)` — ε inside the square root,
/// as on the slide; β₂ = 0.999, ε = 1e-8. PyTorch's `RMSprop` and Keras put ε
/// outside, `W := W − α·dW / (√S + ε)` (``EpsilonPlacement/outsideRoot``);
/// the two differ only while `S` is comparable to ε.
public final class RMSprop<Scalar: TensorScalar>: Optimizer {
    /// Where ε enters the denominator.
    public enum EpsilonPlacement: Sendable {
        /// `√(S + ε)`: the notes.
        case insideRoot
        /// `√S + ε`: PyTorch, Keras (and Adam).
        case outsideRoot
    }

    public var learningRate: Double
    public let beta2: Scalar
    public let epsilon: Scalar
    public let epsilonPlacement: EpsilonPlacement
    private let identity = OptimizerIdentity()

    init(rate: Double, beta2: Scalar, epsilon: Scalar, epsilonPlacement: EpsilonPlacement) {
        learningRate = rate
        self.beta2 = beta2
        self.epsilon = epsilon
        self.epsilonPlacement = epsilonPlacement
    }

    @_disfavoredOverload   // with no type context, the Float form below wins even when a literal is passed
    public convenience init(learningRate: Double = 0.001, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                            epsilonPlacement: EpsilonPlacement = .insideRoot) {
        self.init(rate: learningRate, beta2: beta2, epsilon: epsilon, epsilonPlacement: epsilonPlacement)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        stepRows(parameters, learningRate: learningRate)
        for p in parameters where p.isTrainable {
            guard let gradient = p.gradient else { continue }
            var state = p.state(ownedBy: identity)
            p.optimizerState = OptimizerState()
            var s = state.secondMoment ?? .zeros(p.value.shape)
            state.secondMoment = nil
            s.formExponentialAverage(with: gradient, beta: beta2, squared: true)
            switch epsilonPlacement {
            case .insideRoot:
                p.value.applyRMSpropUpdate(gradient: gradient, squareAverage: s, learningRate: learningRate, epsilon: epsilon)
            case .outsideRoot:   // Adam's update without momentum or bias correction
                p.value.applyAdamUpdate(firstMoment: gradient, secondMoment: s, learningRate: learningRate,
                                        firstCorrection: 1, secondCorrection: 1, epsilon: epsilon)
            }
            state.secondMoment = s
            state.step += 1
            p.optimizerState = state
        }
    }
}

/// Adam (C2W2-07): with the parameter's own step `t = 1, 2, …`
/// `V = β₁V + (1 − β₁)dW`, `S = β₂S + (1 − β₂)dW²`, `V̂ = V/(1 − β₁ᵗ)`, `Ŝ = S/(1 − β₂ᵗ)`,
/// `W := W − α·V̂/(√Ŝ + ε)`; β₁ = 0.9, β₂ = 0.999, ε = 1e-8. A parameter
/// added later (a new head) starts at `t = 1`.
public final class Adam<Scalar: TensorScalar>: Optimizer {
    public var learningRate: Double
    public let beta1: Scalar
    public let beta2: Scalar
    public let epsilon: Scalar
    /// `λ` of decoupled weight decay (AdamW, Loshchilov & Hutter 2019): each
    /// step first shrinks every trainable parameter, `θ := (1 − α·λ)·θ`, then
    /// applies Adam's update — PyTorch's `AdamW`. 0 (plain Adam) by default;
    /// ``adamW(learningRate:weightDecay:beta1:beta2:epsilon:)`` defaults to 0.01.
    /// Unlike L2 regularization added to the cost, the decay is not divided by
    /// Adam's `√S`.
    public let weightDecay: Scalar
    private let identity = OptimizerIdentity()

    init(rate: Double, beta1: Scalar, beta2: Scalar, epsilon: Scalar, weightDecay: Scalar = 0) {
        learningRate = rate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
    }

    @_disfavoredOverload   // with no type context, the Float form below wins even when a literal is passed
    public convenience init(learningRate: Double = 0.001, beta1: Scalar = 0.9, beta2: Scalar = 0.999, epsilon: Scalar = 1e-8,
                            weightDecay: Scalar = 0) {
        self.init(rate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    /// AdamW: Adam with decoupled weight decay `λ` (PyTorch's `AdamW` defaults: α = 10⁻³, λ = 0.01).
    public static func adamW(learningRate: Double = 0.001, weightDecay: Scalar = 0.01, beta1: Scalar = 0.9, beta2: Scalar = 0.999,
                             epsilon: Scalar = 1e-8) -> Adam {
        Adam(rate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }

    @_specialize(where Scalar == Float)
    @_specialize(where Scalar == Double)
    public func step(_ parameters: [Parameter<Scalar>], learningRate: Scalar) {
        stepRows(parameters, learningRate: learningRate)
        for p in parameters where p.isTrainable {
            guard let gradient = p.gradient else { continue }
            var state = p.state(ownedBy: identity)
            p.optimizerState = OptimizerState()   // one reference left: the moments are updated in place
            state.step += 1
            let t = Double(state.step)
            var v = state.firstMoment ?? .zeros(p.value.shape)
            var s = state.secondMoment ?? .zeros(p.value.shape)
            state.firstMoment = nil
            state.secondMoment = nil
            if weightDecay != 0 { p.value *= 1 - learningRate * weightDecay }
            p.value.applyAdamStep(gradient: gradient, firstMoment: &v, secondMoment: &s, beta1: beta1, beta2: beta2,
                                  learningRate: learningRate,
                                  firstCorrection: 1 - Scalar(Foundation.pow(Double(beta1), t)),
                                  secondCorrection: 1 - Scalar(Foundation.pow(Double(beta2), t)), epsilon: epsilon)
            state.firstMoment = v
            state.secondMoment = s
            p.optimizerState = state
        }
    }
}

// MARK: Float when nothing else says otherwise
//
// Each initializer has a twin constrained to Float, so `Adam()` with no type
// context is an `Adam<Float>` instead of "generic parameter could not be
// inferred"; where the context names a type (`fit` on a Double model), the
// generic one serves.

extension GradientDescent where Scalar == Float {
    public convenience init(learningRate: Double = 0.01) { self.init(rate: learningRate) }
}

extension Momentum where Scalar == Float {
    public convenience init(learningRate: Double = 0.01, beta: Float = 0.9, form: Form = .exponentialAverage) {
        self.init(rate: learningRate, beta: beta, form: form)
    }
}

extension RMSprop where Scalar == Float {
    public convenience init(learningRate: Double = 0.001, beta2: Float = 0.999, epsilon: Float = 1e-8,
                            epsilonPlacement: EpsilonPlacement = .insideRoot) {
        self.init(rate: learningRate, beta2: beta2, epsilon: epsilon, epsilonPlacement: epsilonPlacement)
    }
}

extension Adam where Scalar == Float {
    public convenience init(learningRate: Double = 0.001, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-8,
                            weightDecay: Float = 0) {
        self.init(rate: learningRate, beta1: beta1, beta2: beta2, epsilon: epsilon, weightDecay: weightDecay)
    }
}
