/// Direct 2-D convolution for layers with few filters (`n_C ≤ 16`): LeNet's
/// 8 and 16, a small CNN's first layers, and the input gradient of layers
/// with few input channels (a stride-1 convolution's `dX` is a convolution
/// with `n_C_prev` filters).
///
/// With so few filters an implicit GEMM spends its time packing: every
/// patch value is packed once and used by only `n_C` multiply-adds (LeNet's
/// first layer: 8), and the filter gradient's `Pᵀ·dY` has 75 × 8 outputs, one
/// work unit, one core. Here the filters are the SIMD lanes instead (`n_C`
/// rounded up to 8 or 16 for Float, 4, 8 or 16 for Double) and nothing is
/// packed: in channels-last layout each window row is one contiguous run of
/// `f_w · n_C_prev` inputs, and each input is broadcast against the filter row
/// it meets.
///
/// - Forward: four neighbouring output pixels at a time share each filter
///   vector load; each pixel sums its taps rows, then columns, then channels,
///   from zero, with separate multiplies and adds — the loop twin's order and
///   rounding, so the two paths agree bitwise. Rows of an image in bands, in
///   parallel.
/// - Filter gradient (`n_C` equal to the vector width): eight taps' sums per
///   pass held in registers over an image's output pixels (a window row of
///   fewer than eight taps goes one tap at a time); chunks of images in
///   parallel, each with its own sums, added in order — bits independent of
///   the thread count, equal to the loop twin's within rounding.
enum DirectConvolutionKernels {
    /// Whether ``forward(_:_:_:_:)`` serves this geometry (and scalar type).
    static func servesForward(_ g: Convolution2DGeometry) -> Bool {
        g.filters <= 16 && g.filters > 0 && !g.isPointwise
    }

    /// Whether ``filterGradient(_:_:_:_:)`` serves this geometry: as many
    /// filters as one of its vector widths has lanes.
    static func servesFilterGradient<S: TensorScalar>(_ g: Convolution2DGeometry, _: S.Type) -> Bool {
        guard !g.isPointwise else { return false }
        switch S.scalarType {
        case .float32: return g.filters == 8 || g.filters == 16
        case .float64: return g.filters == 4 || g.filters == 8
        }
    }

    // MARK: Forward

