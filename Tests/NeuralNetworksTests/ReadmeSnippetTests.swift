import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// The README's deep-network snippet, verbatim between the markers.
final class ReadmeSnippetTests: XCTestCase {
    func testReadmeDeepNetwork() throws {
        // README deep network: begin
        let (X, Y) = Datasets.moons(count: 1000, noise: 0.15, seed: 1)   // Float tensors: X (2, m), Y (1, m)
        let data = trainDevTestSplit(X, Y, train: 0.8, dev: 0.1, seed: 2)
        var rng = RandomGenerator(seed: 3)
        let model = Sequential<Float>.deepNetwork(layerSizes: [2, 16, 8, 1], generator: &rng)    // [LINEAR→RELU]×2 → LINEAR (logits); predict applies σ
        let history = try model.fit(data.train.X, data.train.Y, optimizer: Adam(learningRate: 0.01),
                                    configuration: TrainingConfiguration(epochs: 100, batchSize: 64, l2: 0.01),
                                    validation: data.dev)
        let accuracy = Metrics.accuracy(model.predict(data.test.X), data.test.Y)
        print("final cost \(history.costs.last!), test accuracy \(accuracy)")
        // README deep network: end
        XCTAssertGreaterThan(accuracy, 0.95)
        XCTAssertLessThan(history.costs.last!, history.costs.first!)
    }

    func testReadmeTape() throws {
        // README tape: begin
        // The notes' computation graph (C1W2-11): J = 3(a + bc); backward() goes right to left.
        let a = Variable<Double>(5, requiresGradient: true), b = Variable<Double>(3, requiresGradient: true)
        let c = Variable<Double>(2, requiresGradient: true)
        let J = 3 * (a + b * c)
        J.backward()
        print(J.value.scalar, a.gradient!.scalar, b.gradient!.scalar, c.gradient!.scalar)   // 33 3 6 9

        // A residual block in Keras' functional style: a[l+2] = relu(z[l+2] + a[l]).
        var rng = RandomGenerator(seed: 1)
        let x = GraphNode<Float>.input()
        let h = Activation<Float>(.relu)(Dense<Float>(inputs: 2, outputs: 2, generator: &rng)(x))
        let y = Activation<Float>(.relu)(Add<Float>()([Dense<Float>(inputs: 2, outputs: 2, generator: &rng)(h), x]))
        let model = GraphModel(inputs: [x], outputs: [Dense<Float>(inputs: 2, outputs: 1, generator: &rng)(y)], outputActivation: .sigmoid)
        let (X, Y) = Datasets.moons(count: 200, seed: 1)
        try model.fit(X, Y, optimizer: Adam(learningRate: 0.01), configuration: TrainingConfiguration(epochs: 20, batchSize: 32))
        print(model.summary)                                                 // dense1.W, dense1.b, …: 15 parameters
        // README tape: end
        XCTAssertEqual([J.value.scalar, a.gradient!.scalar, b.gradient!.scalar, c.gradient!.scalar], [33, 3, 6, 9])
        XCTAssertEqual(model.parameters.reduce(0) { $0 + $1.value.count }, 15)
    }

    /// The snippets these tests compile — the two above and the quick start
    /// (`TensorsTests/QuickStartTests.swift`) — are the README's Swift blocks line
    /// for line (less each block's leading `import` lines), so neither can be
    /// edited without the other; and every other Swift block of the README is a
    /// manifest fragment (`// Package.swift …`), which no test can compile.
    func testSnippetsAreTheReadmesSwiftBlocks() throws {
        let tests = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: tests.deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8)
        let blocks = Self.swiftBlocks(of: readme)
        var covered = Set<Int>()
        for (name, file) in [("quick start", "TensorsTests/QuickStartTests.swift"), ("deep network", "NeuralNetworksTests/ReadmeSnippetTests.swift"),
                             ("tape", "NeuralNetworksTests/ReadmeSnippetTests.swift")] {
            let source = try String(contentsOf: tests.appendingPathComponent(file), encoding: .utf8)
            let snippet = try XCTUnwrap(Self.snippet(named: name, in: source), "the markers of \(name) in \(file)")
            XCTAssertGreaterThan(snippet.count, 5, name)
            if let index = blocks.firstIndex(of: snippet) {
                covered.insert(index)
            } else {
                XCTFail("no Swift block of the README is the \(name) snippet of \(file) line for line")
            }
        }
        for (index, block) in blocks.enumerated() where !covered.contains(index) {
            XCTAssertTrue(block.first?.hasPrefix("// Package.swift") == true,
                          "the README's Swift block \(index + 1) (\(block.first ?? "")) is compiled by no test")
        }
    }

    /// The bodies of the ```swift blocks of a Markdown text, each without its
    /// leading `import` lines and the blank lines after them.
    static func swiftBlocks(of text: String) -> [[String]] {
        var blocks: [[String]] = [], current: [String]?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if current == nil {
                if line == "```swift" { current = [] }
            } else if line == "```" {
                blocks.append(Array(current!.drop { $0.hasPrefix("import ") || $0.isEmpty }))
                current = nil
            } else {
                current!.append(line)
            }
        }
        return blocks
    }

    /// The lines between `// README <name>: begin` and `// README <name>: end`,
    /// less their common indentation (blank lines as empty ones).
    static func snippet(named name: String, in source: String) -> [String]? {
        let lines = source.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let trimmed = lines.map { $0.trimmingCharacters(in: .whitespaces) }
        guard let begin = trimmed.firstIndex(of: "// README \(name): begin"),
              let end = trimmed.firstIndex(of: "// README \(name): end"), begin < end else { return nil }
        let body = lines[(begin + 1)..<end]
        let indent = body.filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }.map { $0.prefix { $0 == " " }.count }.min() ?? 0
        return body.map { $0.trimmingCharacters(in: .whitespaces).isEmpty ? "" : String($0.dropFirst(indent)) }
    }
}
