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

    /// `dX` and `dW` (both written) by the same loops: each output gradient
    /// flows back to the pixels and taps that made it.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardLoop<S: TensorScalar>(
        _ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>?, _ dw: UnsafeMutablePointer<S>?,
        _ g: Convolution2DGeometry
    ) {
        dw?.initialize(repeating: 0, count: g.filterHeight * g.filterWidth * g.channels)
        dx?.initialize(repeating: 0, count: g.batch * g.height * g.width * g.channels)
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
    //
    // SIMD across the contiguous channels of a pixel, one register-width block
    // of channels at a time (SIMD8<Float>, SIMD4<Double>: one AVX2 register).
    // A 3×3 filter at stride 1 computes four neighbouring interior pixels
    // at a time, every channel block of them, sharing the input vectors; at
    // other strides the nine taps of a channel block stay in registers while
    // the block sweeps an output row's interior pixels. Borders, other filter
    // sizes and channel tails take the general loops, which skip the taps that
    // fall on the padding exactly as ``Convolution2DGeometry/forEachTap(_:_:_:)``.
    //
    // Sum orders: the forward pass sums taps rows then columns, the input
    // gradient gathers each pixel's contributions in the order the loop twin
    // scatters them (output pixels row-major, so taps last to first), both
    // from zero — bitwise equal to the loop path. The filter gradient sums
    // each output row's terms in a register, then adds the rows in order (the
    // loop twin adds term by term: equal within rounding, and independent of
    // the thread count, as images are summed in order).

    static func forward<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        let (px, pw, py) = (UncheckedSendable(x), UncheckedSendable(w), UncheckedSendable(y))
        let wide = usesWideVectors(g, S.self)
        // Bands of rows per chunk: a thread reuses the input rows its previous
        // output row loaded (the conv suite's depthwise forward: 8.4 ms with one-row chunks, 7.4 with bands of 8).
        let band = rowBand(g.outHeight), bands = (g.outHeight + band - 1) / band
        parallelFor(chunks: g.batch * bands, work: g.outputPixels * g.channels * g.filterHeight * g.filterWidth) { job in
            let (i, first) = (job / bands, job % bands * band)
            let end = Swift.min(first + band, g.outHeight)
            var fetched = false   // whether the row before prefetched this row's lines
            for h in first..<end {
                let fetchNext = h + 1 < end
                switch S.scalarType {
                case .float32:
                    if wide {
                        fetched = forwardRow(cast(px.value, to: Float.self), cast(pw.value, to: Float.self), cast(py.value, to: Float.self), g, i, h, fetched, fetchNext, FloatVector.self)
                    } else {
                        fetched = forwardRow(cast(px.value, to: Float.self), cast(pw.value, to: Float.self), cast(py.value, to: Float.self), g, i, h, fetched, fetchNext, SIMD8<Float>.self)
                    }
                case .float64:
                    if wide {
                        fetched = forwardRow(cast(px.value, to: Double.self), cast(pw.value, to: Double.self), cast(py.value, to: Double.self), g, i, h, fetched, fetchNext, DoubleVector.self)
                    } else {
                        fetched = forwardRow(cast(px.value, to: Double.self), cast(pw.value, to: Double.self), cast(py.value, to: Double.self), g, i, h, fetched, fetchNext, SIMD4<Double>.self)
                    }
                }
            }
        }
    }

    /// A 3×3 stride-1 correlation over `pixels` neighbouring pixels, pixel-major:
    /// four pixels at a time (then one), every channel block of them, each
    /// input vector loaded once for the four. Output pixel `k` is
    /// `Σ_a Σ_b x_a[k + b]·T(a, b)` from zero, rows then columns, where `x`
    /// is the top-left input (rows `rowStep` bytes apart, pixels `step`
    /// bytes, channel blocks contiguous) and tap `T(a, b)` is at
    /// `w + (3a + b)·tapStep`. The forward pass passes `&W[0, 0]` with
    /// `tapStep = step`: the loop twin's order. The input gradient passes the
    /// gradient rows from the top and `&W[2, 2]` with `tapStep = −step`:
    /// taps last to first, the order of the loop twin's scatter
    /// (multiplication commutes exactly, so the bits are the twins').
    @inline(__always)
    static func sweep3x3<V: SIMD>(
        _ x: UnsafeRawPointer, rowStep: Int, step: Int, _ w: UnsafeRawPointer, tapStep: Int, _ y: UnsafeMutableRawPointer,
        pixels: Int, channelBytes: Int, prefetching next: RowPrefetch? = nil, _: V.Type
    ) where V.Scalar: FloatingPoint {
        let block = MemoryLayout<V>.size
        var k = 0
        while k + 4 <= pixels {
            next?.fetch(group: k / 4)
            for c in stride(from: 0, to: channelBytes, by: block) {
                var y0 = V(), y1 = V(), y2 = V(), y3 = V()
                for a in 0..<3 {
                    let r = x + k * step + c + a * rowStep, t = w + c + 3 * a * tapStep
                    let x0 = r.loadUnaligned(as: V.self), x1 = r.loadUnaligned(fromByteOffset: step, as: V.self)
                    let x2 = r.loadUnaligned(fromByteOffset: 2 * step, as: V.self), x3 = r.loadUnaligned(fromByteOffset: 3 * step, as: V.self)
                    let x4 = r.loadUnaligned(fromByteOffset: 4 * step, as: V.self), x5 = r.loadUnaligned(fromByteOffset: 5 * step, as: V.self)
                    let w0 = t.loadUnaligned(as: V.self)
                    y0 += x0 * w0; y1 += x1 * w0; y2 += x2 * w0; y3 += x3 * w0
                    let w1 = t.loadUnaligned(fromByteOffset: tapStep, as: V.self)
                    y0 += x1 * w1; y1 += x2 * w1; y2 += x3 * w1; y3 += x4 * w1
                    let w2 = t.loadUnaligned(fromByteOffset: 2 * tapStep, as: V.self)
                    y0 += x2 * w2; y1 += x3 * w2; y2 += x4 * w2; y3 += x5 * w2
                }
                let o = y + k * step + c
                o.storeBytes(of: y0, as: V.self)
                o.storeBytes(of: y1, toByteOffset: step, as: V.self)
                o.storeBytes(of: y2, toByteOffset: 2 * step, as: V.self)
                o.storeBytes(of: y3, toByteOffset: 3 * step, as: V.self)
            }
            k += 4
        }
        if k < pixels { next?.fetch(group: k / 4) }
        while k < pixels {
            for c in stride(from: 0, to: channelBytes, by: block) {
                var y0 = V()
                for a in 0..<3 {
                    let r = x + k * step + c + a * rowStep, t = w + c + 3 * a * tapStep
                    y0 += r.loadUnaligned(as: V.self) * t.loadUnaligned(as: V.self)
                    y0 += r.loadUnaligned(fromByteOffset: step, as: V.self) * t.loadUnaligned(fromByteOffset: tapStep, as: V.self)
                    y0 += r.loadUnaligned(fromByteOffset: 2 * step, as: V.self) * t.loadUnaligned(fromByteOffset: 2 * tapStep, as: V.self)
                }
                (y + k * step + c).storeBytes(of: y0, as: V.self)
            }
            k += 1
        }
    }

    /// 512-bit vectors (16 Float channels, 8 Double) with the wide GEMM kernel
    /// family when they divide the channels; otherwise 256-bit ones, whose
    /// channel tails take the scalar loops. Each lane is its own channel, so
    /// the width never changes the bits. (N32 C128 56² 3×3 on two AVX-512
    /// cores: forward 3.6–3.8 → 3.2–3.4 ms, forward+backward 13.9 → 11.5–11.8.)
    static func usesWideVectors<S: TensorScalar>(_ g: Convolution2DGeometry, _: S.Type) -> Bool {
        GEMMConfiguration.kernel.isWide && g.channels % (64 / MemoryLayout<S>.stride) == 0
    }

    /// Rows per parallel chunk (a function of the size only, never of the thread count).
    @inline(__always)
    static func rowBand(_ rows: Int) -> Int { Swift.max(1, Swift.min(rows, 8)) }

    /// Output row `h` of image `i`.
    /// Returns whether it prefetched row `h + 1`'s lines (asked by `fetchNext`;
    /// only the stride-1 3×3 sweep does), which the caller passes back as `fetched`.
    @inline(__always) @discardableResult
    static func forwardRow<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _ i: Int, _ h: Int, _ fetched: Bool, _ fetchNext: Bool, _: V.Type
    ) -> Bool where V.Scalar: FloatingPoint {
        let channels = g.channels, lanes = V.scalarCount, fW = g.filterWidth
        let top = h * g.strideH - g.padTop
        let aLo = Swift.max(0, -top), aHi = Swift.max(aLo, Swift.min(g.filterHeight, g.height - top))   // empty, never inverted, when the padding exceeds the filter
        let image = x + i * g.height * g.width * channels
        let out = y + (i * g.outHeight + h) * g.outWidth * channels
        let vectorEnd = channels - channels % lanes
        /// Pixels `columns` of the row, general loops: any filter, any channel.
        func general(_ columns: Range<Int>, _ channelRange: Range<Int>) {
            for v in columns {
                let left = v * g.strideW - g.padLeft
                let bLo = Swift.max(0, -left), bHi = Swift.max(bLo, Swift.min(fW, g.width - left))
                var c = channelRange.lowerBound
                while c + lanes <= channelRange.upperBound {
                    var acc = V()
                    for a in aLo..<aHi {
                        let row = ((top + a) * g.width + left) * channels + c, tap = a * fW * channels + c
                        for b in bLo..<bHi { acc += load(image + row + b * channels, V.self) * load(w + tap + b * channels, V.self) }
                    }
                    store(acc, out + v * channels + c)
                    c += lanes
                }
                while c < channelRange.upperBound {
                    var z: V.Scalar = 0
                    for a in aLo..<aHi {
                        for b in bLo..<bHi { z += image[((top + a) * g.width + left + b) * channels + c] * w[(a * fW + b) * channels + c] }
                    }
                    out[v * channels + c] = z
                    c += 1
                }
            }
        }
        let interior = g.interiorColumns
        guard g.filterHeight == 3 && fW == 3 && aLo == 0 && aHi == 3 && !interior.isEmpty && vectorEnd > 0 else {
            general(0..<g.outWidth, 0..<channels)
            return false
        }
        let rowStride = g.width * channels, columnStride = g.strideW * channels
        if g.strideW == 1 && g.strideH == 1 {
            // Pixel-major: four neighbouring pixels at a time, every channel block
            // of them, each input vector loaded once for the four. The newest input
            // row and the output row come in as two sequential streams before the
            // band's first row; every later row's were prefetched, slice by slice,
            // while the row before it was computed. (The conv suite's depthwise
            // forward on the AVX2 machine: channel blocks sweeping the row with its
            // taps in registers, 7.2–8.2 ms; pixel-major, 9.2 ms without fetching first,
            // 5.6–6.2 with; fetching a slice of the next row with loads after each group
            // of four, 8.2–9.0 ms — loads wait, prefetches do not. N32 C128 56² on two
            // AVX-512 cores: fetching first 3.28–3.38 ms; prefetching the next row
            // 2.67–2.77.)
            let bytes = MemoryLayout<V.Scalar>.stride, step = channels * bytes
            if !fetched {
                CacheLines.touchAndClear(UnsafeRawPointer(image + (top + 2) * rowStride), bytes: rowStride * bytes,
                                         UnsafeMutableRawPointer(out), bytes: g.outWidth * channels * bytes)
            }
            general(0..<interior.lowerBound, 0..<channels)
            general(interior.upperBound..<g.outWidth, 0..<channels)
            if vectorEnd < channels { general(interior, vectorEnd..<channels) }
            let next = fetchNext ? RowPrefetch(input: top + 3 < g.height ? UnsafeRawPointer(image + (top + 3) * rowStride) : nil,
                                               inputBytes: rowStride * bytes, output: UnsafeRawPointer(out + g.outWidth * channels),
                                               outputBytes: g.outWidth * channels * bytes, groups: (interior.count + 3) / 4) : nil
            sweep3x3(UnsafeRawPointer(image + (top * g.width + interior.lowerBound - g.padLeft) * channels), rowStep: rowStride * bytes,
                     step: step, UnsafeRawPointer(w), tapStep: step, UnsafeMutableRawPointer(out + interior.lowerBound * channels),
                     pixels: interior.count, channelBytes: vectorEnd * bytes, prefetching: next, V.self)
            return next != nil
        }
        // The channel blocks sweep the rows one block of every pixel at a time;
        // fetching the newest input row and the output row line by line first
        // turns those strided misses into one sequential stream. (Before any
        // output is written: clearing stores zeros.)
        CacheLines.touchAndClear(UnsafeRawPointer(image + (top + 2) * rowStride), bytes: rowStride * MemoryLayout<V.Scalar>.stride,
                                 UnsafeMutableRawPointer(out), bytes: g.outWidth * channels * MemoryLayout<V.Scalar>.stride)
        general(0..<interior.lowerBound, 0..<channels)
        general(interior.upperBound..<g.outWidth, 0..<channels)
        if vectorEnd < channels { general(interior, vectorEnd..<channels) }
        for c in stride(from: 0, to: vectorEnd, by: lanes) {
            let t = Taps3x3(w + c, channels, V.self)
            // Three row pointers and two fixed offsets: few enough registers that
            // the loop keeps its pointers out of memory.
            let bytes = MemoryLayout<V.Scalar>.stride
            var r0 = UnsafeRawPointer(image + (top * g.width + interior.lowerBound * g.strideW - g.padLeft) * channels + c)
            var r1 = r0 + rowStride * bytes, r2 = r1 + rowStride * bytes
            var o = UnsafeMutableRawPointer(out + interior.lowerBound * channels + c)
            let step = channels * bytes, next = columnStride * bytes
            for _ in interior {
                o.storeBytes(of: t.dot(r0, r1, r2, step), as: V.self)
                r0 += next; r1 += next; r2 += next
                o += step
            }
        }
        return false
    }

    /// `dX` and/or `dW`: the input gradient by rows, the filter gradient by
    /// images (each with its own sums, then added over images in order).
    static func backward<S: TensorScalar>(
        _ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>?, _ dw: UnsafeMutablePointer<S>?,
        _ g: Convolution2DGeometry
    ) {
        let taps = g.filterHeight * g.filterWidth * g.channels
        let work = g.outputPixels * g.channels * g.filterHeight * g.filterWidth
        let (pdy, px, pw) = (UncheckedSendable(dy), UncheckedSendable(x), UncheckedSendable(w))
        let wide = usesWideVectors(g, S.self)
        if let dx {
            let pdx = UncheckedSendable(dx)
            let band = rowBand(g.height), bands = (g.height + band - 1) / band
            parallelFor(chunks: g.batch * bands, work: work) { job in
                let (i, first) = (job / bands, job % bands * band)
                for r in first..<Swift.min(first + band, g.height) {
                    switch S.scalarType {
                    case .float32:
                        if wide {
                            inputGradientRow(cast(pdy.value, to: Float.self), cast(pw.value, to: Float.self), cast(pdx.value, to: Float.self), g, i, r, FloatVector.self)
                        } else {
                            inputGradientRow(cast(pdy.value, to: Float.self), cast(pw.value, to: Float.self), cast(pdx.value, to: Float.self), g, i, r, SIMD8<Float>.self)
                        }
                    case .float64:
                        if wide {
                            inputGradientRow(cast(pdy.value, to: Double.self), cast(pw.value, to: Double.self), cast(pdx.value, to: Double.self), g, i, r, DoubleVector.self)
                        } else {
                            inputGradientRow(cast(pdy.value, to: Double.self), cast(pw.value, to: Double.self), cast(pdx.value, to: Double.self), g, i, r, SIMD4<Double>.self)
                        }
                    }
                }
            }
        }
        guard let dw else { return }
        let sums = UnsafeMutablePointer<S>.allocate(capacity: g.batch * taps)
        defer { sums.deallocate() }
        let psums = UncheckedSendable(sums)
        parallelFor(chunks: g.batch, work: work) { i in
            let imageSums = psums.value + i * taps
            imageSums.initialize(repeating: 0, count: taps)
            switch S.scalarType {
            case .float32:
                if wide {
                    filterGradientImage(cast(pdy.value, to: Float.self), cast(px.value, to: Float.self), cast(imageSums, to: Float.self), g, i, FloatVector.self)
                } else {
                    filterGradientImage(cast(pdy.value, to: Float.self), cast(px.value, to: Float.self), cast(imageSums, to: Float.self), g, i, SIMD8<Float>.self)
                }
            case .float64:
                if wide {
                    filterGradientImage(cast(pdy.value, to: Double.self), cast(px.value, to: Double.self), cast(imageSums, to: Double.self), g, i, DoubleVector.self)
                } else {
                    filterGradientImage(cast(pdy.value, to: Double.self), cast(px.value, to: Double.self), cast(imageSums, to: Double.self), g, i, SIMD4<Double>.self)
                }
            }
        }
        dw.initialize(repeating: 0, count: taps)
        for i in 0..<g.batch {
            for t in 0..<taps { dw[t] += sums[i * taps + t] }
        }
    }

    /// Input row `r` of image `i`'s gradient, gathered: pixel `(r, col)`
    /// receives `dZ[h, v] · W[a, b]` from every output `(h, v) = ((r + pad − a)/s,
    /// (col + pad − b)/s)` that is whole and inside the output, taps last to first.
    @inline(__always)
    static func inputGradientRow<V: SIMD>(
        _ dy: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ dx: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _ i: Int, _ r: Int, _: V.Type
    ) where V.Scalar: FloatingPoint {
        let channels = g.channels, lanes = V.scalarCount, fW = g.filterWidth
        let gradients = dy + i * g.outHeight * g.outWidth * channels
        let out = dx + (i * g.height + r) * g.width * channels
        let vectorEnd = channels - channels % lanes
        /// The output index reached by tap `k` from input index `n`, or nil.
        @inline(__always) func source(_ n: Int, _ k: Int, _ pad: Int, _ s: Int, _ size: Int) -> Int? {
            let t = n + pad - k
            guard t >= 0, t % s == 0, t / s < size else { return nil }
            return t / s
        }
        func general(_ columns: Range<Int>, _ channelRange: Range<Int>) {
            for col in columns {
                var c = channelRange.lowerBound
                while c + lanes <= channelRange.upperBound {
                    var acc = V()
                    for a in stride(from: g.filterHeight - 1, through: 0, by: -1) {
                        guard let h = source(r, a, g.padTop, g.strideH, g.outHeight) else { continue }
                        for b in stride(from: fW - 1, through: 0, by: -1) {
                            guard let v = source(col, b, g.padLeft, g.strideW, g.outWidth) else { continue }
                            let tap: Int = (a * fW + b) * channels + c, source: Int = (h * g.outWidth + v) * channels + c
                            acc += load(w + tap, V.self) * load(gradients + source, V.self)
                        }
                    }
                    store(acc, out + col * channels + c)
                    c += lanes
                }
                while c < channelRange.upperBound {
                    var z: V.Scalar = 0
                    for a in stride(from: g.filterHeight - 1, through: 0, by: -1) {
                        guard let h = source(r, a, g.padTop, g.strideH, g.outHeight) else { continue }
                        for b in stride(from: fW - 1, through: 0, by: -1) {
                            guard let v = source(col, b, g.padLeft, g.strideW, g.outWidth) else { continue }
                            z += w[(a * fW + b) * channels + c] * gradients[(h * g.outWidth + v) * channels + c]
                        }
                    }
                    out[col * channels + c] = z
                    c += 1
                }
            }
        }
        // Stride 1, 3×3: columns whose three sources all exist, rows likewise.
        let top = r + g.padTop - 2   // the output row of tap a = 2
        let first = Swift.max(0, 2 - g.padLeft), end = Swift.min(g.width, g.outWidth - g.padLeft)
        guard g.filterHeight == 3 && fW == 3 && g.strideH == 1 && g.strideW == 1 && top >= 0 && top + 2 < g.outHeight
                && first < end && vectorEnd > 0 else {
            general(0..<g.width, 0..<channels)
            return
        }
        let rowStride = g.outWidth * channels
        CacheLines.touchAndClear(UnsafeRawPointer(gradients + (top + 2) * rowStride), bytes: rowStride * MemoryLayout<V.Scalar>.stride,
                                 UnsafeMutableRawPointer(out), bytes: g.width * channels * MemoryLayout<V.Scalar>.stride)   // before any write
        general(0..<first, 0..<channels)
        general(end..<g.width, 0..<channels)
        if vectorEnd < channels { general(first..<end, vectorEnd..<channels) }
        // Tap (a, b) reads output (r + pad − a, col + pad − b): rows top+2, top+1, top for a = 0, 1, 2.
        let bytes = MemoryLayout<V.Scalar>.stride, step = channels * bytes
        sweep3x3(UnsafeRawPointer(gradients + (top * g.outWidth + first + g.padLeft - 2) * channels), rowStep: rowStride * bytes,
                 step: step, UnsafeRawPointer(w + 8 * channels), tapStep: -step, UnsafeMutableRawPointer(out + first * channels),
                 pixels: end - first, channelBytes: vectorEnd * bytes, V.self)
    }

    /// Image `i`'s filter gradient into `sums` (zero on entry): per output
    /// row, each tap's terms summed in a register, then added to `sums`.
    @inline(__always)
    static func filterGradientImage<V: SIMD>(
        _ dy: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ sums: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _ i: Int, _: V.Type
    ) where V.Scalar: FloatingPoint {
        let channels = g.channels, lanes = V.scalarCount, fW = g.filterWidth
        let image = x + i * g.height * g.width * channels
        let vectorEnd = channels - channels % lanes
        let interior = g.interiorColumns
        for h in 0..<g.outHeight {
            let gradients = dy + (i * g.outHeight + h) * g.outWidth * channels
            let top = h * g.strideH - g.padTop
            let aLo = Swift.max(0, -top), aHi = Swift.max(aLo, Swift.min(g.filterHeight, g.height - top))   // empty, never inverted, when the padding exceeds the filter
            /// Row h's terms of every tap, general loops over `columns`.
            func general(_ columns: Range<Int>, _ channelRange: Range<Int>) {
                for a in aLo..<aHi {
                    for b in 0..<fW {
                        let tap = sums + (a * fW + b) * channels
                        var c = channelRange.lowerBound
                        while c + lanes <= channelRange.upperBound {
                            var acc = V()
                            for v in columns {
                                let column = v * g.strideW - g.padLeft + b
                                if column < 0 || column >= g.width { continue }
                                let pixel: Int = ((top + a) * g.width + column) * channels + c
                                acc += load(image + pixel, V.self) * load(gradients + v * channels + c, V.self)
                            }
                            store(load(tap + c, V.self) + acc, tap + c)
                            c += lanes
                        }
                        while c < channelRange.upperBound {
                            var z: V.Scalar = 0
                            for v in columns {
                                let column = v * g.strideW - g.padLeft + b
                                if column < 0 || column >= g.width { continue }
                                z += image[((top + a) * g.width + column) * channels + c] * gradients[v * channels + c]
                            }
                            tap[c] += z
                            c += 1
                        }
                    }
                }
            }
            guard g.filterHeight == 3 && fW == 3 && aLo == 0 && aHi == 3 && !interior.isEmpty && vectorEnd > 0 else {
                general(0..<g.outWidth, 0..<channels)
                continue
            }
            general(0..<interior.lowerBound, 0..<channels)
            general(interior.upperBound..<g.outWidth, 0..<channels)
            if vectorEnd < channels { general(interior, vectorEnd..<channels) }
            let bytes = MemoryLayout<V.Scalar>.stride
            let rowBytes = g.width * channels * bytes, next = g.strideW * channels * bytes, step = channels * bytes
            CacheLines.touch(UnsafeRawPointer(image + (top + 2) * g.width * channels), bytes: rowBytes)
            CacheLines.touch(UnsafeRawPointer(gradients), bytes: g.outWidth * channels * bytes)
            for c in stride(from: 0, to: vectorEnd, by: lanes) {
                var t = Taps3x3<V>()
                var r0 = UnsafeRawPointer(image + (top * g.width + interior.lowerBound * g.strideW - g.padLeft) * channels + c)
                var r1 = r0 + rowBytes, r2 = r1 + rowBytes
                var d = UnsafeRawPointer(gradients + interior.lowerBound * channels + c)
                for _ in interior {
                    t.accumulate(r0, r1, r2, step, d.loadUnaligned(as: V.self))
                    r0 += next; r1 += next; r2 += next
                    d += step
                }
                t.add(to: sums + c, channels)
            }
        }
    }

    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafePointer<V.Scalar>, _: V.Type) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func load<V: SIMD>(_ p: UnsafeMutablePointer<V.Scalar>, _: V.Type) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func store<V: SIMD>(_ v: V, _ p: UnsafeMutablePointer<V.Scalar>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }
}

