import Tensors

/// Data augmentation for images `(m, n_H, n_W, n_C)` (C4W2-08): mirroring,
/// random cropping and colour shifting, each drawn from the caller's
/// generator so one seed reproduces a run.
///
/// ```swift
/// var g = RandomGenerator(seed: 1)
/// let augment = ImageAugmentation(mirroring: true, crop: (24, 24), colorShift: 20)
/// let batch = augment(images, generator: &g)      // (m, 24, 24, n_C)
/// ```
public struct ImageAugmentation: Sendable {
    /// Mirror each image left–right with probability ½.
    public var mirroring: Bool
    /// Cut a random `height × width` window out of each image (`nil`: keep the size).
    public var crop: (height: Int, width: Int)?
    /// Add to each image's channels offsets drawn uniformly from `[−s, s]`
    /// (the notes' examples shift (R, G, B) by (+20, −20, +20)); `nil`: no shift.
    public var colorShift: Double?

    public init(mirroring: Bool = true, crop: (height: Int, width: Int)? = nil, colorShift: Double? = nil) {
        (self.mirroring, self.crop, self.colorShift) = (mirroring, crop, colorShift)
    }

    /// A new augmented copy of every image; the random choices come from `generator`
    /// in a fixed order (per image: mirror, crop position, channel offsets).
    public func callAsFunction<S>(_ images: Tensor<S>, generator: inout RandomGenerator) -> Tensor<S> {
        let s = images.shape
        require(s.count == 4, "ImageAugmentation: images \(s) must be (m, n_H, n_W, n_C)")
        let (m, h, w, c) = (s[0], s[1], s[2], s[3])
        let (ch, cw) = crop ?? (h, w)
        require(ch >= 1 && cw >= 1 && ch <= h && cw <= w, "ImageAugmentation: crop \(ch)×\(cw) does not fit images of \(h)×\(w)")
        var out = [S](repeating: 0, count: m * ch * cw * c)
        images.withUnsafeBufferPointer { x in
            for i in 0..<m {
                let flip = mirroring && generator.nextUniform() < 0.5
                let top = ch < h ? Int(generator.nextUniform() * Double(h - ch + 1)) % (h - ch + 1) : 0
                let left = cw < w ? Int(generator.nextUniform() * Double(w - cw + 1)) % (w - cw + 1) : 0
                let offsets = (0..<c).map { _ in colorShift.map { S((2 * generator.nextUniform() - 1) * $0) } ?? 0 }
                for r in 0..<ch {
                    for q in 0..<cw {
                        let sourceColumn = flip ? left + cw - 1 - q : left + q
                        let source = ((i * h + top + r) * w + sourceColumn) * c, target = ((i * ch + r) * cw + q) * c
                        for k in 0..<c { out[target + k] = x[source + k] + offsets[k] }
                    }
                }
            }
        }
        return Tensor(shape: [m, ch, cw, c], scalars: out)
    }

    /// Every image mirrored left–right (no randomness).
    public static func mirrored<S>(_ images: Tensor<S>) -> Tensor<S> {
        require(images.rank == 4, "ImageAugmentation.mirrored: images \(images.shape) must be (m, n_H, n_W, n_C)")
        return images.gathering(Array((0..<images.shape[2]).reversed()), axis: 2)
    }

    /// Every image's channels shifted by `offsets` (one per channel), e.g. the notes' `[20, −20, 20]`.
    public static func colorShifted<S>(_ images: Tensor<S>, by offsets: [S]) -> Tensor<S> {
        require(images.rank == 4 && images.shape[3] == offsets.count,
                "ImageAugmentation.colorShifted: \(offsets.count) offsets for images \(images.shape)")
        return images + Tensor(offsets)
    }
}
