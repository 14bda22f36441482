import Foundation
import NeuralNetworks
import Tensors

// swift run -c release -Xswiftc -target-cpu -Xswiftc native vision <application> [--seed N] [--output DIR]
//
// Course 4's applications trained here on data the project generates, each
// printing its figure and writing a picture to the output directory:
//   detection     a small YOLO-style detector on generated shapes: mAP@0.5 on held-out images
//   segmentation  a U-Net on the same shapes' per-pixel masks: mean IoU per class
//   faces         a Siamese encoder trained with the triplet loss on the digits as ten "people":
//                 verification and one-shot recognition accuracy on held-out images
//   style         neural style transfer through a VGG-shaped network trained here on the shapes
//   units         the nine image patches that activate chosen units of that network the most

struct Options {
    var application = ""
    var seed: UInt64 = 0
    var output = URL(fileURLWithPath: ".", isDirectory: true)
    var quick = false

    init(_ arguments: [String]) throws {
        var rest = arguments[...]
        guard let first = rest.popFirst() else { throw UsageError() }
        application = first
        while let flag = rest.popFirst() {
            switch flag {
            case "--seed":
                guard let text = rest.popFirst(), let value = UInt64(text) else { throw UsageError() }
                seed = value
            case "--output":
                guard let text = rest.popFirst() else { throw UsageError() }
                output = URL(fileURLWithPath: text, isDirectory: true)
            case "--quick": quick = true
            default: throw UsageError()
            }
        }
    }
}

struct UsageError: Error, CustomStringConvertible {
    var description: String { "usage: vision detection|segmentation|faces|style|units [--seed N] [--output DIR] [--quick]" }
}

/// Same/different pairs among `labels`' examples: every same pair, and as many
/// different pairs drawn at random (balanced), as (i, j, same).
func balancedPairs(_ labels: [Int], generator: inout RandomGenerator) -> [(Int, Int, Bool)] {
    var same: [(Int, Int, Bool)] = [], different: [(Int, Int, Bool)] = []
    for i in labels.indices { for j in (i + 1)..<labels.count where labels[i] == labels[j] { same.append((i, j, true)) } }
    while different.count < same.count {
        let i = generator.nextIndex(below: labels.count), j = generator.nextIndex(below: labels.count)
        if labels[i] != labels[j] { different.append((i, j, false)) }
    }
    return same + different
}

