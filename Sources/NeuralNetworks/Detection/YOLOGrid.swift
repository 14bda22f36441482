import Foundation
import Tensors

/// An anchor box shape (C4W3-07), in grid cells: `width` columns by `height` rows.
public struct AnchorBox: Equatable, Hashable, Sendable, Codable {
    public var width: Double
    public var height: Double

    public init(width: Double, height: Double) {
        require(width > 0 && height > 0, "AnchorBox: size \(width)×\(height) must be positive")
        (self.width, self.height) = (width, height)
    }

    /// The IoU of this shape and a `width × height` box with the same centre —
    /// how an object is matched to an anchor.
    public func shapeIoU(width w: Double, height h: Double) -> Double {
        let overlap = Swift.min(width, w) * Swift.min(height, h)
        let union = width * height + w * h - overlap
        return union > 0 ? overlap / union : 0
    }
}

/// The YOLO output grid (C4W3-04, -07, -08): an image cut into `rows × columns`
/// cells, each predicting `anchors.count` boxes of `5 + classes` values in the
/// notes' order `[p_c, b_x, b_y, b_h, b_w, c_1, …, c_C]`.
///
/// Tensors are channels-last like every image here: a target or a network
/// output is `(m, rows, columns, anchors · (5 + classes))`, anchor `a`'s values
/// in channels `a·(5 + C) ..< (a + 1)·(5 + C)` — the notes' 3×3×16 = 3×3×2×8.
///
/// Coordinates: a ``LabeledBox`` is image-relative, x and y in [0, 1] from the
/// top-left corner. In a target, `(b_x, b_y)` is the midpoint's offset inside its
/// cell (in [0, 1)), and `(b_h, b_w)` the size in cells ("could be > 1").
///
/// A network's raw output (its logits) is read the YOLOv2 way, which the
/// assignment's `yolo_head` follows: `p_c = σ(t_0)`, `b_x = σ(t_1)`, `b_y = σ(t_2)`,
/// `b_h = anchor_h · e^{t_3}`, `b_w = anchor_w · e^{t_4}`, class probabilities
/// `softmax(t_5…)`. ``YOLOLoss`` trains that parameterization.
public struct YOLOGrid: Equatable, Sendable {
    public let rows: Int
    public let columns: Int
    public let anchors: [AnchorBox]
    public let classes: Int

    /// A grid; one anchor of one cell's size by default (the notes' first example, 3×3×8 for 3 classes).
    public init(rows: Int, columns: Int, anchors: [AnchorBox] = [AnchorBox(width: 1, height: 1)], classes: Int) {
        require(rows > 0 && columns > 0, "YOLOGrid: \(rows)×\(columns) cells")
        require(!anchors.isEmpty, "YOLOGrid: at least one anchor box")
        require(classes >= 1, "YOLOGrid: \(classes) classes")
        (self.rows, self.columns, self.anchors, self.classes) = (rows, columns, anchors, classes)
    }

    /// `5 + C`: the values of one anchor's prediction.
    public var valuesPerAnchor: Int { 5 + classes }
    /// `anchors · (5 + C)`: the channels of the output map.
    public var channels: Int { anchors.count * valuesPerAnchor }

    /// The cell holding the box's midpoint (a midpoint on the image's right or
    /// bottom edge goes to the last cell).
    public func cell(of box: BoundingBox) -> (row: Int, column: Int) {
        let c = box.center
        return (Swift.min(rows - 1, Swift.max(0, Int((c.y * Double(rows)).rounded(.down)))),
                Swift.min(columns - 1, Swift.max(0, Int((c.x * Double(columns)).rounded(.down)))))
    }

    /// The anchor whose shape has the highest IoU with the box's size in cells
    /// (C4W3-07); the first anchor wins a tie.
    public func bestAnchor(for box: BoundingBox) -> Int {
        let (w, h) = (box.width * Double(columns), box.height * Double(rows))
        var best = 0, bestIoU = -1.0
        for (a, anchor) in anchors.enumerated() {
            let iou = anchor.shapeIoU(width: w, height: h)
            if iou > bestIoU { (best, bestIoU) = (a, iou) }
        }
        return best
    }