/// The nine taps of a 3×3 filter for one block of channels, held in
/// registers: filter values (forward, input gradient) or running sums
/// (filter gradient). Tap `(a, b)` is `tAB`.
struct Taps3x3<V: SIMD> where V.Scalar: FloatingPoint {
    var t00 = V(), t01 = V(), t02 = V(), t10 = V(), t11 = V(), t12 = V(), t20 = V(), t21 = V(), t22 = V()

    init() {}

    /// The taps of channels `c..<c + lanes` from `w` = `&W[0, 0, c, 0]`, taps `channels` apart.
    @inline(__always)
    init(_ w: UnsafePointer<V.Scalar>, _ channels: Int, _: V.Type) {
        func at(_ k: Int) -> V { UnsafeRawPointer(w + k * channels).loadUnaligned(as: V.self) }
        (t00, t01, t02, t10, t11, t12, t20, t21, t22) = (at(0), at(1), at(2), at(3), at(4), at(5), at(6), at(7), at(8))
    }

    /// `Σ_a Σ_b x_a[b]·W[a, b]` from zero, rows then columns (the loop twin's
    /// order), for the three input rows `x_a` whose pixels are `step` bytes apart.
    @inline(__always)
    func dot(_ x0: UnsafeRawPointer, _ x1: UnsafeRawPointer, _ x2: UnsafeRawPointer, _ step: Int) -> V {
        var acc = V()
        acc += x0.loadUnaligned(as: V.self) * t00
        acc += x0.loadUnaligned(fromByteOffset: step, as: V.self) * t01
        acc += x0.loadUnaligned(fromByteOffset: 2 * step, as: V.self) * t02
        acc += x1.loadUnaligned(as: V.self) * t10
        acc += x1.loadUnaligned(fromByteOffset: step, as: V.self) * t11
        acc += x1.loadUnaligned(fromByteOffset: 2 * step, as: V.self) * t12
        acc += x2.loadUnaligned(as: V.self) * t20
        acc += x2.loadUnaligned(fromByteOffset: step, as: V.self) * t21
        acc += x2.loadUnaligned(fromByteOffset: 2 * step, as: V.self) * t22
        return acc
    }