func faces(_ options: Options) throws {
    // The digits as ten "people": identities 0–6 train the encoder (on four fifths of their
    // images); the held-out fifth is used for pairs of seen identities, and 7–9 are never seen.
    let (X, labels): (Tensor<Float>, [Int]) = try Datasets.digits()
    let images = X.transposed().reshaped(to: [labels.count, 8, 8, 1])   // pixels already in [0, 1]
    let heldOut = labels.indices.filter { $0 % 5 == 4 }
    let training = labels.indices.filter { $0 % 5 != 4 && labels[$0] < 7 }
    var generator = RandomGenerator(seed: options.seed)
    let encoder = Sequential<Float>([
        Conv2D(filterSize: 3, inputChannels: 1, filters: 16, padding: .same, generator: &generator), Activation(.relu),
        Conv2D(filterSize: 3, inputChannels: 16, filters: 32, padding: .same, generator: &generator), Activation(.relu),
        MaxPool2D(size: 2), Flatten(),
        Dense(inputs: 512, outputs: 64, generator: &generator), Activation(.relu),
        Dense(inputs: 64, outputs: 32, initializer: .xavier, generator: &generator), L2Normalize(),
    ])
    say(encoder.summary(exampleShape: [8, 8, 1]))
    let steps = options.quick ? 50 : 1500
    let start = Date()
    try encoder.fitTriplets(images.gathering(training, axis: 0), labels: training.map { labels[$0] },
                            optimizer: Adam(learningRate: 0.001),
                            configuration: TripletTrainingConfiguration(steps: steps, identitiesPerBatch: 7, examplesPerIdentity: 6,
                                                                        margin: 0.2, seed: options.seed)) { step, loss in
        if step % 250 == 0 || step == steps { say(String(format: "step %4d  mean triplet loss %.4f", step, loss)) }
    }
    let seconds = Date().timeIntervalSince(start)

    func encode(_ indices: [Int]) -> Tensor<Float> { encoder.logits(images.gathering(indices, axis: 0)) }
    func distances(_ e: Tensor<Float>, _ pairs: [(Int, Int, Bool)]) -> [Double] {
        let d = squaredDistances(e, e), m = e.shape[1]
        return pairs.map { Double(d.scalars[$0.0 * m + $0.1]) }
    }
    // τ from training pairs; then held-out pairs of seen and of unseen identities.
    let trainPairs = balancedPairs(training.map { labels[$0] }, generator: &generator)
    let trainEncodings = encode(training)
    let (tau, trainAccuracy) = bestVerificationThreshold(distances: distances(trainEncodings, trainPairs), same: trainPairs.map(\.2))
    var report: [String] = []
    var classifierData: [(features: Tensor<Float>, same: [Bool])] = []
    for (name, group) in [("seen identities 0–6", heldOut.filter { labels[$0] < 7 }), ("unseen identities 7–9", heldOut.filter { labels[$0] >= 7 })] {
        let pairs = balancedPairs(group.map { labels[$0] }, generator: &generator)
        let e = encode(group)
        let accuracy = verificationAccuracy(distances: distances(e, pairs), same: pairs.map(\.2), threshold: tau)
        report.append(String(format: "%@: %.3f on %d pairs", name, accuracy, pairs.count))
        classifierData.append((PairFeature.absoluteDifference(e.gathering(pairs.map(\.0), axis: 1), e.gathering(pairs.map(\.1), axis: 1)), pairs.map(\.2)))
    }
    say(String(format: "verification by distance, τ = %.3f (training pairs %.3f): ", tau, trainAccuracy) + report.joined(separator: "; "))

    // Verification as binary classification on |f(x_i) − f(x_j)| (C4W4-05), trained on training pairs.
    let trainFeatures = PairFeature.absoluteDifference(trainEncodings.gathering(trainPairs.map(\.0), axis: 1),
                                                       trainEncodings.gathering(trainPairs.map(\.1), axis: 1))
    let classifier = Sequential<Float>.logisticRegression(features: 32)
    try classifier.fit(trainFeatures, Tensor(shape: [1, trainPairs.count], scalars: trainPairs.map { $0.2 ? 1 : 0 }),
                       optimizer: Adam(learningRate: 0.05), configuration: TrainingConfiguration(epochs: 30, batchSize: 256, seed: options.seed))
    let binary = zip(["seen", "unseen"], classifierData).map { name, data in
        let predicted = classifier.predict(data.features).scalars.map { $0 > 0.5 }
        return String(format: "%@ %.3f", name, Double(zip(predicted, data.same).filter { $0 == $1 }.count) / Double(data.same.count))
    }
    say("verification as binary classification on |f(x_i) − f(x_j)|: " + binary.joined(separator: ", "))

    // One-shot recognition: one held-out image per identity in the database, the others as queries.
    let firstOfEach = (0..<10).map { k in heldOut.first { labels[$0] == k }! }
    let database = FaceDatabase(encodings: encode(firstOfEach), identities: (0..<10).map { "person \($0)" }, threshold: tau)
    let queries = heldOut.filter { !firstOfEach.contains($0) }
    let queryEncodings = encode(queries)
    var correct = 0, unrecognized = 0
    var pictures: [Image] = []
    func digit(_ index: Int) -> Image { Image(images.slice(axis: 0, index..<index + 1)).scaled(by: 8) }
    for (q, index) in queries.enumerated() {
        let (identity, _) = database.identify(queryEncodings.columns(q..<q + 1))
        if identity == nil { unrecognized += 1 } else if identity == "person \(labels[index])" { correct += 1 }
        // The first 24 queries: the query beside the database image it was matched to (grey when
        // not recognized), framed green when right and red when wrong.
        if pictures.count < 24 {
            let match = identity.flatMap { name in database.identities.firstIndex(of: name) }
            var pair = Image.row([digit(index), match.map { digit(firstOfEach[$0]) } ?? Image(height: 64, width: 64, color: [128])], gap: 2)
            let right = identity == "person \(labels[index])"
            var framed = Image(height: pair.height + 8, width: pair.width + 8, color: right ? [40, 180, 40] : [220, 40, 40])
            pair = pair.rgb
            framed.paste(pair, top: 4, left: 4)
            pictures.append(framed)
        }
    }
    let url = options.output.appendingPathComponent("faces.png")
    try ImageFile.writePNG(Image.column((0..<4).map { Image.row(Array(pictures[$0 * 6..<$0 * 6 + 6]), gap: 6) }, gap: 6), to: url)
    say("wrote \(url.path) (query, matched database image; green right, red wrong or not recognized)")
    say(String(format: "one-shot recognition from one image per identity: %.3f of %d queries correct (%d not recognized); training %.1f s",
               Double(correct) / Double(queries.count), queries.count, unrecognized, seconds))
}

