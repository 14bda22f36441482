/// The shapes of one 2-D pooling, checked (channels last, window `f × f`, stride `s`).
struct Pooling2DGeometry: Sendable, Equatable {
    var batch: Int, height: Int, width: Int, channels: Int
    var size: Int, stride: Int, padTop: Int, padLeft: Int
    var outHeight: Int, outWidth: Int

    init(input: [Int], size: Int, stride: Int, padding: Padding, operation: String) {
        if input.count != 4 {
            shapeFailure(ShapeError(operation: operation, message: "input \(format(input)) must be (m, n_H, n_W, n_C)"))
        }
        require(size >= 1 && stride >= 1, "\(operation): window \(size) and stride \(stride) must be at least 1")
        (batch, height, width, channels) = (input[0], input[1], input[2], input[3])
        (self.size, self.stride) = (size, stride)
        let vertical = padding.amounts(size: height, filter: size, stride: stride)
        let horizontal = padding.amounts(size: width, filter: size, stride: stride)
        if case .explicit(let p) = padding, p < 0 || p >= size {
            shapeFailure(ShapeError(operation: operation, message: "padding \(p) must be in 0..<\(size) (a window must hold an input pixel)"))
        }
        (padTop, padLeft) = (vertical.before, horizontal.before)
        outHeight = (height + vertical.before + vertical.after - size) / stride + 1
        outWidth = (width + horizontal.before + horizontal.after - size) / stride + 1
        if height + vertical.before + vertical.after < size || width + horizontal.before + horizontal.after < size {
            shapeFailure(ShapeError(operation: operation, message: "window \(size)×\(size) does not fit input \(format(input))"))
        }
    }

    var outputShape: [Int] { [batch, outHeight, outWidth, channels] }

    /// The input rows (or columns) of output row `o`'s window, clipped to the image.
    @inline(__always) func rows(_ o: Int) -> Range<Int> {
        let start = o * stride - padTop
        return Swift.max(start, 0)..<Swift.min(start + size, height)
    }
    @inline(__always) func columns(_ o: Int) -> Range<Int> {
        let start = o * stride - padLeft
        return Swift.max(start, 0)..<Swift.min(start + size, width)
    }
}