    /// The training target for `labels[i]`, the objects of image `i`:
    /// `(m, rows, columns, anchors·(5 + C))`. Each object goes to the (cell,
    /// anchor) pair of its midpoint and best anchor, as `[1, b_x, b_y, b_h, b_w,
    /// one-hot class]`; other slots are all zero (`p_c = 0`, the rest "don't care").
    ///
    /// Two objects of one image can claim the same pair, the case the notes say
    /// the method does not handle: the first keeps it, and the others are
    /// returned in `unassigned` as (image, object) indices.
    public func encode<S: TensorScalar>(_ labels: [[LabeledBox]], as: S.Type = S.self)
        -> (target: Tensor<S>, unassigned: [(image: Int, object: Int)]) {
        let v = valuesPerAnchor
        var target = [S](repeating: 0, count: labels.count * rows * columns * channels)
        var unassigned: [(image: Int, object: Int)] = []
        for (i, objects) in labels.enumerated() {
            for (k, object) in objects.enumerated() {
                require((0..<classes).contains(object.classIndex),
                        "YOLOGrid.encode: image \(i) object \(k) has class \(object.classIndex) of \(classes)")
                let (r, c) = cell(of: object.box), a = bestAnchor(for: object.box)
                let base = ((i * rows + r) * columns + c) * channels + a * v
                if target[base] != 0 { unassigned.append((i, k)); continue }
                let center = object.box.center
                target[base] = 1
                target[base + 1] = S(center.x * Double(columns) - Double(c))
                target[base + 2] = S(center.y * Double(rows) - Double(r))
                target[base + 3] = S(object.box.height * Double(rows))
                target[base + 4] = S(object.box.width * Double(columns))
                target[base + 5 + object.classIndex] = 1
            }
        }
        return (Tensor(shape: [labels.count, rows, columns, channels], scalars: target), unassigned)
    }

    /// The objects a target tensor (as ``encode(_:as:)`` makes it) describes,
    /// per image, in (row, column, anchor) order; the class is the largest of
    /// `c_1…c_C` (the first on a tie).
    public func decodeTargets<S: TensorScalar>(_ target: Tensor<S>) -> [[LabeledBox]] {
        checkShape("YOLOGrid.decodeTargets", target)
        let t = target.scalars, v = valuesPerAnchor
        return (0..<target.shape[0]).map { i in
            var objects: [LabeledBox] = []
            for r in 0..<rows {
                for c in 0..<columns {
                    for a in 0..<anchors.count {
                        let base = ((i * rows + r) * columns + c) * channels + a * v
                        guard t[base] > 0.5 else { continue }
                        let box = BoundingBox(centerX: (Double(c) + Double(t[base + 1])) / Double(columns),
                                              centerY: (Double(r) + Double(t[base + 2])) / Double(rows),
                                              width: Double(t[base + 4]) / Double(columns),
                                              height: Double(t[base + 3]) / Double(rows))
                        objects.append(LabeledBox(box: box, classIndex: argmax((0..<classes).map { Double(t[base + 5 + $0]) })))
                    }
                }
            }
            return objects
        }
    }

    /// Every box a network's raw output predicts, per image (C4W3-08):
    /// `rows · columns · anchors` detections with score `p_c · max_c P(c)` and
    /// that class, boxes image-relative. No filtering; see
    /// ``detections(fromLogits:scoreThreshold:iouThreshold:perClass:maxDetections:convention:)``.
    public func allBoxes<S: TensorScalar>(fromLogits output: Tensor<S>) -> [[Detection]] {
        checkShape("YOLOGrid.allBoxes", output)
        let t = output.scalars, v = valuesPerAnchor
        return (0..<output.shape[0]).map { i in
            var boxes: [Detection] = []
            boxes.reserveCapacity(rows * columns * anchors.count)
            for r in 0..<rows {
                for c in 0..<columns {
                    for (a, anchor) in anchors.enumerated() {
                        let base = ((i * rows + r) * columns + c) * channels + a * v
                        let logit = { Double(t[base + $0]) }
                        let pc = logistic(logit(0))
                        let box = BoundingBox(centerX: (Double(c) + logistic(logit(1))) / Double(columns),
                                              centerY: (Double(r) + logistic(logit(2))) / Double(rows),
                                              width: anchor.width * Foundation.exp(logit(4)) / Double(columns),
                                              height: anchor.height * Foundation.exp(logit(3)) / Double(rows))
                        let scores = (0..<classes).map { logit(5 + $0) }
                        let best = argmax(scores)
                        // softmax at the best class: 1 / Σ_c e^{t_c − t_best}
                        let probability = 1 / scores.reduce(0) { $0 + Foundation.exp($1 - scores[best]) }
                        boxes.append(Detection(box: box, score: pc * probability, classIndex: best))
                    }
                }
            }
            return boxes
        }
    }

