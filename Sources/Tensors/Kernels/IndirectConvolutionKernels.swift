/// The indirect convolution algorithm (M. Dukhan, "The Indirect Convolution
/// Algorithm", 2019 — XNNPACK's indirection buffer): the forward pass as a
/// GEMM whose A operand is never packed. For a tile of six neighbouring
/// output pixels, a small table holds, per filter tap, a pointer to each
/// pixel's input — in channels-last layout the `n_C_prev` values a tap
/// multiplies are contiguous there — or to a row of zeros where the tap falls
/// on the padding. The register micro-kernel then broadcasts straight from
/// those six pointers against the packed filter panel (two vectors of filters wide), over
/// all `f_h · f_w · n_C_prev` terms in registers: no patch packing, no
/// partial sums written back between depth blocks.
///
/// Each output value sums its terms taps first, then channels, from zero,
/// with the multiply-add form the GEMM calibration chose; padding taps add
/// `0 · w` (as in frameworks that pad with zeros: a non-finite weight then
/// reaches the border outputs, which the loop twin's skipped taps would not
/// show). Groups of tiles in parallel; the bits do not depend on the thread
/// count. The forward pass serves both micro-kernel families: six pixels
/// against two 256-bit vectors of filters on AVX2-class machines, against two
/// 512-bit vectors (a 6 × 32 Float tile) with the AVX-512 kernel, where it
/// replaced the implicit GEMM, whose patch packing took 31 % of the time
/// (N32 C64 56² K64 3×3 on two cores: 27.7 → 16.8 ms; the 1×1 to K256 10.7 →
/// 7.6 ms; the stride-2 3×3 to K128 11.3 → 8.1 ms). With 512-bit vectors,
/// whole groups of four vectors of filters (64 Float, 32 Double) take a
/// 6 × 4-vector tile instead: each broadcast feeds four multiply-adds and the
/// six input rows are read once per 64 filters, not twice (3×3 K64 forward,
/// alternating binaries: 514 → 528 GFLOPS near, 494 → 498 far).
/// A convolution kernel generic over the micro-kernel family's vector type and
/// multiply-add form; ``dispatch(_:_:_:_:kernel:)`` runs the specialization the
/// GEMM calibration chose (256- or 512-bit vectors, fused or separate), with
/// the three operands retyped to its scalar.
protocol VectorizedConvolution {
    static func run<V: SIMD, F: MultiplyAdd>(
        _ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>, _ out: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar
}

extension VectorizedConvolution {
    static func dispatch<S: TensorScalar>(
        _ a: UnsafePointer<S>, _ b: UnsafePointer<S>, _ out: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry, kernel: GEMMKernel
    ) {
        let (fa, fb, fout) = (cast(a, to: Float.self), cast(b, to: Float.self), cast(out, to: Float.self))
        let (da, db, dout) = (cast(a, to: Double.self), cast(b, to: Double.self), cast(out, to: Double.self))
        switch (S.scalarType, kernel.isFused, kernel.isWide) {
        case (.float32, true, false): run(fa, fb, fout, g, SIMD8<Float>.self, FusedMultiplyAdd.self)
        case (.float32, false, false): run(fa, fb, fout, g, SIMD8<Float>.self, SeparateMultiplyAdd.self)
        case (.float64, true, false): run(da, db, dout, g, SIMD4<Double>.self, FusedMultiplyAdd.self)
        case (.float64, false, false): run(da, db, dout, g, SIMD4<Double>.self, SeparateMultiplyAdd.self)
        case (.float32, true, true): run(fa, fb, fout, g, FloatVector.self, FusedMultiplyAdd.self)
        case (.float32, false, true): run(fa, fb, fout, g, FloatVector.self, SeparateMultiplyAdd.self)
        case (.float64, true, true): run(da, db, dout, g, DoubleVector.self, FusedMultiplyAdd.self)
        case (.float64, false, true): run(da, db, dout, g, DoubleVector.self, SeparateMultiplyAdd.self)
        }
    }
}

enum IndirectConvolutionKernels {
    /// Whether the indirect kernel serves this geometry with this micro-kernel
    /// (1×1 filters too: reading the pixels in place beats packing them).
    static func serves(_ g: Convolution2DGeometry, kernel: GEMMKernel) -> Bool {
        g.filters > 16 && g.channels > 0
    }

    /// Six pixels × two vectors of filters: 256-bit vectors for the 6-row kernel, 512-bit
    /// vectors (a 6 × 32 Float tile, twelve of the 32 registers) with the wide one.
    enum Forward: VectorizedConvolution {
        static func run<V: SIMD, F: MultiplyAdd>(
            _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
            _: V.Type, _: F.Type
        ) where V.Scalar: TensorScalar {
            IndirectConvolutionKernels.run(x, w, y, g, V.self, F.self)
        }
    }

