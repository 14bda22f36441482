import XCTest
@testable import Tensors

/// The register-tile transpose (`TileTranspose`) behind the recurrent kernels' layout changes
/// (the notes' `(rows, m, T)` to step blocks and back): whole `w × w` tiles
/// (16 Float, 8 Double lanes), row and column edges, and a negative target
/// stride (a reversed sequence's step blocks, stored back to front).
final class TransposeKernelTests: XCTestCase {
    func check<S: TensorScalar>(_: S.Type, rows: Int, columns: Int, reversed: Bool) {
        let sourceStride = columns + 3, targetStride = rows + 5
        let source = (0..<(rows * sourceStride)).map { S(Double($0 % 1009) - 500) }
        var target = [S](repeating: -1, count: max(1, columns * targetStride))
        source.withUnsafeBufferPointer { s in
            target.withUnsafeMutableBufferPointer { t in
                let start = reversed ? t.baseAddress! + (columns - 1) * targetStride : t.baseAddress!
                TileTranspose.transpose(s.baseAddress!, sourceStride: sourceStride, rows: rows, columns: columns,
                                        start, targetStride: reversed ? -targetStride : targetStride)
            }
        }
        for r in 0..<rows {
            for c in 0..<columns {
                let line = reversed ? columns - 1 - c : c
                XCTAssertEqual(target[line * targetStride + r], source[r * sourceStride + c], "\(S.self) \(rows)×\(columns) (\(r), \(c)) reversed \(reversed)")
            }
        }
        for line in 0..<columns { for r in rows..<targetStride { XCTAssertEqual(target[line * targetStride + r], -1, "written outside") } }
    }

    func testTransposeTilesAndEdges() {
        for (rows, columns) in [(1, 1), (3, 50), (16, 16), (32, 50), (37, 21), (8, 8), (9, 3), (17, 33)] {
            for reversed in [false, true] {
                check(Float.self, rows: rows, columns: columns, reversed: reversed)
                check(Double.self, rows: rows, columns: columns, reversed: reversed)
            }
        }
    }
}