    /// The final predictions for each image: ``allBoxes(fromLogits:)`` filtered
    /// by score and passed through ``nonMaxSuppression(_:scoreThreshold:iouThreshold:perClass:maxDetections:convention:)``.
    /// Defaults are the notes' (0.6, 0.5, per class).
    public func detections<S: TensorScalar>(
        fromLogits output: Tensor<S>, scoreThreshold: Double = 0.6, iouThreshold: Double = 0.5,
        perClass: Bool = true, maxDetections: Int? = nil, convention: ThresholdConvention = .notes
    ) -> [[Detection]] {
        allBoxes(fromLogits: output).map {
            nonMaxSuppression($0, scoreThreshold: scoreThreshold, iouThreshold: iouThreshold, perClass: perClass,
                              maxDetections: maxDetections, convention: convention)
        }
    }

    func checkShape<S>(_ operation: String, _ t: Tensor<S>) {
        require(t.rank == 4 && Array(t.shape[1...]) == [rows, columns, channels],
                "\(operation): tensor \(t.shape) must be (m, \(rows), \(columns), \(channels)) for this grid")
    }
}

/// The index of the largest value; the first on a tie.
func argmax(_ values: [Double]) -> Int {
    var best = 0
    for i in values.indices where values[i] > values[best] { best = i }
    return best
}

/// `1 / (1 + e^{−x})` on a Double.
func logistic(_ x: Double) -> Double { 1 / (1 + Foundation.exp(-x)) }

extension Sequential {
    /// A small YOLO-style detector for `size × size × channels` images: a
    /// `3×3 conv (same) → batch norm → ReLU → 2×2 max pool` stage per entry of
    /// `widths` (each halving the resolution), one more 3×3 convolution, and a
    /// 1×1 convolution to `grid.channels` logits per cell. `size` must be
    /// `grid.rows · 2^widths.count` (and the grid square). Output
    /// `(m, rows, columns, anchors·(5 + C))`, to train with ``YOLOLoss`` and
    /// read with ``YOLOGrid/detections(fromLogits:scoreThreshold:iouThreshold:perClass:maxDetections:convention:)``.
    public static func tinyYOLO(grid: YOLOGrid, size: Int, channels: Int = 3, widths: [Int] = [16, 32, 64],
                                generator: inout RandomGenerator) -> Sequential {
        require(grid.rows == grid.columns && size == grid.rows << widths.count,
                "tinyYOLO: a \(size)² image with \(widths.count) poolings gives \(size >> widths.count)² cells, not \(grid.rows)×\(grid.columns)")
        var layers: [any Layer<Scalar>] = []
        var input = channels
        for width in widths {
            layers += [Conv2D<Scalar>(filterSize: 3, inputChannels: input, filters: width, padding: .same, generator: &generator),
                       BatchNorm<Scalar>(channels: width), Activation<Scalar>(.relu), MaxPool2D<Scalar>(size: 2)]
            input = width
        }
        layers += [Conv2D<Scalar>(filterSize: 3, inputChannels: input, filters: input, padding: .same, generator: &generator),
                   Activation<Scalar>(.relu),
                   Conv2D<Scalar>(filterSize: 1, inputChannels: input, filters: grid.channels, initializer: .xavier, generator: &generator)]
        return Sequential(layers)
    }
}
