import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Trigger-word detection (C5W3-12): the generated clips and their labels, the
/// Conv1D → GRU → per-step sigmoid model, training, and the detector's scores.
final class TriggerWordTests: XCTestCase {
    func testGeometryMapsTriggerEndsToLabelSteps() {
        let g = TriggerWordGeometry(inputSteps: 200, filterSize: 7, stride: 2, labelSteps: 6)
        XCTAssertEqual(g.outputSteps, 97)   // ⌊(200 − 7)/2⌋ + 1
        // Output step j has read input steps 0…2j + 6.
        XCTAssertEqual([0, 6, 7, 8, 9, 40, 198].map(g.outputStep(hearing:)), [0, 0, 1, 1, 2, 17, 96])
        XCTAssertEqual(g.labelRange(triggerEnd: 40), 18..<24)
        XCTAssertEqual(g.labelRange(triggerEnd: 190), 93..<97, "clipped at T_y")
        XCTAssertEqual(g.labelRange(triggerEnd: 198), 97..<97)
    }

    func testDataIsReproducibleAndLabelledByConstruction() {
        let geometry = TriggerWordGeometry(inputSteps: 200, filterSize: 7, stride: 2, labelSteps: 6)
        let a = TriggerWordData<Float>(count: 40, frequencies: 16, geometry: geometry, seed: 5)
        let b = TriggerWordData<Float>(count: 40, frequencies: 16, geometry: geometry, seed: 5)
        let c = TriggerWordData<Float>(count: 40, frequencies: 16, geometry: geometry, seed: 6)
        XCTAssertEqual(a.X, b.X)
        XCTAssertEqual(a.Y, b.Y)
        XCTAssertEqual(a.segments, b.segments)
        XCTAssertNotEqual(a.X, c.X)
        XCTAssertEqual(a.X.shape, [16, 40, 200])
        XCTAssertEqual(a.Y.shape, [1, 40, 97])
        XCTAssertTrue(a.X.scalars.allSatisfy { $0 >= 0 && $0.isFinite })

        let Ty = 97, y = a.Y.scalars
        var triggers = 0, negatives = 0
        for (i, words) in a.segments.enumerated() {
            XCTAssertLessThanOrEqual(words.filter { $0.kind == .trigger }.count, 3)
            XCTAssertLessThanOrEqual(words.filter { $0.kind != .trigger }.count, 3)
            for (w, v) in zip(words, words.dropFirst()) { XCTAssertLessThan(w.end, v.start, "clip \(i): words overlap") }
            for w in words { XCTAssertTrue((16...24).contains(w.length) && w.start >= 0 && w.end < 200) }
            // y⟨j⟩ = 1 exactly when some trigger, heard completely at e_y = ⌈(end − 6)/2⌉, has e_y < j ≤ e_y + 6.
            let heard = a.triggerEnds[i].map { Int((Double($0 - 6) / 2).rounded(.up)) }
            XCTAssertEqual(heard, a.triggerOutputSteps[i])
            for j in 0..<Ty {
                let expected: Float = heard.contains { $0 < j && j <= $0 + 6 } ? 1 : 0
                XCTAssertEqual(y[i * Ty + j], expected, "clip \(i), output step \(j)")
            }
            XCTAssertTrue(heard.allSatisfy { $0 + 1 < Ty }, "every trigger has a label step")
            triggers += heard.count
            negatives += words.count - heard.count
        }
        XCTAssertGreaterThan(triggers, 30)
        XCTAssertGreaterThan(negatives, 30)
    }

    func testWordsDifferInShapeNotEnergy() {
        let kinds: [TriggerWordKind] = [.trigger, .negative(0), .negative(1), .negative(2), .negative(3)]
        for kind in kinds {
            for u in stride(from: 0.0, through: 1.0, by: 0.25) {
                XCTAssertEqual(TriggerWordData<Float>.template(kind, u: u, frequencies: 16).reduce(0, +), 2, accuracy: 1e-12)
            }
        }
        // The trigger's ridge rises from bin 3 to bin 12; the first negative's falls.
        func peak(_ kind: TriggerWordKind, _ u: Double) -> Int {
            let column = TriggerWordData<Float>.template(kind, u: u, frequencies: 16)
            return column.indices.max { column[$0] < column[$1] }!
        }
        XCTAssertEqual([0, 1.0 / 3, 1].map { peak(.trigger, $0) }, [3, 6, 12])   // c = 3 + 9u
        XCTAssertEqual([0, 1].map { peak(.negative(0), $0) }, [12, 3])
    }

    func testModelShapesAndGradients() {
        var g = RandomGenerator(seed: 3)
        let model = TriggerWordModel<Double>(frequencies: 3, filters: 2, filterSize: 3, stride: 2, units: 2, gruLayers: 1, generator: &g)
        let X = Tensor<Double>(randomUniform: [3, 2, 9], generator: &g)
        XCTAssertEqual(model.logits(X).shape, [1, 2, 4])   // ⌊(9 − 3)/2⌋ + 1
        XCTAssertEqual(model.geometry(inputSteps: 9, labelSteps: 2).outputSteps, 4)
        XCTAssertEqual(model.parameters.map(\.name), ["conv.W", "conv.b", "norm.gamma", "norm.beta", "gru1.W", "gru1.b", "output.W", "output.b"])
        let Y = Tensor<Double>(shape: [1, 2, 4], scalars: [0, 1, 1, 0, 1, 0, 0, 1])
        assertGreat(gradientCheck(model, X, Y, loss: SequenceBinaryCrossEntropyWithLogits()), "Conv1D → BatchNorm → GRU → dense per step")
        XCTAssertTrue(model.predict(X).scalars.allSatisfy { $0 > 0 && $0 < 1 })
        var h = RandomGenerator(seed: 3)
        let deep = TriggerWordModel<Float>(frequencies: 16, generator: &h)
        XCTAssertEqual(deep.logits(Tensor<Float>.zeros([16, 2, 21])).shape, [1, 2, 8])   // ⌊(21 − 7)/2⌋ + 1
        XCTAssertEqual(deep.parameters.map(\.name).filter { $0.hasPrefix("gru") }, ["gru1.W", "gru1.b", "gru2.W", "gru2.b"])
    }

