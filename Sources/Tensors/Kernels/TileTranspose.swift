/// Out-of-place matrix transposes in `w × w` register tiles, for kernels
/// that change a layout on the way (the recurrent kernels' planes and step
/// blocks).
enum TileTranspose {
    /// `target[c·targetStride + r] = source[r·sourceStride + c]` for `r < rows`,
    /// `c < columns` (strides may be negative): `w × w` tiles transposed in
    /// registers (log₂ w rounds of lane interleaving), edges element by element.
    /// (The LSTM benchmark's layout changes: 4-row groups stored as quads
    /// took 7 % of a training step.)
    static func transpose<S: TensorScalar>(
        _ source: UnsafePointer<S>, sourceStride: Int, rows: Int, columns: Int, _ target: UnsafeMutablePointer<S>, targetStride: Int
    ) {
        switch S.scalarType {
        case .float32:
            tiles(cast(source, to: Float.self), sourceStride, rows, columns, cast(target, to: Float.self), targetStride, FloatVector.self)
        case .float64:
            tiles(cast(source, to: Double.self), sourceStride, rows, columns, cast(target, to: Double.self), targetStride, DoubleVector.self)
        }
    }

    static func tiles<V: SIMD>(
        _ source: UnsafePointer<V.Scalar>, _ sourceStride: Int, _ rows: Int, _ columns: Int,
        _ target: UnsafeMutablePointer<V.Scalar>, _ targetStride: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        let w = V.scalarCount
        var r0 = 0
        while r0 + w <= rows {
            var c0 = 0
            while c0 + w <= columns {
                tile(source + r0 * sourceStride + c0, sourceStride, target + c0 * targetStride + r0, targetStride, V.self)
                c0 += w
            }
            for c in c0..<columns {
                for i in 0..<w { target[c * targetStride + r0 + i] = source[(r0 + i) * sourceStride + c] }
            }
            r0 += w
        }
        for r in r0..<rows {
            for c in 0..<columns { target[c * targetStride + r] = source[r * sourceStride + c] }
        }
    }

    /// One `w × w` tile, `target[c·targetStride + r] = source[r·sourceStride + c]`,
    /// in registers: w rows loaded, log₂ w rounds in which round output rows
    /// `2i`, `2i + 1` interleave input rows `i` and `i + w/2` (one two-source
    /// shuffle each; after the last round row i holds column i), w rows stored.
    /// Written out for 16 and 8 lanes: the loop form kept its rows in two
    /// scratch tiles in memory and checked its index arithmetic; routing
    /// `fwd 256x128@128x10` through transposed row panels (an experiment, see
    /// ``NarrowGEMM``) spent about 7 µs per product in that form, 4.7 in this one.
    @inline(__always)
    static func tile<V: SIMD>(
        _ source: UnsafePointer<V.Scalar>, _ sourceStride: Int, _ target: UnsafeMutablePointer<V.Scalar>, _ targetStride: Int, _: V.Type
    ) where V.Scalar: TensorScalar {
        @inline(__always) func l(_ i: Int) -> V { UnsafeRawPointer(source + i &* sourceStride).loadUnaligned(as: V.self) }
        @inline(__always) func st(_ i: Int, _ v: V) { UnsafeMutableRawPointer(target + i &* targetStride).storeBytes(of: v, as: V.self) }
        @inline(__always) func z(_ a: V, _ b: V, _ half: Int) -> V { BlockedGEMM.zip(a, b, half: half) }
        switch V.scalarCount {
        case 16:
            typealias Rows = (V, V, V, V, V, V, V, V, V, V, V, V, V, V, V, V)
            @inline(__always) func round(_ r: Rows) -> Rows {
                (z(r.0, r.8, 0), z(r.0, r.8, 1), z(r.1, r.9, 0), z(r.1, r.9, 1),
                 z(r.2, r.10, 0), z(r.2, r.10, 1), z(r.3, r.11, 0), z(r.3, r.11, 1),
                 z(r.4, r.12, 0), z(r.4, r.12, 1), z(r.5, r.13, 0), z(r.5, r.13, 1),
                 z(r.6, r.14, 0), z(r.6, r.14, 1), z(r.7, r.15, 0), z(r.7, r.15, 1))
            }
            let r = round(round(round(round((l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7),
                                             l(8), l(9), l(10), l(11), l(12), l(13), l(14), l(15))))))
            st(0, r.0); st(1, r.1); st(2, r.2); st(3, r.3); st(4, r.4); st(5, r.5); st(6, r.6); st(7, r.7)
            st(8, r.8); st(9, r.9); st(10, r.10); st(11, r.11); st(12, r.12); st(13, r.13); st(14, r.14); st(15, r.15)
        case 8:
            typealias Rows = (V, V, V, V, V, V, V, V)
            @inline(__always) func round(_ r: Rows) -> Rows {
                (z(r.0, r.4, 0), z(r.0, r.4, 1), z(r.1, r.5, 0), z(r.1, r.5, 1), z(r.2, r.6, 0), z(r.2, r.6, 1), z(r.3, r.7, 0), z(r.3, r.7, 1))
            }
            let r = round(round(round((l(0), l(1), l(2), l(3), l(4), l(5), l(6), l(7)))))
            st(0, r.0); st(1, r.1); st(2, r.2); st(3, r.3); st(4, r.4); st(5, r.5); st(6, r.6); st(7, r.7)
        default:
            for c in 0..<V.scalarCount {
                for i in 0..<V.scalarCount { target[c * targetStride + i] = source[i * sourceStride + c] }
            }
        }
    }
}
