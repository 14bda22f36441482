/// The learning rate as a function of the epoch number (C2W2-08), with
/// epochs counted from 1 as in the notes' table (α₀ = 0.2, decay rate 1:
/// 0.1, 0.0667, 0.05, 0.04).
public enum LearningRateSchedule: Sendable, Equatable {
    /// `α₀`
    case constant
    /// `α₀ / (1 + decayRate·epoch)` — the notes' formula.
    case inverseTime(decayRate: Double)
    /// `base^epoch · α₀`, e.g. `0.95^epoch · α₀`.
    case exponential(base: Double)
    /// `k/√epoch · α₀`.
    case inverseSquareRoot(k: Double)
    /// `α₀ · factor^⌊epoch / every⌋` — a discrete staircase.
    case staircase(factor: Double, every: Int)
    /// Explicit rates by interval: the rate of the first entry whose
    /// `untilEpoch` is ≥ the epoch (the last one afterwards), as multiples of α₀.
    case intervals([Interval])

    public struct Interval: Sendable, Equatable {
        public var untilEpoch: Int
        public var factor: Double
        public init(untilEpoch: Int, factor: Double) {
            self.untilEpoch = untilEpoch
            self.factor = factor
        }
    }

    /// The learning rate in epoch `epoch` (≥ 1).
    public func rate(initial alpha0: Double, epoch: Int) -> Double {
        let e = Double(epoch)
        switch self {
        case .constant: return alpha0
        case .inverseTime(let decayRate): return alpha0 / (1 + decayRate * e)
        case .exponential(let base): return alpha0 * pow(base, e)
        case .inverseSquareRoot(let k): return alpha0 * k / e.squareRoot()
        case .staircase(let factor, let every): return alpha0 * pow(factor, Double(epoch / every))
        case .intervals(let intervals):
            // No intervals at all leaves α₀ unchanged.
            return alpha0 * ((intervals.first { epoch <= $0.untilEpoch } ?? intervals.last)?.factor ?? 1)
        }
    }
}

import Foundation