    static func forward<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry,
                                         kernel: GEMMKernel) {
        Forward.dispatch(x, w, y, g, kernel: kernel)
    }

    /// Contiguous runs of jobs per thread in the forward pass. A thread then writes
    /// the same stretch of a reused output buffer call after call, instead of
    /// lines the other core wrote last time (N32 C64 56² K64 3×3, three rounds:
    /// 496–499 GFLOPS claiming jobs one by one, 502–511 with four runs per thread,
    /// 496–508 with one).
    static let groupsPerThread = 4
    /// Pixels per tile (the 6-row micro-kernel's rows; with 512-bit vectors the tile is 6 × 64 Float
    /// for each whole group of 64 filters and 6 × 32 for the rest).
    static let tile = 6

    /// Filter panels of the indirect micro-kernels: `w` (`depth × filters`, row-major) as
    /// panels of `depth` rows × `width` filters (zero beyond `filters`); the first
    /// `2·wideBlocks` of them in pairs, each pair one panel `2·width` wide (for
    /// ``MicroKernels/indirect6x4(_:_:_:_:_:_:rows:_:_:)``).
    static func packFilterPanels<S: TensorScalar>(
        _ w: UnsafePointer<S>, depth: Int, filters: Int, width: Int, wideBlocks: Int, into packed: UnsafeMutablePointer<S>
    ) {
        let blocks = 2 * wideBlocks + (filters - 2 * width * wideBlocks + width - 1) / width
        for j in 0..<blocks {
            let panelWidth = j < 2 * wideBlocks ? 2 * width : width
            let panel = j < 2 * wideBlocks ? packed + (j / 2) * depth * panelWidth : packed + j * depth * width
            let offset = j < 2 * wideBlocks ? (j % 2) * width : 0
            for t in 0..<depth {
                let row = panel + t * panelWidth + offset
                for l in 0..<width {
                    let k = j * width + l
                    row[l] = k < filters ? w[t * filters + k] : 0
                }
            }
        }
    }

    static func run<V: SIMD, F: MultiplyAdd>(
        _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        let width = 2 * V.scalarCount, filters = g.filters, depth = g.taps
        // With 512-bit vectors, the filters go four vectors at a time while they last (a
        // 6 × 64 Float tile: 24 accumulators, each broadcast feeding four multiply-adds),
        // the rest two at a time; AVX2's 16 registers take two.
        let wideBlocks = RegisterFile.hasWideVectors(V.self) ? filters / (2 * width) : 0
        let blocks = 2 * wideBlocks + (filters - 2 * width * wideBlocks + width - 1) / width
        // The filter as `blocks` panels of `depth` rows × `width` filters (zero beyond n_C);
        // the first 2·wideBlocks in pairs, each pair one panel of `depth` rows × 2·width.
        let packed = UnsafeMutablePointer<S>.allocate(capacity: blocks * depth * width)
        defer { packed.deallocate() }
        packFilterPanels(w, depth: depth, filters: filters, width: width, wideBlocks: wideBlocks, into: packed)
        let zeros = UnsafeMutablePointer<S>.allocate(capacity: g.channels)
        zeros.initialize(repeating: 0, count: g.channels)
        defer { zeros.deallocate() }
        let taps = g.filterHeight * g.filterWidth
        let (px, ppacked, pzeros, py) = (UncheckedSendable(x), UncheckedSendable(UnsafePointer(packed)),
                                         UncheckedSendable(UnsafePointer(zeros)), UncheckedSendable(y))
        // Each parallel job takes a run of up to `6·spacing` pixels of one image
        // (row-major, across row ends) as six equal runs; tile t takes pixel t
        // of each, so the tile's six rows of input (and output) are `spacing`
        // pixels apart and each advances one pixel per tile: six long
        // sequential streams the hardware prefetcher follows, where six
        // neighbouring pixels per tile made short streams that restarted at
        // every tile.
        let pixels = g.outHeight * g.outWidth, spacing = 32, span = tile * spacing
        let jobsPerImage = (pixels + span - 1) / span
        let jobs = g.batch * jobsPerImage, groups = Swift.max(1, Swift.min(Parallelism.maxThreads * groupsPerThread, jobs))
        parallelFor(chunks: groups, work: g.multiplyAdds) { group in
          for job in group * jobs / groups..<(group + 1) * jobs / groups {
            let (i, first) = (job / jobsPerImage, job % jobsPerImage * span)
            let count = Swift.min(span, pixels - first), step = (count + tile - 1) / tile
            let image = px.value + i * g.height * g.width * g.channels
            withUnsafeTemporaryAllocation(of: UnsafePointer<S>.self, capacity: taps * tile) { table in
                let table = table.baseAddress!
                for t in 0..<step {
                    let rows = Swift.min(tile, (count - t + step - 1) / step)
                    for r in 0..<tile {
                        let pixel = first + t + Swift.min(r, rows - 1) * step, (h, v) = (pixel / g.outWidth, pixel % g.outWidth)
                        let top = h * g.strideH - g.padTop, left = v * g.strideW - g.padLeft
                        if top >= 0 && top + g.filterHeight <= g.height && left >= 0 && left + g.filterWidth <= g.width {
                            // Every tap inside the image (most pixels): the window's rows from one
                            // origin, no per-tap bounds checks (3×3 64 → 64 on N32 56²: the table
                            // had cost ~6 % of the forward; 16.0–16.6 → 15.2–15.3 ms).
                            var rowStart = image + (top * g.width + left) * g.channels, entry = r
                            for _ in 0..<g.filterHeight {
                                var tap = rowStart
                                for _ in 0..<g.filterWidth {
                                    table[entry] = UnsafePointer(tap)
                                    tap += g.channels
                                    entry += tile
                                }
                                rowStart += g.width * g.channels
                            }
                            continue
                        }
                        for a in 0..<g.filterHeight {
                            let row = top + a
                            let rowInside = row >= 0 && row < g.height
                            for b in 0..<g.filterWidth {
                                let column = left + b
                                table[(a * g.filterWidth + b) * tile + r] = rowInside && column >= 0 && column < g.width
                                    ? image + (row * g.width + column) * g.channels : pzeros.value
                            }
                        }
                    }
                    let out = py.value + (i * pixels + first + t) * filters
                    for j in 0..<wideBlocks {
                        MicroKernels.indirect6x4(taps, g.channels, UnsafePointer(table), ppacked.value + 2 * j * depth * width,
                                                 out + 2 * j * width, step * filters, rows: rows, V.self, F.self)
                    }
                    for j in (2 * wideBlocks)..<blocks {
                        MicroKernels.indirect6x2(taps, g.channels, UnsafePointer(table), ppacked.value + j * depth * width, out + j * width, step * filters,
                                                 rows: rows, columns: Swift.min(width, filters - j * width), V.self, F.self)
                    }
                }
            }
          }
        }
    }
}

