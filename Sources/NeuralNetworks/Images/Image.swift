import Foundation
import Tensors

/// An 8-bit image held as bytes, row-major `(height, width, channels)` — one
/// channel (grey) or three (RGB) — the form image files store; ``tensor(as:)``
/// and ``init(_:range:)`` convert to and from the networks' `(m, n_H, n_W, n_C)`
/// tensors.
///
/// ```swift
/// let image = try ImageFile.read(from: URL(fileURLWithPath: "photo.ppm"))
/// let X: Tensor<Float> = image.tensor(as: Float.self)       // (1, H, W, 3) in [0, 1]
/// try ImageFile.writePNG(Image(X), to: URL(fileURLWithPath: "out.png"))
/// ```
public struct Image: Equatable, Sendable {
    public let height: Int
    public let width: Int
    /// 1 (grey) or 3 (RGB).
    public let channels: Int
    /// `height · width · channels` bytes, row by row, each pixel's channels together.
    public var pixels: [UInt8]

    /// An image from its bytes; `pixels.count` must be `height · width · channels`.
    public init(height: Int, width: Int, channels: Int, pixels: [UInt8]) {
        require(height > 0 && width > 0, "Image: size \(height)×\(width) must be positive")
        require(channels == 1 || channels == 3, "Image: \(channels) channels; images have 1 (grey) or 3 (RGB)")
        require(pixels.count == height * width * channels,
                "Image: \(pixels.count) bytes for \(height)×\(width)×\(channels) (needs \(height * width * channels))")
        (self.height, self.width, self.channels, self.pixels) = (height, width, channels, pixels)
    }

    /// An image filled with one colour (`color` has one value per channel).
    public init(height: Int, width: Int, color: [UInt8]) {
        self.init(height: height, width: width, channels: color.count,
                  pixels: Array((0..<height * width).map { _ in color }.joined()))
    }

    /// An image from a tensor `(n_H, n_W, n_C)` or `(1, n_H, n_W, n_C)` with
    /// `n_C` 1 or 3: each value maps linearly from `range` to 0…255, rounded
    /// to nearest and clamped (NaN becomes 0).
    public init<S: TensorScalar>(_ tensor: Tensor<S>, range: ClosedRange<Double> = 0...1) {
        var shape = tensor.shape
        if shape.count == 4 && shape[0] == 1 { shape.removeFirst() }
        require(shape.count == 3 && (shape[2] == 1 || shape[2] == 3),
                "Image: tensor \(tensor.shape) must be (n_H, n_W, 1 or 3) or (1, n_H, n_W, 1 or 3)")
        let scale = 255 / (range.upperBound - range.lowerBound)
        let bytes = tensor.scalars.map { value -> UInt8 in
            let v = (Double(value) - range.lowerBound) * scale
            return v.isNaN ? 0 : UInt8(Swift.min(255, Swift.max(0, v.rounded())))
        }
        self.init(height: shape[0], width: shape[1], channels: shape[2], pixels: bytes)
    }

    /// The image as a batch of one, `(1, n_H, n_W, n_C)`, values `byte/255` in [0, 1].
    public func tensor<S: TensorScalar>(as: S.Type = S.self) -> Tensor<S> {
        Tensor(shape: [1, height, width, channels], scalars: pixels.map { S(Double($0) / 255) })
    }

    /// The same picture with three channels (grey repeated), unchanged if already RGB.
    public var rgb: Image {
        channels == 3 ? self : Image(height: height, width: width, channels: 3, pixels: pixels.flatMap { [$0, $0, $0] })
    }

    /// The pixel's channel values at `(row, column)`.
    public subscript(row: Int, column: Int) -> ArraySlice<UInt8> {
        let start = (row * width + column) * channels
        return pixels[start..<start + channels]
    }

    /// Images laid side by side, top-aligned, separated by `gap` columns of
    /// `background` (RGB); grey images are converted. For "image / truth /
    /// prediction" panels.
    public static func row(_ images: [Image], gap: Int = 2, background: [UInt8] = [255, 255, 255]) -> Image {
        require(!images.isEmpty, "Image.row: no images")
        let parts = images.map(\.rgb)
        let height = parts.map(\.height).max()!
        let width = parts.map(\.width).reduce(0, +) + gap * (parts.count - 1)
        var out = Image(height: height, width: width, color: background)
        var left = 0
        for part in parts {
            out.paste(part, top: 0, left: left)
            left += part.width + gap
        }
        return out
    }

    /// Images stacked top to bottom, left-aligned, `gap` rows apart.
    public static func column(_ images: [Image], gap: Int = 2, background: [UInt8] = [255, 255, 255]) -> Image {
        require(!images.isEmpty, "Image.column: no images")
        let parts = images.map(\.rgb)
        let width = parts.map(\.width).max()!
        let height = parts.map(\.height).reduce(0, +) + gap * (parts.count - 1)
        var out = Image(height: height, width: width, color: background)
        var top = 0
        for part in parts {
            out.paste(part, top: top, left: 0)
            top += part.height + gap
        }
        return out
    }

    /// Copies `image` (same channel count) with its top-left corner at `(top, left)`, clipped to this image.
    public mutating func paste(_ image: Image, top: Int, left: Int) {
        require(image.channels == channels, "Image.paste: \(image.channels) channels into \(channels)")
        for r in 0..<image.height where top + r >= 0 && top + r < height {
            for q in 0..<image.width where left + q >= 0 && left + q < width {
                let source = (r * image.width + q) * channels, target = ((top + r) * width + left + q) * channels
                for k in 0..<channels { pixels[target + k] = image.pixels[source + k] }
            }
        }
    }

    /// Each pixel repeated `factor × factor` times (nearest neighbour), to look at small images.
    public func scaled(by factor: Int) -> Image {
        require(factor >= 1, "Image.scaled: factor \(factor) must be at least 1")
        var out = [UInt8](repeating: 0, count: height * factor * width * factor * channels)
        for r in 0..<height * factor {
            for q in 0..<width * factor {
                let source = ((r / factor) * width + q / factor) * channels, target = (r * width * factor + q) * channels
                for k in 0..<channels { out[target + k] = pixels[source + k] }
            }
        }
        return Image(height: height * factor, width: width * factor, channels: channels, pixels: out)
    }

    /// Draws the outline of the rectangle with corners `(x0, y0)`–`(x1, y1)`
    /// (pixel columns and rows, inclusive, clipped) `thickness` pixels wide.
    public mutating func drawRectangle(x0: Int, y0: Int, x1: Int, y1: Int, color: [UInt8], thickness: Int = 1) {
        require(color.count == channels, "Image.drawRectangle: \(color.count) colour values for \(channels) channels")
        let (left, right) = (Swift.min(x0, x1), Swift.max(x0, x1)), (top, bottom) = (Swift.min(y0, y1), Swift.max(y0, y1))
        for r in top...bottom where r >= 0 && r < height {
            for q in left...right where q >= 0 && q < width {
                let edge = r - top < thickness || bottom - r < thickness || q - left < thickness || right - q < thickness
                guard edge else { continue }
                for k in 0..<channels { pixels[(r * width + q) * channels + k] = color[k] }
            }
        }
    }
}
