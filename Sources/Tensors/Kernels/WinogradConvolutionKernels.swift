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
/// longer than Winograd's 64-term ones), 2.0e-6 at most (direct 5.7e-6).
/// A non-finite input or weight spreads to the whole 2 × 2 tile as NaN
/// (∞ − ∞ in the transforms), where the direct algorithm gives ±∞ to the
/// outputs whose window holds it.
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
        let lanes = RegisterFile.vectorBytes(kernel) / MemoryLayout<S>.stride
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
        let wideBlocks = RegisterFile.hasWideVectors(V.self) ? filters / (2 * width) : 0
        let blocks = 2 * wideBlocks + (filters - 2 * width * wideBlocks + width - 1) / width
        let panelsSize = blocks * channels * width
        // Scratch from the packing pool: reused across calls instead of fresh pages each time.
        let pool = PackingBufferPool.shared, packedBytes = 16 * panelsSize * MemoryLayout<S>.stride
        let packed = pool.take(bytes: packedBytes).bindMemory(to: S.self, capacity: 16 * panelsSize)
        defer { pool.give(UnsafeMutableRawPointer(packed), bytes: packedBytes) }
        pool.withBuffer(bytes: 16 * channels * filters * MemoryLayout<S>.stride) { raw in
            let u = raw.bindMemory(to: S.self, capacity: 16 * channels * filters)
            transformFilter(w, u, channels: channels, filters: filters)
            for xi in 0..<16 {
                IndirectConvolutionKernels.packFilterPanels(UnsafePointer(u + xi * channels * filters), depth: channels, filters: filters,
                                                            width: width, wideBlocks: wideBlocks, into: packed + xi * panelsSize)
            }
        }
        let zeros = UnsafeMutablePointer<S>.allocate(capacity: channels)
        zeros.initialize(repeating: 0, count: channels)
        defer { zeros.deallocate() }
        let T = blockTiles
        // Blocks of T consecutive tiles of the whole batch (across image ends: small images
        // still fill whole blocks).
        let tiling = WinogradTiling(g, blockTiles: T), tiles = tiling.tiles, jobs = tiling.blocks
        let groups = Swift.max(1, Swift.min(Parallelism.maxThreads * IndirectConvolutionKernels.groupsPerThread, jobs))
        let (px, ppacked, pzeros, py) = (UncheckedSendable(x), UncheckedSendable(UnsafePointer(packed)),
                                         UncheckedSendable(UnsafePointer(zeros)), UncheckedSendable(y))
        // The 16 planes of V and of M: one cache line more than their rows, so that a tile's
        // 16 values (written and read together) fall in 16 different L1 sets — T·n_C Floats
        // are a multiple of 4 KiB, one set.
        let line = 64 / MemoryLayout<S>.stride
        let vPlane = T * channels + line, mPlane = T * filters + line
        let bytes = 16 * (vPlane + mPlane) * MemoryLayout<S>.stride
        parallelFor(chunks: groups, work: g.multiplyAdds) { group in
          PackingBufferPool.shared.withBuffer(bytes: bytes) { raw in
            let v = raw.assumingMemoryBound(to: S.self), m = v + 16 * vPlane
            let lastJob = (group + 1) * jobs / groups - 1
            for job in group * jobs / groups...lastJob {
                let firstTile = job * T, count = Swift.min(T, tiles - firstTile)
                // While the products run: the next block's input and this block's output lines.
                let prefetch = tiling.prefetch(inputOf: job < lastJob ? job + 1 : nil, outputOf: job, input: px.value, output: UnsafePointer(py.value))
                // Input transforms: V_ξ[t] = (Bᵀ d B)_ξ, channels a vector at a time.
                withUnsafeTemporaryAllocation(of: UnsafePointer<S>.self, capacity: 16) { window in
                    let window = window.baseAddress!
                    for t in 0..<count {
                        tiling.fillWindow(window, tile: firstTile + t, input: px.value, zeros: pzeros.value)
                        let out = v + t * channels
                        var c = 0
                        while c < channels {
                            transformInput(window, c, out + c, stride: vPlane, forFilterGradient: false, V.self)
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
                    let (i, h, col) = tiling.origin(firstTile + t)
                    let output = py.value + i * g.outHeight * g.outWidth * filters
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
    /// pixels, stored at `out + ξ·stride`: F(2×2, 3×3)'s `Bᵀ`, or with
    /// `forFilterGradient` F(3×3, 2×2)'s, whose last row is negated
    /// (`[0, −1, 0, 1]` instead of `[0, 1, 0, −1]`).
    @inline(__always)
    static func transformInput<V: SIMD>(
        _ window: UnsafeMutablePointer<UnsafePointer<V.Scalar>>, _ c: Int, _ out: UnsafeMutablePointer<V.Scalar>, stride: Int,
        forFilterGradient: Bool, _: V.Type
    ) where V.Scalar: TensorScalar {
        @inline(__always) func d(_ a: Int, _ b: Int) -> V { UnsafeRawPointer(window[a * 4 + b] + c).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ xi: Int, _ value: V) { UnsafeMutableRawPointer(out + xi * stride).storeBytes(of: value, as: V.self) }
        // Bᵀ d, column by column: e_b = Bᵀ·(d_0b, d_1b, d_2b, d_3b).
        @inline(__always) func rowsOf(_ b: Int) -> (V, V, V, V) {
            let (d0, d1, d2, d3) = (d(0, b), d(1, b), d(2, b), d(3, b))
            return (d0 - d2, d1 + d2, d2 - d1, forFilterGradient ? d3 - d1 : d1 - d3)
        }
        let e0 = rowsOf(0), e1 = rowsOf(1), e2 = rowsOf(2), e3 = rowsOf(3)
        let r0 = (e0.0, e1.0, e2.0, e3.0), r1 = (e0.1, e1.1, e2.1, e3.1)
        let r2 = (e0.2, e1.2, e2.2, e3.2), r3 = (e0.3, e1.3, e2.3, e3.3)
        // (Bᵀ d) B: columns.
        @inline(__always) func columns(_ a: Int, _ r: (V, V, V, V)) {
            store(a * 4 + 0, r.0 - r.2)
            store(a * 4 + 1, r.1 + r.2)
            store(a * 4 + 2, r.2 - r.1)
            store(a * 4 + 3, forFilterGradient ? r.3 - r.1 : r.1 - r.3)
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

/// The 2 × 2 output tiles of a stride-1 3×3 convolution, numbered across the
/// whole batch (row-major in each image), taken in blocks of `blockTiles`.
struct WinogradTiling {
    let g: Convolution2DGeometry, blockTiles: Int
    let tileColumns: Int, tilesPerImage: Int, tiles: Int

    init(_ g: Convolution2DGeometry, blockTiles: Int) {
        (self.g, self.blockTiles) = (g, blockTiles)
        tileColumns = (g.outWidth + 1) / 2
        tilesPerImage = ((g.outHeight + 1) / 2) * tileColumns
        tiles = g.batch * tilesPerImage
    }

    var blocks: Int { (tiles + blockTiles - 1) / blockTiles }

    /// Image, first output row and first output column of tile `tile`.
    @inline(__always)
    func origin(_ tile: Int) -> (image: Int, row: Int, column: Int) {
        let inImage = tile % tilesPerImage
        return (tile / tilesPerImage, (inImage / tileColumns) * 2, (inImage % tileColumns) * 2)
    }

    /// The 16 pixels of tile `tile`'s 4 × 4 input window into `window`
    /// (row-major; `zeros` where the window lies on the padding).
    @inline(__always)
    func fillWindow<S>(_ window: UnsafeMutablePointer<UnsafePointer<S>>, tile: Int, input x: UnsafePointer<S>, zeros: UnsafePointer<S>) {
        let (i, h, column0) = origin(tile)
        let image = x + i * g.height * g.width * g.channels
        for a in 0..<4 {
            let row = h - g.padTop + a
            for b in 0..<4 {
                let column = column0 - g.padLeft + b
                window[a * 4 + b] = row >= 0 && row < g.height && column >= 0 && column < g.width
                    ? image + (row * g.width + column) * g.channels : zeros
            }
        }
    }

    /// Block `block`'s input rows and output rows, each one contiguous run of
    /// whole image rows (images follow each other in memory, so a block across
    /// an image end is one run too), as rows counted from the batch's first.
    func rows(ofBlock block: Int) -> (input: Range<Int>, output: Range<Int>) {
        let first = block * blockTiles, last = Swift.min(tiles, first + blockTiles) - 1
        let (firstImage, firstRow, _) = origin(first), (lastImage, lastRow, _) = origin(last)
        let top = firstImage * g.height + Swift.max(0, firstRow - g.padTop)
        let bottom = Swift.max(top, lastImage * g.height + Swift.min(g.height, lastRow - g.padTop + 4))
        return (top..<bottom, firstImage * g.outHeight + firstRow..<lastImage * g.outHeight + Swift.min(g.outHeight, lastRow + 2))
    }

    /// A prefetch of block `inputBlock`'s input rows (from `x`; none when nil) and block
    /// `outputBlock`'s output rows (at `y`; written or read, `prefetchForWriting` brings
    /// them in either way), in 16 slices.
    func prefetch<S>(inputOf inputBlock: Int?, outputOf outputBlock: Int, input x: UnsafePointer<S>, output y: UnsafePointer<S>) -> RowPrefetch {
        let inputRow = g.width * g.channels * MemoryLayout<S>.stride, outputRow = g.outWidth * g.filters * MemoryLayout<S>.stride
        let input = inputBlock.map { rows(ofBlock: $0).input } ?? 0..<0, output = rows(ofBlock: outputBlock).output
        return RowPrefetch(input: inputBlock == nil ? nil : UnsafeRawPointer(x) + input.lowerBound * inputRow, inputBytes: input.count * inputRow,
                           output: UnsafeRawPointer(y) + output.lowerBound * outputRow, outputBytes: output.count * outputRow, groups: 16)
    }
}

/// Process-wide convolution settings.
public enum ConvolutionConfiguration {
    private static let winograd = Atomic<Bool>(true)

    /// Whether stride-1 3×3 convolutions with whole vectors of channels and
    /// filters (≥ 16 each) take Winograd's F(2×2, 3×3) algorithm in the
    /// vectorized forward pass and stride-1 input gradient, and F(3×3, 2×2)
    /// for the filter gradient where the filters fill whole panels (default
    /// `true`; 2.25× fewer multiplications, results differ from the direct
    /// algorithm's by rounding). `false` keeps every convolution on the
    /// direct (indirect-GEMM) algorithm, as PyTorch's CPU default does.
    public static var usesWinograd: Bool {
        get { winograd.load(ordering: .relaxed) }
        set { winograd.store(newValue, ordering: .relaxed) }
    }
}

// MARK: Filter gradient

/// The filter gradient of a stride-1 3×3 convolution by Winograd's F(3×3, 2×2):
/// each 2 × 2 block of output gradients `D` (per filter) and its 4 × 4 input
/// window `X` (per channel) contribute the 3 × 3 correlation
///
///     dW_tile = Aᵀ [ (G D Gᵀ) ⊙ (Bᵀ X B) ] A
///
/// with `Bᵀ = [[1, 0, −1, 0], [0, 1, 1, 0], [0, −1, 1, 0], [0, −1, 0, 1]]`,
/// `G = [[1, 0], [½, ½], [½, −½], [0, 1]]`, `Aᵀ = [[1, 1, 1, 0], [0, 1, −1, 0],
/// [0, 1, 1, 1]]`, so the sum over tiles is, for each of the 16 positions ξ, a
/// product `P_ξ = V_ξᵀ·Ũ_ξ` (n_C_prev × tiles by tiles × n_C) — 16
/// multiply-adds per tile and channel–filter pair instead of 36. `V_ξ` is
/// broadcast in place (six channels, a tile apart per step) and `Ũ_ξ` is
/// written by its transform straight into panels of four 512-bit or two 256-bit
/// vectors (``gradientPanelWidth(vectorBytes:_:)``). Blocks of tiles are
/// summed into a fixed number of partial `P` (by shape only), added in order,
/// so the bits do not depend on the thread count. N32 C64 56² K64, two threads:
/// 17.8–18.0 ms with the direct kernel, 10.2–10.5 with this. (A first version
/// on the library's GEMM per block and ξ read 17.5–19.9: packing the transposed
/// `V_ξ` for those small products took 18 % of it.)
extension WinogradConvolutionKernels {
    /// Tiles per block of the filter gradient (the depth of its products).
    static let gradientBlockTiles = 64
    /// Partial sums of `P` (at most; fewer for small problems).
    static let gradientChunks = 8

    /// The forward pass's shapes (``serves(_:kernel:_:)``) with filters in whole
    /// panels of the products' micro-tile: four 512-bit vectors (64 Float, 32
    /// Double) for the wide kernel family, two 256-bit vectors (16 Float, 8
    /// Double) for the 6-row one.
    static func servesFilterGradient<S: TensorScalar>(_ g: Convolution2DGeometry, kernel: GEMMKernel, _: S.Type) -> Bool {
        g.filters % gradientPanelWidth(vectorBytes: RegisterFile.vectorBytes(kernel), S.self) == 0 && serves(g, kernel: kernel, S.self)
    }

    /// Filters per panel of the filter gradient's products: four 512-bit
    /// vectors (24 accumulators of AVX-512's 32 registers) or two 256-bit ones
    /// (12 of AVX2's 16). The one rule both ``servesFilterGradient(_:kernel:_:)``
    /// and the kernel read.
    @inline(__always)
    static func gradientPanelWidth<S>(vectorBytes: Int, _: S.Type) -> Int {
        (vectorBytes >= 64 ? 4 : 2) * vectorBytes / MemoryLayout<S>.stride
    }

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
            WinogradConvolutionKernels.filterGradient(dy, x, dw, g, V.self, F.self)
        }
    }

    static func filterGradient<V: SIMD, F: MultiplyAdd>(
        _ dy: UnsafePointer<V.Scalar>, _ x: UnsafePointer<V.Scalar>, _ dw: UnsafeMutablePointer<V.Scalar>, _ g: Convolution2DGeometry,
        _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        typealias S = V.Scalar
        let lanes = V.scalarCount, width = gradientPanelWidth(vectorBytes: MemoryLayout<V>.size, S.self), (channels, filters) = (g.channels, g.filters)
        let plane = channels * filters, panels = filters / width
        assert(filters % width == 0, "Winograd filter gradient: \(filters) filters are not whole panels of \(width)")
        let T = gradientBlockTiles, tiling = WinogradTiling(g, blockTiles: T), tiles = tiling.tiles, jobs = tiling.blocks
        guard jobs > 0 else {
            dw.initialize(repeating: 0, count: 9 * plane)
            return
        }
        let chunks = Swift.min(jobs, gradientChunks)
        let partialBytes = chunks * 16 * plane * MemoryLayout<S>.stride
        let partial = PackingBufferPool.shared.take(bytes: partialBytes).bindMemory(to: S.self, capacity: chunks * 16 * plane)
        partial.initialize(repeating: 0, count: chunks * 16 * plane)
        defer { PackingBufferPool.shared.give(UnsafeMutableRawPointer(partial), bytes: partialBytes) }
        let zeros = UnsafeMutablePointer<S>.allocate(capacity: Swift.max(channels, filters))
        zeros.initialize(repeating: 0, count: Swift.max(channels, filters))
        defer { zeros.deallocate() }
        let line = 64 / MemoryLayout<S>.stride
        let vPlane = T * channels + line, uPlane = T * filters + line
        let (px, pdy, pzeros, ppartial) = (UncheckedSendable(x), UncheckedSendable(dy), UncheckedSendable(UnsafePointer(zeros)),
                                           UncheckedSendable(partial))
        parallelFor(chunks: chunks, work: g.multiplyAdds) { chunk in
          PackingBufferPool.shared.withBuffer(bytes: 16 * (vPlane + uPlane) * MemoryLayout<S>.stride) { raw in
            let v = raw.assumingMemoryBound(to: S.self), u = v + 16 * vPlane
            let p = ppartial.value + chunk * 16 * plane
            let lastJob = (chunk + 1) * jobs / chunks - 1
            for job in chunk * jobs / chunks...lastJob {
                let firstTile = job * T, count = Swift.min(T, tiles - firstTile)
                // While the products run: the next block's input and output-gradient lines.
                let prefetch = job < lastJob ? tiling.prefetch(inputOf: job + 1, outputOf: job + 1, input: px.value, output: pdy.value) : nil
                withUnsafeTemporaryAllocation(of: UnsafePointer<S>.self, capacity: 16) { window in
                    let window = window.baseAddress!
                    for t in 0..<count {
                        let (i, h, col) = tiling.origin(firstTile + t)
                        // V_ξ[t] = (Bᵀ X B)_ξ over the 4 × 4 input window.
                        tiling.fillWindow(window, tile: firstTile + t, input: px.value, zeros: pzeros.value)
                        var c = 0
                        while c < channels {
                            transformInput(window, c, v + t * channels + c, stride: vPlane, forFilterGradient: true, V.self)
                            c += lanes
                        }
                        // Ũ_ξ[t] = (G D Gᵀ)_ξ over the 2 × 2 output gradients (zero beyond the
                        // output), into panels of `width` filters: panel j, row t at j·T·width + t·width.
                        let gradient = pdy.value + i * g.outHeight * g.outWidth * filters
                        for a in 0..<2 {
                            for b in 0..<2 {
                                window[a * 2 + b] = h + a < g.outHeight && col + b < g.outWidth
                                    ? gradient + ((h + a) * g.outWidth + col + b) * filters : pzeros.value
                            }
                        }
                        var k = 0
                        while k < filters {
                            transformGradient(window, k, u + (k / width) * T * width + t * width + k % width, stride: uPlane, V.self)
                            k += lanes
                        }
                    }
                }
                // P_ξ += V_ξᵀ·Ũ_ξ: six channels × one panel of filters at a time.
                for xi in 0..<16 {
                    let vXi = v + xi * vPlane, uXi = u + xi * uPlane, pXi = p + xi * plane
                    prefetch?.fetch(group: xi)
                    var c = 0
                    while c < channels {
                        let rows = Swift.min(6, channels - c)
                        for j in 0..<panels {
                            if width == 4 * lanes {
                                MicroKernels.strided6x4(count, UnsafePointer(vXi + c), aStride: channels, UnsafePointer(uXi + j * T * width),
                                                        pXi + c * filters + j * width, filters, rows: rows, V.self, F.self)
                            } else {
                                MicroKernels.strided6x2(count, UnsafePointer(vXi + c), aStride: channels, UnsafePointer(uXi + j * T * width),
                                                        pXi + c * filters + j * width, filters, rows: rows, V.self, F.self)
                            }
                        }
                        c += 6
                    }
                }
            }
          }
        }
        // The partial sums in order, then dW = Aᵀ P A for each channel and vector of filters.
        for chunk in 1..<chunks {
            let source = partial + chunk * 16 * plane
            for j in 0..<(16 * plane) { partial[j] += source[j] }
        }
        for c in 0..<channels {
            var k = 0
            while k < filters {
                transformGradientOutput(partial + c * filters + k, stride: plane, dw + c * filters + k, tapStride: plane, V.self)
                k += lanes
            }
        }
    }

    /// `G D Gᵀ` for one vector of filters of the 2 × 2 output gradients (`window[0..<4]`).
    @inline(__always)
    static func transformGradient<V: SIMD>(
        _ window: UnsafeMutablePointer<UnsafePointer<V.Scalar>>, _ k: Int, _ out: UnsafeMutablePointer<V.Scalar>, stride: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        @inline(__always) func d(_ a: Int, _ b: Int) -> V { UnsafeRawPointer(window[a * 2 + b] + k).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ xi: Int, _ value: V) { UnsafeMutableRawPointer(out + xi * stride).storeBytes(of: value, as: V.self) }
        let half = V(repeating: 0.5)
        let (d00, d01, d10, d11) = (d(0, 0), d(0, 1), d(1, 0), d(1, 1))
        // G·D: four rows of two; each row (r0, r1) to (r0, (r0 + r1)/2, (r0 − r1)/2, r1).
        @inline(__always) func row(_ a: Int, _ r0: V, _ r1: V) {
            store(a * 4 + 0, r0)
            store(a * 4 + 1, (r0 + r1) * half)
            store(a * 4 + 2, (r0 - r1) * half)
            store(a * 4 + 3, r1)
        }
        row(0, d00, d01)
        row(1, (d00 + d10) * half, (d01 + d11) * half)
        row(2, (d00 - d10) * half, (d01 - d11) * half)
        row(3, d10, d11)
    }

    /// `Aᵀ P A` (3 × 3) for one channel and vector of filters: `P_ξ` at
    /// `source + ξ·stride`, tap (a, b) stored at `target + (3a + b)·tapStride`.
    @inline(__always)
    static func transformGradientOutput<V: SIMD>(
        _ source: UnsafeMutablePointer<V.Scalar>, stride: Int, _ target: UnsafeMutablePointer<V.Scalar>, tapStride: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        @inline(__always) func m(_ a: Int, _ b: Int) -> V { UnsafeRawPointer(source + (a * 4 + b) * stride).loadUnaligned(as: V.self) }
        @inline(__always) func store(_ a: Int, _ b: Int, _ value: V) {
            UnsafeMutableRawPointer(target + (a * 3 + b) * tapStride).storeBytes(of: value, as: V.self)
        }
        // Aᵀ P: three rows of four; then each row to three taps.
        let c0 = (m(0, 0), m(0, 1), m(0, 2), m(0, 3)), c1 = (m(1, 0), m(1, 1), m(1, 2), m(1, 3))
        let c2 = (m(2, 0), m(2, 1), m(2, 2), m(2, 3)), c3 = (m(3, 0), m(3, 1), m(3, 2), m(3, 3))
        @inline(__always) func row(_ a: Int, _ r: (V, V, V, V)) {
            store(a, 0, r.0 + r.1 + r.2)
            store(a, 1, r.1 - r.2)
            store(a, 2, r.1 + r.2 + r.3)
        }
        row(0, (c0.0 + c1.0 + c2.0, c0.1 + c1.1 + c2.1, c0.2 + c1.2 + c2.2, c0.3 + c1.3 + c2.3))
        row(1, (c1.0 - c2.0, c1.1 - c2.1, c1.2 - c2.2, c1.3 - c2.3))
        row(2, (c1.0 + c2.0 + c3.0, c1.1 + c2.1 + c3.1, c1.2 + c2.2 + c3.2, c1.3 + c2.3 + c3.3))
    }
}

extension MicroKernels {
    /// C[0..<6, 0..<4w] += Σ over `steps` of A·B with A's rows broadcast in
    /// place: row r's value at step t is `a[t·aStride + r]` (rows beyond
    /// `rows` repeat the last one and are not stored); B is one packed
    /// `steps × 4w` panel. 24 accumulators, added to C at the end.
    @inline(never)
    static func strided6x4<V: SIMD, F: MultiplyAdd>(
        _ steps: Int, _ a: UnsafePointer<V.Scalar>, aStride: Int, _ b: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, rows: Int, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0_0 = V(), c0_1 = V(), c0_2 = V(), c0_3 = V(), c1_0 = V(), c1_1 = V(), c1_2 = V(), c1_3 = V()
        var c2_0 = V(), c2_1 = V(), c2_2 = V(), c2_3 = V(), c3_0 = V(), c3_1 = V(), c3_2 = V(), c3_3 = V()
        var c4_0 = V(), c4_1 = V(), c4_2 = V(), c4_3 = V(), c5_0 = V(), c5_1 = V(), c5_2 = V(), c5_3 = V()
        var pb = UnsafeRawPointer(b), pa = a
        let vector = w * MemoryLayout<V.Scalar>.stride, bBytes = 4 * vector
        let (o1, o2, o3) = (Swift.min(1, rows - 1), Swift.min(2, rows - 1), Swift.min(3, rows - 1))
        let (o4, o5) = (Swift.min(4, rows - 1), Swift.min(5, rows - 1))
        for _ in 0..<steps {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: vector, as: V.self)
            let b2 = pb.loadUnaligned(fromByteOffset: 2 * vector, as: V.self)
            let b3 = pb.loadUnaligned(fromByteOffset: 3 * vector, as: V.self)
            let a0 = V(repeating: pa[0])
            c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
            c0_2 = F.multiplyAdd(c0_2, a0, b2); c0_3 = F.multiplyAdd(c0_3, a0, b3)
            let a1 = V(repeating: pa[o1])
            c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
            c1_2 = F.multiplyAdd(c1_2, a1, b2); c1_3 = F.multiplyAdd(c1_3, a1, b3)
            let a2 = V(repeating: pa[o2])
            c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
            c2_2 = F.multiplyAdd(c2_2, a2, b2); c2_3 = F.multiplyAdd(c2_3, a2, b3)
            let a3 = V(repeating: pa[o3])
            c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
            c3_2 = F.multiplyAdd(c3_2, a3, b2); c3_3 = F.multiplyAdd(c3_3, a3, b3)
            let a4 = V(repeating: pa[o4])
            c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
            c4_2 = F.multiplyAdd(c4_2, a4, b2); c4_3 = F.multiplyAdd(c4_3, a4, b3)
            let a5 = V(repeating: pa[o5])
            c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
            c5_2 = F.multiplyAdd(c5_2, a5, b2); c5_3 = F.multiplyAdd(c5_3, a5, b3)
            pb += bBytes
            pa += aStride
        }
        if rows > 0 { update(c, c0_0, c0_1, w, true); update(c + 2 * w, c0_2, c0_3, w, true) }
        if rows > 1 { update(c + ldc, c1_0, c1_1, w, true); update(c + ldc + 2 * w, c1_2, c1_3, w, true) }
        if rows > 2 { update(c + 2 * ldc, c2_0, c2_1, w, true); update(c + 2 * ldc + 2 * w, c2_2, c2_3, w, true) }
        if rows > 3 { update(c + 3 * ldc, c3_0, c3_1, w, true); update(c + 3 * ldc + 2 * w, c3_2, c3_3, w, true) }
        if rows > 4 { update(c + 4 * ldc, c4_0, c4_1, w, true); update(c + 4 * ldc + 2 * w, c4_2, c4_3, w, true) }
        if rows > 5 { update(c + 5 * ldc, c5_0, c5_1, w, true); update(c + 5 * ldc + 2 * w, c5_2, c5_3, w, true) }
    }

    /// ``strided6x4(_:_:aStride:_:_:_:rows:_:_:)`` on a `steps × 2w` panel of
    /// B: 12 accumulators, for 256-bit vectors (AVX2's 16 registers).
    @inline(never)
    static func strided6x2<V: SIMD, F: MultiplyAdd>(
        _ steps: Int, _ a: UnsafePointer<V.Scalar>, aStride: Int, _ b: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, rows: Int, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V()
        var c3_0 = V(), c3_1 = V(), c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V()
        var pb = UnsafeRawPointer(b), pa = a
        let vector = w * MemoryLayout<V.Scalar>.stride, bBytes = 2 * vector
        let (o1, o2, o3) = (Swift.min(1, rows - 1), Swift.min(2, rows - 1), Swift.min(3, rows - 1))
        let (o4, o5) = (Swift.min(4, rows - 1), Swift.min(5, rows - 1))
        for _ in 0..<steps {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: vector, as: V.self)
            let a0 = V(repeating: pa[0])
            c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
            let a1 = V(repeating: pa[o1])
            c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
            let a2 = V(repeating: pa[o2])
            c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
            let a3 = V(repeating: pa[o3])
            c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
            let a4 = V(repeating: pa[o4])
            c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
            let a5 = V(repeating: pa[o5])
            c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
            pb += bBytes
            pa += aStride
        }
        if rows > 0 { update(c, c0_0, c0_1, w, true) }
        if rows > 1 { update(c + ldc, c1_0, c1_1, w, true) }
        if rows > 2 { update(c + 2 * ldc, c2_0, c2_1, w, true) }
        if rows > 3 { update(c + 3 * ldc, c3_0, c3_1, w, true) }
        if rows > 4 { update(c + 4 * ldc, c4_0, c4_1, w, true) }
        if rows > 5 { update(c + 5 * ldc, c5_0, c5_1, w, true) }
    }
}
