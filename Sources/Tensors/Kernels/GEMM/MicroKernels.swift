// Register micro-kernels of the blocked GEMM (BLIS's innermost loop).
//
// Each computes a rows × 2w tile of C from packed panels: per step p it loads
// two vectors of B̃ (2w columns), broadcasts each of the tile's rows of Ã, and
// does one multiply-add per accumulator. The 12-row tile keeps 24 vector
// accumulators (+ 2 B vectors + 1 broadcast = 27 of AVX-512's 32 registers);
// the 6-row tile keeps 12 (for AVX2's 16 registers). Edge panels of the 12-row
// kernels take smaller tiles with the same order of terms: at most 6 rows the
// 6-row tile, at most one vector of columns the one-vector 12-row tile, 7 or 8
// rows an 8-row tile; the 6-row tile's last 1–4 rows a 4-row tile.
// Written generically over the vector type and the multiply-add form; every
// use is specialized (Float: SIMD16 or SIMD8; Double: SIMD8 or SIMD4).

/// How a micro-kernel forms `acc + a·b`.
protocol MultiplyAdd {
    static func multiplyAdd<V: SIMD>(_ acc: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint
}

/// One rounding per lane (`vfmadd`): fastest when the module is compiled for a
/// CPU with FMA; without such flags every lane becomes a libm `fma` call.
enum FusedMultiplyAdd: MultiplyAdd {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ acc: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint {
        acc.addingProduct(a, b)
    }
}

/// Separate multiply and add (Swift never fuses them): fast in every build.
enum SeparateMultiplyAdd: MultiplyAdd {
    @inline(__always)
    static func multiplyAdd<V: SIMD>(_ acc: V, _ a: V, _ b: V) -> V where V.Scalar: FloatingPoint {
        acc + a * b
    }
}

/// Where the 12-row micro-kernel finds element (r, p) of its A panel: at byte
/// offset `r·rowBytes + p·stepBytes` from the panel's start.
protocol PanelLayout {
    /// Packed (`rowBytes` one element, `stepBytes` 12 elements, both constants)
    /// rather than read in place (both given at run time).
    static var isPacked: Bool { get }
}

/// A packed Ã panel: the 12 rows of a step side by side, steps 12 apart.
enum PackedPanel: PanelLayout { static var isPacked: Bool { true } }

/// A read in place: a row-major A has rows `lda` elements apart and adjacent
/// steps, a transposed one (stored `k × m`) adjacent rows and steps `lda` apart.
/// Both distances stay run-time values even where one is a constant element:
/// with a constant step LLVM computed the twelve row addresses of a row-major A
/// as one chain of dependent adds (64³ on one core: 109 GFLOPS against 172).
enum InPlacePanel: PanelLayout { static var isPacked: Bool { false } }

enum MicroKernels {
    /// C[0..<12, 0..<2w] += α·Ã·B̃ (or `=` when `accumulate` is false) for one
    /// 12-row panel of A and one 2w-column panel of B (w = V.scalarCount) whose
    /// rows are `bStride` elements apart (2w when packed): 24 vector accumulators.
    /// The A panel is in layout `L` (``PanelLayout``): packed, or read in place
    /// from A with rows `rowBytes` and steps `stepBytes` apart. Edge tiles
    /// (`rows < 12` or `columns < 2w`) and tiles of a C stored transposed
    /// (`cTransposed`: element (r, j) at `c[j·ldc + r]`) go through a local tile.
    @inline(never)   // own register allocation: inlined into the GEMM loops it spilled
    static func tile12x2<V: SIMD, F: MultiplyAdd, L: PanelLayout>(
        _ kc: Int, _ a: UnsafePointer<V.Scalar>, rowBytes aRowBytes: Int, stepBytes aStepBytes: Int,
        _ b: UnsafePointer<V.Scalar>, bStride: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int, cTransposed: Bool,
        accumulate: Bool, _: V.Type, _: F.Type, _: L.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V(), c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V(), c6_0 = V(), c6_1 = V(), c7_0 = V(), c7_1 = V(), c8_0 = V(), c8_1 = V(), c9_0 = V(), c9_1 = V(), c10_0 = V(), c10_1 = V(), c11_0 = V(), c11_1 = V()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        let size = MemoryLayout<V.Scalar>.stride, bBytes = bStride * size
        let aStride = L.isPacked ? 12 * size : aStepBytes, rowBytes = L.isPacked ? size : aRowBytes
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: w * MemoryLayout<V.Scalar>.stride, as: V.self)
            let a0 = V(repeating: pa.load(fromByteOffset: 0 * rowBytes, as: V.Scalar.self))
            c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
            let a1 = V(repeating: pa.load(fromByteOffset: 1 * rowBytes, as: V.Scalar.self))
            c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
            let a2 = V(repeating: pa.load(fromByteOffset: 2 * rowBytes, as: V.Scalar.self))
            c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
            let a3 = V(repeating: pa.load(fromByteOffset: 3 * rowBytes, as: V.Scalar.self))
            c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
            let a4 = V(repeating: pa.load(fromByteOffset: 4 * rowBytes, as: V.Scalar.self))
            c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
            let a5 = V(repeating: pa.load(fromByteOffset: 5 * rowBytes, as: V.Scalar.self))
            c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
            let a6 = V(repeating: pa.load(fromByteOffset: 6 * rowBytes, as: V.Scalar.self))
            c6_0 = F.multiplyAdd(c6_0, a6, b0); c6_1 = F.multiplyAdd(c6_1, a6, b1)
            let a7 = V(repeating: pa.load(fromByteOffset: 7 * rowBytes, as: V.Scalar.self))
            c7_0 = F.multiplyAdd(c7_0, a7, b0); c7_1 = F.multiplyAdd(c7_1, a7, b1)
            let a8 = V(repeating: pa.load(fromByteOffset: 8 * rowBytes, as: V.Scalar.self))
            c8_0 = F.multiplyAdd(c8_0, a8, b0); c8_1 = F.multiplyAdd(c8_1, a8, b1)
            let a9 = V(repeating: pa.load(fromByteOffset: 9 * rowBytes, as: V.Scalar.self))
            c9_0 = F.multiplyAdd(c9_0, a9, b0); c9_1 = F.multiplyAdd(c9_1, a9, b1)
            let a10 = V(repeating: pa.load(fromByteOffset: 10 * rowBytes, as: V.Scalar.self))
            c10_0 = F.multiplyAdd(c10_0, a10, b0); c10_1 = F.multiplyAdd(c10_1, a10, b1)
            let a11 = V(repeating: pa.load(fromByteOffset: 11 * rowBytes, as: V.Scalar.self))
            c11_0 = F.multiplyAdd(c11_0, a11, b0); c11_1 = F.multiplyAdd(c11_1, a11, b1)
            pa += aStride
            pb += bBytes
        }
        let scale = V(repeating: alpha)
        if rows == 12 && columns == 2 * w && !cTransposed {
            update(c + 0 * ldc, c0_0 * scale, c0_1 * scale, w, accumulate)
            update(c + 1 * ldc, c1_0 * scale, c1_1 * scale, w, accumulate)
            update(c + 2 * ldc, c2_0 * scale, c2_1 * scale, w, accumulate)
            update(c + 3 * ldc, c3_0 * scale, c3_1 * scale, w, accumulate)
            update(c + 4 * ldc, c4_0 * scale, c4_1 * scale, w, accumulate)
            update(c + 5 * ldc, c5_0 * scale, c5_1 * scale, w, accumulate)
            update(c + 6 * ldc, c6_0 * scale, c6_1 * scale, w, accumulate)
            update(c + 7 * ldc, c7_0 * scale, c7_1 * scale, w, accumulate)
            update(c + 8 * ldc, c8_0 * scale, c8_1 * scale, w, accumulate)
            update(c + 9 * ldc, c9_0 * scale, c9_1 * scale, w, accumulate)
            update(c + 10 * ldc, c10_0 * scale, c10_1 * scale, w, accumulate)
            update(c + 11 * ldc, c11_0 * scale, c11_1 * scale, w, accumulate)
        } else {
            // Two half tiles of 6 rows (768 bytes each for SIMD16<Float>): scratch over
            // 1 KiB would come from the heap (see `withStackScratch`).
            addSixRows((c0_0 * scale, c0_1 * scale, c1_0 * scale, c1_1 * scale, c2_0 * scale, c2_1 * scale,
                        c3_0 * scale, c3_1 * scale, c4_0 * scale, c4_1 * scale, c5_0 * scale, c5_1 * scale),
                       c, ldc, rows: Swift.min(rows, 6), columns: columns, cTransposed: cTransposed, accumulate: accumulate)
            if rows > 6 {
                addSixRows((c6_0 * scale, c6_1 * scale, c7_0 * scale, c7_1 * scale, c8_0 * scale, c8_1 * scale,
                            c9_0 * scale, c9_1 * scale, c10_0 * scale, c10_1 * scale, c11_0 * scale, c11_1 * scale),
                           cTransposed ? c + 6 : c + 6 * ldc, ldc, rows: rows - 6, columns: columns,
                           cTransposed: cTransposed, accumulate: accumulate)
            }
        }
    }

    /// C[0..<6, 0..<2w] += α·Ã·B̃ (or `=` when `accumulate` is false) for one
    /// packed 6-row panel of A and one 2w-column panel of B (w = V.scalarCount)
    /// whose rows are `bStride` elements apart (2w when packed): 12 vector accumulators.
    /// Edge tiles (`rows < 6` or `columns < 2w`) and tiles of a C stored
    /// transposed (`cTransposed`) go through a local tile.
    ///
    /// `panelStep` is the A panel's elements per step: 6, or 12 for the first
    /// rows of a packed 12-row panel (the last panel of a product whose rows
    /// leave at most 6 over: half the multiply-adds of the 12-row tile on its
    /// zero padding, same bits — each element's terms in the same order).
    ///
    /// The A panel is in layout `L` (``PanelLayout``): packed (`panelStep`
    /// elements per step), or read in place from A with rows `rowBytes` and
    /// steps `stepBytes` apart (the direct kernel's full 6-row panels).
    @inline(never)
    static func microKernel6x2<V: SIMD, F: MultiplyAdd, L: PanelLayout>(
        _ kc: Int, _ a: UnsafePointer<V.Scalar>, panelStep: Int = 6, rowBytes aRowBytes: Int = 0, stepBytes aStepBytes: Int = 0,
        _ b: UnsafePointer<V.Scalar>, bStride: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int, cTransposed: Bool,
        accumulate: Bool, _: V.Type, _: F.Type, _: L.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount, size = MemoryLayout<V.Scalar>.stride
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V(), c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        let aStride = L.isPacked ? panelStep * size : aStepBytes, rowBytes = L.isPacked ? size : aRowBytes
        let bBytes = bStride * size
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: w * size, as: V.self)
            let a0 = V(repeating: pa.load(fromByteOffset: 0 * rowBytes, as: V.Scalar.self))
            c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
            let a1 = V(repeating: pa.load(fromByteOffset: 1 * rowBytes, as: V.Scalar.self))
            c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
            let a2 = V(repeating: pa.load(fromByteOffset: 2 * rowBytes, as: V.Scalar.self))
            c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
            let a3 = V(repeating: pa.load(fromByteOffset: 3 * rowBytes, as: V.Scalar.self))
            c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
            let a4 = V(repeating: pa.load(fromByteOffset: 4 * rowBytes, as: V.Scalar.self))
            c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
            let a5 = V(repeating: pa.load(fromByteOffset: 5 * rowBytes, as: V.Scalar.self))
            c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
            pa += aStride
            pb += bBytes
        }
        let scale = V(repeating: alpha)
        if rows == 6 && columns == 2 * w && !cTransposed {
            update(c + 0 * ldc, c0_0 * scale, c0_1 * scale, w, accumulate)
            update(c + 1 * ldc, c1_0 * scale, c1_1 * scale, w, accumulate)
            update(c + 2 * ldc, c2_0 * scale, c2_1 * scale, w, accumulate)
            update(c + 3 * ldc, c3_0 * scale, c3_1 * scale, w, accumulate)
            update(c + 4 * ldc, c4_0 * scale, c4_1 * scale, w, accumulate)
            update(c + 5 * ldc, c5_0 * scale, c5_1 * scale, w, accumulate)
        } else {
            addSixRows((c0_0 * scale, c0_1 * scale, c1_0 * scale, c1_1 * scale, c2_0 * scale, c2_1 * scale,
                        c3_0 * scale, c3_1 * scale, c4_0 * scale, c4_1 * scale, c5_0 * scale, c5_1 * scale),
                       c, ldc, rows: rows, columns: columns, cTransposed: cTransposed, accumulate: accumulate)
        }
    }

    /// C[0..<4, 0..<2w] += α·Ã·B̃ (or `=` when `accumulate` is false): the
    /// 6-row tile's edge, for a last row panel of 1–4 rows
    /// (`BlockedGEMM.narrowTile`; the direct kernel also splits 7 or 8 rows
    /// into two, ``DirectGEMM/panelRows(_:left:)``), with 8 vector accumulators (enough to keep both FMA pipes busy at four
    /// cycles of latency) instead of the 6-row tile's 12 on zero padding. The
    /// A panel is packed (`panelStep` elements per step: the 6-row tile's
    /// panels) or read in place (layout `L`). Each
    /// element's terms come in the same order as in the 6- and 12-row tiles,
    /// so the bits are theirs.
    @inline(never)
    static func microKernel4x2<V: SIMD, F: MultiplyAdd, L: PanelLayout>(
        _ kc: Int, _ a: UnsafePointer<V.Scalar>, panelStep: Int = 6, rowBytes aRowBytes: Int = 0, stepBytes aStepBytes: Int = 0,
        _ b: UnsafePointer<V.Scalar>, bStride: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int, cTransposed: Bool,
        accumulate: Bool, _: V.Type, _: F.Type, _: L.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount, size = MemoryLayout<V.Scalar>.stride
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        let aStride = L.isPacked ? panelStep * size : aStepBytes, rowBytes = L.isPacked ? size : aRowBytes
        let bBytes = bStride * size
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: w * size, as: V.self)
            let a0 = V(repeating: pa.load(fromByteOffset: 0 * rowBytes, as: V.Scalar.self))
            c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
            let a1 = V(repeating: pa.load(fromByteOffset: 1 * rowBytes, as: V.Scalar.self))
            c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
            let a2 = V(repeating: pa.load(fromByteOffset: 2 * rowBytes, as: V.Scalar.self))
            c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
            let a3 = V(repeating: pa.load(fromByteOffset: 3 * rowBytes, as: V.Scalar.self))
            c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
            pa += aStride
            pb += bBytes
        }
        let scale = V(repeating: alpha)
        if rows == 4 && columns == 2 * w && !cTransposed {
            update(c + 0 * ldc, c0_0 * scale, c0_1 * scale, w, accumulate)
            update(c + 1 * ldc, c1_0 * scale, c1_1 * scale, w, accumulate)
            update(c + 2 * ldc, c2_0 * scale, c2_1 * scale, w, accumulate)
            update(c + 3 * ldc, c3_0 * scale, c3_1 * scale, w, accumulate)
        } else {
            // Rows 4 and 5 of the local tile are past `rows` and never read.
            let none = V()
            addSixRows((c0_0 * scale, c0_1 * scale, c1_0 * scale, c1_1 * scale, c2_0 * scale, c2_1 * scale,
                        c3_0 * scale, c3_1 * scale, none, none, none, none),
                       c, ldc, rows: Swift.min(rows, 4), columns: columns, cTransposed: cTransposed, accumulate: accumulate)
        }
    }

    /// C[0..<8, 0..<2w] += α·Ã·B̃ (or `=` when `accumulate` is false) for the
    /// first 8 rows of a packed 12-row panel of A (steps 12 elements apart) and
    /// one 2w-column panel of B whose rows are `bStride` elements apart: 16
    /// vector accumulators. It serves the last row panel of a product whose
    /// rows leave 7 or 8 over (m mod 12; a batch of 32 or 128), where the
    /// 12-row tile would spend a third of its multiply-adds on zero padding;
    /// each element's terms come in the same order, so the bits are the 12-row
    /// tile's. Partial tiles (`rows < 8`, `columns < 2w`) and a C stored
    /// transposed go through the local tile. (``rowsKernel8x2`` is the same
    /// tile on rows of A read in place, for the recurrent kernels. Twentieth
    /// session, not kept: this tile made generic over ``PanelLayout`` serving
    /// both — same bits, fewer instructions per step, α = 1 skipping the
    /// scaling — alternated with the two-tile binary in `Benchmarks sequence`
    /// (I64 H128 T50 B32, two threads), the recurrent cases were level at best:
    /// 35 of 72 case pairs ahead in the suite (13 of 48 before the α = 1 path),
    /// GRU forward 2 of 10 ahead, 2–3 % behind in the quieter pairs.)
    @inline(never)
    static func tile8x2<V: SIMD, F: MultiplyAdd>(
        _ kc: Int, _ a: UnsafePointer<V.Scalar>, _ b: UnsafePointer<V.Scalar>, bStride: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int, cTransposed: Bool,
        accumulate: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V()
        var c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V(), c6_0 = V(), c6_1 = V(), c7_0 = V(), c7_1 = V()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        let size = MemoryLayout<V.Scalar>.stride, aStride = 12 * size, bBytes = bStride * size
        @inline(__always) func broadcast(_ r: Int) -> V { V(repeating: pa.load(fromByteOffset: r * size, as: V.Scalar.self)) }
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self), b1 = pb.loadUnaligned(fromByteOffset: w * size, as: V.self)
            let a0 = broadcast(0); c0_0 = F.multiplyAdd(c0_0, a0, b0); c0_1 = F.multiplyAdd(c0_1, a0, b1)
            let a1 = broadcast(1); c1_0 = F.multiplyAdd(c1_0, a1, b0); c1_1 = F.multiplyAdd(c1_1, a1, b1)
            let a2 = broadcast(2); c2_0 = F.multiplyAdd(c2_0, a2, b0); c2_1 = F.multiplyAdd(c2_1, a2, b1)
            let a3 = broadcast(3); c3_0 = F.multiplyAdd(c3_0, a3, b0); c3_1 = F.multiplyAdd(c3_1, a3, b1)
            let a4 = broadcast(4); c4_0 = F.multiplyAdd(c4_0, a4, b0); c4_1 = F.multiplyAdd(c4_1, a4, b1)
            let a5 = broadcast(5); c5_0 = F.multiplyAdd(c5_0, a5, b0); c5_1 = F.multiplyAdd(c5_1, a5, b1)
            let a6 = broadcast(6); c6_0 = F.multiplyAdd(c6_0, a6, b0); c6_1 = F.multiplyAdd(c6_1, a6, b1)
            let a7 = broadcast(7); c7_0 = F.multiplyAdd(c7_0, a7, b0); c7_1 = F.multiplyAdd(c7_1, a7, b1)
            pa += aStride
            pb += bBytes
        }
        let scale = V(repeating: alpha)
        if rows == 8 && columns == 2 * w && !cTransposed {
            update(c + 0 * ldc, c0_0 * scale, c0_1 * scale, w, accumulate)
            update(c + 1 * ldc, c1_0 * scale, c1_1 * scale, w, accumulate)
            update(c + 2 * ldc, c2_0 * scale, c2_1 * scale, w, accumulate)
            update(c + 3 * ldc, c3_0 * scale, c3_1 * scale, w, accumulate)
            update(c + 4 * ldc, c4_0 * scale, c4_1 * scale, w, accumulate)
            update(c + 5 * ldc, c5_0 * scale, c5_1 * scale, w, accumulate)
            update(c + 6 * ldc, c6_0 * scale, c6_1 * scale, w, accumulate)
            update(c + 7 * ldc, c7_0 * scale, c7_1 * scale, w, accumulate)
        } else {
            addSixRows((c0_0 * scale, c0_1 * scale, c1_0 * scale, c1_1 * scale, c2_0 * scale, c2_1 * scale,
                        c3_0 * scale, c3_1 * scale, c4_0 * scale, c4_1 * scale, c5_0 * scale, c5_1 * scale),
                       c, ldc, rows: Swift.min(rows, 6), columns: columns, cTransposed: cTransposed, accumulate: accumulate)
            if rows > 6 {   // rows 6 and 7; the local tile's other four rows are never read
                let none = V()
                addSixRows((c6_0 * scale, c6_1 * scale, c7_0 * scale, c7_1 * scale, none, none, none, none, none, none, none, none),
                           cTransposed ? c + 6 : c + 6 * ldc, ldc, rows: rows - 6, columns: columns,
                           cTransposed: cTransposed, accumulate: accumulate)
            }
        }
    }

    /// C[0..<12, 0..<w] += α·Ã·B̃ (or `=` when `accumulate` is false) for one
    /// 12-row panel of A and the first `w` columns (one vector) of a B̃
    /// panel whose rows are `bStride` elements apart: 12 vector accumulators,
    /// twelve broadcasts per twelve multiply-adds. It serves the last column
    /// panel of a product whose columns leave at most `w` over (n mod 2w in
    /// 1...w), where the 12 × 2w tile would spend half its multiply-adds on
    /// B̃'s zero padding; each element's terms come in the same order, so the
    /// bits are the 12 × 2w tile's. Partial tiles (`rows < 12`, `columns < w`)
    /// and a C stored transposed go through the local tile.
    ///
    /// Its A panel is in layout `L` (``PanelLayout``), as the 12 × 2w tile's.
    @inline(never)
    static func tile12x1<V: SIMD, F: MultiplyAdd, L: PanelLayout>(
        _ kc: Int, _ a: UnsafePointer<V.Scalar>, rowBytes aRowBytes: Int, stepBytes aStepBytes: Int,
        _ b: UnsafePointer<V.Scalar>, bStride: Int,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, _ alpha: V.Scalar, rows: Int, columns: Int, cTransposed: Bool,
        accumulate: Bool, _: V.Type, _: F.Type, _: L.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V(), c6 = V(), c7 = V(), c8 = V(), c9 = V(), c10 = V(), c11 = V()
        var pa = UnsafeRawPointer(a), pb = UnsafeRawPointer(b)
        let size = MemoryLayout<V.Scalar>.stride, bBytes = bStride * size
        let aStride = L.isPacked ? 12 * size : aStepBytes, rowBytes = L.isPacked ? size : aRowBytes
        @inline(__always) func broadcast(_ r: Int) -> V { V(repeating: pa.load(fromByteOffset: r * rowBytes, as: V.Scalar.self)) }
        for _ in 0..<kc {
            let b0 = pb.loadUnaligned(as: V.self)
            c0 = F.multiplyAdd(c0, broadcast(0), b0); c1 = F.multiplyAdd(c1, broadcast(1), b0)
            c2 = F.multiplyAdd(c2, broadcast(2), b0); c3 = F.multiplyAdd(c3, broadcast(3), b0)
            c4 = F.multiplyAdd(c4, broadcast(4), b0); c5 = F.multiplyAdd(c5, broadcast(5), b0)
            c6 = F.multiplyAdd(c6, broadcast(6), b0); c7 = F.multiplyAdd(c7, broadcast(7), b0)
            c8 = F.multiplyAdd(c8, broadcast(8), b0); c9 = F.multiplyAdd(c9, broadcast(9), b0)
            c10 = F.multiplyAdd(c10, broadcast(10), b0); c11 = F.multiplyAdd(c11, broadcast(11), b0)
            pa += aStride
            pb += bBytes
        }
        let scale = V(repeating: alpha)
        if rows == 12 && columns == w && !cTransposed {
            @inline(__always) func update(_ row: Int, _ u: V) {
                let p = UnsafeMutableRawPointer(c + row * ldc)
                p.storeBytes(of: accumulate ? p.loadUnaligned(as: V.self) + u : u, as: V.self)
            }
            update(0, c0 * scale); update(1, c1 * scale); update(2, c2 * scale); update(3, c3 * scale)
            update(4, c4 * scale); update(5, c5 * scale); update(6, c6 * scale); update(7, c7 * scale)
            update(8, c8 * scale); update(9, c9 * scale); update(10, c10 * scale); update(11, c11 * scale)
        } else {
            // The local tile holds two vectors per row; the second ones are past `columns` and never read.
            let none = V()
            addSixRows((c0 * scale, none, c1 * scale, none, c2 * scale, none, c3 * scale, none, c4 * scale, none, c5 * scale, none),
                       c, ldc, rows: Swift.min(rows, 6), columns: columns, cTransposed: cTransposed, accumulate: accumulate)
            if rows > 6 {
                addSixRows((c6 * scale, none, c7 * scale, none, c8 * scale, none, c9 * scale, none, c10 * scale, none, c11 * scale, none),
                           cTransposed ? c + 6 : c + 6 * ldc, ldc, rows: rows - 6, columns: columns,
                           cTransposed: cTransposed, accumulate: accumulate)
            }
        }
    }

    /// C[0..<8, 0..<columns] += A·B̃ (or `=` when `accumulate` is false) for 8
    /// rows of A read in place (`lda` apart, each broadcast from its own row:
    /// nothing packed) and one packed panel of B̃ two vectors wide (`2w` per
    /// depth step): 16 vector accumulators, 8 broadcasts per 16 multiply-adds.
    /// The recurrent kernels' tile, `8` examples of a strip × two vectors of
    /// gate rows. `columns < 2w` goes through a local tile.
    @inline(never)
    static func rowsKernel8x2<V: SIMD, F: MultiplyAdd>(
        _ depth: Int, _ a: UnsafePointer<V.Scalar>, _ lda: Int, _ b: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, columns: Int, accumulate: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        let a0 = a, a1 = a + 1 * lda, a2 = a + 2 * lda, a3 = a + 3 * lda, a4 = a + 4 * lda, a5 = a + 5 * lda, a6 = a + 6 * lda, a7 = a + 7 * lda
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V(), c4_0 = V(), c4_1 = V(), c5_0 = V(), c5_1 = V(), c6_0 = V(), c6_1 = V(), c7_0 = V(), c7_1 = V()
        var pb = UnsafeRawPointer(b)
        let bBytes = 2 * w * MemoryLayout<V.Scalar>.stride
        for p in 0..<depth {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: w * MemoryLayout<V.Scalar>.stride, as: V.self)
            let x0 = V(repeating: a0[p])
            c0_0 = F.multiplyAdd(c0_0, x0, b0); c0_1 = F.multiplyAdd(c0_1, x0, b1)
            let x1 = V(repeating: a1[p])
            c1_0 = F.multiplyAdd(c1_0, x1, b0); c1_1 = F.multiplyAdd(c1_1, x1, b1)
            let x2 = V(repeating: a2[p])
            c2_0 = F.multiplyAdd(c2_0, x2, b0); c2_1 = F.multiplyAdd(c2_1, x2, b1)
            let x3 = V(repeating: a3[p])
            c3_0 = F.multiplyAdd(c3_0, x3, b0); c3_1 = F.multiplyAdd(c3_1, x3, b1)
            let x4 = V(repeating: a4[p])
            c4_0 = F.multiplyAdd(c4_0, x4, b0); c4_1 = F.multiplyAdd(c4_1, x4, b1)
            let x5 = V(repeating: a5[p])
            c5_0 = F.multiplyAdd(c5_0, x5, b0); c5_1 = F.multiplyAdd(c5_1, x5, b1)
            let x6 = V(repeating: a6[p])
            c6_0 = F.multiplyAdd(c6_0, x6, b0); c6_1 = F.multiplyAdd(c6_1, x6, b1)
            let x7 = V(repeating: a7[p])
            c7_0 = F.multiplyAdd(c7_0, x7, b0); c7_1 = F.multiplyAdd(c7_1, x7, b1)
            pb += bBytes
        }
        if columns == 2 * w {
            update(c + 0 * ldc, c0_0, c0_1, w, accumulate)
            update(c + 1 * ldc, c1_0, c1_1, w, accumulate)
            update(c + 2 * ldc, c2_0, c2_1, w, accumulate)
            update(c + 3 * ldc, c3_0, c3_1, w, accumulate)
            update(c + 4 * ldc, c4_0, c4_1, w, accumulate)
            update(c + 5 * ldc, c5_0, c5_1, w, accumulate)
            update(c + 6 * ldc, c6_0, c6_1, w, accumulate)
            update(c + 7 * ldc, c7_0, c7_1, w, accumulate)
        } else {
            withStackScratch(of: V.self, capacity: 16) { tile in
                tile[0] = c0_0; tile[1] = c0_1
                tile[2] = c1_0; tile[3] = c1_1
                tile[4] = c2_0; tile[5] = c2_1
                tile[6] = c3_0; tile[7] = c3_1
                tile[8] = c4_0; tile[9] = c4_1
                tile[10] = c5_0; tile[11] = c5_1
                tile[12] = c6_0; tile[13] = c6_1
                tile[14] = c7_0; tile[15] = c7_1
                addEdgeTile(tile, c, ldc, rows: 8, columns: columns, cTransposed: false, accumulate: accumulate)
            }
        }
    }

    /// C[0..<4, 0..<columns] += A·B̃ (or `=` when `accumulate` is false) for 4
    /// rows of A read in place (`lda` apart, each broadcast from its own row:
    /// nothing packed) and one packed panel of B̃ two vectors wide (`2w` per
    /// depth step): 8 vector accumulators, 4 broadcasts per 8 multiply-adds.
    /// The recurrent kernels' tile, `4` examples of a strip × two vectors of
    /// gate rows. `columns < 2w` goes through a local tile.
    @inline(never)
    static func rowsKernel4x2<V: SIMD, F: MultiplyAdd>(
        _ depth: Int, _ a: UnsafePointer<V.Scalar>, _ lda: Int, _ b: UnsafePointer<V.Scalar>,
        _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, columns: Int, accumulate: Bool, _: V.Type, _: F.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        let a0 = a, a1 = a + 1 * lda, a2 = a + 2 * lda, a3 = a + 3 * lda
        var c0_0 = V(), c0_1 = V(), c1_0 = V(), c1_1 = V(), c2_0 = V(), c2_1 = V(), c3_0 = V(), c3_1 = V()
        var pb = UnsafeRawPointer(b)
        let bBytes = 2 * w * MemoryLayout<V.Scalar>.stride
        for p in 0..<depth {
            let b0 = pb.loadUnaligned(as: V.self)
            let b1 = pb.loadUnaligned(fromByteOffset: w * MemoryLayout<V.Scalar>.stride, as: V.self)
            let x0 = V(repeating: a0[p])
            c0_0 = F.multiplyAdd(c0_0, x0, b0); c0_1 = F.multiplyAdd(c0_1, x0, b1)
            let x1 = V(repeating: a1[p])
            c1_0 = F.multiplyAdd(c1_0, x1, b0); c1_1 = F.multiplyAdd(c1_1, x1, b1)
            let x2 = V(repeating: a2[p])
            c2_0 = F.multiplyAdd(c2_0, x2, b0); c2_1 = F.multiplyAdd(c2_1, x2, b1)
            let x3 = V(repeating: a3[p])
            c3_0 = F.multiplyAdd(c3_0, x3, b0); c3_1 = F.multiplyAdd(c3_1, x3, b1)
            pb += bBytes
        }
        if columns == 2 * w {
            update(c + 0 * ldc, c0_0, c0_1, w, accumulate)
            update(c + 1 * ldc, c1_0, c1_1, w, accumulate)
            update(c + 2 * ldc, c2_0, c2_1, w, accumulate)
            update(c + 3 * ldc, c3_0, c3_1, w, accumulate)
        } else {
            withStackScratch(of: V.self, capacity: 8) { tile in
                tile[0] = c0_0; tile[1] = c0_1
                tile[2] = c1_0; tile[3] = c1_1
                tile[4] = c2_0; tile[5] = c2_1
                tile[6] = c3_0; tile[7] = c3_1
                addEdgeTile(tile, c, ldc, rows: 4, columns: columns, cTransposed: false, accumulate: accumulate)
            }
        }
    }

    /// ``addEdgeTile(_:_:_:rows:columns:cTransposed:accumulate:)`` of a tile of at
    /// most six rows given as its twelve vectors (row 0's two, row 1's two, …), through
    /// stack scratch of twelve vectors.
    @inline(__always)
    static func addSixRows<V: SIMD>(
        _ v: (V, V, V, V, V, V, V, V, V, V, V, V), _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, rows: Int, columns: Int,
        cTransposed: Bool, accumulate: Bool
    ) where V.Scalar: FloatingPoint {
        withStackScratch(of: V.self, capacity: 12) { tile in
            tile[0] = v.0; tile[1] = v.1; tile[2] = v.2; tile[3] = v.3; tile[4] = v.4; tile[5] = v.5
            tile[6] = v.6; tile[7] = v.7; tile[8] = v.8; tile[9] = v.9; tile[10] = v.10; tile[11] = v.11
            addEdgeTile(tile, c, ldc, rows: rows, columns: columns, cTransposed: cTransposed, accumulate: accumulate)
        }
    }

    /// Adds (`accumulate`) or stores the valid `rows × columns` part of a tile
    /// (two vectors per row) to C, or to Cᵀ's storage when `cTransposed`.
    @inline(__always)
    static func addEdgeTile<V: SIMD>(
        _ tile: UnsafeMutablePointer<V>, _ c: UnsafeMutablePointer<V.Scalar>, _ ldc: Int, rows: Int, columns: Int,
        cTransposed: Bool, accumulate: Bool
    ) where V.Scalar: FloatingPoint {
        let w = V.scalarCount
        for r in 0..<rows {
            for j in 0..<columns {
                let value = tile[2 * r + j / w][j % w]
                let index = cTransposed ? j * ldc + r : r * ldc + j
                c[index] = accumulate ? c[index] + value : value
            }
        }
    }

    /// `c[0..<2w] += (u, v)` when `accumulate`, else `c[0..<2w] = (u, v)`
    /// (the first k-block of a `β = 0` product: C is never read, so no
    /// separate pass zeroes it).
    @inline(__always)
    static func update<V: SIMD>(_ c: UnsafeMutablePointer<V.Scalar>, _ u: V, _ v: V, _ w: Int, _ accumulate: Bool)
    where V.Scalar: FloatingPoint {
        let p = UnsafeMutableRawPointer(c)
        let stride = w * MemoryLayout<V.Scalar>.stride
        if accumulate {
            p.storeBytes(of: p.loadUnaligned(as: V.self) + u, as: V.self)
            p.storeBytes(of: p.loadUnaligned(fromByteOffset: stride, as: V.self) + v, toByteOffset: stride, as: V.self)
        } else {
            p.storeBytes(of: u, as: V.self)
            p.storeBytes(of: v, toByteOffset: stride, as: V.self)
        }
    }
}
