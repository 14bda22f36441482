/// The 2-D convolution kernels behind `conv2D` and its two gradients. The
/// loop twins are the notes' nested loops, one output value (or one
/// gradient contribution) at a time; the vectorized forms are GEMMs over the
/// implicit patch matrix (see `Convolution.swift` for the algebra).
enum ConvolutionKernels {
    // MARK: Loop path

    /// The notes' `conv_forward`: for each example, output row and column and
    /// filter, `conv_single_step` of the padded slice with that filter.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func forwardLoop<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        for i in 0..<g.batch {
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    for c in 0..<g.filters {
                        var z: S = 0                                  // conv_single_step
                        g.forEachTap(h, v) { a, b, row, column in
                            for k in 0..<g.channels {
                                z += x[((i * g.height + row) * g.width + column) * g.channels + k]
                                    * w[((a * g.filterWidth + b) * g.channels + k) * g.filters + c]
                            }
                        }
                        y[((i * g.outHeight + h) * g.outWidth + v) * g.filters + c] = z
                    }
                }
            }
        }
    }

    /// The notes' `conv_backward` for `dA_prev`: every output gradient adds
    /// `W[:, :, :, c]·dZ[i, h, w, c]` into the slice it came from.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardInputLoop<S: TensorScalar>(_ dy: UnsafePointer<S>, _ w: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        dx.initialize(repeating: 0, count: g.batch * g.height * g.width * g.channels)
        for i in 0..<g.batch {
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    for c in 0..<g.filters {
                        let gradient = dy[((i * g.outHeight + h) * g.outWidth + v) * g.filters + c]
                        g.forEachTap(h, v) { a, b, row, column in
                            for k in 0..<g.channels {
                                dx[((i * g.height + row) * g.width + column) * g.channels + k]
                                    += w[((a * g.filterWidth + b) * g.channels + k) * g.filters + c] * gradient
                            }
                        }
                    }
                }
            }
        }
    }

    /// The notes' `conv_backward` for `dW`: `dW[:, :, :, c] += a_slice·dZ[i, h, w, c]`.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func backwardFilterLoop<S: TensorScalar>(_ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ dw: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        dw.initialize(repeating: 0, count: g.taps * g.filters)
        for i in 0..<g.batch {
            for h in 0..<g.outHeight {
                for v in 0..<g.outWidth {
                    for c in 0..<g.filters {
                        let gradient = dy[((i * g.outHeight + h) * g.outWidth + v) * g.filters + c]
                        g.forEachTap(h, v) { a, b, row, column in
                            for k in 0..<g.channels {
                                dw[((a * g.filterWidth + b) * g.channels + k) * g.filters + c]
                                    += x[((i * g.height + row) * g.width + column) * g.channels + k] * gradient
                            }
                        }
                    }
                }
            }
        }
    }

    // MARK: Vectorized path

    /// `Y = P·W` (`P` the implicit patch matrix; for a 1×1 stride-1 filter the
    /// input itself); with at most 16 filters the direct kernel; stride-1 3×3
    /// filters where ``WinogradConvolutionKernels/serves(_:kernel:_:)`` holds,
    /// Winograd's F(2×2, 3×3); otherwise the indirect kernel (no patch packing).
    static func forward<S: TensorScalar>(_ x: UnsafePointer<S>, _ w: UnsafePointer<S>, _ y: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        if DirectConvolutionKernels.servesForward(g) {
            DirectConvolutionKernels.forward(x, w, y, g)
            return
        }
        let kernel = GEMMConfiguration.kernel
        if WinogradConvolutionKernels.serves(g, kernel: kernel, S.self) {
            WinogradConvolutionKernels.forward(x, w, y, g, kernel: kernel)
            return
        }
        if IndirectConvolutionKernels.serves(g, kernel: kernel) {
            IndirectConvolutionKernels.forward(x, w, y, g, kernel: kernel)
            return
        }
        var problem = GEMMProblem(m: g.outputPixels, n: g.filters, k: g.taps, a: x, lda: g.channels, transA: false,
                                  b: w, ldb: g.filters, transB: false, c: y, ldc: g.filters, alpha: 1, beta: 0)
        if g.isPointwise {
            gemm(problem)
        } else {
            problem.patches = g.patches
            convolutionGEMM(problem)
        }
    }

    /// `dW = Pᵀ·dY`; with 8 or 16 filters (Float; 4 or 8 for Double) the
    /// direct kernel; Winograd's F(3×3, 2×2) where it serves (stride-1 3×3
    /// filters, whole panels of filters); otherwise (six or more input
    /// channels, a panel of filters) the unpacked one.
    static func backwardFilter<S: TensorScalar>(_ dy: UnsafePointer<S>, _ x: UnsafePointer<S>, _ dw: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        if DirectConvolutionKernels.servesFilterGradient(g, S.self) {
            DirectConvolutionKernels.filterGradient(dy, x, dw, g)
            return
        }
        let kernel = GEMMConfiguration.kernel
        if WinogradConvolutionKernels.servesFilterGradient(g, kernel: kernel, S.self) {
            WinogradConvolutionKernels.filterGradient(dy, x, dw, g, kernel: kernel)
            return
        }
        if IndirectConvolutionKernels.servesFilterGradient(g, kernel: kernel, S.self) {
            IndirectConvolutionKernels.filterGradient(dy, x, dw, g, kernel: kernel)
            return
        }
        var problem = GEMMProblem(m: g.taps, n: g.filters, k: g.outputPixels, a: x, lda: g.channels, transA: true,
                                  b: dy, ldb: g.filters, transB: false, c: dw, ldc: g.filters, alpha: 1, beta: 0)
        if g.isPointwise {
            gemm(problem)
        } else {
            problem.patches = g.patches
            convolutionGEMM(problem)
        }
    }

    /// `dX`, every element written: disjoint windows (stride = filter, no
    /// padding) written in place by the indirect kernel; a stride-1
    /// convolution's input gradient is itself a convolution of `dY` with the
    /// rotated filter (when the padding is at most `f − 1`); otherwise col2im
    /// per image. (The transposed-convolution forward of the conv suite, 2×2
    /// stride 2: col2im 3.4 ms, in place by one small GEMM per output row and
    /// tap row 6.2 ms — 3,584 calls of 28 rows, each packing Wᵀ again — in
    /// place by the indirect kernel, Wᵀ packed once, 2.6 ms.)
    static func backwardInput<S: TensorScalar>(_ dy: UnsafePointer<S>, _ w: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        let kernel = GEMMConfiguration.kernel
        if g.isPointwise && !IndirectConvolutionKernels.serves(g.inputGradientGeometry, kernel: kernel) {
            // dX = dY·Wᵀ with W read as (C, K).
            gemm(GEMMProblem(m: g.outputPixels, n: g.channels, k: g.filters, a: dy, lda: g.filters, transA: false,
                             b: w, ldb: g.filters, transB: true, c: dx, ldc: g.channels, alpha: 1, beta: 0))
            return
        }
        if IndirectConvolutionKernels.servesDisjointInputGradient(g, kernel: kernel, S.self) {
            IndirectConvolutionKernels.disjointInputGradient(dy, w, dx, g, kernel: kernel)
            return
        }
        if g.strideH == 1 && g.strideW == 1 && g.padTop <= g.filterHeight - 1 && g.padLeft <= g.filterWidth - 1 {
            // W'[a', b', c, k] = W[f_h − 1 − a', f_w − 1 − b', k, c]
            let rotated = UnsafeMutablePointer<S>.allocate(capacity: g.taps * g.filters)
            defer { rotated.deallocate() }
            for a in 0..<g.filterHeight {
                for b in 0..<g.filterWidth {
                    let source = w + ((g.filterHeight - 1 - a) * g.filterWidth + (g.filterWidth - 1 - b)) * g.channels * g.filters
                    let target = rotated + (a * g.filterWidth + b) * g.filters * g.channels
                    for k in 0..<g.channels {
                        for c in 0..<g.filters { target[c * g.channels + k] = source[k * g.filters + c] }
                    }
                }
            }
            forward(dy, UnsafePointer(rotated), dx, g.inputGradientGeometry)
            return
        }
        col2im(dy, w, dx, g)
    }

    /// Per image (in parallel, each image's `dX` written by one worker): the
    /// patch gradients `dP = dY_i·Wᵀ` by GEMM on one thread, then each patch row
    /// added back to the pixels it was gathered from.
    static func col2im<S: TensorScalar>(_ dy: UnsafePointer<S>, _ w: UnsafePointer<S>, _ dx: UnsafeMutablePointer<S>, _ g: Convolution2DGeometry) {
        let pixels = g.outHeight * g.outWidth
        let (pdy, pw, pdx) = (UncheckedSendable(dy), UncheckedSendable(w), UncheckedSendable(dx))
        let kernel = GEMMConfiguration.kernel
        parallelFor(chunks: g.batch, work: g.multiplyAdds) { i in
            PackingBufferPool.shared.withBuffer(bytes: pixels * g.taps * MemoryLayout<S>.stride) { raw in
                let patches = raw.assumingMemoryBound(to: S.self)
                let problem = GEMMProblem(m: pixels, n: g.taps, k: g.filters, a: pdy.value + i * pixels * g.filters, lda: g.filters,
                                          transA: false, b: pw.value, ldb: g.filters, transB: true, c: patches, ldc: g.taps,
                                          alpha: 1, beta: 0)
                gemm(problem, rung: pixels * g.taps * g.filters < GEMMConfiguration.blockingLimit ? .direct : .blockedSingleThread,
                     path: .vectorized, kernel: kernel)
                let image = pdx.value + i * g.height * g.width * g.channels
                image.initialize(repeating: 0, count: g.height * g.width * g.channels)
                for h in 0..<g.outHeight {
                    for v in 0..<g.outWidth {
                        var row = UnsafePointer(patches + (h * g.outWidth + v) * g.taps)
                        for a in 0..<g.filterHeight {
                            let y = h * g.strideH - g.padTop + a
                            for b in 0..<g.filterWidth {
                                let x = v * g.strideW - g.padLeft + b
                                if y >= 0 && y < g.height && x >= 0 && x < g.width {
                                    let target = image + (y * g.width + x) * g.channels
                                    for k in 0..<g.channels { target[k] += row[k] }
                                }
                                row += g.channels
                            }
                        }
                    }
                }
            }
        }
    }
}

extension Convolution2DGeometry {
    /// A stride-1 convolution's input gradient as a convolution: `dY` (padded
    /// by `f − 1 − p`) with the rotated filter, `n_C` input channels and
    /// `n_C_prev` filters.
    var inputGradientGeometry: Convolution2DGeometry {
        var full = self
        (full.height, full.width, full.channels) = (outHeight, outWidth, filters)
        (full.outHeight, full.outWidth, full.filters) = (height, width, channels)
        (full.padTop, full.padLeft) = (filterHeight - 1 - padTop, filterWidth - 1 - padLeft)
        return full
    }
}
