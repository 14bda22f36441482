import Foundation
import Tensors

/// The notes' classification-with-localization loss (C4W3-01) for targets
/// `y = [p_c, b_x, b_y, b_h, b_w, c_1, …, c_C]` of shape `(5 + C, m)`:
///
///     L(ŷ, y) = Σ_k (ŷ_k − y_k)²   if y_1 = p_c = 1
///     L(ŷ, y) = (ŷ_1 − y_1)²        if y_1 = 0  (the rest is "don't care")
///
/// An object is present when `y_1 > 0.5`.
/// `J = (1/m) Σᵢ L`, `∂J/∂ŷ_1 = 2(ŷ_1 − y_1)/m`, `∂J/∂ŷ_k = 2·y_1·(ŷ_k − y_k)/m`.
/// The notes square every term for simplicity; ``YOLOLoss`` is the form that
/// trains well (logistic `p_c`, softmax classes).
public struct LocalizationLoss<Scalar: TensorScalar>: Loss {
    public init() {}

    public func callAsFunction(_ prediction: Variable<Scalar>, _ target: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("LocalizationLoss", prediction.value, target)
        require(target.rank == 2 && target.shape[0] >= 1, "LocalizationLoss: targets \(target.shape) must be (5 + C, m)")
        let (n, m) = (target.shape[0], target.shape[1])
        let yhat = prediction.value.scalars, y = target.scalars
        var cost = 0.0
        var gradient = [Scalar](repeating: 0, count: n * m)
        let scale = 1 / Double(m)
        for i in 0..<m {
            let present = Double(y[i]) > 0.5 ? 1.0 : 0.0
            for k in 0..<n {
                let index = k * m + i
                let weight = k == 0 ? 1 : present
                let d = Double(yhat[index]) - Double(y[index])
                guard weight != 0 else { continue }   // "don't care" targets may hold anything, NaN included
                cost += d * d
                gradient[index] = Scalar(2 * d * scale)
            }
        }
        return lossNode(prediction, cost: Scalar(cost * scale)) { Tensor(shape: [n, m], scalars: gradient) }
    }
}

/// Targets for classification with localization (C4W3-01) and landmark
/// detection (C4W3-02), one column per image, `(5 + C + 2L, m)`:
/// `[p_c, b_x, b_y, b_h, b_w, c_1…c_C, l_1x, l_1y, …, l_Lx, l_Ly]` with the box
/// centre and size and the landmarks image-relative. An image without an
/// object (`nil`) has `p_c = 0` and zeros in the "don't care" rows, which
/// ``LocalizationLoss`` ignores — landmarks included, so a network with
/// `5 + C + 2L` outputs trains box, class and landmarks with that one loss.
public func localizationTargets<S: TensorScalar>(
    _ objects: [LabeledBox?], classes: Int, landmarks: [[(x: Double, y: Double)]]? = nil, as: S.Type = S.self
) -> Tensor<S> {
    let m = objects.count, count = landmarks?.first?.count ?? 0
    require(landmarks.map { $0.count == m && $0.allSatisfy { $0.count == count } } ?? true,
            "localizationTargets: every image needs the same number of landmarks, one list per image")
    let rows = 5 + classes + 2 * count
    var y = [S](repeating: 0, count: rows * m)
    for (i, object) in objects.enumerated() {
        guard let object else { continue }
        require((0..<classes).contains(object.classIndex), "localizationTargets: class \(object.classIndex) of \(classes)")
        let c = object.box.center
        var values: [Double] = [1, c.x, c.y, object.box.height, object.box.width]
        values += (0..<classes).map { $0 == object.classIndex ? 1 : 0 }
        for point in landmarks?[i] ?? [] { values += [point.x, point.y] }
        for (k, v) in values.enumerated() { y[k * m + i] = S(v) }
    }
    return Tensor(shape: [rows, m], scalars: y)
}