    static func forward<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        switch S.scalarType {
        case .float32:
            let (x, w, y) = (cast(x, to: Float.self), cast(w, to: Float.self), cast(y, to: Float.self))
            if g.filters <= 8 { forward(x, w, y, g, SIMD8<Float>.self) } else { forward(x, w, y, g, SIMD16<Float>.self) }
        case .float64:
            let (x, w, y) = (cast(x, to: Double.self), cast(w, to: Double.self), cast(y, to: Double.self))
            if g.filters <= 4 {
                forward(x, w, y, g, SIMD4<Double>.self)
            } else if g.filters <= 8 {
                forward(x, w, y, g, SIMD8<Double>.self)
            } else {
                forward(x, w, y, g, SIMD16<Double>.self)
            }
        }
    }

    static func forward<V: SIMD>(
        _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry, _: V.Type
    ) where V.Scalar: TensorScalar {
        let filters = g.filters, lanes = V.scalarCount
        // The filter as one vector per tap, lanes beyond n_C zero.
        let rows = UnsafeMutablePointer<V>.allocate(capacity: g.taps)
        defer { rows.deallocate() }
        for t in 0..<g.taps {
            var row = V()
            for k in 0..<filters { row[k] = w[t * filters + k] }
            rows[t] = row
        }
        let interior = g.interiorColumns
        let band = 4, bands = (g.outHeight + band - 1) / band
        let (px, prows, py) = (UncheckedSendable(x), UncheckedSendable(UnsafePointer(rows)), UncheckedSendable(y))
        parallelFor(chunks: g.batch * bands, work: g.multiplyAdds * (lanes / Swift.max(1, filters))) { job in
            let (i, first) = (job / bands, job % bands * band)
            let image = px.value + i * g.height * g.width * g.channels, rows = prows.value
            withStackScratch(of: V.self, capacity: 4) { sums in
                for h in first..<Swift.min(first + band, g.outHeight) {
                    let top = h * g.strideH - g.padTop
                    let aLo = Swift.max(0, -top), aHi = Swift.max(aLo, Swift.min(g.filterHeight, g.height - top))   // empty, never inverted, when the padding exceeds the filter
                    let out = py.value + (i * g.outHeight + h) * g.outWidth * filters
                    func store(_ sum: V, _ v: Int) {
                        if filters == lanes {
                            UnsafeMutableRawPointer(out + v * filters).storeBytes(of: sum, as: V.self)
                        } else {
                            for k in 0..<filters { out[v * filters + k] = sum[k] }
                        }
                    }
                    for v in 0..<interior.lowerBound { store(pixel(image, rows, g, top, aLo, aHi, v), v) }
                    var v = interior.lowerBound
                    while v + 4 <= interior.upperBound {
                        fourPixels(image, rows, g, top, aLo, aHi, v, sums)
                        for p in 0..<4 { store(sums[p], v + p) }
                        v += 4
                    }
                    while v < g.outWidth {
                        store(pixel(image, rows, g, top, aLo, aHi, v), v)
                        v += 1
                    }
                }
            }
        }
    }

    /// One output pixel: taps rows `aLo..<aHi`, the columns inside the image, channels.
    @inline(__always)
    static func pixel<V: SIMD>(
        _ image: UnsafePointer<V.Scalar>, _ rows: UnsafePointer<V>, _ g: Convolution2DGeometry, _ top: Int, _ aLo: Int, _ aHi: Int, _ v: Int
    ) -> V where V.Scalar: FloatingPoint {
        let left = v * g.strideW - g.padLeft
        let bLo = Swift.max(0, -left), bHi = Swift.max(bLo, Swift.min(g.filterWidth, g.width - left))
        let run = g.filterWidth * g.channels
        var sum = V()
        for a in aLo..<aHi {
            let inputs = image + ((top + a) * g.width + left) * g.channels, taps = rows + a * run
            for j in (bLo * g.channels)..<(bHi * g.channels) { sum += V(repeating: inputs[j]) * taps[j] }
        }
        return sum
    }

    /// Four neighbouring interior output pixels `v..<v + 4` into `sums`, each
    /// summed as ``pixel(_:_:_:_:_:_:_:)`` sums.
    @inline(__always)
    static func fourPixels<V: SIMD>(
        _ image: UnsafePointer<V.Scalar>, _ rows: UnsafePointer<V>, _ g: Convolution2DGeometry, _ top: Int, _ aLo: Int, _ aHi: Int, _ v: Int,
        _ sums: UnsafeMutablePointer<V>
    ) where V.Scalar: FloatingPoint {
        let run = g.filterWidth * g.channels, step = g.strideW * g.channels
        var s0 = V(), s1 = V(), s2 = V(), s3 = V()
        for a in aLo..<aHi {
            let x0 = image + ((top + a) * g.width + v * g.strideW - g.padLeft) * g.channels
            let x1 = x0 + step, x2 = x1 + step, x3 = x2 + step
            let taps = rows + a * run
            for j in 0..<run {
                let tap = taps[j]
                s0 += V(repeating: x0[j]) * tap
                s1 += V(repeating: x1[j]) * tap
                s2 += V(repeating: x2[j]) * tap
                s3 += V(repeating: x3[j]) * tap
            }
        }
        sums[0] = s0; sums[1] = s1; sums[2] = s2; sums[3] = s3
    }

    // MARK: Filter gradient

    static func filterGradient<S: TensorScalar>(_ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ dw: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        switch S.scalarType {
        case .float32:
            let (dy, x, dw) = (cast(dy, to: Float.self), cast(x, to: Float.self), cast(dw, to: Float.self))
            if g.filters == 8 { filterGradient(dy, x, dw, g, SIMD8<Float>.self) } else { filterGradient(dy, x, dw, g, SIMD16<Float>.self) }
        case .float64:
            let (dy, x, dw) = (cast(dy, to: Double.self), cast(x, to: Double.self), cast(dw, to: Double.self))
            if g.filters == 4 { filterGradient(dy, x, dw, g, SIMD4<Double>.self) } else { filterGradient(dy, x, dw, g, SIMD8<Double>.self) }
        }
    }

    static func filterGradient<V: SIMD>(
        _ dy: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ dw: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry, _: V.Type
    ) where V.Scalar: TensorScalar {
        precondition(g.filters == V.scalarCount)
        let taps = g.taps
        // Chunks of consecutive images, each summing into its own copy of dW
        // (at most 64 copies and 2²⁴ scalars in all), added in chunk order:
        // a function of the shape alone, never of the thread count.
        let chunkLimit = Swift.max(1, Swift.min(64, (1 << 24) / Swift.max(1, taps * V.scalarCount)))
        let imagesPerChunk = Swift.max(1, (g.batch + chunkLimit - 1) / chunkLimit)
        let chunks = (g.batch + imagesPerChunk - 1) / imagesPerChunk
        let sums = UnsafeMutablePointer<V>.allocate(capacity: chunks * taps)
        defer { sums.deallocate() }
        let (pdy, px, psums) = (UncheckedSendable(dy), UncheckedSendable(x), UncheckedSendable(sums))
        let interior = g.interiorColumns
        parallelFor(chunks: chunks, work: g.multiplyAdds) { chunk in
            let chunkSums = psums.value + chunk * taps
            chunkSums.initialize(repeating: V(), count: taps)
            let imageSums = UnsafeMutablePointer<V>.allocate(capacity: taps)
            defer { imageSums.deallocate() }
            for i in (chunk * imagesPerChunk)..<Swift.min(g.batch, (chunk + 1) * imagesPerChunk) {
                let image = px.value + i * g.height * g.width * g.channels
                let gradients = pdy.value + i * g.outHeight * g.outWidth * g.filters
                let run = g.filterWidth * g.channels
                for a in 0..<g.filterHeight {
                    if run < 8 {
                        for j in 0..<run { oneTap(image, gradients, g, a, j, imageSums + a * run + j) }
                        continue
                    }
                    // Blocks of eight, the last one moved back to end at the run's end:
                    // taps it repeats get the same sums again (stored, not added).
                    var j = 0
                    while true {
                        let start = Swift.min(j, run - 8)
                        eightTaps(image, gradients, g, a, start, interior, imageSums + a * run + start)
                        if start + 8 >= run { break }
                        j += 8
                    }
                }
                for t in 0..<taps { chunkSums[t] += imageSums[t] }
            }
        }
        let out = UnsafeMutableRawPointer(dw)
        for t in 0..<taps {
            var total = V()
            for chunk in 0..<chunks { total += sums[chunk * taps + t] }
            out.storeBytes(of: total, toByteOffset: t * MemoryLayout<V>.stride, as: V.self)
        }
    }

    /// Taps `(a, j..<j + 8)` of one image (`j` indexing row `a`'s run of
    /// `f_w · n_C_prev` taps): each tap's sum over the output pixels whose
    /// window covers it, in registers, stored to `sums`.
    @inline(__always)
    static func eightTaps<V: SIMD>(
        _ image: UnsafePointer<V.Scalar>, _ gradients: UnsafePointer<V.Scalar>, _ g: Convolution2DGeometry, _ a: Int, _ j: Int,
        _ interior: Range<Int>, _ sums: UnsafeMutablePointer<V>
    ) where V.Scalar: FloatingPoint {
        var t = EightSums<V>()
        let step = g.strideW * g.channels
        for h in 0..<g.outHeight {
            let row = h * g.strideH - g.padTop + a
            if row < 0 || row >= g.height { continue }
            let outputs = gradients + h * g.outWidth * g.filters
            let inputs = image + row * g.width * g.channels + j   // + (window start)·n_C_prev + k: tap j + k
            for v in 0..<interior.lowerBound { t.addBorder(inputs, outputs, g, j, v) }
            var p = inputs + (interior.lowerBound * g.strideW - g.padLeft) * g.channels
            var d = UnsafeRawPointer(outputs + interior.lowerBound * g.filters)
            for _ in interior {
                t.add(p, d.loadUnaligned(as: V.self))
                p += step
                d += MemoryLayout<V>.stride
            }
            for v in Swift.max(interior.upperBound, interior.lowerBound)..<g.outWidth { t.addBorder(inputs, outputs, g, j, v) }
        }
        sums[0] = t.t0; sums[1] = t.t1; sums[2] = t.t2; sums[3] = t.t3; sums[4] = t.t4; sums[5] = t.t5; sums[6] = t.t6; sums[7] = t.t7
    }

    /// One tap `(a, j)` of one image, as ``eightTaps(_:_:_:_:_:_:_:)`` sums it.
    @inline(__always)
    static func oneTap<V: SIMD>(
        _ image: UnsafePointer<V.Scalar>, _ gradients: UnsafePointer<V.Scalar>, _ g: Convolution2DGeometry, _ a: Int, _ j: Int,
        _ sums: UnsafeMutablePointer<V>
    ) where V.Scalar: FloatingPoint {
        var total = V()
        let b = j / g.channels
        for h in 0..<g.outHeight {
            let row = h * g.strideH - g.padTop + a
            if row < 0 || row >= g.height { continue }
            for v in 0..<g.outWidth {
                let column = v * g.strideW - g.padLeft + b
                if column < 0 || column >= g.width { continue }
                let gradient = UnsafeRawPointer(gradients + (h * g.outWidth + v) * g.filters).loadUnaligned(as: V.self)
                total += V(repeating: image[(row * g.width + v * g.strideW - g.padLeft) * g.channels + j]) * gradient
            }
        }
        sums[0] = total
    }
}

