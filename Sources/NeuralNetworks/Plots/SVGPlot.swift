import Foundation
import Tensors

/// Minimal SVG charts for what a user would rather look at than read: the
/// cost curve of a training run and the decision boundary of a 2-D classifier.
/// Files are written atomically.
public enum SVGPlot {
    static let width = 640.0, height = 420.0, margin = 50.0, left = 78.0

    /// A line chart of `values` against their index (epochs), with axis labels.
    public static func lineChart(_ values: [Double], title: String, xLabel: String = "epoch", yLabel: String = "cost") -> String {
        let finite = values.filter(\.isFinite)
        let low = finite.min() ?? 0, high = Swift.max(finite.max() ?? 1, low + 1e-12)
        let plotW = width - left - margin, plotH = height - 2 * margin
        func x(_ i: Int) -> Double { left + plotW * Double(i) / Double(Swift.max(values.count - 1, 1)) }
        func y(_ v: Double) -> Double { margin + plotH * (1 - (v - low) / (high - low)) }
        let points = values.enumerated().filter { $0.element.isFinite }
            .map { String(format: "%.2f,%.2f", x($0.offset), y($0.element)) }.joined(separator: " ")
        var svg = header(title)
        svg += axes(xLabel: xLabel, yLabel: yLabel)
        for k in 0...4 {
            let v = low + (high - low) * Double(k) / 4
            svg += String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%@</text>\n",
                          left - 6, y(v) + 4, String(format: "%.3g", v))
        }
        svg += "<text x=\"\(left)\" y=\"\(height - margin + 16)\" font-size=\"11\">1</text>\n"
        svg += "<text x=\"\(width - margin)\" y=\"\(height - margin + 16)\" font-size=\"11\" text-anchor=\"end\">\(values.count)</text>\n"
        svg += "<polyline fill=\"none\" stroke=\"#1f77b4\" stroke-width=\"2\" points=\"\(points)\"/>\n"
        return svg + "</svg>\n"
    }

    /// The decision regions of `predict` (probability of class 1 for each
    /// column of a `(2, k)` input) over the bounding box of `X` `(2, m)`,
    /// with the points of `X` coloured by their labels `Y` `(1, m)`.
    public static func decisionBoundary<S: TensorScalar>(
        X: Tensor<S>, Y: Tensor<S>, title: String, resolution: Int = 60, predict: (Tensor<S>) -> Tensor<S>
    ) -> String {
        let xs = X.rows(0..<1).scalars.map(Double.init), ys = X.rows(1..<2).scalars.map(Double.init)
        let (x0, x1) = (xs.min()! - 0.5, xs.max()! + 0.5), (y0, y1) = (ys.min()! - 0.5, ys.max()! + 0.5)
        let plotW = width - left - margin, plotH = height - 2 * margin
        // Cell centres, row by row from the top: first coordinates, then second coordinates.
        var gridX = [S](), gridY = [S]()
        for j in 0..<resolution {
            for i in 0..<resolution {
                gridX.append(S(x0 + (x1 - x0) * (Double(i) + 0.5) / Double(resolution)))
                gridY.append(S(y1 - (y1 - y0) * (Double(j) + 0.5) / Double(resolution)))
            }
        }
        let probabilities = predict(Tensor(shape: [2, resolution * resolution], scalars: gridX + gridY)).scalars
        var svg = header(title)
        let cellW = plotW / Double(resolution), cellH = plotH / Double(resolution)
        for j in 0..<resolution {
            for i in 0..<resolution {
                let p = Double(probabilities[j * resolution + i])
                let color = p > 0.5 ? "#f4b6b6" : "#b6cdf4"
                svg += String(format: "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"%@\"/>\n",
                              left + Double(i) * cellW, margin + Double(j) * cellH, cellW + 0.3, cellH + 0.3, color)
            }
        }
        for (k, (px, py)) in zip(xs, ys).enumerated() {
            let color = Y.scalars[k] > 0.5 ? "#c62828" : "#1565c0"
            svg += String(format: "<circle cx=\"%.2f\" cy=\"%.2f\" r=\"3\" fill=\"%@\"/>\n",
                          left + plotW * (px - x0) / (x1 - x0), margin + plotH * (1 - (py - y0) / (y1 - y0)), color)
        }
        svg += axes(xLabel: "x₁", yLabel: "x₂")
        return svg + "</svg>\n"
    }

    /// A heat map of `values` (rows × columns, in [0, 1] — attention weights
    /// `α⟨t,t'⟩` with one output step per row and one input step per column),
    /// white for 0 to dark blue for 1, the labels along the left and top.
    public static func heatMap(_ values: [[Double]], rowLabels: [String], columnLabels: [String], title: String) -> String {
        let rows = values.count, columns = values.first?.count ?? 0
        let cell = Swift.max(8, Swift.min(24, Swift.min((width - 120) / Double(Swift.max(columns, 1)), (height - 110) / Double(Swift.max(rows, 1)))))
        let x0 = 80.0, y0 = 80.0
        let w = x0 + cell * Double(columns) + 20, h = y0 + cell * Double(rows) + 20
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(w))\" height=\"\(Int(h))\" font-family=\"monospace\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + "<text x=\"\(w / 2)\" y=\"22\" font-size=\"14\" font-family=\"sans-serif\" text-anchor=\"middle\">\(escape(title))</text>\n"
        for (j, label) in columnLabels.prefix(columns).enumerated() {
            let x = x0 + cell * (Double(j) + 0.5)
            svg += "<text x=\"\(x)\" y=\"\(y0 - 6)\" font-size=\"12\" text-anchor=\"middle\">\(escape(label))</text>\n"
        }
        for (i, row) in values.enumerated() {
            let y = y0 + cell * Double(i)
            if i < rowLabels.count {
                svg += "<text x=\"\(x0 - 6)\" y=\"\(y + cell * 0.7)\" font-size=\"12\" text-anchor=\"end\">\(escape(rowLabels[i]))</text>\n"
            }
            for (j, v) in row.enumerated() {
                let shade = Swift.max(0, Swift.min(1, v.isFinite ? v : 0))
                let (r, g, b) = (Int(255 - 227 * shade), Int(255 - 185 * shade), Int(255 - 95 * shade))
                svg += "<rect x=\"\(x0 + cell * Double(j))\" y=\"\(y)\" width=\"\(cell)\" height=\"\(cell)\" fill=\"rgb(\(r),\(g),\(b))\"/>\n"
            }
        }
        return svg + "</svg>\n"
    }

    /// Writes `svg` to `url` atomically.
    public static func write(_ svg: String, to url: URL) throws {
        try Data(svg.utf8).write(to: url, options: .atomic)
    }

    static func header(_ title: String) -> String {
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" font-family=\"sans-serif\">\n"
            + "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
            + "<text x=\"\(width / 2)\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">\(escape(title))</text>\n"
    }

    static func axes(xLabel: String, yLabel: String) -> String {
        let bottom = height - margin, right = width - margin
        return "<line x1=\"\(left)\" y1=\"\(bottom)\" x2=\"\(right)\" y2=\"\(bottom)\" stroke=\"black\"/>\n"
            + "<line x1=\"\(left)\" y1=\"\(margin)\" x2=\"\(left)\" y2=\"\(bottom)\" stroke=\"black\"/>\n"
            + "<text x=\"\((left + right) / 2)\" y=\"\(height - 12)\" font-size=\"13\" text-anchor=\"middle\">\(escape(xLabel))</text>\n"
            + "<text x=\"16\" y=\"\(height / 2)\" font-size=\"13\" text-anchor=\"middle\" transform=\"rotate(-90 16 \(height / 2))\">\(escape(yLabel))</text>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
