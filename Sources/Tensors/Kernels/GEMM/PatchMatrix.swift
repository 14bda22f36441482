// The patch matrix of a convolution, read by the GEMM's packing without ever
// being stored (implicit GEMM).
//
// For images x of shape (N, H, W, C) (channels last), a filter of fh × fw and
// strides (sh, sw), zero padding (top, left), the patch matrix P has one row
// per output pixel and one column per filter tap:
//
//   P[(n·Ho + ho)·Wo + wo, (i·fw + j)·C + c] = x[n, ho·sh − top + i, wo·sw − left + j, c]
//                                              (0 where that pixel is padding)
//
// so that a convolution is the product P · W with W the filter of shape
// (fh, fw, C, K) read as a (fh·fw·C) × K matrix, whose result is the output
// (N, Ho, Wo, K) read as an (N·Ho·Wo) × K matrix — the layouts of the notes
// need no reordering at all. Packing reads, for each output pixel and each tap
// row i, a run of up to fw·C contiguous input values (channels vary fastest).
// The filter gradient is Pᵀ · dY (the packing reads P transposed), and the
// input gradient of a stride-1 convolution is again a convolution.

struct PatchMatrix: Sendable {
    var height: Int, width: Int, channels: Int
    var filterHeight: Int, filterWidth: Int
    var strideH: Int, strideW: Int
    var padTop: Int, padLeft: Int
    var outHeight: Int, outWidth: Int
    /// Offset added to the row index of op(A) (a piece of a split product).
    var firstRow = 0

    var columns: Int { filterHeight * filterWidth * channels }

    /// Packs `op(A)[ic..<ic+mc, pc..<pc+kc]` into `mr`-row panels stored
    /// step by step (`mr` values per step, the last panel zero-padded), where
    /// `op(A)` is `P` or, with `transposed`, `Pᵀ`.
    @inline(__always)
    func pack<S: TensorScalar>(
        from x: UnsafePointer<S>, transposed: Bool, _ ic: Int, _ mc: Int, _ pc: Int, _ kc: Int, _ mr: Int,
        _ out: UnsafeMutablePointer<S>
    ) {
        if transposed { return packTransposed(from: x, ic, mc, pc, kc, mr, out) }
        var ir = 0
        while ir < mc {
            let rows = Swift.min(mr, mc - ir)
            packPanel(from: x, firstPixel: firstRow + ic + ir, rows: rows, pc, kc, mr, out + ir * kc)
            ir += mr
        }
    }

    /// One `mr`-row panel: the rows' pixels are located once; then, run by
    /// run of taps (a filter row's `f_w·C` values when every window of the
    /// panel lies inside the image horizontally, else one pixel's channels),
    /// the rows' values are interleaved step by step — contiguous stores of
    /// `mr` values instead of `mr` strided passes over the panel.
    @inline(__always)
    func packPanel<S: TensorScalar>(
        from x: UnsafePointer<S>, firstPixel: Int, rows: Int, _ pc: Int, _ kc: Int, _ mr: Int, _ panel: UnsafeMutablePointer<S>
    ) {
        withUnsafeTemporaryAllocation(of: (top: Int, left: Int, image: UnsafePointer<S>).self, capacity: mr) { located in
            let perImage = outHeight * outWidth
            var allInside = true
            for r in 0..<rows {
                let pixel = firstPixel + r
                let n = pixel / perImage, rest = pixel - n * perImage
                let ho = rest / outWidth, wo = rest - ho * outWidth
                let left = wo * strideW - padLeft
                located[r] = (ho * strideH - padTop, left, x + n * height * width * channels)
                allInside = allInside && left >= 0 && left + filterWidth <= width
            }
            withUnsafeTemporaryAllocation(of: UnsafePointer<S>?.self, capacity: mr) { sources in
                let rowLength = filterWidth * channels
                var tap = pc, q = 0
                while q < kc {
                    let i = tap / rowLength, within = tap - i * rowLength
                    let j = within / channels, c = within - j * channels
                    let run = Swift.min(allInside ? rowLength - within : channels - c, kc - q)
                    var complete = rows == mr
                    for r in 0..<rows {
                        let (top, left, image) = located[r]
                        let h = top + i, w = left + j
                        if h >= 0 && h < height && w >= 0 && w < width {
                            sources[r] = image + (h * width + w) * channels + c
                        } else {
                            sources[r] = nil
                            complete = false
                        }
                    }
                    let base = panel + q * mr
                    if complete && mr == 6 {
                        let (s0, s1, s2, s3, s4, s5) = (sources[0]!, sources[1]!, sources[2]!, sources[3]!, sources[4]!, sources[5]!)
                        for t in 0..<run {
                            let d = base + t &* 6
                            d[0] = s0[t]; d[1] = s1[t]; d[2] = s2[t]; d[3] = s3[t]; d[4] = s4[t]; d[5] = s5[t]
                        }
                    } else {
                        for r in 0..<mr {
                            if r < rows, let source = sources[r] {
                                for t in 0..<run { base[t &* mr + r] = source[t] }
                            } else {
                                for t in 0..<run { base[t &* mr + r] = 0 }
                            }
                        }
                    }
                    tap += run
                    q += run
                }
            }
        }
    }


    /// `op(A) = Pᵀ` (the filter gradient): panel rows are taps, steps are
    /// output pixels. Each pixel is located once, then the block's taps are
    /// read as runs of contiguous channels and dealt out across the panels.
    @inline(__always)
    func packTransposed<S: TensorScalar>(
        from x: UnsafePointer<S>, _ ic: Int, _ mc: Int, _ pc: Int, _ kc: Int, _ mr: Int, _ out: UnsafeMutablePointer<S>
    ) {
        let perImage = outHeight * outWidth, rowLength = filterWidth * channels
        for q in 0..<kc {
            let pixel = pc + q
            let n = pixel / perImage, rest = pixel - n * perImage
            let ho = rest / outWidth, wo = rest - ho * outWidth
            let top = ho * strideH - padTop, left = wo * strideW - padLeft
            let image = x + n * height * width * channels
            var panel = out + q * mr, lane = 0
            var tap = firstRow + ic, remaining = mc
            while remaining > 0 {
                let i = tap / rowLength, within = tap - i * rowLength
                let j = within / channels, c = within - j * channels
                let rowInside = left >= 0 && left + filterWidth <= width
                let run = Swift.min(rowInside ? rowLength - within : channels - c, remaining)
                let h = top + i, w = left + j
                if h >= 0 && h < height && w >= 0 && w < width {
                    let source = image + (h * width + w) * channels + c
                    for t in 0..<run {
                        panel[lane] = source[t]
                        lane += 1
                        if lane == mr { lane = 0; panel += mr * kc }
                    }
                } else {
                    for _ in 0..<run {
                        panel[lane] = 0
                        lane += 1
                        if lane == mr { lane = 0; panel += mr * kc }
                    }
                }
                tap += run
                remaining -= run
            }
            if lane > 0 { for r in lane..<mr { panel[r] = 0 } }
        }
    }
}
