// numpy-style printing: the shape, then the values aligned in columns,
// with the middle of long axes elided.

extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
    /// The values in numpy's nested-list style, on one line when they fit in
    /// 80 characters (so `print("x =", x)` stays on one line):
    /// ```
    /// [[1, 2, 3], [4, 5, 6]]
    /// ```
    /// longer tensors one row per line with aligned columns, and the middle of
    /// axes longer than 6 elided as `...` once a tensor has more than 1,000
    /// elements. A rank-0 tensor prints as its value. The element type and
    /// shape are in ``debugDescription``.
    public var description: String {
        if rank == 0 { return Tensor.text(scalars[0]) }
        let line = body(edge: 3, threshold: 1000, aligned: false)
        if line.count <= 80 { return line }
        return body(edge: 3, threshold: 1000, aligned: true)
    }

    /// The element type and shape, then the values:
    /// `Tensor<Float> [2, 3] [[1, 2, 3], [4, 5, 6]]` (a line break before
    /// values that take several lines).
    public var debugDescription: String {
        let values = description
        return "Tensor<\(Scalar.self)> \(format(shape))" + (values.contains("\n") ? "\n" : " ") + values
    }

    func body(edge: Int, threshold: Int, aligned: Bool) -> String {
        let summarize = count > threshold
        let texts = scalars.map(Tensor.text)
        let width = aligned ? texts.map(\.count).max() ?? 0 : 0
        func render(_ axis: Int, _ offset: Int) -> String {
            if axis == rank { return String(repeating: " ", count: Swift.max(0, width - texts[offset].count)) + texts[offset] }
            let n = shape[axis], stride = shape[(axis + 1)...].reduce(1, *)
            var items: [String] = []
            let indices: [Int?] = summarize && n > 2 * edge
                ? Array(0..<edge).map { $0 } + [nil] + Array((n - edge)..<n).map { $0 }
                : Array(0..<n).map { $0 }
            for index in indices {
                items.append(index.map { render(axis + 1, offset + $0 * stride) } ?? "...")
            }
            let separator = axis == rank - 1 || !aligned
                ? ", "
                : "," + String(repeating: "\n", count: rank - axis - 1) + String(repeating: " ", count: axis + 1)
            return "[" + items.joined(separator: separator) + "]"
        }
        return count == 0 ? "[]" : render(0, 0)
    }

    /// Integers without a fraction; otherwise up to 6 significant digits.
    static func text(_ x: Scalar) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        let d = Double(x)
        if d == d.rounded() && Swift.abs(d) < 1e15 { return String(Int64(d)) }
        let magnitude = Swift.abs(d)
        if magnitude >= 1e-4 && magnitude < 1e6 {
            var s = String(d)
            if let dot = s.firstIndex(of: "."), s.distance(from: s.startIndex, to: s.endIndex) > 10 {
                let digits = Swift.max(1, 7 - s.distance(from: s.startIndex, to: dot))
                s = roundedText(d, fractionDigits: digits)
            }
            return s
        }
        return String(d)
    }

    static func roundedText(_ d: Double, fractionDigits: Int) -> String {
        var scale = 1.0
        for _ in 0..<fractionDigits { scale *= 10 }
        var s = String((d * scale).rounded() / scale)
        while s.hasSuffix("0") && s.contains(".") { s.removeLast() }
        if s.hasSuffix(".") { s.removeLast() }
        return s
    }
}
