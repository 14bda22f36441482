import Foundation

/// One CTC problem: logits `(C, m, T)`, element `(k, b, t)` at `(k·m + b)·T + t`;
/// example `b` uses its first `inputLengths[b]` steps and labels `targets[b]`.
struct CTCProblem {
    let classes: Int, batch: Int, steps: Int, blank: Int
    let targets: [[Int]], inputLengths: [Int]

    /// The extended labels `l' = (blank, l₁, blank, l₂, …, l_S, blank)` of example `b`.
    func extended(_ b: Int) -> [Int] { (0..<(2 * targets[b].count + 1)).map { $0 % 2 == 0 ? blank : targets[b][$0 / 2] } }
}

/// The CTC forward–backward recursions in log space, per example:
///
///   log y_{k,t} = z_{k,t} − max_j z_{j,t} − ln Σ_j e^(z_{j,t} − max_j z_{j,t})
///   α_t(s) = ln y_{l'_s,t} + lse(α_{t−1}(s), α_{t−1}(s−1), α_{t−1}(s−2) if l'_s ≠ blank and l'_s ≠ l'_{s−2})
///   β_t(s) = ln y_{l'_s,t} + lse(β_{t+1}(s), β_{t+1}(s+1), β_{t+1}(s+2) if l'_{s+2} ≠ blank and l'_{s+2} ≠ l'_s)
///   α_0 = (ln y_{blank,0}, ln y_{l₁,0}, −∞, …),  β_{T−1} = (…, −∞, ln y_{l_S,T−1}, ln y_{blank,T−1})
///   ln p(l|x) = lse(α_{T−1}(L−1), α_{T−1}(L−2)),  L = 2S + 1
///
/// (α and β both include step t's emission.) The loss of an example is
/// `−ln p(l|x)`; its gradient with respect to the logits is
/// `∂/∂z_{k,t} = y_{k,t} − Σ_{s: l'_s = k} e^(α_t(s) + β_t(s) − ln y_{k,t} − ln p)`.
///
/// Both paths write `nll[b] = −ln p` (`+∞` when no alignment fits) and, when
/// `gradient` is given (a zeroed `(C, m, T)` buffer), the gradient of `nll[b]`
/// into example `b`'s first `inputLengths[b]` steps; an impossible example
/// leaves its gradient zero.
enum CTCKernels {
    // MARK: Loop path: the recursions as written, one example after another.

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func loop<S: TensorScalar>(
        _ p: CTCProblem, _ z: UnsafePointer<S>, _ nll: UnsafeMutablePointer<Double>, _ gradient: UnsafeMutablePointer<S>?
    ) {
        let (C, m, T) = (p.classes, p.batch, p.steps)
        func lse(_ a: Double, _ b: Double, _ c: Double = -.infinity) -> Double {
            let top = Swift.max(a, b, c)
            return top == -.infinity ? top : top + Foundation.log(Foundation.exp(a - top) + Foundation.exp(b - top) + Foundation.exp(c - top))
        }
        for b in 0..<m {
            let Tb = p.inputLengths[b], l = p.extended(b), L = l.count
            if Tb == 0 { nll[b] = L == 1 ? 0 : .infinity; continue }
            func canSkip(_ s: Int) -> Bool { s >= 2 && l[s] != p.blank && l[s] != l[s - 2] }
            var y = [Double](repeating: 0, count: C * Tb)   // log y_{k,t} at k·Tb + t
            for t in 0..<Tb {
                var top = -Double.infinity, sum = 0.0
                for k in 0..<C { top = Swift.max(top, Double(z[(k * m + b) * T + t])) }
                for k in 0..<C { sum += Foundation.exp(Double(z[(k * m + b) * T + t]) - top) }
                for k in 0..<C { y[k * Tb + t] = (Double(z[(k * m + b) * T + t]) - top) - Foundation.log(sum) }
            }
            var α = [Double](repeating: -.infinity, count: Tb * L)
            α[0] = y[p.blank * Tb]
            if L > 1 { α[1] = y[l[1] * Tb] }
            for t in 1..<Tb {
                for s in 0..<L {
                    let previous = (t - 1) * L + s
                    α[t * L + s] = y[l[s] * Tb + t]
                        + lse(α[previous], s >= 1 ? α[previous - 1] : -.infinity, canSkip(s) ? α[previous - 2] : -.infinity)
                }
            }
            let logP = lse(α[(Tb - 1) * L + L - 1], L > 1 ? α[(Tb - 1) * L + L - 2] : -.infinity)
            nll[b] = -logP
            guard let gradient, logP > -.infinity else { continue }
            var β = [Double](repeating: -.infinity, count: Tb * L)
            β[(Tb - 1) * L + L - 1] = y[p.blank * Tb + Tb - 1]
            if L > 1 { β[(Tb - 1) * L + L - 2] = y[l[L - 2] * Tb + Tb - 1] }
            for t in stride(from: Tb - 2, through: 0, by: -1) {
                for s in 0..<L {
                    let next = (t + 1) * L + s
                    β[t * L + s] = y[l[s] * Tb + t]
                        + lse(β[next], s + 1 < L ? β[next + 1] : -.infinity, s + 2 < L && canSkip(s + 2) ? β[next + 2] : -.infinity)
                }
            }
            for t in 0..<Tb {
                var g = (0..<C).map { Foundation.exp(y[$0 * Tb + t]) }
                for s in 0..<L { g[l[s]] -= Foundation.exp(α[t * L + s] + β[t * L + s] - y[l[s] * Tb + t] - logP) }
                for k in 0..<C { gradient[(k * m + b) * T + t] = S(g[k]) }
            }
        }
    }