/// Max and average pooling, forward and backward. The loop twins go pixel by
/// pixel and channel by channel as the notes' `pool_forward`/`pool_backward`;
/// the vectorized forms run SIMD across the contiguous channels of each pixel
/// (one AVX2 register, SIMD8<Float>/SIMD4<Double>, so 8 channels are a vector),
/// images (forward: output rows) in parallel. Windows are clipped to the
/// image: padding never wins a maximum and is not counted in an average.
enum PoolingKernels {
    // MARK: Loop path

    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forwardLoop<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Pooling2DGeometry, maximum: Bool) {
        for i in 0..<g.batch {
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    for c in 0..<g.channels {
                        var acc: S = maximum ? -.infinity : 0
                        for row in g.rows(h) {
                            for column in g.columns(v) {
                                let value = x[((i * g.height + row) * g.width + column) * g.channels + c]
                                acc = maximum ? ScalarMath.maximum(acc, value) : acc + value
                            }
                        }
                        y[((i * g.outHeight + h) * g.outWidth + v) * g.channels + c] =
                            maximum ? acc : acc * (1 / S(g.rows(h).count * g.columns(v).count))
                    }
                }
            }
        }
    }

    /// `dX` (zero on entry) of max pooling: the notes' `create_mask_from_window`
    /// (`mask = (x == max(x))`, every tied maximum gets the gradient) or, with
    /// `firstOnly`, only the first maximum in row-major window order (PyTorch, TensorFlow).
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func maxBackwardLoop<S: TensorScalar>(
        _ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ y: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, _ g: Pooling2DGeometry, firstOnly: Bool
    ) {
        dx.initialize(repeating: 0, count: g.batch * g.height * g.width * g.channels)
        for i in 0..<g.batch {
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    for c in 0..<g.channels {
                        let o = ((i * g.outHeight + h) * g.outWidth + v) * g.channels + c
                        var taken = false
                        for row in g.rows(h) {
                            for column in g.columns(v) {
                                let index = ((i * g.height + row) * g.width + column) * g.channels + c
                                if (x[index] == y[o] || (x[index].isNaN && y[o].isNaN)) && !(firstOnly && taken) {
                                    dx[index] += dy[o]
                                    taken = true
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// `dX` (zero on entry) of average pooling: each window's gradient spread evenly over its pixels.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func averageBackwardLoop<S: TensorScalar>(_ dy: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, _ g: Pooling2DGeometry) {
        dx.initialize(repeating: 0, count: g.batch * g.height * g.width * g.channels)
        for i in 0..<g.batch {
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    let count = S(g.rows(h).count * g.columns(v).count)
                    for c in 0..<g.channels {
                        let share = dy[((i * g.outHeight + h) * g.outWidth + v) * g.channels + c] * (1 / count)
                        for row in g.rows(h) {
                            for column in g.columns(v) { dx[((i * g.height + row) * g.width + column) * g.channels + c] += share }
                        }
                    }
                }
            }
        }
    }

    // MARK: Vectorized path

    /// Two registers of Float channels per step when the channels fill them
    /// exactly (Double stays at one: SIMD8 can conform only once).
    static func isWide<S: TensorScalar>(_ g: Pooling2DGeometry, _: S.Type) -> Bool {
        S.scalarType == .float32 && g.channels % 16 == 0
    }

    static func forward<S: TensorScalar>(_ x: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Pooling2DGeometry, maximum: Bool) {
        let (px, py) = (UncheckedSendable(x), UncheckedSendable(y))
        let wide = isWide(g, S.self)
        // Bands of output rows per job. The band's first window rows and output row
        // come in as sequential streams first (see ``CacheLines``; N32 C64 56² 2×2 on
        // two AVX2 cores: max 0.90–1.10 → 0.57–0.63 ms, average 0.85 → 0.56–0.59); each
        // later row's were prefetched while the row before it was computed.
        let band = Swift.max(1, Swift.min(g.outHeight, 4)), bands = (g.outHeight + band - 1) / band
        let bytes = MemoryLayout<S>.stride, rowBytes = g.width * g.channels * bytes, outBytes = g.outWidth * g.channels * bytes
        parallelFor(chunks: g.batch * bands, work: g.batch * g.outHeight * g.outWidth * g.channels * g.size * g.size) { job in
          let (i, first) = (job / bands, job % bands * band), end = Swift.min(first + band, g.outHeight)
          for h in first..<end {
            let rows = g.rows(h)
            if h == first && !rows.isEmpty {
                CacheLines.touchAndClear(UnsafeRawPointer(px.value + (i * g.height + rows.lowerBound) * g.width * g.channels),
                                         bytes: rows.count * rowBytes,
                                         UnsafeMutableRawPointer(py.value + (i * g.outHeight + h) * g.outWidth * g.channels),
                                         bytes: outBytes)
            }
            let nextRows = h + 1 < end ? g.rows(h + 1) : 0..<0
            let next = h + 1 < end
                ? RowPrefetch(input: nextRows.isEmpty ? nil : UnsafeRawPointer(px.value + (i * g.height + nextRows.lowerBound) * g.width * g.channels),
                              inputBytes: nextRows.count * rowBytes, output: UnsafeRawPointer(py.value + (i * g.outHeight + h + 1) * g.outWidth * g.channels),
                              outputBytes: outBytes, groups: g.outWidth)
                : nil
            for v in 0..<g.outWidth {
                next?.fetch(group: v)
                let out = py.value + ((i * g.outHeight + h) * g.outWidth + v) * g.channels
                switch S.scalarType {
                case .float32:
                    let (x, y) = (cast(px.value, to: Float.self), cast(out, to: Float.self))
                    if wide { windowForward(x, y, g, i, h, v, maximum, SIMD16<Float>.self) } else { windowForward(x, y, g, i, h, v, maximum, SIMD8<Float>.self) }
                case .float64:
                    let (x, y) = (cast(px.value, to: Double.self), cast(out, to: Double.self))
                    windowForward(x, y, g, i, h, v, maximum, SIMD4<Double>.self)
                }
            }
          }
        }
    }

    /// One output pixel: the window's pixels folded channel vector by channel vector.
    @inline(__always)
    static func windowForward<V: PoolingVector>(
        _ x: UnsafePointer<V.Scalar>, _ out: UnsafeMutablePointer<V.Scalar>, _ g: Pooling2DGeometry, _ i: Int, _ h: Int, _ v: Int,
        _ maximum: Bool, _: V.Type
    ) {
        typealias S = V.Scalar
        let rows = g.rows(h), columns = g.columns(v)
        let scale = 1 / S(rows.count * columns.count)
        let w = V.scalarCount
        var c = 0
        while c < g.channels {
            let lanes = Swift.min(w, g.channels - c)
            if lanes == w {
                var acc = maximum ? V(repeating: -.infinity) : V()
                for row in rows {
                    for column in columns {
                        let value = UnsafeRawPointer(x + ((i * g.height + row) * g.width + column) * g.channels + c).loadUnaligned(as: V.self)
                        acc = maximum ? V.maximum(acc, value) : acc + value
                    }
                }
                UnsafeMutableRawPointer(out + c).storeBytes(of: maximum ? acc : acc * scale, as: V.self)
            } else {
                for lane in c..<(c + lanes) {
                    var acc: S = maximum ? -.infinity : 0
                    for row in rows {
                        for column in columns {
                            let value = x[((i * g.height + row) * g.width + column) * g.channels + lane]
                            acc = maximum ? ScalarMath.maximum(acc, value) : acc + value
                        }
                    }
                    out[lane] = maximum ? acc : acc * scale
                }
            }
            c += w
        }
    }

    /// Backward of both poolings, images in parallel (overlapping windows of
    /// one image are added by one worker, in order).
    static func backward<S: TensorScalar>(
        _ dy: UnsafePointer<S>, _ x: UnsafePointer<S>?, _ y: UnsafePointer<S>?, _ dx: UnsafeMutablePointer<S>, _ g: Pooling2DGeometry,
        maximum: Bool, firstOnly: Bool
    ) {
        let (pdy, pdx) = (UncheckedSendable(dy), UncheckedSendable(dx))
        let px = x.map(UncheckedSendable.init), py = y.map(UncheckedSendable.init)
        let wide = isWide(g, S.self)
        // Windows that never overlap (stride ≥ size: the usual 2×2, stride 2)
        // write each pixel's gradient once — no zero-filling pass, no
        // read-modify-write; only pixels no window covers are zeroed.
        let disjoint = g.stride >= g.size
        var coveredRows = [Bool](repeating: false, count: g.height), coveredColumns = [Bool](repeating: false, count: g.width)
        for h in 0..<g.outHeight { for r in g.rows(h) { coveredRows[r] = true } }
        for v in 0..<g.outWidth { for c in g.columns(v) { coveredColumns[c] = true } }
        let covered = UncheckedSendable((coveredRows, coveredColumns))
        parallelFor(chunks: g.batch, work: g.batch * g.outHeight * g.outWidth * g.channels * g.size * g.size) { i in
            let imageGradient = pdx.value + i * g.height * g.width * g.channels
            if !disjoint {
                imageGradient.initialize(repeating: 0, count: g.height * g.width * g.channels)
            } else {
                let (rows, columns) = covered.value
                for r in 0..<g.height {
                    for c in 0..<g.width where !rows[r] || !columns[c] {
                        (imageGradient + (r * g.width + c) * g.channels).initialize(repeating: 0, count: g.channels)
                    }
                }
            }
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    let o = ((i * g.outHeight + h) * g.outWidth + v) * g.channels
                    switch S.scalarType {
                    case .float32:
                        let (dy, x, y, dx) = (cast(pdy.value + o, to: Float.self), px.map { cast($0.value, to: Float.self) },
                                              py.map { cast($0.value + o, to: Float.self) }, cast(pdx.value, to: Float.self))
                        if wide {
                            windowBackward(dy, x, y, dx, g, i, h, v, maximum, firstOnly, disjoint, SIMD16<Float>.self)
                        } else {
                            windowBackward(dy, x, y, dx, g, i, h, v, maximum, firstOnly, disjoint, SIMD8<Float>.self)
                        }
                    case .float64:
                        let (dy, x, y, dx) = (cast(pdy.value + o, to: Double.self), px.map { cast($0.value, to: Double.self) },
                                              py.map { cast($0.value + o, to: Double.self) }, cast(pdx.value, to: Double.self))
                        windowBackward(dy, x, y, dx, g, i, h, v, maximum, firstOnly, disjoint, SIMD4<Double>.self)
                    }
                }
            }
        }
    }

    @inline(__always)
    static func windowBackward<V: PoolingVector>(
        _ dy: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>?, _ y: UnsafePointer<V.Scalar>?, _ dx: UnsafeMutablePointer<V.Scalar>,
        _ g: Pooling2DGeometry, _ i: Int, _ h: Int, _ v: Int, _ maximum: Bool, _ firstOnly: Bool, _ store: Bool, _: V.Type
    ) {
        typealias S = V.Scalar
        let rows = g.rows(h), columns = g.columns(v)
        let scale = 1 / S(rows.count * columns.count)
        let w = V.scalarCount
        var c = 0
        while c < g.channels {
            let lanes = Swift.min(w, g.channels - c)
            if lanes == w {
                let gradient = UnsafeRawPointer(dy + c).loadUnaligned(as: V.self)
                let best = maximum ? UnsafeRawPointer(y! + c).loadUnaligned(as: V.self) : V()
                var open = V(repeating: 1)   // lanes still waiting for their first maximum
                for row in rows {
                    for column in columns {
                        let index = ((i * g.height + row) * g.width + column) * g.channels + c
                        let target = UnsafeMutableRawPointer(dx + index)
                        var add = gradient * scale
                        if maximum {
                            let value = UnsafeRawPointer(x! + index).loadUnaligned(as: V.self)
                            add = V.routed(gradient, value: value, maximum: best, open: &open, firstOnly: firstOnly)
                        }
                        // (stored as 0 + add, as the loop twin's zero-filled sum: −0 becomes +0)
                        target.storeBytes(of: store ? V() + add : target.loadUnaligned(as: V.self) + add, as: V.self)
                    }
                }
            } else {
                for lane in c..<(c + lanes) {
                    var taken = false
                    for row in rows {
                        for column in columns {
                            let index = ((i * g.height + row) * g.width + column) * g.channels + lane
                            if store { dx[index] = 0 }
                            if maximum {
                                let value = x![index], target = y![lane]
                                if (value == target || (value.isNaN && target.isNaN)) && !(firstOnly && taken) {
                                    dx[index] += dy[lane]
                                    taken = true
                                }
                            } else {
                                dx[index] += dy[lane] * scale
                            }
                        }
                    }
                }
            }
            c += w
        }
    }
}