extension MicroKernels {
    /// C[0..<6, 0..<2w] = Σ over `taps` table entries and `channels`: the
    /// indirect form of ``microKernel6x2(_:_:panelStep:rowBytes:stepBytes:_:bStride:_:_:_:rows:columns:cTransposed:accumulate:_:_:_:)``.
    /// For tap `t`, row `r` reads its `channels` A values contiguously from
    /// `table[6t + r]`; B is one packed `(taps · channels) × 2w` panel.
    @inline(never)
    static func indirect6x2<V: SIMD, F: MultiplyAdd>(
        _ taps: Int, _ channels: Int, _ table: UnsafePointer<UnsafePointer<V.Scalar>>, _ b: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, rows: Int, columns: Int, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V(), c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V()
        var pb = UnsafeRawPointer(b)
        let half = w * MemoryLayout<V.Scalar>.stride, bBytes = 2 * half
        for t in 0..<taps {
            let p0 = table[6 * t], p1 = table[6 * t + 1], p2 = table[6 * t + 2]
            let p3 = table[6 * t + 3], p4 = table[6 * t + 4], p5 = table[6 * t + 5]
            for k in 0..<channels {
                let b0 = pb.loadUnaligned(as: V.self)
                let b1 = pb.loadUnaligned(fromByteOffset: half, as: V.self)
                let a0 = V(repeating: p0[k])
                c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
                let a1 = V(repeating: p1[k])
                c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
                let a2 = V(repeating: p2[k])
                c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
                let a3 = V(repeating: p3[k])
                c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
                let a4 = V(repeating: p4[k])
                c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
                let a5 = V(repeating: p5[k])
                c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
                pb += bBytes
            }
        }
        if rows == 6 && columns == 2 * w {
            update(c + 0 * ldc, c0_0, c0_1, w, false)
            update(c + 1 * ldc, c1_0, c1_1, w, false)
            update(c + 2 * ldc, c2_0, c2_1, w, false)
            update(c + 3 * ldc, c3_0, c3_1, w, false)
            update(c + 4 * ldc, c4_0, c4_1, w, false)
            update(c + 5 * ldc, c5_0, c5_1, w, false)
        } else {
            addSixRows((c0_0, c0_1, c1_0, c1_1, c2_0, c2_1, c3_0, c3_1, c4_0, c4_1, c5_0, c5_1),
                       c, ldc, rows: rows, columns: columns, cTransposed: false, accumulate: false)
        }
    }
}