    func testSequenceBinaryCrossEntropyAveragesOverStepsAndClips() {
        // Zero logits: every step costs ln 2 whatever its label; Keras's mean: ∂J/∂z = (½ − y)/(m·T).
        let Y = Tensor<Double>(shape: [1, 2, 3], scalars: [0, 1, 1, 0, 0, 1])
        let (cost, gradient) = SequenceBinaryCrossEntropyWithLogits<Double>(reduction: .meanOverOutputs)(Tensor<Double>.zeros([1, 2, 3]), Y)
        XCTAssertEqual(cost, Foundation.log(2), accuracy: 1e-14)
        assertClose(gradient, Y.scalars.map { (0.5 - $0) / 6 }, tolerance: 1e-15)
        // The notes' L = Σ_t L⟨t⟩ over the m = 2 clips: 3 steps of ln 2 each; ∂J/∂z = (½ − y)/m.
        let (summed, summedGradient) = SequenceBinaryCrossEntropyWithLogits<Double>()(Tensor<Double>.zeros([1, 2, 3]), Y)
        XCTAssertEqual(summed, 3 * Foundation.log(2), accuracy: 1e-14)
        assertClose(summedGradient, Y.scalars.map { (0.5 - $0) / 2 }, tolerance: 1e-15)
    }

    func testShortTrainingRunReducesTheLoss() throws {
        var g = RandomGenerator(seed: 4)
        let model = TriggerWordModel<Float>(frequencies: 8, filters: 8, filterSize: 5, stride: 2, units: 8, gruLayers: 1, generator: &g)
        let geometry = model.geometry(inputSteps: 60, labelSteps: 3)
        let data = TriggerWordData<Float>(count: isReleaseBuild ? 256 : 48, frequencies: 8, geometry: geometry, maxTriggers: 2,
                                          maxNegatives: 1, wordLengths: 8...12, amplitudes: 0.5...1, seed: 9)
        let before = try model.loss(data)
        let history = try model.fit(data, optimizer: Adam(learningRate: 0.01),
                                    configuration: TrainingConfiguration(epochs: isReleaseBuild ? 10 : 3, batchSize: 16, seed: 1))
        let after = try model.loss(data)
        XCTAssertLessThan(history.costs.last!, history.costs.first!)
        XCTAssertLessThan(after, 0.9 * before, "loss \(before) → \(after)")
        XCTAssertEqual(model.detections(data).count, data.count)
        let wrong = TriggerWordData<Float>(count: 2, frequencies: 8, geometry: TriggerWordGeometry(inputSteps: 60, filterSize: 7, stride: 2), seed: 1)
        XCTAssertThrowsError(try model.loss(wrong), "labels made for another filter size")
    }

    func testDetectionsCrossTheThresholdWithARefractoryGap() {
        let p = [0.6, 0.7, 0.2, 0.9, 0.1, 0.5, 0.1, 0.55, 0.3]
        XCTAssertEqual(triggerDetections(p, refractory: 0), [0, 3, 7], "crossings only; 0.5 is not above the threshold")
        XCTAssertEqual(triggerDetections(p, refractory: 4), [0, 7], "step 3 is within 4 steps of step 0")
        XCTAssertEqual(triggerDetections(p, threshold: 0.65, refractory: 0), [1, 3])
        XCTAssertEqual(triggerDetections([], refractory: 3), [])
    }

    func testPrecisionAndRecallOfHandMadeDetections() {
        // Triggers heard at 10 and 30, k = 6, tolerance 2: windows 9…18 and 29…38.
        let s = TriggerDetectionScore(detections: [12, 14, 50], triggers: [10, 30], labelSteps: 6, tolerance: 2)
        XCTAssertEqual(s, TriggerDetectionScore(detections: 3, triggers: 2, correct: 1), "14 finds trigger 10 a second time")
        XCTAssertEqual(s.precision, 1.0 / 3)
        XCTAssertEqual(s.recall, 0.5)
        XCTAssertEqual(TriggerDetectionScore(detections: [8, 19], triggers: [10], labelSteps: 6, tolerance: 2).correct, 0, "just outside")
        XCTAssertEqual(TriggerDetectionScore(detections: [9, 18], triggers: [10, 10], labelSteps: 6, tolerance: 2).correct, 2, "window edges")
        XCTAssertEqual(TriggerDetectionScore(detections: [11], triggers: [10], labelSteps: 6, tolerance: 0).correct, 1)
        XCTAssertEqual(TriggerDetectionScore(detections: [10], triggers: [10], labelSteps: 6, tolerance: 0).correct, 0)
        // Overlapping windows 9…18 and 14…23: each detection is matched to the earliest trigger still free.
        let close = TriggerDetectionScore(detections: [17, 18], triggers: [15, 10], labelSteps: 6, tolerance: 2)
        XCTAssertEqual(close.correct, 2)
        let none = TriggerDetectionScore(detections: [], triggers: [], labelSteps: 6)
        XCTAssertEqual([none.precision, none.recall], [1, 1])
        let total = s.adding(TriggerDetectionScore(detections: [], triggers: [5], labelSteps: 6))
        XCTAssertEqual(total, TriggerDetectionScore(detections: 3, triggers: 3, correct: 1))
        XCTAssertEqual(total.recall, 1.0 / 3)
    }
}