/// A VGG-shaped network trained here to tell which shapes an image holds
/// (three sigmoid outputs): the frozen feature network for `style` and `units`.
func shapesClassifier(_ options: Options) throws -> (features: Sequential<Float>, test: ShapesDataset<Float>) {
    let train = ShapesDataset<Float>(count: options.quick ? 300 : 2000, seed: 2 * options.seed + 201)
    let test = ShapesDataset<Float>(count: 300, seed: 2 * options.seed + 202)
    func present(_ data: ShapesDataset<Float>) -> Tensor<Float> {
        Tensor(shape: [3, data.labels.count], scalars: (0..<3).flatMap { k in data.labels.map { $0.contains { $0.classIndex == k } ? 1 : 0 } })
    }
    var generator = RandomGenerator(seed: options.seed)
    let features: Sequential<Float> = VGG.make([16, 16, nil, 32, 32, nil, 64, 64, nil], generator: &generator)
    let model = Sequential<Float>(features.layers + [GlobalAveragePool2D(), Dense(inputs: 64, outputs: 3, initializer: .xavier, generator: &generator)],
                                  outputActivation: .sigmoid)
    try model.fit(train.images, present(train), optimizer: Adam(learningRate: 0.002),
                  configuration: TrainingConfiguration(epochs: options.quick ? 2 : 12, batchSize: 32, seed: options.seed))
    let predicted = model.predict(test.images).scalars, truth = present(test).scalars
    let accuracy = Double(zip(predicted, truth).filter { ($0 > 0.5) == ($1 > 0.5) }.count) / Double(truth.count)
    say(String(format: "feature network (VGG-shaped, 16-16-pool-32-32-pool-64-64-pool) trained to name the shapes in an image: %.3f of held-out labels right", accuracy))
    return (features, test)
}

func style(_ options: Options) throws {
    let (features, test) = try shapesClassifier(options)
    // Content: a held-out shapes image. Style: generated diagonal stripes in two colours with noise.
    let content = test.images.slice(axis: 0, 0..<1)
    var g = RandomGenerator(seed: options.seed &+ 7)
    let stripes: [Float] = (0..<32 * 32).flatMap { p -> [Float] in
        let (r, c) = (p / 32, p % 32)
        let band = ((r + c) / 4) % 2 == 0
        let base: [Float] = band ? [0.95, 0.75, 0.1] : [0.2, 0.1, 0.6]
        return base.map { min(1, max(0, $0 + Float(0.1 * (2 * g.nextUniform() - 1)))) }
    }
    let styleImage = Tensor<Float>(shape: [1, 32, 32, 3], scalars: stripes)
    // Layers: content at the second block's last ReLU (index 8); style at every block's first ReLU (1, 6, 11).
    var transfer = NeuralStyleTransfer(layers: features.layers, contentLayer: 8, styleLayers: [(1, 1.0 / 3), (6, 1.0 / 3), (11, 1.0 / 3)])
    transfer.alpha = 1
    transfer.beta = 1000
    transfer.totalVariationWeight = 10   // a network trained on flat shapes leaves pixel noise; see NeuralStyleTransfer
    let initial = clip(content + Tensor<Float>(randomUniform: [1, 32, 32, 3], lower: -0.2, upper: 0.2, generator: &g), lower: 0, upper: 1)
    let steps = options.quick ? 20 : 2000
    let start = Date()
    let (image, costs) = try transfer.run(content: content, style: styleImage, initial: initial, steps: steps, learningRate: 0.01)
    say(String(format: "style transfer: J(G) %.4f → %.4f over %d Adam steps on the pixels, %.1f s", costs.first!, costs.last!, steps,
               Date().timeIntervalSince(start)))
    for (name, picture) in [("content image", content), ("generated image", image)] {
        let t = transfer.targets(content: content, style: styleImage)
        let a = withoutGradients { transfer.activations(Variable(picture)) }
        let jc = contentCost(generated: a[8], content: t.content).value.scalar
        let js = styleCost(generated: transfer.styleLayers.map { a[$0.layer] }, styleGrams: t.styleGrams, weights: transfer.styleLayers.map(\.weight)).value.scalar
        say(String(format: "  %@: J_content %.4f, J_style %.6f", name, jc, js))
    }
    let url = options.output.appendingPathComponent("style-transfer.png")
    try ImageFile.writePNG(Image.row([Image(content), Image(styleImage), Image(image)].map { $0.scaled(by: 4) }, gap: 4), to: url)
    say("wrote \(url.path) (content, style, generated)")
}

