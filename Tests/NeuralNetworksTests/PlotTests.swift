import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import NeuralNetworks
import Tensors
import XCTest

final class PlotTests: XCTestCase {
    func testCostCurveAndDecisionBoundaryAreWellFormedSVG() throws {
        let (X, Y): (Tensor<Double>, Tensor<Double>) = Datasets.flower(count: 200, seed: 1)
        var g = RandomGenerator(seed: 2)
        let model = Sequential<Double>.shallowNetwork(inputs: 2, hidden: 4, generator: &g)
        let history = try model.fit(X, Y, loss: BinaryCrossEntropy(), optimizer: Adam(learningRate: 0.05),
                                    configuration: TrainingConfiguration(epochs: 60))
        let curve = SVGPlot.lineChart(history.costs, title: "cost <flower>")
        XCTAssertTrue(curve.hasPrefix("<svg"))
        XCTAssertTrue(curve.contains("<polyline"))
        XCTAssertTrue(curve.contains("cost &lt;flower&gt;"), "titles are escaped")
        let points = curve.components(separatedBy: "points=\"")[1].prefix { $0 != "\"" }
        XCTAssertEqual(points.split(separator: " ").count, 60, "one point per epoch")
        let boundary = SVGPlot.decisionBoundary(X: X, Y: Y, title: "decision boundary", resolution: 20) { model.predict($0) }
        XCTAssertEqual(boundary.components(separatedBy: "<rect").count - 1, 20 * 20 + 1)
        XCTAssertEqual(boundary.components(separatedBy: "<circle").count - 1, 200)
        // Both parse as XML.
        for svg in [curve, boundary] { XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), "well-formed XML") }
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("plot-\(UUID().uuidString).svg")
        try SVGPlot.write(boundary, to: url)
        XCTAssertEqual(try String(contentsOf: url, encoding: .utf8), boundary)
        try? FileManager.default.removeItem(at: url)
    }

    /// The attention heat map (C5W3-10): one cell per weight, white for 0 and
    /// dark blue for 1 (values outside [0, 1] and NaN clamped), escaped labels,
    /// well-formed XML.
    func testHeatMapShadesOneCellPerWeight() {
        let weights: [[Double]] = [[0, 0.5, 1], [1.5, .nan, 0.25]]
        let svg = SVGPlot.heatMap(weights, rowLabels: ["1", "9"], columnLabels: ["<s>", "J", "u"], title: "α⟨t,t'⟩")
        XCTAssertTrue(XMLParser(data: Data(svg.utf8)).parse(), "well-formed XML")
        let fills = svg.components(separatedBy: "fill=\"rgb(").dropFirst().map { $0.prefix { $0 != ")" } }
        XCTAssertEqual(fills, ["255,255,255", "141,162,207", "28,70,160", "28,70,160", "255,255,255", "198,208,231"])
        XCTAssertTrue(svg.contains(">&lt;s&gt;<"), "labels are escaped")
        XCTAssertEqual(svg.components(separatedBy: "text-anchor=\"end\"").count - 1, 2, "one label per row")
    }
}
