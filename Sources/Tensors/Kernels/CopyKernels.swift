/// Data movement: copies of contiguous runs and 2-D transposes, used by
/// slicing, concatenation, gathering and axis permutation.
enum CopyKernels {
    /// Copies `runs` runs of `length` elements; `offsets(r)` gives run `r`'s
    /// source and destination offsets. Loop path: element by element; vectorized
    /// path: `memcpy`-style block copies, runs split over threads when large.
    @inline(__always)
    static func copyRuns<S>(
        _ src: UnsafePointer<S>, _ dst: UnsafeMutablePointer<S>, runs: Int, length: Int,
        offsets: (Int) -> (Int, Int)
    ) {
        ComputePath.current.run(loop: {
            for r in 0..<runs {
                let (s, d) = offsets(r)
                for k in 0..<length { dst[d + k] = src[s + k] }
            }
        }, vectorized: {
            let runsPerChunk = Swift.max(1, elementwiseChunk / Swift.max(length, 1))
            let ps = UncheckedSendable(src), pd = UncheckedSendable(dst)
            parallelFor(chunks: (runs + runsPerChunk - 1) / runsPerChunk, work: runs * length) { c in
                for r in (c * runsPerChunk)..<Swift.min(runs, (c + 1) * runsPerChunk) {
                    let (s, d) = offsets(r)
                    if length < 16 {   // a memmove call per short run costs more than the copy
                        for k in 0..<length { pd.value[d + k] = ps.value[s + k] }
                    } else {
                        (pd.value + d).update(from: ps.value + s, count: length)
                    }
                }
            }
        })
    }

    /// `dst[o, j] = src[o, indices[j]]` for `rows` rows of `rowLength` elements:
    /// picking single elements along the last axis (a shuffle of the columns
    /// of X). The vectorized path is a tight loop per row, rows split over
    /// threads — not one offset-closure call per element as `copyRuns` would make.
    @_specialize(where S == Float)
    @_specialize(where S == Double)
    static func gatherElements<S: TensorScalar>(
        _ src: UnsafePointer<S>, _ dst: UnsafeMutablePointer<S>, rows: Int, rowLength: Int,
        indices: UnsafePointer<Int>, count k: Int
    ) {
        ComputePath.current.run(loop: {
            for o in 0..<rows {
                for j in 0..<k { dst[o * k + j] = src[o * rowLength + indices[j]] }
            }
        }, vectorized: {
            let (ps, pd, pi) = (UncheckedSendable(src), UncheckedSendable(dst), UncheckedSendable(indices))
            let rowsPerChunk = Swift.max(1, elementwiseChunk / Swift.max(k, 1))
            parallelFor(chunks: (rows + rowsPerChunk - 1) / rowsPerChunk, work: rows * k) { c in
                for o in (c * rowsPerChunk)..<Swift.min(rows, (c + 1) * rowsPerChunk) {
                    let source = ps.value + o * rowLength, target = pd.value + o * k
                    for j in 0..<k { target[j] = source[pi.value[j]] }
                }
            }
        })
    }

    /// `dst[b, j, i] = src[b·batchStride + i·rowStride + j]`: a batch of
    /// `(rows, columns)` → `(columns, rows)` transposes, in 32 × 32 tiles on the
    /// vectorized path so both sides stay in cache.
    @inline(__always)
    static func transpose<S: TensorScalar>(
        _ src: UnsafePointer<S>, _ dst: UnsafeMutablePointer<S>, batch: Int, batchStride: Int, rows: Int, columns: Int
    ) {
        let tile = 32
        let ps = UncheckedSendable(src), pd = UncheckedSendable(dst)
        let tileRows = (rows + tile - 1) / tile
        let body: (Int) -> Void = { c in
            let b = c / tileRows, i0 = (c % tileRows) * tile
            let s = ps.value + b * batchStride, d = pd.value + b * rows * columns
            var j0 = 0
            while j0 < columns {
                for i in i0..<Swift.min(rows, i0 + tile) {
                    for j in j0..<Swift.min(columns, j0 + tile) { d[j * rows + i] = s[i * columns + j] }
                }
                j0 += tile
            }
        }
        ComputePath.current.run(loop: {
            for b in 0..<batch {
                for i in 0..<rows {
                    for j in 0..<columns { dst[b * rows * columns + j * rows + i] = src[b * batchStride + i * columns + j] }
                }
            }
        }, vectorized: {
            parallelFor(chunks: batch * tileRows, work: batch * rows * columns, body)
        })
    }
}