func units(_ options: Options) throws {
    let (features, test) = try shapesClassifier(options)
    // Units of the second block's last ReLU (layer 8, receptive field 14 pixels): each row holds the
    // nine held-out patches that activate one unit the most.
    let layers = Array(features.layers.prefix(9))
    let field = ReceptiveField(layers: layers, inputSize: 32)
    var rows: [Image] = []
    for unit in 0..<6 {
        let patches = topActivatingPatches(layers: layers, unit: unit, images: test.images, count: 9)
        let images = patches.map { patch -> Image in
            let crop = test.images.slice(axis: 0, patch.image..<patch.image + 1).slice(axis: 1, patch.rows).slice(axis: 2, patch.columns)
            var framed = Image(height: field.size, width: field.size, color: [255, 255, 255])
            framed.paste(Image(crop), top: 0, left: 0)
            return framed.scaled(by: 5)
        }
        rows.append(Image.row(images, gap: 3))
        say(String(format: "unit %d: strongest activation %.2f (image %d)", unit, patches[0].activation, patches[0].image))
    }
    let url = options.output.appendingPathComponent("units.png")
    try ImageFile.writePNG(Image.column(rows, gap: 6), to: url)
    say("wrote \(url.path) (receptive field \(field.size)×\(field.size) pixels; one row per unit)")
}

/// Writes a line straight to standard output, so progress shows as it
/// comes also when the output is piped (print's buffer would hold it).
func say(_ line: String) {
    FileHandle.standardOutput.write((line + "\n").data(using: .utf8)!)
}

/// One colour per class for drawn boxes.
let classColors: [[UInt8]] = [[230, 40, 40], [40, 200, 40], [40, 90, 255]]

func detection(_ options: Options) throws {
    let (trainCount, testCount, epochs) = options.quick ? (400, 100, 4) : (3000, 500, 40)
    let train = ShapesDataset<Float>(count: trainCount, seed: 2 * options.seed + 1)
    let test = ShapesDataset<Float>(count: testCount, seed: 2 * options.seed + 2)
    let grid = YOLOGrid(rows: 4, columns: 4, anchors: [AnchorBox(width: 1.1, height: 1.1), AnchorBox(width: 1.6, height: 1.6)],
                        classes: ShapesDataset<Float>.classNames.count)
    let (target, unassigned) = grid.encode(train.labels, as: Float.self)
    var generator = RandomGenerator(seed: options.seed)
    let model = Sequential<Float>.tinyYOLO(grid: grid, size: 32, generator: &generator)
    say(model.summary(exampleShape: [32, 32, 3]))
    say("\(trainCount) training images (\(train.labels.map(\.count).reduce(0, +)) objects, \(unassigned.count) sharing a cell and anchor), \(testCount) test images")
    let start = Date()
    try model.fit(train.images, target, loss: YOLOLoss(grid: grid), optimizer: Adam(learningRate: 0.002),
                  configuration: TrainingConfiguration(epochs: epochs, batchSize: 32, seed: options.seed)) { record in
        if record.epoch % 5 == 0 || record.epoch == epochs { say(String(format: "epoch %3d  cost %.4f", record.epoch, record.cost)) }
        return true
    }
    let seconds = Date().timeIntervalSince(start)
    let logits = model.logits(test.images)
    let detections = grid.detections(fromLogits: logits, scoreThreshold: 0.05, iouThreshold: 0.5)
    let (mAP, perClass) = meanAveragePrecision(detections: detections, truths: test.labels, classes: grid.classes)
    let names = zip(ShapesDataset<Float>.classNames, perClass).map { "\($0) \(String(format: "%.3f", $1 ?? .nan))" }
    say(String(format: "mAP@0.5 on %d held-out images: %.3f (%@); training %.1f s", testCount, mAP, names.joined(separator: ", "), seconds))

    // Eight test images, 4× enlarged: the truth in thin white, detections with score > 0.5 in their class colour.
    let confident = grid.detections(fromLogits: logits, scoreThreshold: 0.5, iouThreshold: 0.5)
    let panels = (0..<8).map { i -> Image in
        var picture = test.image(i).scaled(by: 4)
        for truth in test.labels[i] {
            let b = truth.box.scaled(x: 128, y: 128)
            picture.drawRectangle(x0: Int(b.xMin) - 1, y0: Int(b.yMin) - 1, x1: Int(b.xMax), y1: Int(b.yMax), color: [255, 255, 255])
        }
        for d in confident[i] {
            let b = d.box.scaled(x: 128, y: 128)
            picture.drawRectangle(x0: Int(b.xMin.rounded()), y0: Int(b.yMin.rounded()), x1: Int(b.xMax.rounded()) - 1,
                                  y1: Int(b.yMax.rounded()) - 1, color: classColors[d.classIndex], thickness: 2)
        }
        return picture
    }
    let url = options.output.appendingPathComponent("detections.png")
    try ImageFile.writePNG(Image.column([Image.row(Array(panels[0..<4]), gap: 4), Image.row(Array(panels[4..<8]), gap: 4)], gap: 4), to: url)
    say("wrote \(url.path) (white: truth; red square, green disc, blue triangle: detections with score > 0.5)")
}

