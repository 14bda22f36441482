import Tensors

extension Conv2D {
    /// The convolution that computes what `dense` computes on a flattened
    /// `(height, width, channels)` feature map (C4W3-03, "turning FC layers
    /// into convolutional layers"): `n` filters of `height × width × channels`,
    /// filter `k` holding row `k` of `W` in ``Flatten``'s `(h, w, c)` order.
    ///
    /// On a map of exactly that size the output is `(m, 1, 1, n)`, `dense`'s
    /// `(n, m)` output rearranged; on a larger map the same weights slide over
    /// it, which is the convolutional implementation of sliding windows. A
    /// dense layer after another one converts with `height = width = 1` (a 1×1 convolution).
    public convenience init(converting dense: Dense<Scalar>, height: Int, width: Int, channels: Int) {
        let W = dense.W.value, units = W.shape[0]
        require(W.shape[1] == height * width * channels,
                "Conv2D(converting:): Dense takes \(W.shape[1]) inputs, a \(height)×\(width)×\(channels) map has \(height * width * channels)")
        self.init(filter: W.reshaped(to: [units, height, width, channels]).permuted([1, 2, 3, 0]),
                  bias: dense.b?.value.reshaped(to: [1, 1, 1, units]))
    }
}

/// Sliding-window detection done by cropping (C4W3-03): every `size × size`
/// window of each image, stepping `stride` pixels, as a batch
/// `(m · rows · columns, size, size, n_C)` ordered image by image, then row by
/// row — the slow way the convolutional implementation replaces, kept for
/// comparison (its outputs reshaped to `(m, rows, columns, …)` equal the
/// converted network's output map).
public func slidingWindowCrops<S: TensorScalar>(_ images: Tensor<S>, size: Int, stride: Int) -> (crops: Tensor<S>, rows: Int, columns: Int) {
    require(images.rank == 4, "slidingWindowCrops: images \(images.shape) must be (m, n_H, n_W, n_C)")
    let (m, h, w, c) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    require(size >= 1 && stride >= 1 && size <= h && size <= w,
            "slidingWindowCrops: window \(size) with stride \(stride) on images of \(h)×\(w)")
    let rows = (h - size) / stride + 1, columns = (w - size) / stride + 1
    var out = [S]()
    out.reserveCapacity(m * rows * columns * size * size * c)
    let x = images.scalars
    for i in 0..<m {
        for r in 0..<rows {
            for q in 0..<columns {
                for y in 0..<size {
                    let start = ((i * h + r * stride + y) * w + q * stride) * c
                    out += x[start..<start + size * c]
                }
            }
        }
    }
    return (Tensor(shape: [m * rows * columns, size, size, c], scalars: out), rows, columns)
}