extension MicroKernels {
    /// ``indirect6x2(_:_:_:_:_:_:rows:columns:_:_:)`` four vectors wide: C[0..<6, 0..<4w]
    /// from one packed `(taps · channels) × 4w` panel, 24 accumulators (for 32
    /// vector registers). Each value is summed in the same order as by the
    /// two-vector kernel, so the two give the same bits.
    @inline(never)
    static func indirect6x4<V: SIMD, F: MultiplyAdd>(
        _ taps: Int, _ channels: Int, _ table: UnsafePointer<UnsafePointer<V.Scalar>>, _ b: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, rows: Int, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0_0 = V(), c0_1 = V(), c0_2 = V(), c0_3 = V(), c1_0 = V(), c1_1 = V(), c1_2 = V(), c1_3 = V()
        var c2_0 = V(), c2_1 = V(), c2_2 = V(), c2_3 = V(), c3_0 = V(), c3_1 = V(), c3_2 = V(), c3_3 = V()
        var c4_0 = V(), c4_1 = V(), c4_2 = V(), c4_3 = V(), c5_0 = V(), c5_1 = V(), c5_2 = V(), c5_3 = V()
        var pb = UnsafeRawPointer(b)
        let vector = w * MemoryLayout<V.Scalar>.stride, bBytes = 4 * vector
        for t in 0..<taps {
            let p0 = table[6 * t], p1 = table[6 * t + 1], p2 = table[6 * t + 2]
            let p3 = table[6 * t + 3], p4 = table[6 * t + 4], p5 = table[6 * t + 5]
            for k in 0..<channels {
                let b0 = pb.loadUnaligned(as: V.self)
                let b1 = pb.loadUnaligned(fromByteOffset: vector, as: V.self)
                let b2 = pb.loadUnaligned(fromByteOffset: 2 * vector, as: V.self)
                let b3 = pb.loadUnaligned(fromByteOffset: 3 * vector, as: V.self)
                let a0 = V(repeating: p0[k])
                c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
                c0_2 = F.multiplyAdd(c0_2, a0, b2); c0_3 = F.multiplyAdd(c0_3, a0, b3)
                let a1 = V(repeating: p1[k])
                c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
                c1_2 = F.multiplyAdd(c1_2, a1, b2); c1_3 = F.multiplyAdd(c1_3, a1, b3)
                let a2 = V(repeating: p2[k])
                c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
                c2_2 = F.multiplyAdd(c2_2, a2, b2); c2_3 = F.multiplyAdd(c2_3, a2, b3)
                let a3 = V(repeating: p3[k])
                c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
                c3_2 = F.multiplyAdd(c3_2, a3, b2); c3_3 = F.multiplyAdd(c3_3, a3, b3)
                let a4 = V(repeating: p4[k])
                c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
                c4_2 = F.multiplyAdd(c4_2, a4, b2); c4_3 = F.multiplyAdd(c4_3, a4, b3)
                let a5 = V(repeating: p5[k])
                c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
                c5_2 = F.multiplyAdd(c5_2, a5, b2); c5_3 = F.multiplyAdd(c5_3, a5, b3)
                pb += bBytes
            }
        }
        // Rows beyond `rows` are the tile's padding (their table entries repeat the last pixel).
        if rows > 0 { update(c, c0_0, c0_1, w, false); update(c + 2 * w, c0_2, c0_3, w, false) }
        if rows > 1 { update(c + ldc, c1_0, c1_1, w, false); update(c + ldc + 2 * w, c1_2, c1_3, w, false) }
        if rows > 2 { update(c + 2 * ldc, c2_0, c2_1, w, false); update(c + 2 * ldc + 2 * w, c2_2, c2_3, w, false) }
        if rows > 3 { update(c + 3 * ldc, c3_0, c3_1, w, false); update(c + 3 * ldc + 2 * w, c3_2, c3_3, w, false) }
        if rows > 4 { update(c + 4 * ldc, c4_0, c4_1, w, false); update(c + 4 * ldc + 2 * w, c4_2, c4_3, w, false) }
        if rows > 5 { update(c + 5 * ldc, c5_0, c5_1, w, false); update(c + 5 * ldc + 2 * w, c5_2, c5_3, w, false) }
    }
}

// MARK: Filter gradient

extension IndirectConvolutionKernels {
    /// Whether ``filterGradient(_:_:_:_:kernel:)`` serves this geometry: at
    /// least six input channels and one panel of filters (1×1 filters too:
    /// `Xᵀ·dY` read in place beats packing `Xᵀ`).
    static func servesFilterGradient<S: TensorScalar>(_ g: Convolution2DGeometry, kernel: GEMMKernel, _: S.Type) -> Bool {
        g.channels >= tile && g.filters >= panelWidth(S.self, kernel: kernel)
    }

    /// Filters (or patch columns) per panel: two vectors, of 256 bits for the
    /// 6-row micro-kernel family, of 512 bits for the wide one.
    static func panelWidth<S: TensorScalar>(_: S.Type, kernel: GEMMKernel) -> Int {
        (S.scalarType == .float32 ? 16 : 8) * (kernel.isWide ? 2 : 1)
    }