/// Eight taps' filter-gradient sums, one vector of filters each (registers).
struct EightSums<V: SIMD> where V.Scalar: FloatingPoint {
    var t0 = V(), t1 = V(), t2 = V(), t3 = V(), t4 = V(), t5 = V(), t6 = V(), t7 = V()

    /// `t_k += p[k]·gradient` for k = 0..<8.
    @inline(__always)
    mutating func add(_ p: UnsafePointer<V.Scalar>, _ gradient: V) {
        t0 += V(repeating: p[0]) * gradient; t1 += V(repeating: p[1]) * gradient
        t2 += V(repeating: p[2]) * gradient; t3 += V(repeating: p[3]) * gradient
        t4 += V(repeating: p[4]) * gradient; t5 += V(repeating: p[5]) * gradient
        t6 += V(repeating: p[6]) * gradient; t7 += V(repeating: p[7]) * gradient
    }

    /// Border pixel `v`: only the taps `j + k` whose input column lies inside the image.
    @inline(__always)
    mutating func addBorder(_ inputs: UnsafePointer<V.Scalar>, _ outputs: UnsafePointer<V.Scalar>, _ g: Convolution2DGeometry, _ j: Int, _ v: Int) {
        let gradient = UnsafeRawPointer(outputs + v * g.filters).loadUnaligned(as: V.self)
        let left = v * g.strideW - g.padLeft
        let p = inputs + left * g.channels
        // Taps outside the image add nothing (as in the loop twin, which skips them).
        @inline(__always) func inside(_ k: Int) -> Bool { let column = left + (j + k) / g.channels; return column >= 0 && column < g.width }
        if inside(0) { t0 += V(repeating: p[0]) * gradient }; if inside(1) { t1 += V(repeating: p[1]) * gradient }
        if inside(2) { t2 += V(repeating: p[2]) * gradient }; if inside(3) { t3 += V(repeating: p[3]) * gradient }
        if inside(4) { t4 += V(repeating: p[4]) * gradient }; if inside(5) { t5 += V(repeating: p[5]) * gradient }
        if inside(6) { t6 += V(repeating: p[6]) * gradient }; if inside(7) { t7 += V(repeating: p[7]) * gradient }
    }
}