/// The pooling kernels' vector: one AVX2 register of channels (8 Float or 4
/// Double lanes, so LeNet's 8 and 16 channels are whole vectors), or two when
/// the Float channel count is a multiple of 16 (fewer loop trips: 64
/// channels pool 1.4× faster). The conformances repeat one body per concrete type:
/// the same mask code written generically over `SIMD` ran 50× slower.
protocol PoolingVector: SIMD where Scalar: TensorScalar {
    /// Lane-wise maximum, NaN if either lane is NaN (``ScalarMath/maximum(_:_:)``).
    static func maximum(_ a: Self, _ b: Self) -> Self
    /// The max-pooling gradient routed to one window pixel: `gradient` in the
    /// lanes where `value` is the window's `maximum` (both NaN counts), zero
    /// elsewhere; with `firstOnly`, only lanes still `open` (nonzero), which
    /// are then closed.
    static func routed(_ gradient: Self, value: Self, maximum: Self, open: inout Self, firstOnly: Bool) -> Self
}

extension SIMD8: PoolingVector where Scalar == Float {
    @inline(__always)
    static func maximum(_ a: Self, _ b: Self) -> Self { a.replacing(with: b, where: b .> a .| b .!= b) }

    @inline(__always)
    static func routed(_ gradient: Self, value: Self, maximum: Self, open: inout Self, firstOnly: Bool) -> Self {
        var hit = value .== maximum .| (value .!= value .& maximum .!= maximum)
        if firstOnly {
            hit = hit .& open .!= Self()
            open.replace(with: 0, where: hit)
        }
        return Self().replacing(with: gradient, where: hit)
    }
}

extension SIMD16: PoolingVector where Scalar == Float {
    @inline(__always)
    static func maximum(_ a: Self, _ b: Self) -> Self { a.replacing(with: b, where: b .> a .| b .!= b) }

    @inline(__always)
    static func routed(_ gradient: Self, value: Self, maximum: Self, open: inout Self, firstOnly: Bool) -> Self {
        var hit = value .== maximum .| (value .!= value .& maximum .!= maximum)
        if firstOnly {
            hit = hit .& open .!= Self()
            open.replace(with: 0, where: hit)
        }
        return Self().replacing(with: gradient, where: hit)
    }
}

extension SIMD4: PoolingVector where Scalar == Double {
    @inline(__always)
    static func maximum(_ a: Self, _ b: Self) -> Self { a.replacing(with: b, where: b .> a .| b .!= b) }

    @inline(__always)
    static func routed(_ gradient: Self, value: Self, maximum: Self, open: inout Self, firstOnly: Bool) -> Self {
        var hit = value .== maximum .| (value .!= value .& maximum .!= maximum)
        if firstOnly {
            hit = hit .& open .!= Self()
            open.replace(with: 0, where: hit)
        }
        return Self().replacing(with: gradient, where: hit)
    }
}

