import Synchronization

/// Winograd's minimal filtering F(2×2, 3×3) for stride-1 3×3 convolutions
/// (A. Lavin and S. Gray, "Fast Algorithms for Convolutional Neural Networks",
/// 2016): each 2 × 2 block of outputs ("tile") is
///
///     Y = Aᵀ [ Σ_c (G g_c Gᵀ) ⊙ (Bᵀ d_c B) ] A
///
/// with `d_c` the tile's 4 × 4 input window in channel c and `g_c` the 3 × 3
/// filter, `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, 1, 0, −1]]`,
/// `G = [[1, 0, 0], [½, ½, ½], [½, −½, ½], [0, 0, 1]]`,
/// `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, −1]]`. The sum over channels is, for each of
/// the 16 positions ξ of the transformed tile, a product `M_ξ = V_ξ·U_ξ`
/// (tiles × n_C_prev by n_C_prev × n_C): 16 multiply-adds per 4 outputs and
/// filter–channel pair instead of 36, 2.25× fewer.
///
/// Blocks of 48 tiles go through L2 together: their input transforms `V`
/// (16 × 48 × n_C_prev), the 16 products on the indirect convolution's
/// micro-kernels (a "table" of six tiles' rows of `V_ξ`, one tap of
/// n_C_prev channels) into `M` (16 × 48 × n_C), and the output transforms.
/// Every tile is computed the same way whichever thread takes it, so the bits
/// do not depend on the thread count; they differ from the direct algorithm's
/// by rounding. Against a Double reference (N8 C64 56² K64, normal inputs)
/// its Float outputs are off by 2.6e-7 of the outputs' RMS (RMS of the
/// errors; the direct algorithm in Float 4.3e-7, its 576-term sums being
/// longer than Winograd's 64-term ones), 2.0e-6 at most (direct 5.7e-6). A non-finite input or weight spreads to the
/// whole 2 × 2 tile as NaN (∞ − ∞ in the transforms), where the direct
/// algorithm gives ±∞ to the outputs whose window holds it.
///
/// Tried for the filter gradient and not kept: F(3×3, 2×2) (input windows and
/// 2 × 2 blocks of output gradients transformed, `P_ξ += V_ξᵀ·Ũ_ξ` per block of
/// 64 tiles on the library's single-thread GEMM, eight partial sums added in
/// order) agreed with the loop path but read 17.5–19.9 ms against the direct
/// kernel's 18.4–19.1 (N32 C64 56² K64): packing the transposed `V_ξ` for
/// each small product took 18 % of it. A micro-kernel broadcasting `V_ξ` in
/// place, with `Ũ_ξ` written straight into packed panels, would avoid that.
enum WinogradConvolutionKernels {
    /// Tiles per block (a multiple of the micro-kernel's six rows).
    static let blockTiles = 48

    /// Whether the vectorized forward pass takes this algorithm: a 3×3 filter,
    /// stride 1, channels and filters whole vectors (at least 16 channels and
    /// more than 16 filters: up to 16, the direct kernel runs first), unless
    /// ``ConvolutionConfiguration/usesWinograd`` is off — and only where it was
    /// measured faster (N32, two cores, direct → Winograd ms): n_C_prev·n_C ≥ 1024
    /// (C16 32² K32: 0.97 → 0.96, C16 56² K64 4.0 → 2.7), the transformed filter
    /// within 2 MiB (C128 28² K256: 30.0 → 16.1; C256 14² K256, 4 MiB: 16.9 → 17.7),
    /// at least 48 tiles (14 × 14 outputs) per image (C128 14² K128: 3.7 → 2.7;
    /// C64 7² K64: 0.28 → 0.61 before blocks spanned images, and not measured
    /// faster since).
    static func serves<S: TensorScalar>(_ g: Convolution2DGeometry, kernel: GEMMKernel, _: S.Type) -> Bool {
        let lanes = (kernel.isWide ? 64 : 32) / MemoryLayout<S>.stride
        let tilesPerImage = ((g.outHeight + 1) / 2) * ((g.outWidth + 1) / 2)
        return ConvolutionConfiguration.usesWinograd && g.filterHeight == 3 && g.filterWidth == 3 && g.strideH == 1 && g.strideW == 1
            && g.channels >= 16 && g.filters > 16 && g.channels % lanes == 0 && g.filters % lanes == 0
            && g.channels * g.filters >= 1024 && 16 * g.channels * g.filters * MemoryLayout<S>.stride <= 2 << 20
            && tilesPerImage >= 48
    }

