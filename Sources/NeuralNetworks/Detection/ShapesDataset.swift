import Tensors

/// Generated images of coloured shapes on noisy backgrounds, with exact boxes
/// and per-pixel masks — detection and segmentation data the project makes
/// itself (nothing is downloaded), reproducible from a seed.
///
/// Each image has a random background tint with uniform pixel noise and
/// `1…maxObjects` shapes of ``classNames`` — a filled square, a filled disc,
/// a filled upward triangle — each of a random saturated colour and a size of
/// `minSize…maxSize` pixels, placed so that no two overlap. A shape's box is
/// the tight box of the pixels it painted, in image-relative coordinates
/// (pixel `(r, c)` covers `[c, c + 1) × [r, r + 1)`); the mask holds 0 for the
/// background and `1 + class` for a shape's pixels.
public struct ShapesDataset<Scalar: TensorScalar> {
    /// The class names, in class-index order.
    public static var classNames: [String] { ["square", "disc", "triangle"] }

    /// `(m, size, size, 3)`, values in [0, 1].
    public let images: Tensor<Scalar>
    /// Each image's objects.
    public let labels: [[LabeledBox]]
    /// Per-pixel classes `(m, size, size)`: 0 background, `1 + class` on a shape.
    public let masks: [[Int]]
    public let size: Int

    /// `count` images of `size × size` from `seed`.
    public init(count: Int, size: Int = 32, maxObjects: Int = 3, minSize: Int = 7, maxSize: Int = 14, noise: Double = 0.15, seed: UInt64) {
        require(count >= 0 && maxObjects >= 1 && minSize >= 3 && minSize <= maxSize && maxSize < size,
                "ShapesDataset: \(count) images of \(size)², \(maxObjects) objects of \(minSize)…\(maxSize) pixels")
        var g = RandomGenerator(seed: seed)
        var pixels = [Scalar](repeating: 0, count: count * size * size * 3)
        var labels: [[LabeledBox]] = [], masks: [[Int]] = []
        for i in 0..<count {
            let tint = (0..<3).map { _ in 0.15 + 0.3 * g.nextUniform() }
            var image = [Double](repeating: 0, count: size * size * 3)
            for p in 0..<size * size {
                for k in 0..<3 { image[p * 3 + k] = tint[k] + noise * (2 * g.nextUniform() - 1) }
            }
            var mask = [Int](repeating: 0, count: size * size)
            var objects: [LabeledBox] = []
            let wanted = 1 + g.nextIndex(below: maxObjects)
            var attempts = 0
            while objects.count < wanted && attempts < 50 {
                attempts += 1
                let classIndex = g.nextIndex(below: 3)
                let side = minSize + g.nextIndex(below: maxSize - minSize + 1)
                let top = g.nextIndex(below: size - side + 1), left = g.nextIndex(below: size - side + 1)
                // A saturated colour: one channel high, one low, one anywhere.
                let order = g.permutation(3)
                var color = [0.0, 0.0, 0.0]
                color[order[0]] = 0.85 + 0.15 * g.nextUniform()
                color[order[1]] = 0.1 * g.nextUniform()
                color[order[2]] = g.nextUniform()
                var painted: [Int] = []
                for r in 0..<side {
                    for c in 0..<side where Self.covers(classIndex, side: side, row: r, column: c) {
                        painted.append((top + r) * size + left + c)
                    }
                }
                // No overlap with earlier shapes, including a one-pixel margin around them.
                let clear = painted.allSatisfy { p in
                    let (r, c) = (p / size, p % size)
                    for dr in -1...1 { for dc in -1...1 {
                        let (rr, cc) = (r + dr, c + dc)
                        if rr >= 0 && rr < size && cc >= 0 && cc < size && mask[rr * size + cc] != 0 { return false }
                    } }
                    return true
                }
                guard clear, !painted.isEmpty else { continue }
                var (rMin, rMax, cMin, cMax) = (size, -1, size, -1)
                for p in painted {
                    mask[p] = 1 + classIndex
                    for k in 0..<3 { image[p * 3 + k] = color[k] + 0.5 * noise * (2 * g.nextUniform() - 1) }
                    (rMin, rMax) = (Swift.min(rMin, p / size), Swift.max(rMax, p / size))
                    (cMin, cMax) = (Swift.min(cMin, p % size), Swift.max(cMax, p % size))
                }
                let box = BoundingBox(xMin: Double(cMin), yMin: Double(rMin), xMax: Double(cMax + 1), yMax: Double(rMax + 1))
                objects.append(LabeledBox(box: box.scaled(x: 1 / Double(size), y: 1 / Double(size)), classIndex: classIndex))
            }
            for (p, v) in image.enumerated() { pixels[i * size * size * 3 + p] = Scalar(Swift.min(1, Swift.max(0, v))) }
            labels.append(objects)
            masks.append(mask)
        }
        images = Tensor(shape: [count, size, size, 3], scalars: pixels)
        (self.labels, self.masks, self.size) = (labels, masks, size)
    }

