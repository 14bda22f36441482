/// Depthwise 2-D convolution (MobileNet's first half, C4W2-05): every channel
/// convolved with its own `f × f` filter, `W` of shape `(f, f, n_C, 1)`:
///
///   Z[i, h, w, c] = Σ_{a, b} A_pad[i, h·s + a, w·s + b, c] · W[a, b, c, 0]
///
/// There is no sum over channels, so this is not a GEMM: the vectorized
/// kernels run SIMD across the contiguous channels of each pixel, output rows
/// (forward) or images (backward) in parallel. The filter gradient is summed
/// per image, then over images in order, so the bits do not depend on the
/// thread count. The geometry is ``Convolution2DGeometry`` with `filters = n_C`.
enum DepthwiseConvolutionKernels {
    // MARK: Loop path

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forwardLoop<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        for i in 0..<g.batch {
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    for c in 0..<g.channels {
                        var z: S = 0
                        g.forEachTap(h, v) { a, b, row, column in
                            z += x[((i * g.height + row) * g.width + column) * g.channels + c] * w[(a * g.filterWidth + b) * g.channels + c]
                        }
                        y[((i * g.outHeight + h) * g.outWidth + v) * g.channels + c] = z
                    }
                }
            }
        }
    }

    /// `dX` (zero on entry) and `dW` (written) by the same loops: each output
    /// gradient flows back to the pixels and taps that made it.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardLoop<S: TensorScalar>(
        _ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>?, _ dw: UnsafeMutablePointer<S>?,
        _ g: Convolution2DGeometry
    ) {
        dw?.initialize(repeating: 0, count: g.filterHeight * g.filterWidth * g.channels)
        for i in 0..<g.batch {
            // Per-image filter sums, added to dW in image order as the vectorized path does.
            var imageSums = [S](repeating: 0, count: g.filterHeight * g.filterWidth * g.channels)
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    for c in 0..<g.channels {
                        let gradient = dy[((i * g.outHeight + h) * g.outWidth + v) * g.channels + c]
                        g.forEachTap(h, v) { a, b, row, column in
                            let pixel = ((i * g.height + row) * g.width + column) * g.channels + c
                            let tap = (a * g.filterWidth + b) * g.channels + c
                            dx?[pixel] += w[tap] * gradient
                            imageSums[tap] += x[pixel] * gradient
                        }
                    }
                }
            }
            if let dw { for t in 0..<imageSums.count { dw[t] += imageSums[t] } }
        }
    }

    // MARK: Vectorized path

    static func forward<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        let (px, pw, py) = (UncheckedSendable(x), UncheckedSendable(w), UncheckedSendable(y))
        parallelFor(chunks: g.batch * g.outHeight, work: g.outputPixels * g.channels * g.filterHeight * g.filterWidth) { job in
            let (i, h) = (job / g.outHeight, job % g.outHeight)
            switch S.scalarType {
            case .float32:
                forwardRow(cast(px.value, to: Float.self), cast(pw.value, to: Float.self), cast(py.value, to: Float.self), g, i, h, FloatVector.self)
            case .float64:
                forwardRow(cast(px.value, to: Double.self), cast(pw.value, to: Double.self), cast(py.value, to: Double.self), g, i, h, DoubleVector.self)
            }
        }
    }

    @inline(__always)
    static func forwardRow<V: KernelVector>(
        _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _ i: Int, _ h: Int, _: V.Type
    ) {
        let width = V.scalarCount
        for v in 0..<g.outWidth {
            let out = y + ((i * g.outHeight + h) * g.outWidth + v) * g.channels
            var c = 0
            while c < g.channels {
                let lanes = Swift.min(width, g.channels - c)
                if lanes == width {
                    var acc = V()
                    g.forEachTap(h, v) { a, b, row, column in
                        let pixel = UnsafeRawPointer(x + ((i * g.height + row) * g.width + column) * g.channels + c).loadUnaligned(as: V.self)
                        let tap = UnsafeRawPointer(w + (a * g.filterWidth + b) * g.channels + c).loadUnaligned(as: V.self)
                        acc += pixel * tap
                    }
                    UnsafeMutableRawPointer(out + c).storeBytes(of: acc, as: V.self)
                } else {
                    for lane in c..<(c + lanes) {
                        var z: V.Scalar = 0
                        g.forEachTap(h, v) { a, b, row, column in
                            z += x[((i * g.height + row) * g.width + column) * g.channels + lane] * w[(a * g.filterWidth + b) * g.channels + lane]
                        }
                        out[lane] = z
                    }
                }
                c += width
            }
        }
    }

    /// `dX` (zero on entry) and/or `dW`: images in parallel, each with its own
    /// filter sums, which are then added over images in order.
    static func backward<S: TensorScalar>(
        _ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>?, _ dw: UnsafeMutablePointer<S>?,
        _ g: Convolution2DGeometry
    ) {
        let taps = g.filterHeight * g.filterWidth * g.channels
        let sums = UnsafeMutablePointer<S>.allocate(capacity: dw == nil ? 0 : g.batch * taps)
        defer { sums.deallocate() }
        let (pdy, px, pw, psums) = (UncheckedSendable(dy), UncheckedSendable(x), UncheckedSendable(w), UncheckedSendable(sums))
        let pdx = dx.map(UncheckedSendable.init)
        let wantFilter = dw != nil
        parallelFor(chunks: g.batch, work: g.outputPixels * g.channels * g.filterHeight * g.filterWidth) { i in
            let imageSums: UnsafeMutablePointer<S>? = wantFilter ? psums.value + i * taps : nil
            imageSums?.initialize(repeating: 0, count: taps)
            switch S.scalarType {
            case .float32:
                backwardImage(cast(pdy.value, to: Float.self), cast(px.value, to: Float.self), cast(pw.value, to: Float.self),
                              pdx.map { cast($0.value, to: Float.self) }, imageSums.map { cast($0, to: Float.self) }, g, i, FloatVector.self)
            case .float64:
                backwardImage(cast(pdy.value, to: Double.self), cast(px.value, to: Double.self), cast(pw.value, to: Double.self),
                              pdx.map { cast($0.value, to: Double.self) }, imageSums.map { cast($0, to: Double.self) }, g, i, DoubleVector.self)
            }
        }
        if let dw {
            dw.initialize(repeating: 0, count: taps)
            for i in 0..<g.batch {
                for t in 0..<taps { dw[t] += sums[i * taps + t] }
            }
        }
    }

    @inline(__always)
    static func backwardImage<V: KernelVector>(
        _ dy: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ dx: UnsafeMutablePointer<V.Scalar>?,
        _ sums: UnsafeMutablePointer<V.Scalar>?, _ g: Convolution2DGeometry, _ i: Int, _: V.Type
    ) {
        let width = V.scalarCount
        @inline(__always) func load(_ p: UnsafePointer<V.Scalar>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        @inline(__always) func add(_ p: UnsafeMutablePointer<V.Scalar>, _ v: V) {
            UnsafeMutableRawPointer(p).storeBytes(of: load(UnsafePointer(p)) + v, as: V.self)
        }
        for h in 0..<g.outHeight {
            for v in 0..<g.outWidth {
                let gradients = dy + ((i * g.outHeight + h) * g.outWidth + v) * g.channels
                g.forEachTap(h, v) { a, b, row, column in
                    let pixel = ((i * g.height + row) * g.width + column) * g.channels
                    let tap = (a * g.filterWidth + b) * g.channels
                    var c = 0
                    while c + width <= g.channels {
                        let gradient = load(gradients + c)
                        if let dx { add(dx + pixel + c, load(w + tap + c) * gradient) }
                        if let sums { add(sums + tap + c, load(x + pixel + c) * gradient) }
                        c += width
                    }
                    while c < g.channels {
                        if let dx { dx[pixel + c] += w[tap + c] * gradients[c] }
                        if let sums { sums[tap + c] += x[pixel + c] * gradients[c] }
                        c += 1
                    }
                }
            }
        }
    }
}