    static func forward<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry,
                                         kernel: GEMMKernel) {
        Forward.dispatch(x, w, y, g, kernel: kernel)
    }

    enum Forward: VectorizedConvolution {
        static func run<V: SIMD, F: MultiplyAdd>(
            _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
            _: V.Type, _: F.Type
        ) where V.Scalar: TensorScalar {
            WinogradConvolutionKernels.run(x, w, y, g, V.self, F.self)
        }
    }

    /// `U_ξ = (G g Gᵀ)_ξ` for every channel and filter, as 16 matrices n_C_prev × n_C.
    static func transformFilter<S: TensorScalar>(_ w: UnsafePointer<S>, _ u: UnsafeMutablePointer<S>, channels: Int, filters: Int) {
        let plane = channels * filters
        var rows = [S](repeating: 0, count: 12)
        for c in 0..<channels {
            for k in 0..<filters {
                @inline(__always) func tap(_ a: Int, _ b: Int) -> S { w[(a * 3 + b) * plane + c * filters + k] }
                // G·g: four rows of three; then each row r to (r0, (r0+r1+r2)/2, (r0−r1+r2)/2, r2).
                for b in 0..<3 {
                    let (g0, g1, g2) = (tap(0, b), tap(1, b), tap(2, b))
                    rows[b] = g0; rows[3 + b] = (g0 + g1 + g2) / 2; rows[6 + b] = (g0 - g1 + g2) / 2; rows[9 + b] = g2
                }
                for a in 0..<4 {
                    let (r0, r1, r2) = (rows[3 * a], rows[3 * a + 1], rows[3 * a + 2])
                    let out = u + (a * 4) * plane + c * filters + k
                    out[0] = r0
                    out[plane] = (r0 + r1 + r2) / 2
                    out[2 * plane] = (r0 - r1 + r2) / 2
                    out[3 * plane] = r2
                }
            }
        }
    }

    static func run<V: SIMD, F: MultiplyAdd>(
        _ x: UnsafePointer<V.Scalar>, _ w: UnsafePointer<V.Scalar>, _ y: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        if g.batch == 0 { return }
        let lanes = V.scalarCount, width = 2 * lanes
        let (channels, filters) = (g.channels, g.filters)
        // Filter: transformed, then each U_ξ packed as the indirect kernels' panels.
        let wideBlocks = lanes * MemoryLayout<S>.stride == 64 ? filters / (2 * width) : 0
        let blocks = 2 * wideBlocks + (filters - 2 * width * wideBlocks + width - 1) / width
        let panelsSize = blocks * channels * width
        let packed = UnsafeMutablePointer<S>.allocate(capacity: 16 * panelsSize)
        defer { packed.deallocate() }
        do {
            let u = UnsafeMutablePointer<S>.allocate(capacity: 16 * channels * filters)
            defer { u.deallocate() }
            transformFilter(w, u, channels: channels, filters: filters)
            for xi in 0..<16 {
                IndirectConvolutionKernels.packFilterPanels(UnsafePointer(u + xi * channels * filters), depth: channels, filters: filters,
                                                            width: width, wideBlocks: wideBlocks, into: packed + xi * panelsSize)
            }
        }
        let zeros = UnsafeMutablePointer<S>.allocate(capacity: channels)
        zeros.initialize(repeating: 0, count: channels)
        defer { zeros.deallocate() }
        let tileRows = (g.outHeight + 1) / 2, tileColumns = (g.outWidth + 1) / 2
        let tilesPerImage = tileRows * tileColumns
        let T = blockTiles
        // Blocks of T consecutive tiles of the whole batch (across image ends: small images
        // still fill whole blocks).
        let tiles = g.batch * tilesPerImage, jobs = (tiles + T - 1) / T
        let groups = Swift.max(1, Swift.min(Parallelism.maxThreads * IndirectConvolutionKernels.groupsPerThread, jobs))
        let (px, ppacked, pzeros, py) = (UncheckedSendable(x), UncheckedSendable(UnsafePointer(packed)),
                                         UncheckedSendable(UnsafePointer(zeros)), UncheckedSendable(y))
        // The 16 planes of V and of M: one cache line more than their rows, so that a tile's
        // 16 values (written and read together) fall in 16 different L1 sets — T·n_C Floats
        // are a multiple of 4 KiB, one set.
        let line = 64 / MemoryLayout<S>.stride
        let vPlane = T * channels + line, mPlane = T * filters + line
        let bytes = 16 * (vPlane + mPlane) * MemoryLayout<S>.stride
        // A block's input rows and output rows: contiguous runs of whole image rows (images
        // follow each other in memory, so a block across an image end is one run too).
        let (inputRow, outputRow) = (g.width * channels * MemoryLayout<S>.stride, g.outWidth * filters * MemoryLayout<S>.stride)
        func regions(_ job: Int) -> (input: UnsafeRawPointer, inputBytes: Int, output: UnsafeRawPointer, outputBytes: Int) {
            let first = job * T, last = Swift.min(tiles, first + T) - 1
            let (firstImage, firstRow) = (first / tilesPerImage, first % tilesPerImage / tileColumns)
            let (lastImage, lastRow) = (last / tilesPerImage, last % tilesPerImage / tileColumns)
            let top = firstImage * g.height + Swift.max(0, 2 * firstRow - g.padTop)
            let bottom = lastImage * g.height + Swift.min(g.height, 2 * lastRow - g.padTop + 4)
            let (outputStart, outputEnd) = (firstImage * g.outHeight + 2 * firstRow, lastImage * g.outHeight + Swift.min(g.outHeight, 2 * lastRow + 2))
            return (UnsafeRawPointer(px.value) + top * inputRow, Swift.max(0, bottom - top) * inputRow,
                    UnsafeRawPointer(py.value) + outputStart * outputRow, (outputEnd - outputStart) * outputRow)
        }
        parallelFor(chunks: groups, work: g.multiplyAdds) { group in
          PackingBufferPool.shared.withBuffer(bytes: bytes) { raw in
            let v = raw.assumingMemoryBound(to: S.self), m = v + 16 * vPlane
            let lastJob = (group + 1) * jobs / groups - 1
            for job in group * jobs / groups...lastJob {
                let firstTile = job * T, count = Swift.min(T, tiles - firstTile)
                // While the products run: the next block's input and this block's output lines.
                let here = regions(job), next = job < lastJob ? regions(job + 1) : nil
                let prefetch = RowPrefetch(input: next?.input, inputBytes: next?.inputBytes ?? 0,
                                           output: here.output, outputBytes: here.outputBytes, groups: 16)
                // Input transforms: V_ξ[t] = (Bᵀ d B)_ξ, channels a vector at a time.
                for t in 0..<count {
                    let (i, tile) = ((firstTile + t) / tilesPerImage, (firstTile + t) % tilesPerImage)
                    let image = px.value + i * g.height * g.width * channels
                    let top = (tile / tileColumns) * 2 - g.padTop, left = (tile % tileColumns) * 2 - g.padLeft
                    withUnsafeTemporaryAllocation(of: UnsafePointer<S>.self, capacity: 16) { window in
                        for a in 0..<4 {
                            let row = top + a
                            for b in 0..<4 {
                                let column = left + b
                                window[a * 4 + b] = row >= 0 && row < g.height && column >= 0 && column < g.width
                                    ? image + (row * g.width + column) * channels : pzeros.value
                            }
                        }
                        let out = v + t * channels
                        var c = 0
                        while c < channels {
                            transformInput(window.baseAddress!, c, out + c, stride: vPlane, V.self)
                            c += lanes
                        }
                    }
                }
                // The 16 products M_ξ = V_ξ·U_ξ, six tiles at a time.
                withUnsafeTemporaryAllocation(of: UnsafePointer<S>.self, capacity: 6) { table in
                    let table = table.baseAddress!
                    for xi in 0..<16 {
                        let vXi = v + xi * vPlane, mXi = m + xi * mPlane, panels = ppacked.value + xi * panelsSize
                        prefetch.fetch(group: xi)
                        var t = 0
                        while t < count {
                            let rows = Swift.min(6, count - t)
                            for r in 0..<6 { table[r] = UnsafePointer(vXi + (t + Swift.min(r, rows - 1)) * channels) }
                            let out = mXi + t * filters
                            for j in 0..<wideBlocks {
                                MicroKernels.indirect6x4(1, channels, UnsafePointer(table), panels + 2 * j * channels * width,
                                                         out + 2 * j * width, filters, rows: rows, V.self, F.self)
                            }
                            for j in (2 * wideBlocks)..<blocks {
                                MicroKernels.indirect6x2(1, channels, UnsafePointer(table), panels + j * channels * width, out + j * width, filters,
                                                         rows: rows, columns: Swift.min(width, filters - j * width), V.self, F.self)
                            }
                            t += 6
                        }
                    }
                }
                // Output transforms: Y = Aᵀ M A, the tile's valid outputs only.
                for t in 0..<count {
                    let (i, tile) = ((firstTile + t) / tilesPerImage, (firstTile + t) % tilesPerImage)
                    let output = py.value + i * g.outHeight * g.outWidth * filters
                    let h = (tile / tileColumns) * 2, col = (tile % tileColumns) * 2
                    let rows = Swift.min(2, g.outHeight - h), columns = Swift.min(2, g.outWidth - col)
                    let source = m + t * filters, target = output + (h * g.outWidth + col) * filters
                    var k = 0
                    while k < filters {
                        transformOutput(source + k, stride: mPlane, target + k, rowStride: g.outWidth * filters, channelStride: filters,
                                        rows: rows, columns: columns, V.self)
                        k += lanes
                    }
                }
            }
          }
        }
    }

    /// `(Bᵀ d B)` for one vector of channels starting at `c` of the 16 window
    /// pixels, stored at `out + ξ·stride`.
    @inline(__always)
    static func transformInput<V: SIMD>(
        _ window: UnsafeMutablePointer<UnsafePointer<V.Scalar>>, _ c: Int, _ out: UnsafeMutablePointer<V.Scalar>, stride: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        @inline(__always) func d(_ a: Int, _ b: Int) -> V { UnsafeRawPointer(window[a * 4 + b] + c).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ xi: Int, _ value: V) { UnsafeMutableRawPointer(out + xi * stride).storeBytes(of: value, as: V.self) }
        // Bᵀ d, column by column: e_b = Bᵀ·(d_0b, d_1b, d_2b, d_3b).
        @inline(__always) func rowsOf(_ b: Int) -> (V, V, V, V) {
            let (d0, d1, d2, d3) = (d(0, b), d(1, b), d(2, b), d(3, b))
            return (d0 - d2, d1 + d2, d2 - d1, d1 - d3)
        }
        let e0 = rowsOf(0), e1 = rowsOf(1), e2 = rowsOf(2), e3 = rowsOf(3)
        let r0 = (e0.0, e1.0, e2.0, e3.0), r1 = (e0.1, e1.1, e2.1, e3.1)
        let r2 = (e0.2, e1.2, e2.2, e3.2), r3 = (e0.3, e1.3, e2.3, e3.3)
        // (Bᵀ d) B: columns.
        @inline(__always) func columns(_ a: Int, _ r: (V, V, V, V)) {
            store(a * 4 + 0, r.0 - r.2)
            store(a * 4 + 1, r.1 + r.2)
            store(a * 4 + 2, r.2 - r.1)
            store(a * 4 + 3, r.1 - r.3)
        }
        columns(0, r0); columns(1, r1); columns(2, r2); columns(3, r3)
    }

    /// `Aᵀ M A` for one vector of filters: `M_ξ` at `source + ξ·stride`; the
    /// `rows × columns` valid outputs of the 2 × 2 tile stored at `target`.
    @inline(__always)
    static func transformOutput<V: SIMD>(
        _ source: UnsafeMutablePointer<V.Scalar>, stride: Int, _ target: UnsafeMutablePointer<V.Scalar>,
        rowStride: Int, channelStride: Int, rows: Int, columns: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        @inline(__always) func m(_ a: Int, _ b: Int) -> V { UnsafeRawPointer(source + (a * 4 + b) * stride).loadUnaligned(as: V.self) }
        // Aᵀ M: two rows of four.
        let s0 = (m(0, 0) + m(1, 0) + m(2, 0), m(0, 1) + m(1, 1) + m(2, 1), m(0, 2) + m(1, 2) + m(2, 2), m(0, 3) + m(1, 3) + m(2, 3))
        let s1 = (m(1, 0) - m(2, 0) - m(3, 0), m(1, 1) - m(2, 1) - m(3, 1), m(1, 2) - m(2, 2) - m(3, 2), m(1, 3) - m(2, 3) - m(3, 3))
        @inline(__always) func store(_ a: Int, _ b: Int, _ value: V) {
            UnsafeMutableRawPointer(target + a * rowStride + b * channelStride).storeBytes(of: value, as: V.self)
        }
        store(0, 0, s0.0 + s0.1 + s0.2)
        if columns > 1 { store(0, 1, s0.1 - s0.2 - s0.3) }
        if rows > 1 {
            store(1, 0, s1.0 + s1.1 + s1.2)
            if columns > 1 { store(1, 1, s1.1 - s1.2 - s1.3) }
        }
    }
}

/// Process-wide convolution settings.
public enum ConvolutionConfiguration {
    private static let winograd = Atomic<Bool>(true)

    /// Whether stride-1 3×3 convolutions with whole vectors of channels and
    /// filters (≥ 16 each) take Winograd's F(2×2, 3×3) algorithm in the
    /// vectorized forward pass (default `true`; 2.25× fewer multiplications,
    /// results differ from the direct algorithm's by rounding). `false` keeps
    /// every convolution on the direct (indirect-GEMM) algorithm, as PyTorch's
    /// CPU default does.
    public static var usesWinograd: Bool {
        get { winograd.load(ordering: .relaxed) }
        set { winograd.store(newValue, ordering: .relaxed) }
    }
}