/// A YOLO training loss on a network's raw output `(m, rows, columns,
/// anchors·(5 + C))` against a ``YOLOGrid/encode(_:as:)`` target of the same
/// shape, matching ``YOLOGrid``'s decoding. For each (cell, anchor) slot with
/// logits `t` and target `y`:
///
///     object (y_0 = 1):  BCE(σ(t_0), 1)
///                        + λ_coord·[(σ(t_1) − y_1)² + (σ(t_2) − y_2)²
///                                   + (t_3 − ln(y_3/anchor_h))² + (t_4 − ln(y_4/anchor_w))²]
///                        − Σ_c y_{5+c} ln softmax(t_5…)_c
///     no object (y_0 = 0): λ_noobj · BCE(σ(t_0), 0)
///
/// (an object is present when `y_0 > 0.5`; a size target that is not positive
/// makes the cost infinite, which ``Model/fit(_:_:loss:optimizer:configuration:validation:metrics:onEpoch:)``
/// reports before any update) summed over slots and averaged over the `m` images. BCE is computed from
/// the logit, stably: `max(t, 0) − t·y + ln(1 + e^{−|t|})`. The hand-written
/// gradient is `w(σ(t_0) − y_0)` for `p_c`, `2λ(σ(t) − y)σ(t)(1 − σ(t))` for the
/// midpoint, `2λ(t − ln(y/a))` for the size and `softmax − y` for the classes,
/// each divided by `m`. Defaults: `λ_coord = 5`, `λ_noobj = 0.5` (YOLOv1's).
public struct YOLOLoss<Scalar: TensorScalar>: Loss {
    public let grid: YOLOGrid
    public var coordinateWeight: Double
    public var noObjectWeight: Double

    public init(grid: YOLOGrid, coordinateWeight: Double = 5, noObjectWeight: Double = 0.5) {
        (self.grid, self.coordinateWeight, self.noObjectWeight) = (grid, coordinateWeight, noObjectWeight)
    }

    public func callAsFunction(_ prediction: Variable<Scalar>, _ target: Tensor<Scalar>) -> Variable<Scalar> {
        checkShapes("YOLOLoss", prediction.value, target)
        grid.checkShape("YOLOLoss", target)
        let m = target.shape[0], v = grid.valuesPerAnchor, anchors = grid.anchors.count, C = grid.classes
        let slots = m * grid.rows * grid.columns * anchors
        let t = prediction.value.scalars, y = target.scalars
        var gradient = [Scalar](repeating: 0, count: t.count)
        var cost = 0.0
        let scale = 1 / Double(m), lc = coordinateWeight
        var probabilities = [Double](repeating: 0, count: C)
        for slot in 0..<slots {
            let base = slot * v, anchor = grid.anchors[slot % anchors]
            let t0 = Double(t[base]), y0 = Double(y[base])
            let present = y0 > 0.5
            let objectness = Swift.max(t0, 0) - t0 * y0 + Foundation.log1p(Foundation.exp(-Swift.abs(t0)))
            let weight = present ? 1 : noObjectWeight
            cost += weight * objectness
            gradient[base] = Scalar(weight * (logistic(t0) - y0) * scale)
            guard present else { continue }
            for k in 1...2 {
                let s = logistic(Double(t[base + k])), d = s - Double(y[base + k])
                cost += lc * d * d
                gradient[base + k] = Scalar(2 * lc * d * s * (1 - s) * scale)
            }
            for (k, size) in [(3, anchor.height), (4, anchor.width)] {
                let goal = Double(y[base + k]) / size
                let d = Double(t[base + k]) - Foundation.log(goal)
                cost += lc * d * d
                gradient[base + k] = Scalar(2 * lc * d * scale)
            }
            var largest = -Double.infinity
            for c in 0..<C { largest = Swift.max(largest, Double(t[base + 5 + c])) }
            var total = 0.0
            for c in 0..<C { probabilities[c] = Foundation.exp(Double(t[base + 5 + c]) - largest); total += probabilities[c] }
            let logTotal = Foundation.log(total)
            for c in 0..<C {
                let yc = Double(y[base + 5 + c])
                cost -= yc * (Double(t[base + 5 + c]) - largest - logTotal)
                gradient[base + 5 + c] = Scalar((probabilities[c] / total - yc) * scale)
            }
        }
        let shape = target.shape
        return lossNode(prediction, cost: Scalar(cost * scale)) { Tensor(shape: shape, scalars: gradient) }
    }
}