/// Mask colours: background black, then the class colours.
let maskColors: [[UInt8]] = [[0, 0, 0]] + classColors

func maskImage(_ classes: [Int], size: Int) -> Image {
    Image(height: size, width: size, channels: 3, pixels: classes.flatMap { maskColors[$0] })
}

func segmentation(_ options: Options) throws {
    let (trainCount, testCount, epochs) = options.quick ? (200, 50, 2) : (1500, 300, 25)
    let train = ShapesDataset<Float>(count: trainCount, seed: 2 * options.seed + 101)
    let test = ShapesDataset<Float>(count: testCount, seed: 2 * options.seed + 102)
    let classes = ShapesDataset<Float>.classNames.count + 1
    var generator = RandomGenerator(seed: options.seed)
    let model: GraphModel<Float> = UNet.make(inputChannels: 3, classes: classes, generator: &generator)
    say("U-Net 32×32×3 → 32×32×\(classes): \(model.parameters.map(\.value.count).reduce(0, +)) parameters")
    let start = Date()
    try model.fit(train.images, train.oneHotMasks, loss: PixelwiseSoftmaxCrossEntropy(), optimizer: Adam(learningRate: 0.002),
                  configuration: TrainingConfiguration(epochs: epochs, batchSize: 32, seed: options.seed)) { record in
        if record.epoch % 5 == 0 || record.epoch == epochs { say(String(format: "epoch %3d  cost %.4f", record.epoch, record.cost)) }
        return true
    }
    let seconds = Date().timeIntervalSince(start)
    let predicted = argmaxLastAxis(model.logits(test.images))
    let (meanIoU, perClass) = segmentationIoU(predicted: predicted, truth: test.masks.flatMap { $0 }, classes: classes)
    let names = zip(["background"] + ShapesDataset<Float>.classNames, perClass).map { "\($0) \(String(format: "%.3f", $1 ?? .nan))" }
    say(String(format: "mean IoU on %d held-out images: %.3f (%@); training %.1f s", testCount, meanIoU, names.joined(separator: ", "), seconds))
    let pixels = 32 * 32
    let rows = (0..<4).map { i in
        Image.row([test.image(i), maskImage(test.masks[i], size: 32), maskImage(Array(predicted[i * pixels..<(i + 1) * pixels]), size: 32)]
            .map { $0.scaled(by: 4) }, gap: 4)
    }
    let url = options.output.appendingPathComponent("segmentation.png")
    try ImageFile.writePNG(Image.column(rows, gap: 4), to: url)
    say("wrote \(url.path) (per row: image, truth, prediction; red square, green disc, blue triangle)")
}

do {
    let options = try Options(Array(CommandLine.arguments.dropFirst()))
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: options.output.path, isDirectory: &isDirectory), isDirectory.boolValue else {
        throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: options.output.path])
    }
    switch options.application {
    case "detection": try detection(options)
    case "segmentation": try segmentation(options)
    case "faces": try faces(options)
    case "style": try style(options)
    case "units": try units(options)
    default: throw UsageError()
    }
} catch {
    FileHandle.standardError.write("vision: \(error)\n".data(using: .utf8)!)
    exit(1)
}