    // MARK: Vectorized path: examples in parallel, the recursions 8 states at a time.

    /// Each example runs whole in one task (bitwise the same for any thread
    /// count): first in probability space with a scale per step
    /// (``scaledExample(_:_:_:_:_:)``: multiplications only), and in log space
    /// (``logSpaceExample(_:_:_:_:_:)``: three exps and a log per state and
    /// step, about 3× the time) when a scale leaves Double's normal range —
    /// emissions that underflow, or an alignment that does not fit.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func vectorized<S: TensorScalar>(
        _ p: CTCProblem, _ z: UnsafePointer<S>, _ nll: UnsafeMutablePointer<Double>, _ gradient: UnsafeMutablePointer<S>?
    ) {
        let (C, m) = (p.classes, p.batch)
        // A state's step counts as about 4 elements touched.
        let work = (0..<m).reduce(0) { $0 + p.inputLengths[$1] * (C + 4 * (2 * p.targets[$1].count + 1)) }
        parallelFor(chunks: m, work: work) { b in
            if p.inputLengths[b] == 0 { nll[b] = p.targets[b].isEmpty ? 0 : .infinity; return }
            if !scaledExample(p, b, z, nll, gradient) { logSpaceExample(p, b, z, nll, gradient) }
        }
    }

    /// Example `b` in probability space, each step's states rescaled to sum to 1
    /// (Rabiner's scaling, as Graves et al. 2006 §4.1 apply it to CTC):
    ///
    ///   α̂_t(s) = (α̂_{t−1}(s) + α̂_{t−1}(s−1) + [skip] α̂_{t−1}(s−2))·y_{l'_s,t} / c_t,  c_t the sum of the numerators
    ///   ln p(l|x) = Σ_t ln c_t + ln(α̂_{T−1}(L−1) + α̂_{T−1}(L−2))
    ///   b_t(s) = β̂_{t+1}(s) + β̂_{t+1}(s+1) + [skip] β̂_{t+1}(s+2)  (1 on the two last states at T−1),
    ///   β̂_t(s) = b_t(s)·y_{l'_s,t} / d_t
    ///
    /// The occupancy `α_t(s)β_t(s)/(y_{l'_s,t}·p)` of state `s` is
    /// `α̂_t(s)·b_t(s)` divided by its sum over `s` (the occupancies of a step sum
    /// to 1), so neither `p` nor the scales enter the gradient. Returns `false`,
    /// having written nothing the log-space path does not overwrite, when a
    /// scale or the final sum is zero or subnormal.
    @inline(__always)
    static func scaledExample<S: TensorScalar>(
        _ p: CTCProblem, _ b: Int, _ z: UnsafePointer<S>, _ nll: UnsafeMutablePointer<Double>, _ gradient: UnsafeMutablePointer<S>?
    ) -> Bool {
        typealias V = DoubleVector
        let w = V.scalarCount, (C, m, T) = (p.classes, p.batch, p.steps)
        let Tb = p.inputLengths[b], l = p.extended(b), L = l.count
        let Tp = (Tb + w - 1) / w * w, Lp = (L + w - 1) / w * w, R = Lp + 4, o = 2
        // y (C, Tp); emissions, α (Tb rows each); skip flags, two β rows, b, occupancy (one row each); g (C).
        let size = C * Tp + 2 * Tb * R + 5 * R + C
        return withUnsafeTemporaryAllocation(of: Double.self, capacity: size) { scratch -> Bool in
            let y = scratch.baseAddress!, emission = y + C * Tp, α = emission + Tb * R, skip = α + Tb * R
            let β = skip + R, sums = β + 2 * R, occupancy = sums + R, g = occupancy + R
            scratch.initialize(repeating: 0)
            // y = softmax over classes, vectorized across steps.
            for k in 0..<C {
                for t in 0..<Tp { y[k * Tp + t] = t < Tb ? Double(z[(k * m + b) * T + t]) : 0 }
            }
            for t in stride(from: 0, to: Tp, by: w) {
                var top = V(repeating: -.infinity), sum = V()
                for k in 0..<C { top = V.maximum(top, load(y + k * Tp + t)) }
                for k in 0..<C {
                    let e = V.exp(load(y + k * Tp + t) - top)
                    store(e, y + k * Tp + t)
                    sum += e
                }
                let inverse = 1 / sum
                for k in 0..<C { store(load(y + k * Tp + t) * inverse, y + k * Tp + t) }
            }
            // Emissions y_{l'_s,t} as rows of states (zero in the guards and the padding).
            for t in 0..<Tb {
                for s in 0..<L { emission[t * R + o + s] = y[l[s] * Tp + t] }
            }
            for s in 2..<Swift.max(2, L) where l[s] != p.blank && l[s] != l[s - 2] { skip[o + s] = 1 }
            /// Scales row `row` (states `0..<Lp`) by `1/c`; `false` unless `c` is normal.
            @inline(__always) func normalize(_ row: UnsafeMutablePointer<Double>, _ c: Double) -> Bool {
                guard c.isNormal else { return false }
                let inverse = V(repeating: 1 / c)
                for s in stride(from: 0, to: Lp, by: w) { store(load(row + s) * inverse, row + s) }
                return true
            }
            α[o] = emission[o]
            if L > 1 { α[o + 1] = emission[o + 1] }
            var logScale = 0.0
            var c = α[o] + (L > 1 ? α[o + 1] : 0)
            guard normalize(α + o, c) else { return false }
            logScale += Foundation.log(c)
            for t in 1..<Tb {
                let previous = α + (t - 1) * R + o, current = α + t * R + o, e = emission + t * R + o
                var sum = V()
                for s in stride(from: 0, to: Lp, by: w) {
                    let v = (load(previous + s) + load(previous + s - 1) + load(previous + s - 2) * load(skip + o + s)) * load(e + s)
                    store(v, current + s)
                    sum += v
                }
                c = sum.sum()
                guard normalize(current, c) else { return false }
                logScale += Foundation.log(c)
            }
            let last = α + (Tb - 1) * R + o
            let final = last[L - 1] + (L > 1 ? last[L - 2] : 0)
            guard final.isNormal else { return false }
            nll[b] = -(logScale + Foundation.log(final))
            guard let gradient else { return true }
            for t in stride(from: Tb - 1, through: 0, by: -1) {
                let current = β + (t % 2) * R + o, next = β + ((t + 1) % 2) * R + o, e = emission + t * R + o
                if t == Tb - 1 {
                    sums[o + L - 1] = 1
                    if L > 1 { sums[o + L - 2] = 1 }
                } else {
                    for s in stride(from: 0, to: Lp, by: w) {
                        store(load(next + s) + load(next + s + 1) + load(next + s + 2) * load(skip + o + s + 2), sums + o + s)
                    }
                }
                var d = V(), total = V()
                let αt = α + t * R + o
                for s in stride(from: 0, to: Lp, by: w) {
                    let bs = load(sums + o + s)
                    let v = bs * load(e + s), γ = load(αt + s) * bs
                    store(v, current + s)
                    store(γ, occupancy + o + s)
                    d += v
                    total += γ
                }
                let occupancyTotal = total.sum()
                guard normalize(current, d.sum()), occupancyTotal.isNormal else { return false }
                for k in 0..<C { g[k] = y[k * Tp + t] }
                let inverse = 1 / occupancyTotal
                for s in 0..<L { g[l[s]] -= occupancy[o + s] * inverse }
                for k in 0..<C { gradient[(k * m + b) * T + t] = S(g[k]) }
            }
            return true
        }
    }

    /// Example `b` in log space (see the type's header): its log-probabilities
    /// `(C + 1, T_b)` rows padded to whole vectors (row C is −∞, the emission of
    /// the padding states), α `(T_b, R)`, two rows of β and a row of skip
    /// penalties, where a row of states holds two −∞ guards on each side of
    /// `s = 0 ..< L` (padded to whole vectors), so `s − 2 … s + 2` are plain
    /// unaligned loads. The states `s` of one step are independent, so each step
    /// is three vector exps and a vector log per 8 states; the occupancies of
    /// step `t` are formed as soon as `β_t` is.
    static func logSpaceExample<S: TensorScalar>(
        _ p: CTCProblem, _ b: Int, _ z: UnsafePointer<S>, _ nll: UnsafeMutablePointer<Double>, _ gradient: UnsafeMutablePointer<S>?
    ) {
        typealias V = DoubleVector
        let w = V.scalarCount, (C, m, T) = (p.classes, p.batch, p.steps)
        let Tb = p.inputLengths[b], l = p.extended(b), L = l.count
        let Tp = (Tb + w - 1) / w * w, Lp = (L + w - 1) / w * w, R = Lp + 4, o = 2
        let rows = 2 + (gradient == nil ? 0 : 2)   // skip penalties and the emission offsets; two β rows
        withUnsafeTemporaryAllocation(of: Double.self, capacity: (C + 1) * Tp + (Tb + rows) * R + C) { scratch in
            let y = scratch.baseAddress!, α = y + (C + 1) * Tp, penalty = α + Tb * R, offsets = penalty + R
            let β = offsets + R, g = β + (rows - 2) * R   // β: two rows, g: a step's gradient (when gradient != nil)
            // log y, vectorized across steps.
            for k in 0..<C {
                for t in 0..<Tp { y[k * Tp + t] = t < Tb ? Double(z[(k * m + b) * T + t]) : 0 }
            }
            for t in 0..<Tp { y[C * Tp + t] = -.infinity }
            for t in stride(from: 0, to: Tp, by: w) {
                var top = V(repeating: -.infinity), sum = V()
                for k in 0..<C { top = V.maximum(top, load(y + k * Tp + t)) }
                for k in 0..<C { sum += V.exp(load(y + k * Tp + t) - top) }
                let lnSum = V.log(sum)
                for k in 0..<C { store((load(y + k * Tp + t) - top) - lnSum, y + k * Tp + t) }
            }
            // Rows of states: −∞ guards and padding; emission offsets (as Doubles: exact integers).
            for i in 0..<((Tb + rows) * R) { α[i] = -.infinity }
            for s in 0..<Lp {
                if s < L && s >= 2 && l[s] != p.blank && l[s] != l[s - 2] { penalty[o + s] = 0 }
                offsets[o + s] = Double((s < L ? l[s] : C) * Tp)
            }
            @inline(__always) func emission(_ s: Int, _ t: Int) -> V {
                var e = V()
                for lane in 0..<w { e[lane] = y[Int(offsets[o + s + lane]) + t] }
                return e
            }
            // lse(a, b, c) + e; an all −∞ triple stays −∞ (its maximum is replaced by 0, ln 0 = −∞).
            @inline(__always) func step(_ a: V, _ b: V, _ c: V, _ e: V) -> V {
                var top = V.maximum(a, V.maximum(b, c))
                top.replace(with: 0, where: V.compare(.equal, top, V(repeating: -.infinity)))
                return top + V.log(V.exp(a - top) + V.exp(b - top) + V.exp(c - top)) + e
            }
            α[o] = y[p.blank * Tp]
            if L > 1 { α[o + 1] = y[l[1] * Tp] }
            for t in 1..<Tb {
                let previous = α + (t - 1) * R + o, current = α + t * R + o
                for s in stride(from: 0, to: Lp, by: w) {
                    let skip = load(previous + s - 2) + load(penalty + o + s)
                    store(step(load(previous + s), load(previous + s - 1), skip, emission(s, t)), current + s)
                }
            }
            let last = α + (Tb - 1) * R + o
            let logP = L > 1 ? lse(last[L - 1], last[L - 2]) : last[0]
            nll[b] = -logP
            guard let gradient, logP > -.infinity else { return }
            // β backwards in two alternating rows; at each step, y − occupancy into the gradient.
            for t in stride(from: Tb - 1, through: 0, by: -1) {
                let current = β + (t % 2) * R + o, next = β + ((t + 1) % 2) * R + o
                if t == Tb - 1 {
                    current[L - 1] = y[p.blank * Tp + t]
                    if L > 1 { current[L - 2] = y[l[L - 2] * Tp + t] }
                } else {
                    for s in stride(from: 0, to: Lp, by: w) {
                        let skip = load(next + s + 2) + load(penalty + o + s + 2)
                        store(step(load(next + s), load(next + s + 1), skip, emission(s, t)), current + s)
                    }
                }
                for k in 0..<C { g[k] = Foundation.exp(y[k * Tp + t]) }
                let αt = α + t * R + o
                for s in stride(from: 0, to: Lp, by: w) {
                    let occupancy = V.exp(load(αt + s) + load(current + s) - emission(s, t) - V(repeating: logP))
                    for lane in 0..<Swift.min(w, L - s) { g[l[s + lane]] -= occupancy[lane] }
                }
                for k in 0..<C { gradient[(k * m + b) * T + t] = S(g[k]) }
            }
        }
    }

    @inline(__always) static func load(_ p: UnsafePointer<Double>) -> DoubleVector {
        UnsafeRawPointer(p).loadUnaligned(as: DoubleVector.self)
    }
    @inline(__always) static func load(_ p: UnsafeMutablePointer<Double>) -> DoubleVector { load(UnsafePointer(p)) }
    @inline(__always) static func store(_ v: DoubleVector, _ p: UnsafeMutablePointer<Double>) {
        UnsafeMutableRawPointer(p).storeBytes(of: v, as: DoubleVector.self)
    }
    /// `ln(eᵃ + eᵇ)` for finite or −∞ operands.
    @inline(__always) static func lse(_ a: Double, _ b: Double) -> Double {
        let top = Swift.max(a, b)
        return top == -.infinity ? top : top + Foundation.log(Foundation.exp(a - top) + Foundation.exp(b - top))
    }
}
