/// An axis-aligned box in continuous image coordinates (x to the right,
/// y down), stored by its corners. The notes describe boxes by centre and
/// size, `(b_x, b_y, b_h, b_w)` (C4W3-01); ``init(centerX:centerY:width:height:)``
/// and ``center``/``size`` convert between the two forms.
public struct BoundingBox: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var xMin: Double
    public var yMin: Double
    public var xMax: Double
    public var yMax: Double

    /// A box from its corners; a corner pair given the wrong way round is an empty box
    /// (zero area), not an error.
    public init(xMin: Double, yMin: Double, xMax: Double, yMax: Double) {
        (self.xMin, self.yMin, self.xMax, self.yMax) = (xMin, yMin, xMax, yMax)
    }

    /// A box from the notes' centre and size: corners `b_x ∓ b_w/2`, `b_y ∓ b_h/2`.
    public init(centerX: Double, centerY: Double, width: Double, height: Double) {
        self.init(xMin: centerX - width / 2, yMin: centerY - height / 2, xMax: centerX + width / 2, yMax: centerY + height / 2)
    }

    /// `(b_x, b_y)`.
    public var center: (x: Double, y: Double) { ((xMin + xMax) / 2, (yMin + yMax) / 2) }
    /// `b_w`; zero for a box whose corners are the wrong way round.
    public var width: Double { Swift.max(0, xMax - xMin) }
    /// `b_h`; zero for a box whose corners are the wrong way round.
    public var height: Double { Swift.max(0, yMax - yMin) }
    public var area: Double { width * height }

    /// The overlap of two boxes (an empty box at the nearer corner when they do not overlap).
    public func intersection(_ other: BoundingBox) -> BoundingBox {
        BoundingBox(xMin: Swift.max(xMin, other.xMin), yMin: Swift.max(yMin, other.yMin),
                    xMax: Swift.min(xMax, other.xMax), yMax: Swift.min(yMax, other.yMax))
    }

    /// The box scaled by `(sx, sy)` about the origin — from image-relative
    /// coordinates in [0, 1] to pixels, say.
    public func scaled(x sx: Double, y sy: Double) -> BoundingBox {
        BoundingBox(xMin: xMin * sx, yMin: yMin * sy, xMax: xMax * sx, yMax: yMax * sy)
    }

    public var description: String {
        "BoundingBox(x \(xMin)…\(xMax), y \(yMin)…\(yMax))"
    }
}

/// Intersection over union (C4W3-05): `area(A ∩ B) / area(A ∪ B)`, in [0, 1].
///
/// Coordinates are continuous, so boxes that only touch along an edge have
/// an empty intersection and an IoU of 0, and a box with itself has 1. Two
/// empty boxes (union of area 0) have IoU 0. The notes call a localization
/// correct when IoU ≥ 0.5.
public func intersectionOverUnion(_ a: BoundingBox, _ b: BoundingBox) -> Double {
    let overlap = a.intersection(b).area
    let union = a.area + b.area - overlap
    return union > 0 ? overlap / union : 0
}

/// A box with the class of the object in it — a ground-truth label.
public struct LabeledBox: Equatable, Hashable, Sendable {
    public var box: BoundingBox
    /// 0-based class index (the notes' classes 1, 2, 3 are 0, 1, 2 here).
    public var classIndex: Int

    public init(box: BoundingBox, classIndex: Int) {
        (self.box, self.classIndex) = (box, classIndex)
    }
}

/// A predicted box: where, how confident, which class.
public struct Detection: Equatable, Hashable, Sendable {
    public var box: BoundingBox
    /// The score non-max suppression ranks by: the notes' `p_c`, or YOLO's
    /// `p_c · P(class | object)`.
    public var score: Double
    /// 0-based class index.
    public var classIndex: Int

    public init(box: BoundingBox, score: Double, classIndex: Int = 0) {
        (self.box, self.score, self.classIndex) = (box, score, classIndex)
    }
}