    /// Whether pixel `(row, column)` of a `side × side` cell belongs to the shape.
    static func covers(_ classIndex: Int, side: Int, row: Int, column: Int) -> Bool {
        let s = Double(side), y = Double(row) + 0.5, x = Double(column) + 0.5
        switch classIndex {
        case 0: return true
        case 1: return (x - s / 2) * (x - s / 2) + (y - s / 2) * (y - s / 2) <= s * s / 4
        default: return Swift.abs(x - s / 2) <= y / 2   // apex at the top centre, base along the bottom row
        }
    }

    /// Image `i` as an ``Image``.
    public func image(_ i: Int) -> Image { Image(images.slice(axis: 0, i..<i + 1)) }

    /// The masks as one-hot targets `(m, size, size, 1 + classes)` for per-pixel softmax.
    public var oneHotMasks: Tensor<Scalar> {
        let classes = Self.classNames.count + 1
        var out = [Scalar](repeating: 0, count: masks.count * size * size * classes)
        for (i, mask) in masks.enumerated() {
            for (p, k) in mask.enumerated() { out[(i * size * size + p) * classes + k] = 1 }
        }
        return Tensor(shape: [masks.count, size, size, classes], scalars: out)
    }
}

/// Mean average precision at one IoU threshold (the PASCAL VOC measure; the
/// issue's mAP@0.5): for each class, the detections of every image ranked
/// by score (ties in image order) are matched greedily, as the VOC devkit
/// does: a detection is a true positive when the ground-truth box of its
/// class in its image with the highest IoU has `IoU ≥ iouThreshold` and is
/// not matched yet (it becomes matched), a false positive otherwise — a
/// duplicate of a found object counts against precision. AP is the area under the precision–recall curve with precision
/// made monotone (all-point interpolation, VOC 2010 on). mAP is the mean over
/// the classes that have ground truth; classes without are `nil` in `perClass`.
public func meanAveragePrecision(
    detections: [[Detection]], truths: [[LabeledBox]], classes: Int, iouThreshold: Double = 0.5
) -> (mean: Double, perClass: [Double?]) {
    require(detections.count == truths.count, "meanAveragePrecision: \(detections.count) images of detections, \(truths.count) of truths")
    var perClass: [Double?] = []
    for k in 0..<classes {
        let positives = truths.reduce(0) { $0 + $1.filter { $0.classIndex == k }.count }
        guard positives > 0 else { perClass.append(nil); continue }
        var ranked: [(image: Int, detection: Detection)] = []
        for (i, list) in detections.enumerated() { for d in list where d.classIndex == k { ranked.append((i, d)) } }
        ranked = ranked.enumerated().sorted {
            $0.element.detection.score != $1.element.detection.score ? $0.element.detection.score > $1.element.detection.score : $0.offset < $1.offset
        }.map(\.element)
        var matched = truths.map { [Bool](repeating: false, count: $0.count) }
        var truePositives = 0, precisions: [Double] = [], recalls: [Double] = []
        for (rank, (i, d)) in ranked.enumerated() {
            var best = -1, bestIoU = -1.0
            for (j, t) in truths[i].enumerated() where t.classIndex == k {
                let iou = intersectionOverUnion(d.box, t.box)
                if iou > bestIoU { (best, bestIoU) = (j, iou) }
            }
            if best >= 0 && bestIoU >= iouThreshold && !matched[i][best] { matched[i][best] = true; truePositives += 1 }
            precisions.append(Double(truePositives) / Double(rank + 1))
            recalls.append(Double(truePositives) / Double(positives))
        }
        // Monotone precision envelope from the right, then the area under the step curve.
        for r in stride(from: precisions.count - 2, through: 0, by: -1) { precisions[r] = Swift.max(precisions[r], precisions[r + 1]) }
        var ap = 0.0, previousRecall = 0.0
        for (p, r) in zip(precisions, recalls) where r > previousRecall {
            ap += (r - previousRecall) * p
            previousRecall = r
        }
        perClass.append(ap)
    }
    let present = perClass.compactMap { $0 }
    return (present.isEmpty ? 0 : present.reduce(0, +) / Double(present.count), perClass)
}
