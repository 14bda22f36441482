/// Which side of each threshold a value exactly at it falls on.
///
/// - ``notes``: the lecture's rule (C4W3-06): discard boxes with `p_c ≤ 0.6`
///   (keep `score > threshold`), and discard a remaining box whose IoU with the
///   chosen one is `≥ 0.5`.
/// - ``assignment``: the programming assignment's `yolo_filter_boxes` keeps
///   `score ≥ threshold`, and its non-max suppression (TensorFlow's
///   `tf.image.non_max_suppression`, like torchvision's `nms`) discards boxes
///   with IoU `> threshold`.
public enum ThresholdConvention: String, Sendable, Codable {
    case notes
    case assignment

    /// Whether a box with `score` survives the score filter.
    public func keeps(score: Double, threshold: Double) -> Bool {
        self == .notes ? score > threshold : score >= threshold
    }

    /// Whether a box overlapping a chosen one by `iou` is discarded.
    public func suppresses(iou: Double, threshold: Double) -> Bool {
        self == .notes ? iou >= threshold : iou > threshold
    }
}

/// Non-max suppression (C4W3-06, -08).
///
/// 1. Discard the detections whose score fails `scoreThreshold` (see ``ThresholdConvention``).
/// 2. While detections remain: output the highest-scoring one, and discard every
///    remaining one whose IoU with it meets `iouThreshold`.
///
/// With `perClass` (the notes' rule for several classes) step 2 runs for each
/// class on its own, so boxes of different classes never suppress each other;
/// without it, it runs once over all boxes (the assignment's class-agnostic
/// call). The result is sorted by descending score; equal scores keep their
/// input order (the earlier detection wins a tie, in the ranking and in the
/// suppression). `maxDetections` keeps only that many of the highest-scoring
/// survivors over all classes (the assignment's `max_boxes = 10`).
///
/// Defaults are the notes': score 0.6, IoU 0.5, per class.
public func nonMaxSuppression(
    _ detections: [Detection], scoreThreshold: Double = 0.6, iouThreshold: Double = 0.5,
    perClass: Bool = true, maxDetections: Int? = nil, convention: ThresholdConvention = .notes
) -> [Detection] {
    require(maxDetections.map { $0 >= 0 } ?? true, "nonMaxSuppression: maxDetections \(maxDetections!) must not be negative")
    // Indices in ranking order: descending score, ties by position (a stable sort).
    let ranked = detections.indices
        .filter { convention.keeps(score: detections[$0].score, threshold: scoreThreshold) }
        .sorted { detections[$0].score != detections[$1].score ? detections[$0].score > detections[$1].score : $0 < $1 }
    var kept: [Int] = []
    var suppressed = [Bool](repeating: false, count: detections.count)
    for (position, i) in ranked.enumerated() where !suppressed[i] {
        kept.append(i)
        for j in ranked[(position + 1)...] where !suppressed[j] {
            if perClass && detections[j].classIndex != detections[i].classIndex { continue }
            if convention.suppresses(iou: intersectionOverUnion(detections[i].box, detections[j].box), threshold: iouThreshold) {
                suppressed[j] = true
            }
        }
    }
    // `kept` is already in ranking order: per class or not, a box is output
    // when its turn in the global ranking comes, so the list is sorted.
    let limited = maxDetections.map { Array(kept.prefix($0)) } ?? kept
    return limited.map { detections[$0] }
}