    /// `dW = Pᵀ·dY` without packing either operand. Pᵀ's rows are (tap,
    /// channel) pairs; consecutive channels of one tap are contiguous values
    /// of each input pixel, so a micro-tile of dW (six channels of one tap —
    /// eight when 8 divides `n_C_prev` and the vectors are 512-bit — × two
    /// vectors of filters) reads A as
    /// broadcasts from one pointer that steps a pixel (`s · n_C_prev`) per
    /// output pixel, and B as the output gradient's contiguous filters,
    /// stepping `n_C` per pixel. Each image (or group of rows, for small
    /// batches) sums into its own copy in bands of four output rows (the
    /// band's input and gradient rows stay in L2 while every tile passes over
    /// them); the copies are added in order, so the bits do not depend on the
    /// thread count. Partial tiles (channels or filters not a multiple of the
    /// tile) are computed shifted back inside the tensor into a local tile,
    /// of which only the new rows or columns are added.
    static func filterGradient<S: TensorScalar>(
        _ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ dw: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry, kernel: GEMMKernel
    ) {
        FilterGradient.dispatch(dy, x, dw, g, kernel: kernel)
    }

    enum FilterGradient: VectorizedConvolution {
        static func run<V: SIMD, F: MultiplyAdd>(
            _ dy: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ dw: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
            _: V.Type, _: F.Type
        ) where V.Scalar: TensorScalar {
            IndirectConvolutionKernels.filterGradient(dy, x, dw, g, V.self, F.self)
        }
    }