    /// Every tap's sum += `x_a[b]·gradient`, for the three input rows `x_a`
    /// whose pixels are `step` bytes apart.
    @inline(__always)
    mutating func accumulate(_ x0: UnsafeRawPointer, _ x1: UnsafeRawPointer, _ x2: UnsafeRawPointer, _ step: Int, _ gradient: V) {
        t00 += x0.loadUnaligned(as: V.self) * gradient
        t01 += x0.loadUnaligned(fromByteOffset: step, as: V.self) * gradient
        t02 += x0.loadUnaligned(fromByteOffset: 2 * step, as: V.self) * gradient
        t10 += x1.loadUnaligned(as: V.self) * gradient
        t11 += x1.loadUnaligned(fromByteOffset: step, as: V.self) * gradient
        t12 += x1.loadUnaligned(fromByteOffset: 2 * step, as: V.self) * gradient
        t20 += x2.loadUnaligned(as: V.self) * gradient
        t21 += x2.loadUnaligned(fromByteOffset: step, as: V.self) * gradient
        t22 += x2.loadUnaligned(fromByteOffset: 2 * step, as: V.self) * gradient
    }

    /// `sums[k·channels ..< k·channels + lanes] += t_k` for the nine taps.
    @inline(__always)
    func add(to sums: UnsafeMutablePointer<V.Scalar>, _ channels: Int) {
        @inline(__always) func add(_ k: Int, _ t: V) {
            let p = UnsafeMutableRawPointer(sums + k * channels)
            p.storeBytes(of: p.loadUnaligned(as: V.self) + t, as: V.self)
        }
        add(0, t00); add(1, t01); add(2, t02); add(3, t10); add(4, t11); add(5, t12); add(6, t20); add(7, t21); add(8, t22)
    }
}
