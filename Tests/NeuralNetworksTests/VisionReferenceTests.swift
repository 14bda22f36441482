import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Course 4 weeks 3–4 against `Reference/vision.py` (numpy and PyTorch
/// autograd in float64, printed into VisionReferenceValues.swift), plus the
/// notes' worked examples and finite-difference checks of every new backward rule.
final class VisionReferenceTests: XCTestCase {
    typealias R = VisionReference

    func box(_ v: [Double], _ i: Int) -> BoundingBox {
        BoundingBox(xMin: v[4 * i], yMin: v[4 * i + 1], xMax: v[4 * i + 2], yMax: v[4 * i + 3])
    }

    // MARK: Boxes

    func testIntersectionOverUnionMatchesReferenceIncludingEdgeCases() {
        for i in R.iou.indices {
            let a = box(R.iouPairs, 2 * i), b = box(R.iouPairs, 2 * i + 1)
            XCTAssertEqual(intersectionOverUnion(a, b), R.iou[i], accuracy: 1e-15, "pair \(i)")
            XCTAssertEqual(intersectionOverUnion(b, a), R.iou[i], accuracy: 1e-15, "pair \(i) swapped")
        }
        // The cases the reference includes on purpose: touching boxes share no area, and 0.5 is exact.
        XCTAssertEqual(R.iou[2], 0); XCTAssertEqual(R.iou[3], 0); XCTAssertEqual(R.iou[6], 0.5)
    }

    func testCenterSizeAndCornerFormsConvert() {
        // C4W3-04's cell-relative box, b_x = 0.4, b_y = 0.3, b_h = 0.9, b_w = 0.5.
        let b = BoundingBox(centerX: 0.4, centerY: 0.3, width: 0.5, height: 0.9)
        XCTAssertEqual(b.xMin, 0.15, accuracy: 1e-15); XCTAssertEqual(b.xMax, 0.65, accuracy: 1e-15)
        XCTAssertEqual(b.yMin, -0.15, accuracy: 1e-15); XCTAssertEqual(b.yMax, 0.75, accuracy: 1e-15)
        XCTAssertEqual(b.center.x, 0.4, accuracy: 1e-15); XCTAssertEqual(b.center.y, 0.3, accuracy: 1e-15)
        XCTAssertEqual(b.width, 0.5, accuracy: 1e-15); XCTAssertEqual(b.height, 0.9, accuracy: 1e-15)
        XCTAssertEqual(BoundingBox(xMin: 3, yMin: 0, xMax: 1, yMax: 2).area, 0, "corners the wrong way round: empty")
    }

    // MARK: Non-max suppression

    func testNonMaxSuppressionMatchesReferenceInBothConventions() {
        let detections = R.nmsScores.indices.map {
            Detection(box: box(R.nmsBoxes, $0), score: R.nmsScores[$0], classIndex: R.nmsClasses[$0])
        }
        func indices(_ kept: [Detection]) -> [Int] {
            // Boxes 0 and 5 are equal but of different classes; the class tells them apart.
            kept.map { d in detections.indices.first { detections[$0] == d }! }
        }
        XCTAssertEqual(indices(nonMaxSuppression(detections)), R.nmsNotesPerClass, "notes, per class")
        XCTAssertEqual(indices(nonMaxSuppression(detections, perClass: false)), R.nmsNotesAgnostic, "notes, class-agnostic")
        XCTAssertEqual(indices(nonMaxSuppression(detections, convention: .assignment)), R.nmsAssignmentPerClass, "assignment, per class")
        XCTAssertEqual(indices(nonMaxSuppression(detections, perClass: false, maxDetections: 3, convention: .assignment)),
                       R.nmsAssignmentAgnosticMax3, "assignment, class-agnostic, at most 3")
        // Score exactly at the threshold: dropped by the notes' p_c ≤ 0.6 rule, kept by the assignment's ≥.
        XCTAssertFalse(ThresholdConvention.notes.keeps(score: 0.6, threshold: 0.6))
        XCTAssertTrue(ThresholdConvention.assignment.keeps(score: 0.6, threshold: 0.6))
        // Equal scores: the earlier box wins (3 before 4, and 4 is suppressed).
        XCTAssertTrue(R.nmsNotesPerClass.contains(3) && !R.nmsNotesPerClass.contains(4))
        XCTAssertEqual(nonMaxSuppression([], scoreThreshold: 0), [])
    }

    // MARK: Losses

    func testLocalizationLossMatchesReferenceAndIgnoresDontCareTerms() {
        let prediction = Tensor(shape: [8, 5], scalars: R.localizationPrediction)
        var target = Tensor(shape: [8, 5], scalars: R.localizationTarget)
        let (cost, gradient) = LocalizationLoss<Double>()(prediction, target)
        XCTAssertEqual(cost, R.localizationCost[0], accuracy: 1e-12)
        assertClose(gradient.scalars, R.localizationGradient, "∂J/∂ŷ")
        // Column 1 has p_c = 0: its "?" entries may hold anything, NaN included.
        target.withUnsafeMutableBufferPointer { for k in 1..<8 { $0[k * 5 + 1] = .nan } }
        let (again, gradientAgain) = LocalizationLoss<Double>()(prediction, target)
        XCTAssertEqual(again, cost)
        XCTAssertEqual(gradientAgain.scalars, gradient.scalars)
        let p = Variable(prediction, requiresGradient: true)
        assertGreat(gradientCheck([("ŷ", p)]) { LocalizationLoss<Double>()(p, target) }, "LocalizationLoss")
    }

    func testYOLOLossMatchesAutogradReference() {
        let anchors = (0..<2).map { AnchorBox(width: R.yoloAnchors[2 * $0], height: R.yoloAnchors[2 * $0 + 1]) }
        let grid = YOLOGrid(rows: 2, columns: 3, anchors: anchors, classes: 3)
        let logits = Tensor(shape: [2, 2, 3, 16], scalars: R.yoloLogits)
        let target = Tensor(shape: [2, 2, 3, 16], scalars: R.yoloTarget)
        let (cost, gradient) = YOLOLoss<Double>(grid: grid)(logits, target)
        XCTAssertEqual(cost, R.yoloCost[0], accuracy: 1e-11)
        assertClose(gradient.scalars, R.yoloGradient, tolerance: 1e-11, "∂J/∂t")
        let t = Variable(logits, requiresGradient: true)
        assertGreat(gradientCheck([("logits", t)], epsilon: 1e-6) { YOLOLoss<Double>(grid: grid)(t, target) }, "YOLOLoss")
    }

    func testTripletLossAndGradientMatchReference() {
        let a = Variable(Tensor(shape: [4, 5], scalars: R.tripletAnchor), requiresGradient: true)
        let p = Variable(Tensor(shape: [4, 5], scalars: R.tripletPositive), requiresGradient: true)
        let n = Variable(Tensor(shape: [4, 5], scalars: R.tripletNegative), requiresGradient: true)
        XCTAssertEqual(R.tripletActive, [1, 0, 1, 0, 1], "the inputs exercise both sides of the hinge")
        let J = GradientTape.$isRecording.withValue(true) { tripletLoss(anchor: a, positive: p, negative: n, margin: 0.2) }
        J.backward()
        XCTAssertEqual(J.value.scalar, R.tripletCost[0], accuracy: 1e-12)
        assertClose(a.gradient!.scalars, R.tripletGradientAnchor, "∂J/∂f(A)")
        assertClose(p.gradient!.scalars, R.tripletGradientPositive, "∂J/∂f(P)")
        assertClose(n.gradient!.scalars, R.tripletGradientNegative, "∂J/∂f(N)")
        assertGreat(gradientCheck([("A", a), ("P", p), ("N", n)]) {
            tripletLoss(anchor: a, positive: p, negative: n, margin: 0.2)
        }, "tripletLoss")
        // The notes' margin example: d(A,P) = 0.5 with α = 0.2 needs d(A,N) ≥ 0.7.
        let zero = Variable(Tensor<Double>(shape: [1, 2], scalars: [0, 0]))
        let positive = Variable(Tensor<Double>(shape: [1, 2], scalars: [(0.5).squareRoot(), (0.5).squareRoot()]))
        let negative = Variable(Tensor<Double>(shape: [1, 2], scalars: [(0.7).squareRoot(), (0.69).squareRoot()]))
        let hinge = tripletLoss(anchor: zero, positive: positive, negative: negative, margin: 0.2).value.scalars
        XCTAssertEqual(hinge[0], 0.01, accuracy: 1e-12, "0.5 + 0.2 − 0.7 = 0 for the first; 0.5 + 0.2 − 0.69 = 0.01 for the second")
    }

    func testGramContentAndStyleCostsMatchReference() {
        let shape = [1, 3, 4, 5]
        let generated = Variable(Tensor(shape: shape, scalars: R.styleGenerated), requiresGradient: true)
        let content = Tensor(shape: shape, scalars: R.styleContent)
        let style = Tensor(shape: shape, scalars: R.styleStyle)
        let gram = gramMatrix(Variable(style)).value
        XCTAssertEqual(gram.shape, [5, 5])
        assertClose(gram.scalars, R.styleGram, "Gram matrix")
        XCTAssertEqual(contentCost(generated: generated, content: content).value.scalar, R.contentCostNotes[0], accuracy: 1e-11)
        XCTAssertEqual(contentCost(generated: generated, content: content, normalization: .assignment).value.scalar,
                       R.contentCostAssignment[0], accuracy: 1e-13)
        let J = GradientTape.$isRecording.withValue(true) { styleLayerCost(generated: generated, styleGram: gram) }
        XCTAssertEqual(J.value.scalar, R.styleLayerCost[0], accuracy: 1e-13)
        J.backward()
        assertClose(generated.gradient!.scalars, R.styleLayerGradient, tolerance: 1e-11, "∂J_style/∂a(G)")
        generated.gradient = nil
        GradientTape.$isRecording.withValue(true) { contentCost(generated: generated, content: content) }.backward()
        assertClose(generated.gradient!.scalars, R.contentNotesGradient, "∂J_content/∂a(G)")
        assertGreat(gradientCheck([("a(G)", generated)]) {
            contentCost(generated: generated, content: content) * 0.1
                + styleCost(generated: [generated, generated], styleGrams: [gram, gram * 0.5], weights: [0.3, 0.7])
        }, "J = α J_content + β J_style")
    }

    // MARK: YOLO grid

    func testYOLOEncodingFollowsTheNotesAndDecodesBack() {
        // C4W3-04: a 3×3 grid and a car (class 2 of 3, index 1) whose midpoint lies in the middle-right cell.
        let grid = YOLOGrid(rows: 3, columns: 3, classes: 3)
        XCTAssertEqual(grid.channels, 8)
        let car = LabeledBox(box: BoundingBox(centerX: (2 + 0.4) / 3, centerY: (1 + 0.3) / 3, width: 0.5 / 3, height: 0.9 / 3), classIndex: 1)
        let (target, unassigned) = grid.encode([[car]], as: Double.self)
        XCTAssertEqual(target.shape, [1, 3, 3, 8])
        XCTAssertTrue(unassigned.isEmpty)
        let cell = Array(target.scalars[((1 * 3) + 2) * 8..<((1 * 3) + 2) * 8 + 8])
        assertClose(cell, [1, 0.4, 0.3, 0.9, 0.5, 0, 1, 0], "y for the car's cell [p_c, b_x, b_y, b_h, b_w, c1, c2, c3]")
        XCTAssertEqual(target.scalars.filter { $0 != 0 }.count, 6, "every other cell is [0, ?, …] stored as zeros")
        let decoded = grid.decodeTargets(target)
        XCTAssertEqual(decoded[0].count, 1)
        XCTAssertEqual(decoded[0][0].classIndex, 1)
        XCTAssertEqual(intersectionOverUnion(decoded[0][0].box, car.box), 1, accuracy: 1e-12)
    }

    func testAnchorBoxesTakeObjectsSharingACell() {
        // C4W3-07: a pedestrian (tall) and a car (wide) with midpoints in one cell go to different anchors.
        let grid = YOLOGrid(rows: 3, columns: 3, anchors: [AnchorBox(width: 0.5, height: 1.5), AnchorBox(width: 1.5, height: 0.5)], classes: 3)
        XCTAssertEqual(grid.channels, 16, "3×3×16 = 3×3×2×8")
        let pedestrian = LabeledBox(box: BoundingBox(centerX: 0.5, centerY: 0.5, width: 0.15, height: 0.45), classIndex: 0)
        let car = LabeledBox(box: BoundingBox(centerX: 0.52, centerY: 0.48, width: 0.45, height: 0.15), classIndex: 1)
        XCTAssertEqual(grid.bestAnchor(for: pedestrian.box), 0)
        XCTAssertEqual(grid.bestAnchor(for: car.box), 1)
        let secondCar = LabeledBox(box: BoundingBox(centerX: 0.45, centerY: 0.55, width: 0.4, height: 0.12), classIndex: 1)
        let (target, unassigned) = grid.encode([[pedestrian, car, secondCar]], as: Float.self)
        XCTAssertEqual(unassigned.map(\.object), [2], "the second car claims the car's (cell, anchor) pair")
        let middle = Array(target.scalars[4 * 16..<5 * 16])
        XCTAssertEqual(middle[0], 1); XCTAssertEqual(middle[5], 1)      // anchor 1: a pedestrian
        XCTAssertEqual(middle[8], 1); XCTAssertEqual(middle[8 + 6], 1)  // anchor 2: a car
    }

    func testYOLODecodingOfLogitsMatchesReference() {
        let anchors = (0..<2).map { AnchorBox(width: R.yoloAnchors[2 * $0], height: R.yoloAnchors[2 * $0 + 1]) }
        let grid = YOLOGrid(rows: 2, columns: 3, anchors: anchors, classes: 3)
        let boxes = grid.allBoxes(fromLogits: Tensor(shape: [2, 2, 3, 16], scalars: R.yoloLogits)).flatMap { $0 }
        XCTAssertEqual(boxes.count, 24)
        assertClose(boxes.flatMap { [$0.box.xMin, $0.box.yMin, $0.box.xMax, $0.box.yMax] }, R.yoloDecodedCorners, "corners")
        assertClose(boxes.map(\.score), R.yoloDecodedScores, "p_c · max P(c)")
        XCTAssertEqual(boxes.map(\.classIndex), R.yoloDecodedClasses)
        let kept = grid.detections(fromLogits: Tensor(shape: [2, 2, 3, 16], scalars: R.yoloLogits), scoreThreshold: 0.3)
        for (image, detections) in kept.enumerated() {
            XCTAssertEqual(detections, nonMaxSuppression(Array(boxes[image * 12..<(image + 1) * 12]), scoreThreshold: 0.3))
        }
    }

    // MARK: Mean average precision and the generated data

    func testMeanAveragePrecisionMatchesVOCStyleReference() {
        let truths = R.mapTruths.map { $0.map { LabeledBox(box: BoundingBox(xMin: $0.1, yMin: $0.2, xMax: $0.3, yMax: $0.4), classIndex: $0.0) } }
        let detections = R.mapDetections.map {
            $0.map { Detection(box: BoundingBox(xMin: $0.2, yMin: $0.3, xMax: $0.4, yMax: $0.5), score: $0.1, classIndex: $0.0) }
        }
        let result = meanAveragePrecision(detections: detections, truths: truths, classes: 3)
        XCTAssertEqual(result.perClass.compactMap { $0 }, R.mapPerClass)
        XCTAssertNil(result.perClass[2], "a class without ground truth is left out of the mean")
        XCTAssertEqual(result.mean, R.mapMean[0], accuracy: 1e-15)
        let perfect = meanAveragePrecision(detections: truths.map { $0.map { Detection(box: $0.box, score: 1, classIndex: $0.classIndex) } },
                                           truths: truths, classes: 3)
        XCTAssertEqual(perfect.mean, 1)
    }

    func testShapesDatasetBoxesAreTightAroundTheirMasksAndReproducible() {
        let data = ShapesDataset<Float>(count: 20, seed: 11)
        XCTAssertEqual(data.images.shape, [20, 32, 32, 3])
        XCTAssertEqual(ShapesDataset<Float>(count: 20, seed: 11).images, data.images, "one seed, one data set")
        XCTAssertNotEqual(ShapesDataset<Float>(count: 20, seed: 12).images, data.images)
        for (i, objects) in data.labels.enumerated() {
            XCTAssertFalse(objects.isEmpty)
            var covered = 0
            for object in objects {
                let box = object.box.scaled(x: 32, y: 32)
                var (rows, columns) = (Set<Int>(), Set<Int>())
                for r in Int(box.yMin)..<Int(box.yMax) {
                    for c in Int(box.xMin)..<Int(box.xMax) where data.masks[i][r * 32 + c] == 1 + object.classIndex {
                        rows.insert(r); columns.insert(c); covered += 1
                    }
                }
                // Tight: the box's first and last rows and columns all hold pixels of the shape.
                XCTAssertEqual([rows.min(), rows.max(), columns.min(), columns.max()],
                               [Int(box.yMin), Int(box.yMax) - 1, Int(box.xMin), Int(box.xMax) - 1], "image \(i)")
            }
            XCTAssertEqual(covered, data.masks[i].filter { $0 != 0 }.count, "every shape pixel lies in its own box, boxes apart")
        }
        XCTAssertEqual(data.oneHotMasks.shape, [20, 32, 32, 4])
    }

    // MARK: Sliding windows

    func testConvolutionalSlidingWindowsEqualTheClassifierOnEveryCrop() {
        // C4W3-03: a 14×14×3 classifier (conv 5×5×8 → max pool 2 → FC 200→20 → FC 4) run on a 16×16
        // image as convolutions gives a 2×2 map, one output per 14×14 crop at stride 2.
        var g = RandomGenerator(seed: 3)
        let conv = Conv2D<Double>(filterSize: 5, inputChannels: 3, filters: 8, generator: &g)
        let fc1 = Dense<Double>(inputs: 5 * 5 * 8, outputs: 20, generator: &g)
        let fc2 = Dense<Double>(inputs: 20, outputs: 4, generator: &g)
        conv.b!.value = Tensor(randomNormal: [1, 1, 1, 8], generator: &g)     // biases too must carry over
        fc1.b!.value = Tensor(randomNormal: [20, 1], generator: &g)
        fc2.b!.value = Tensor(randomNormal: [4, 1], generator: &g)
        let classifier = Sequential<Double>([conv, MaxPool2D(size: 2), Flatten(), fc1, Activation<Double>(.relu), fc2])
        let convolutional = Sequential<Double>([conv, MaxPool2D(size: 2),
                                                Conv2D(converting: fc1, height: 5, width: 5, channels: 8), Activation<Double>(.relu),
                                                Conv2D(converting: fc2, height: 1, width: 1, channels: 20)])
        let images = Tensor<Double>(randomNormal: [2, 16, 16, 3], generator: &g)
        let map = convolutional.logits(images)                                    // (2, 2, 2, 4)
        XCTAssertEqual(map.shape, [2, 2, 2, 4])
        let (crops, rows, columns) = slidingWindowCrops(images, size: 14, stride: 2)
        XCTAssertEqual([rows, columns], [2, 2])
        let perCrop = classifier.logits(crops)                                    // (4, 8): one column per crop
        assertClose(map.scalars, perCrop.transposed().scalars, tolerance: 1e-12, "one pass equals every crop")
    }

    // MARK: Faces

    func testTripletSelectionPicksSemiHardThenHardestNegatives() {
        // One-dimensional encodings: identity 0 at 0 and 1; identity 1 at 1.1 and 3.
        let encodings = Tensor<Double>(shape: [1, 4], scalars: [0, 1, 1.1, 3])
        let labels = [0, 0, 1, 1]
        let semi = selectTriplets(encodings: encodings, labels: labels, margin: 0.5)
        // Anchor 0, positive 1: d(A,P) = 1; negatives at 1.21 (inside the margin band, semi-hard) and 9.
        XCTAssertEqual(semi.first { $0.anchor == 0 }.map { [$0.positive, $0.negative] }, [1, 2])
        // Anchor 1, positive 0: d(A,P) = 1; negatives at 0.01 (closer: hard, not semi-hard) and 4; none in (1, 1.5) → hardest.
        XCTAssertEqual(semi.first { $0.anchor == 1 }.map { [$0.positive, $0.negative] }, [0, 2])
        XCTAssertEqual(semi.count, 4)
        let hardest = selectTriplets(encodings: encodings, labels: labels, strategy: .hardest)
        XCTAssertEqual(hardest.map(\.negative), [2, 2, 1, 1])
    }

    func testFaceDatabaseVerifiesAndRecognizesByDistanceThreshold() {
        let database = FaceDatabase(encodings: Tensor<Double>(shape: [2, 3], scalars: [0, 1, 0, 0, 0, 1]),
                                    identities: ["ann", "bob", "cy"], threshold: 0.25)
        let probe = Tensor<Double>(shape: [2], scalars: [0.9, 0.1])
        XCTAssertEqual(database.identify(probe).identity, "bob")
        XCTAssertEqual(database.identify(probe).distance, 0.02, accuracy: 1e-12)
        XCTAssertEqual(database.verify(probe, as: "bob")?.same, true)
        XCTAssertEqual(database.verify(probe, as: "ann")?.same, false)
        XCTAssertNil(database.verify(probe, as: "dee"))
        XCTAssertNil(database.identify(Tensor<Double>(shape: [2], scalars: [5, 5])).identity, "not recognized")
        let empty = FaceDatabase(encodings: Tensor<Double>.zeros([2, 0]), identities: [], threshold: 1)
        XCTAssertNil(empty.identify(probe).identity, "an empty database recognizes nobody")
        let features = PairFeature.chiSquared(Tensor<Double>(shape: [2, 1], scalars: [1, 0]), Tensor<Double>(shape: [2, 1], scalars: [3, 0]))
        XCTAssertEqual(features.scalars, [1, 0], "(1 − 3)²/(1 + 3) = 1, and 0 where both are 0")
        XCTAssertEqual(PairFeature.absoluteDifference(Tensor<Double>([1, -2]), Tensor<Double>([3, 1])).scalars, [2, 3])
    }
}

/// U-Net's shapes, its per-pixel loss and the segmentation score.
final class SegmentationTests: XCTestCase {
    func testUNetKeepsTheImageSizeAndItsGradientChecks() {
        var g = RandomGenerator(seed: 4)
        let model: GraphModel<Double> = UNet.make(inputChannels: 2, classes: 3, widths: [2], generator: &g)
        let X = Tensor<Double>(randomNormal: [2, 4, 4, 2], generator: &g)
        let labels = (0..<32).map { _ in g.nextIndex(below: 3) }
        var Y = Tensor<Double>.zeros([2, 4, 4, 3])
        Y.withUnsafeMutableBufferPointer { for (p, k) in labels.enumerated() { $0[p * 3 + k] = 1 } }
        XCTAssertEqual(model.logits(X).shape, [2, 4, 4, 3])
        assertGreat(gradientCheck(model, X, Y, loss: PixelwiseSoftmaxCrossEntropy()), "U-Net with per-pixel softmax")
    }

    func testPixelwiseSoftmaxCrossEntropyAveragesOverPixels() {
        // Two pixels, two classes: logits (0, 0) and (ln 3, 0) against classes 0 and 1:
        // J = −(ln ½ + ln ¼)/2 = (ln 2 + ln 4)/2 = 1.5 ln 2.
        let Z = Tensor<Double>(shape: [1, 1, 2, 2], scalars: [0, 0, Foundation.log(3), 0])
        let Y = Tensor<Double>(shape: [1, 1, 2, 2], scalars: [1, 0, 0, 1])
        let (cost, gradient) = PixelwiseSoftmaxCrossEntropy<Double>()(Z, Y)
        XCTAssertEqual(cost, 1.5 * Foundation.log(2), accuracy: 1e-15)
        XCTAssertEqual(gradient.scalars, [-0.25, 0.25, 0.375, -0.375], "(softmax − y)/2")
    }

    func testSegmentationIoUPerClass() {
        // Class 0: predicted {0, 1}, true {0, 2} → 1/3; class 1: predicted {2, 3}, true {1, 3} → 1/3; class 2 absent.
        let (mean, perClass) = segmentationIoU(predicted: [0, 0, 1, 1], truth: [0, 1, 0, 1], classes: 3)
        XCTAssertEqual(perClass[0]!, 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(perClass[1]!, 1.0 / 3, accuracy: 1e-15)
        XCTAssertNil(perClass[2])
        XCTAssertEqual(mean, 1.0 / 3, accuracy: 1e-15)
        XCTAssertEqual(argmaxLastAxis(Tensor<Float>(shape: [2, 3], scalars: [0, 2, 2, 5, 1, 0])), [1, 0])
    }
}

/// Triplet training, L2 normalization and threshold choice.
final class SiameseTests: XCTestCase {
    func testL2NormalizeGivesUnitColumnsAndChecks() {
        var g = RandomGenerator(seed: 8)
        let x = Variable(Tensor<Double>(randomNormal: [4, 3], generator: &g), requiresGradient: true)
        let y = L2Normalize<Double>()(x).value
        for j in 0..<3 { XCTAssertEqual(y.columns(j..<j + 1).norm(), 1, accuracy: 1e-12) }
        let w = Tensor<Double>(randomNormal: [4, 3], generator: &g)
        assertGreat(gradientCheck([("x", x)]) { (L2Normalize<Double>()(x) * Variable(w)).sum() }, "L2Normalize")
    }

    func testTripletTrainingSeparatesIdentitiesAndIsReproducible() throws {
        // Four identities, each a noisy copy of its own random 6-vector; a linear encoder to 3-d on the unit sphere.
        var g = RandomGenerator(seed: 9)
        let centers = Tensor<Float>(randomNormal: [6, 4], generator: &g)
        let labels = (0..<40).map { $0 % 4 }
        let X = centers.gathering(labels, axis: 1) + Tensor<Float>(randomNormal: [6, 40], standardDeviation: 0.3, generator: &g)
        func train() throws -> (Sequential<Float>, [Double]) {
            var weights = RandomGenerator(seed: 1)
            let encoder = Sequential<Float>([Dense(inputs: 6, outputs: 3, initializer: .xavier, generator: &weights), L2Normalize()])
            let losses = try encoder.fitTriplets(X, labels: labels, optimizer: Adam(learningRate: 0.05),
                                                 configuration: TripletTrainingConfiguration(steps: 60, identitiesPerBatch: 4, examplesPerIdentity: 4, seed: 2))
            return (encoder, losses)
        }
        let (encoder, losses) = try train()
        XCTAssertEqual(try train().1, losses, "one seed, one run")
        let e = encoder.logits(X), d = squaredDistances(e, e).scalars.map(Double.init)
        let pairs = (0..<40).flatMap { i in (0..<40).filter { $0 > i }.map { (i, $0) } }
        let (tau, accuracy) = bestVerificationThreshold(distances: pairs.map { d[$0.0 * 40 + $0.1] }, same: pairs.map { labels[$0.0] == labels[$0.1] })
        XCTAssertGreaterThan(accuracy, 0.95, "τ = \(tau)")
        XCTAssertThrowsError(try encoder.fitTriplets(X, labels: Array(labels.prefix(5)), optimizer: Adam(learningRate: 0.01),
                                                     configuration: TripletTrainingConfiguration(steps: 1)))
    }

    func testBestVerificationThresholdSeparatesSortedDistances() {
        let result = bestVerificationThreshold(distances: [0.1, 0.2, 0.9, 1.2, 0.3], same: [true, true, false, false, false])
        XCTAssertEqual(result.threshold, 0.25, accuracy: 1e-15, "between the last same (0.2) and the first different (0.3)")
        XCTAssertEqual(result.accuracy, 1)
        XCTAssertEqual(verificationAccuracy(distances: [0.1, 0.5], same: [true, true], threshold: 0.3), 0.5)
    }
}

/// Style transfer through a frozen network, pretrained-weight loading, and unit visualization.
final class StyleTransferTests: XCTestCase {
    func testStyleTransferLowersTheCostMovingOnlyThePixels() throws {
        var g = RandomGenerator(seed: 6)
        let net: Sequential<Double> = VGG.make([8, nil, 16], channelDivisor: 1, generator: &g)
        let before = net.parameters.map(\.value)
        let content = Tensor<Double>(randomUniform: [1, 6, 6, 3], generator: &g)
        let style = Tensor<Double>(randomUniform: [1, 6, 6, 3], generator: &g)
        let noise = Tensor<Double>(randomUniform: [1, 6, 6, 3], generator: &g)   // the notes start from noise
        var transfer = NeuralStyleTransfer(layers: net.layers, contentLayer: 3, styleLayers: [(1, 0.5), (4, 0.5)])
        transfer.alpha = 1
        let (image, costs) = try transfer.run(content: content, style: style, initial: noise, steps: 30, learningRate: 0.05)
        XCTAssertLessThan(costs.last!, 0.5 * costs.first!, "\(costs.first!) → \(costs.last!)")
        XCTAssertEqual(net.parameters.map(\.value), before, "the network is frozen")
        XCTAssertTrue(net.parameters.allSatisfy(\.isTrainable), "and trainable again afterwards")
        XCTAssertTrue(image.scalars.allSatisfy { (0...1).contains($0) }, "pixels clipped to [0, 1]")
        // ∂J/∂G from the tape agrees with finite differences (with the total-variation term on).
        transfer.totalVariationWeight = 0.1
        let G = Variable(content, requiresGradient: true)
        let targets = transfer.targets(content: content, style: style)
        assertGreat(gradientCheck([("G", G)]) { transfer.cost(G, targets: targets) }, "J(G) through the frozen network")
    }

    func testTorchvisionWeightsLoadWithTheDocumentedNameMapping() throws {
        // A small VGG-shaped network; its weights written as torchvision names them, in PyTorch's OIHW layout.
        var g = RandomGenerator(seed: 7)
        let configuration: [Int?] = [64, 64, nil, 128]
        let source: Sequential<Float> = VGG.make(configuration, channelDivisor: 16, generator: &g)
        var tensors: [String: Tensor<Float>] = [:]
        for (i, layer) in source.layers.enumerated() {
            guard let conv = layer as? Conv2D<Float> else { continue }
            conv.b!.value = Tensor(randomNormal: conv.b!.value.shape, generator: &g)
            tensors[VGG.torchvisionName(layer: i, key: "W")] = conv.W.value.permuted([3, 2, 0, 1])
            tensors[VGG.torchvisionName(layer: i, key: "b")] = conv.b!.value.reshaped(to: [conv.b!.value.count])
        }
        XCTAssertEqual(Set(tensors.keys), ["features.0.weight", "features.0.bias", "features.2.weight", "features.2.bias",
                                          "features.5.weight", "features.5.bias"], "features[i] is layer i")
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("vgg-\(ProcessInfo.processInfo.processIdentifier).safetensors")
        defer { try? FileManager.default.removeItem(at: url) }
        try ModelFile.save(tensors, to: url)
        let target: Sequential<Float> = VGG.make(configuration, channelDivisor: 16, generator: &g)
        try VGG.loadTorchvisionWeights(into: target, from: url)
        XCTAssertEqual(target.parameters.map(\.value), source.parameters.map(\.value))
        // Independently of the permutation: the first convolution's output at pixel (1, 1), filter 2,
        // summed straight from the OIHW tensor.
        let x = Tensor<Float>(randomNormal: [1, 4, 4, 3], generator: &g)
        let w = tensors["features.0.weight"]!.scalars, bias = tensors["features.0.bias"]!.scalars[2]
        var z = bias
        for ky in 0..<3 { for kx in 0..<3 { for c in 0..<3 {
            z += w[((2 * 3 + c) * 3 + ky) * 3 + kx] * x.scalars[((ky) * 4 + kx) * 3 + c]
        } } }
        XCTAssertEqual(target.layers[0](x).scalars[(1 * 4 + 1) * 4 + 2], z, accuracy: 1e-5)
        // A file lacking a tensor, or with a wrong shape, changes nothing and says which.
        tensors["features.5.bias"] = nil
        try ModelFile.save(tensors, to: url)
        let untouched: Sequential<Float> = VGG.make(configuration, channelDivisor: 16, generator: &g)
        let original = untouched.parameters.map(\.value)
        XCTAssertThrowsError(try VGG.loadTorchvisionWeights(into: untouched, from: url)) {
            XCTAssertEqual($0 as? ModelFileError, .missingTensor("features.5.bias"))
        }
        XCTAssertEqual(untouched.parameters.map(\.value), original)
        tensors["features.5.bias"] = Tensor(shape: [3], repeating: 0)
        try ModelFile.save(tensors, to: url)
        XCTAssertThrowsError(try VGG.loadTorchvisionWeights(into: untouched, from: url)) {
            XCTAssertEqual($0 as? ModelFileError, .shapeMismatch(tensor: "features.5.bias", expected: [8], found: [3]))
        }
    }

    func testReceptiveFieldsAndTopActivatingPatches() {
        var g = RandomGenerator(seed: 8)
        // conv 3×3 same → pool 2 → conv 3×3 valid: size 1 + 2 + 1 + 2·2 = 8, jump 2, offset −1.
        let layers: [any Layer<Double>] = [Conv2D(filterSize: 3, inputChannels: 1, filters: 2, padding: .same, generator: &g),
                                           MaxPool2D(size: 2), Conv2D(filterSize: 3, inputChannels: 2, filters: 3, generator: &g)]
        let field = ReceptiveField(layers: layers, inputSize: 12)
        XCTAssertEqual([field.size, field.jump, field.offset], [8, 2, -1])
        XCTAssertEqual(field.window(0, inputSize: 12), 0..<7)
        XCTAssertEqual(field.window(3, inputSize: 12), 5..<12)
        // A single bright pixel: the strongest response of a unit that sums its window sits where the
        // window covers it, and the reported patch contains it.
        let unitLayers: [any Layer<Double>] = [Conv2D(filter: Tensor(shape: [3, 3, 1, 1], repeating: 1), bias: Tensor(shape: [1, 1, 1, 1], repeating: 0))]
        var images = Tensor<Double>.zeros([3, 6, 6, 1])
        images.withUnsafeMutableBufferPointer { $0[1 * 36 + 2 * 6 + 4] = 5; $0[2 * 36 + 0] = 1 }
        let patches = topActivatingPatches(layers: unitLayers, unit: 0, images: images, count: 2)
        XCTAssertEqual(patches.map(\.image), [1, 1])
        XCTAssertEqual(patches[0].activation, 5)
        XCTAssertTrue(patches[0].rows.contains(2) && patches[0].columns.contains(4))
        XCTAssertEqual(patches[0].rows.count, 3)
    }
}

final class LocalizationTargetTests: XCTestCase {
    func testTargetsFollowTheNotesWithLandmarks() {
        // C4W3-01: a car (class 2 → index 1) centred at (0.5, 0.7), 0.3 high and 0.4 wide; no object in image 2.
        let car = LabeledBox(box: BoundingBox(centerX: 0.5, centerY: 0.7, width: 0.4, height: 0.3), classIndex: 1)
        let y = localizationTargets([car, nil], classes: 3, landmarks: [[(0.1, 0.2), (0.3, 0.4)], [(0, 0), (0, 0)]], as: Double.self)
        XCTAssertEqual(y.shape, [12, 2])
        let column = (0..<12).map { y.scalars[$0 * 2] }
        XCTAssertEqual(column[0], 1)
        XCTAssertEqual(column[1], 0.5, accuracy: 1e-15); XCTAssertEqual(column[2], 0.7, accuracy: 1e-15)
        XCTAssertEqual(column[3], 0.3, accuracy: 1e-15); XCTAssertEqual(column[4], 0.4, accuracy: 1e-15)
        XCTAssertEqual(Array(column[5...]), [0, 1, 0, 0.1, 0.2, 0.3, 0.4])
        XCTAssertEqual((0..<12).map { y.scalars[$0 * 2 + 1] }, Array(repeating: 0, count: 12), "[0, ?, …]")
        // The loss counts the landmarks of image 1 and only p_c of image 2.
        var prediction = y
        prediction.withUnsafeMutableBufferPointer { $0[11 * 2] += 0.5; $0[11 * 2 + 1] = 3 }
        XCTAssertEqual(LocalizationLoss<Double>()(prediction, y).cost, 0.25 / 2, accuracy: 1e-15)
    }
}