    static func filterGradient<V: SIMD, F: MultiplyAdd>(
        _ dy: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ dw: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        let width = 2 * V.scalarCount, channels = g.channels, filters = g.filters
        let size = g.taps * filters
        guard g.batch > 0 && g.outHeight > 0 && g.outWidth > 0 else {
            dw.initialize(repeating: 0, count: size)
            return
        }
        // Work units: each image, or for small batches each group of bands of
        // an image (at least 16 units when the rows allow). Chunks of
        // consecutive units each sum into their own copy of dW — at most 64
        // copies and 2²⁴ scalars in all (a 3×3 512 → 512 layer: six). All of
        // it is a function of the shape alone, so the sums' order never
        // follows the thread count.
        let band = 4, bands = (g.outHeight + band - 1) / band
        // Eight channels per micro-tile when they divide n_C_prev (every power of two from 8):
        // two fewer loads per sixteen multiply-adds than six, and no shifted last tile. Only
        // with 512-bit vectors: its 16 accumulators need the 32 registers of AVX-512, and with
        // 256-bit vectors (16 registers: AVX2's 6 × 16 kernel family, Double's 6 × 8) they
        // spill. Zen 3, AVX2, two threads, one build switched by the environment, two
        // alternations: 3×3 64 → 64 N32 56×56 dW 91.9–94.3 ms with eight rows against
        // 49.3–49.6 with six; 1×1 64 → 256 dW 48.2–49.8 against 25.6–29.0.
        let rowsPerTile = channels % 8 == 0 && RegisterFile.hasWideVectors(V.self) ? 8 : Self.tile
        let filterPanels = (filters + width - 1) / width, channelTiles = (channels + rowsPerTile - 1) / rowsPerTile
        let groups = Swift.min(bands, (16 + g.batch - 1) / g.batch), bandsPerGroup = (bands + groups - 1) / groups
        let units = g.batch * groups
        let chunkLimit = Swift.max(1, Swift.min(64, (1 << 24) / size))
        let unitsPerChunk = (units + chunkLimit - 1) / chunkLimit, chunks = (units + unitsPerChunk - 1) / unitsPerChunk
        let sums = UnsafeMutablePointer<S>.allocate(capacity: chunks * size)
        defer { sums.deallocate() }
        let (pdy, px, psums) = (UncheckedSendable(dy), UncheckedSendable(x), UncheckedSendable(sums))
        parallelFor(chunks: chunks, work: g.multiplyAdds) { chunk in
            let imageSums = psums.value + chunk * size
            imageSums.initialize(repeating: 0, count: size)
            for unit in (chunk * unitsPerChunk)..<Swift.min(units, (chunk + 1) * unitsPerChunk) {
                let (i, group) = (unit / groups, unit % groups)
                let image = px.value + i * g.height * g.width * channels
                let gradients = pdy.value + i * g.outHeight * g.outWidth * filters
                withUnsafeTemporaryAllocation(of: S.self, capacity: rowsPerTile * width) { local in
                    let local = local.baseAddress!
                    let firstRow = group * bandsPerGroup * band, endRow = Swift.min(g.outHeight, (group + 1) * bandsPerGroup * band)
                    for h0 in stride(from: firstRow, to: endRow, by: band) {
                        let h1 = Swift.min(h0 + band, g.outHeight)
                        for a in 0..<g.filterHeight {
                            // Output rows of the band whose input row for tap row a is inside the image.
                            let hLo = Swift.max(h0, ceilingDivision(g.padTop - a, g.strideH))
                            let hHi = Swift.min(h1, floorDivision(g.height - 1 + g.padTop - a, g.strideH) + 1)
                            if hLo >= hHi { continue }
                            for b in 0..<g.filterWidth {
                                let vLo = Swift.max(0, ceilingDivision(g.padLeft - b, g.strideW))
                                let vHi = Swift.min(g.outWidth, floorDivision(g.width - 1 + g.padLeft - b, g.strideW) + 1)
                                if vLo >= vHi { continue }
                                let firstPixel = image + ((hLo * g.strideH - g.padTop + a) * g.width + vLo * g.strideW - g.padLeft + b) * channels
                                let firstGradient = gradients + (hLo * g.outWidth + vLo) * filters
                                let tapRow = (a * g.filterWidth + b) * channels
                                /// The tile of channels `c0..<c0 + rowsPerTile` × filters `j0..<j0 + 2w`.
                                func tile(_ c0: Int, _ j0: Int) {
                                    let c = Swift.min(c0, channels - rowsPerTile)   // shifted back for a partial last tile
                                    let j = Swift.min(j0, filters - width)        // and panel
                                    let whole = c == c0 && j == j0
                                    let target = whole ? imageSums + (tapRow + c) * filters + j : local
                                    if !whole { local.initialize(repeating: 0, count: rowsPerTile * width) }
                                    let (runs, length, pixelStep) = (hHi - hLo, vHi - vLo, g.strideW * channels)
                                    let (rowStep, gradientRowStep, ldc) = (g.strideH * g.width * channels, g.outWidth * filters, whole ? filters : width)
                                    if rowsPerTile == 8 {
                                        MicroKernels.stridedA8x2(
                                            rows: runs, length: length, firstPixel + c, pixelStep: pixelStep, rowStep: rowStep, firstGradient + j,
                                            gradientStep: filters, gradientRowStep: gradientRowStep, target, ldc, V.self, F.self)
                                    } else {
                                        MicroKernels.stridedA6x2(
                                            rows: runs, length: length, firstPixel + c, pixelStep: pixelStep, rowStep: rowStep, firstGradient + j,
                                            gradientStep: filters, gradientRowStep: gradientRowStep, target, ldc, V.self, F.self)
                                    }
                                    if !whole {   // add the tile's rows and columns not covered before
                                        for r in (c0 - c)..<rowsPerTile {
                                            for l in (j0 - j)..<width { imageSums[(tapRow + c + r) * filters + j + l] += local[r * width + l] }
                                        }
                                    }
                                }
                                // The operand passed over more often stays in L1: with more filter
                                // panels than channel tiles (1×1, 64 → 256: 16 vs 11) the panels
                                // go outside (dW 36 → 29 ms), else the tiles (3×3, 64 → 64: 53 vs 61 ms).
                                if filterPanels >= channelTiles {
                                    for j0 in stride(from: 0, to: filters, by: width) {
                                        for c0 in stride(from: 0, to: channels, by: rowsPerTile) { tile(c0, j0) }
                                    }
                                } else {
                                    for c0 in stride(from: 0, to: channels, by: rowsPerTile) {
                                        for j0 in stride(from: 0, to: filters, by: width) { tile(c0, j0) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        dw.initialize(repeating: 0, count: size)
        for chunk in 0..<chunks {
            for t in 0..<size { dw[t] += sums[chunk * size + t] }
        }
    }
}

/// ⌊n / d⌋ and ⌈n / d⌉ for d > 0 and any sign of n (`/` truncates toward zero).
@inline(__always) func floorDivision(_ n: Int, _ d: Int) -> Int { n >= 0 ? n / d : -((-n + d - 1) / d) }
@inline(__always) func ceilingDivision(_ n: Int, _ d: Int) -> Int { -floorDivision(-n, d) }

extension MicroKernels {
    /// C[0..<6, 0..<2w] += Σ_k A[·, k]ᵀ·B[k, ·] where step k walks `rows`
    /// runs of `length`: A's six values at `a` (contiguous), advancing
    /// `pixelStep` per step and `rowStep` per run; B's 2w values at `b`,
    /// advancing `gradientStep` per step and `gradientRowStep` per run. The
    /// filter gradient's tile: six channels of one tap × 2w filters.
    @inline(never)
    static func stridedA6x2<V: SIMD, F: MultiplyAdd>(
        rows: Int, length: Int, _ a: UnsafePointer<V.Scalar>, pixelStep: Int, rowStep: Int,
        _ b: UnsafePointer<V.Scalar>, gradientStep: Int, gradientRowStep: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V(), c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V()
        let half = w * MemoryLayout<V.Scalar>.stride
        for run in 0..<rows {
            var pa = a + run * rowStep
            var pb = UnsafeRawPointer(b + run * gradientRowStep)
            let bBytes = gradientStep * MemoryLayout<V.Scalar>.stride
            for _ in 0..<length {
                let b0 = pb.loadUnaligned(as: V.self)
                let b1 = pb.loadUnaligned(fromByteOffset: half, as: V.self)
                let a0 = V(repeating: pa[0])
                c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
                let a1 = V(repeating: pa[1])
                c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
                let a2 = V(repeating: pa[2])
                c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
                let a3 = V(repeating: pa[3])
                c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
                let a4 = V(repeating: pa[4])
                c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
                let a5 = V(repeating: pa[5])
                c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
                pa += pixelStep
                pb += bBytes
            }
        }
        update(c + 0 * ldc, c0_0, c0_1, w, true)
        update(c + 1 * ldc, c1_0, c1_1, w, true)
        update(c + 2 * ldc, c2_0, c2_1, w, true)
        update(c + 3 * ldc, c3_0, c3_1, w, true)
        update(c + 4 * ldc, c4_0, c4_1, w, true)
        update(c + 5 * ldc, c5_0, c5_1, w, true)
    }
}

extension MicroKernels {
    /// ``stridedA6x2(rows:length:_:pixelStep:rowStep:_:gradientStep:gradientRowStep:_:_:_:_:)``
    /// with eight channels per tile: 16 accumulators, ten loads per sixteen
    /// multiply-adds (six rows: eight per twelve). For 512-bit vectors only:
    /// with 256-bit ones the accumulators alone fill AVX2's 16 registers.
    @inline(never)
    static func stridedA8x2<V: SIMD, F: MultiplyAdd>(
        rows: Int, length: Int, _ a: UnsafePointer<V.Scalar>, pixelStep: Int, rowStep: Int,
        _ b: UnsafePointer<V.Scalar>, gradientStep: Int, gradientRowStep: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V()
        var c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V(), c6_0 = V(), c6_1 = V(), c7_0 = V(), c7_1 = V()
        let half = w * MemoryLayout<V.Scalar>.stride
        for run in 0..<rows {
            var pa = a + run * rowStep
            var pb = UnsafeRawPointer(b + run * gradientRowStep)
            let bBytes = gradientStep * MemoryLayout<V.Scalar>.stride
            for _ in 0..<length {
                let b0 = pb.loadUnaligned(as: V.self)
                let b1 = pb.loadUnaligned(fromByteOffset: half, as: V.self)
                let a0 = V(repeating: pa[0])
                c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
                let a1 = V(repeating: pa[1])
                c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
                let a2 = V(repeating: pa[2])
                c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
                let a3 = V(repeating: pa[3])
                c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
                let a4 = V(repeating: pa[4])
                c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
                let a5 = V(repeating: pa[5])
                c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
                let a6 = V(repeating: pa[6])
                c6_0 = F.multiplyAdd(c6_0, a6, b0); c6_1 = F.multiplyAdd(c6_1, a6, b1)
                let a7 = V(repeating: pa[7])
                c7_0 = F.multiplyAdd(c7_0, a7, b0); c7_1 = F.multiplyAdd(c7_1, a7, b1)
                pa += pixelStep
                pb += bBytes
            }
        }
        update(c + 0 * ldc, c0_0, c0_1, w, true)
        update(c + 1 * ldc, c1_0, c1_1, w, true)
        update(c + 2 * ldc, c2_0, c2_1, w, true)
        update(c + 3 * ldc, c3_0, c3_1, w, true)
        update(c + 4 * ldc, c4_0, c4_1, w, true)
        update(c + 5 * ldc, c5_0, c5_1, w, true)
        update(c + 6 * ldc, c6_0, c6_1, w, true)
        update(c + 7 * ldc, c7_0, c7_1, w, true)
    }
}

// MARK: Input gradient of disjoint windows

extension IndirectConvolutionKernels {
    /// Whether ``disjointInputGradient(_:_:_:_:kernel:)`` serves this
    /// geometry: windows that neither overlap nor leave gaps between them
    /// (stride equal to the filter size, no padding: the 2×2 stride-2
    /// transposed convolution of U-Net, patch embeddings), on the 6-row
    /// micro-kernel, with a window row's `f_w · n_C_prev` values a whole
    /// number of micro-tile columns. (1×1 filters keep the indirect product
    /// over tiles that run across row ends.)
    static func servesDisjointInputGradient<S: TensorScalar>(_ g: Convolution2DGeometry, kernel: GEMMKernel, _: S.Type) -> Bool {
        let width = panelWidth(S.self, kernel: kernel)
        return !g.isPointwise && g.strideH == g.filterHeight && g.strideW == g.filterWidth && g.padTop == 0 && g.padLeft == 0
            && g.filters > 0 && (g.filterWidth * g.channels) % width == 0
    }

    /// `dX` when every input pixel lies in at most one window: the patch
    /// gradient `dP = dY·Wᵀ` written straight into place, nothing added.
    /// For output pixel `(h, v)` the columns of tap row `a` of its patch row,
    /// `(b, c)` for `b < f_w`, are the `f_w · n_C_prev` contiguous values of
    /// `dX` from pixel `(h·f_h + a, v·f_w)`; six neighbouring output pixels
    /// of one row put them `f_w · n_C_prev` apart. So each micro-tile of six
    /// pixels × 2w patch columns is one 1×1 indirect product over the
    /// `n_C` gradient values of the six pixels, stored with that row stride.
    /// Pixels outside every window get zeros. Each value is the sum over
    /// the filters from zero, in order, so the bits do not depend on the
    /// thread count.
    static func disjointInputGradient<S: TensorScalar>(
        _ dy: UnsafePointer<S>, _ w: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry, kernel: GEMMKernel
    ) {
        DisjointInputGradient.dispatch(dy, w, dx, g, kernel: kernel)
    }

    enum DisjointInputGradient: VectorizedConvolution {
        static func run<V: SIMD, F: MultiplyAdd>(
            _ dy: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ dx: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
            _: V.Type, _: F.Type
        ) where V.Scalar: TensorScalar {
            IndirectConvolutionKernels.disjointInputGradient(dy, w, dx, g, V.self, F.self)
        }
    }

    static func disjointInputGradient<V: SIMD, F: MultiplyAdd>(
        _ dy: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ dx: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        let width = 2 * V.scalarCount, depth = g.filters, columns = g.taps
        let rowValues = g.filterWidth * g.channels       // one window row of one pixel: contiguous in dX
        let panels = columns / width
        // Wᵀ as `panels` panels of `n_C` rows × 2w patch columns: B[k, col] = W[col, k].
        let packed = UnsafeMutablePointer<S>.allocate(capacity: panels * depth * width)
        defer { packed.deallocate() }
        for j in 0..<panels {
            for k in 0..<depth {
                for l in 0..<width { packed[(j * depth + k) * width + l] = w[(j * width + l) * depth + k] }
            }
        }
        let imageSize = g.height * g.width * g.channels
        let coveredRows = g.outHeight * g.filterHeight, coveredColumns = g.outWidth * g.filterWidth
        let (pdy, ppacked, pdx) = (UncheckedSendable(dy), UncheckedSendable(UnsafePointer(packed)), UncheckedSendable(dx))
        // One job per output row (its f_h input rows); the rows below the last
        // window with the image's first job.
        let jobsPerImage = Swift.max(1, g.outHeight)
        parallelFor(chunks: g.batch * jobsPerImage, work: g.multiplyAdds) { job in
            let (i, h) = (job / jobsPerImage, job % jobsPerImage)
            let image = pdx.value + i * imageSize
            if h == 0 && coveredRows < g.height {
                (image + coveredRows * g.width * g.channels).initialize(repeating: 0, count: (g.height - coveredRows) * g.width * g.channels)
            }
            guard h < g.outHeight else { return }   // no windows at all: all zeros above
            if coveredColumns < g.width {   // the columns right of the last window in this job's rows (all, if none)
                for a in 0..<g.filterHeight {
                    (image + ((h * g.filterHeight + a) * g.width + coveredColumns) * g.channels)
                        .initialize(repeating: 0, count: (g.width - coveredColumns) * g.channels)
                }
            }
            let gradients = pdy.value + (i * g.outHeight + h) * g.outWidth * depth
            withUnsafeTemporaryAllocation(of: UnsafePointer<S>.self, capacity: tile) { table in
                let table = table.baseAddress!
                for v0 in stride(from: 0, to: g.outWidth, by: tile) {
                    // A last partial tile is shifted back over pixels already written (same bits).
                    let v = Swift.max(0, Swift.min(v0, g.outWidth - tile)), rows = Swift.min(tile, g.outWidth - v)
                    for r in 0..<tile { table[r] = gradients + (v + Swift.min(r, rows - 1)) * depth }
                    for j in 0..<panels {
                        let column = j * width, (a, offset) = (column / rowValues, column % rowValues)
                        let target = image + ((h * g.filterHeight + a) * g.width + v * g.filterWidth) * g.channels + offset
                        MicroKernels.indirect6x2(1, depth, UnsafePointer(table), ppacked.value + j * depth * width, target, rowValues,
                                                 rows: rows, columns: width, V.self, F.self)
                    }
                }
            }
        }
    }
}
