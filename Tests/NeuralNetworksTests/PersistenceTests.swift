import Foundation
import NeuralNetworks
import Tensors
import XCTest

final class PersistenceTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nn-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    func makeModel() throws -> (Sequential<Float>, Tensor<Float>) {
        let (X, Y): (Tensor<Float>, Tensor<Float>) = Datasets.moons(count: 64, seed: 1)
        var g = RandomGenerator(seed: 2)
        let model = Sequential<Float>([
            Dense(inputs: 2, outputs: 6, generator: &g), BatchNorm(units: 6), Activation(.leakyRelu(slope: 0.05)),
            Dropout(keepProbability: 0.8), Dense(inputs: 6, outputs: 1, generator: &g), Activation(.sigmoid),
        ])
        try model.fit(X, Y, loss: BinaryCrossEntropy(), optimizer: Adam(learningRate: 0.01), configuration: TrainingConfiguration(epochs: 3, batchSize: 16))
        return (model, X)
    }

    func testSaveLoadGivesIdenticalPredictions() throws {
        let (model, X) = try makeModel()
        let url = directory.appendingPathComponent("model.safetensors")
        try model.save(to: url)
        let loaded = try Sequential<Float>.load(from: url)
        XCTAssertEqual(loaded.predict(X), model.predict(X))
        XCTAssertEqual(loaded.parameters.map(\.name), model.parameters.map(\.name))
        // A Double model reads the same file, converting each value exactly.
        let wide = try Sequential<Double>.load(from: url)
        XCTAssertEqual(wide[parameter: "W1"]!.value.scalars, model[parameter: "W1"]!.value.scalars.map(Double.init))
    }

    /// The layout is safetensors: u64 header length, JSON header, then data.
    func testFileLayoutIsSafetensors() throws {
        let (model, _) = try makeModel()
        let url = directory.appendingPathComponent("layout.safetensors")
        try model.save(to: url)
        let data = try Data(contentsOf: url)
        let length = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + length))) as! [String: Any]
        let w1 = header["W1"] as! [String: Any]
        XCTAssertEqual(w1["dtype"] as? String, "F32")
        XCTAssertEqual(w1["shape"] as? [Int], [6, 2])
        XCTAssertEqual((header["__metadata__"] as? [String: String])?["version"], "2")
        XCTAssertEqual(length % 8, 0)
    }

    func testDamagedFilesAreRejectedWithTheRightError() throws {
        let (model, _) = try makeModel()
        let url = directory.appendingPathComponent("model.safetensors")
        try model.save(to: url)
        let good = try Data(contentsOf: url)

        func load(_ data: Data) -> ModelFileError? {
            let damaged = directory.appendingPathComponent("damaged-\(UUID().uuidString)")
            try? data.write(to: damaged)
            do {
                _ = try Sequential<Float>.load(from: damaged)
                return nil
            } catch {
                return error as? ModelFileError
            }
        }
        guard case .truncated? = load(good.prefix(5)) else { return XCTFail("5 bytes") }
        guard case .truncated? = load(good.prefix(100)) else { return XCTFail("header cut") }
        guard case .truncated? = load(good.dropLast(10)) else { return XCTFail("data cut") }
        var garbage = good
        garbage[10] = 0x7B; garbage[11] = 0x7B   // "{{" breaks the JSON
        guard case .corrupt? = load(garbage) else { return XCTFail("bad JSON") }
        var version = good
        let range = version.range(of: Data("\"version\":\"2\"".utf8))!
        version[range.upperBound - 2] = UInt8(ascii: "9")
        XCTAssertEqual(load(version), .unsupportedVersion(found: "9", supported: "2"))
        XCTAssertEqual(load(version)?.description, "model file has format version 9; this library reads version 2")
        // A shape whose element count overflows Int is reported, not a crash.
        let headerLength = good.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        var header = try JSONSerialization.jsonObject(with: good.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        var w1 = header["W1"] as! [String: Any]
        w1["shape"] = [1 << 40, 1 << 40]
        header["W1"] = w1
        let json = try JSONSerialization.data(withJSONObject: header)
        var huge = Data()
        withUnsafeBytes(of: UInt64(json.count).littleEndian) { huge.append(contentsOf: $0) }
        huge.append(json)
        huge.append(good.suffix(from: 8 + headerLength))
        guard case .corrupt? = load(huge) else { return XCTFail("overflowing shape") }
    }

    func testWritesAreAtomic() throws {
        let (model, _) = try makeModel()
        let url = directory.appendingPathComponent("atomic.safetensors")
        try model.save(to: url)
        let before = try Data(contentsOf: url)
        // Saving into a path whose directory vanished fails and leaves nothing half-written.
        let missing = directory.appendingPathComponent("no-such-dir/model.safetensors")
        XCTAssertThrowsError(try model.save(to: missing))
        XCTAssertFalse(FileManager.default.fileExists(atPath: missing.path))
        try model.save(to: url)
        XCTAssertEqual(try Data(contentsOf: url).count, before.count)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: directory.path).filter { !$0.hasSuffix(".safetensors") }
        XCTAssertEqual(leftovers, [], "no temporary files remain")
    }

    /// `[BatchNorm, Dense, BatchNorm]` would name two parameters `gamma1`: the
    /// model falls back to path names, and the file round-trips.
    func testAmbiguousNotesNamesBecomePathNames() throws {
        let (model, X) = ambiguousModel()
        XCTAssertEqual(model.parameters.map(\.name), ["0.gamma", "0.beta", "1.W", "1.b", "2.gamma", "2.beta"])
        let url = directory.appendingPathComponent("ambiguous.safetensors")
        try model.save(to: url)
        let loaded = try Sequential<Float>.load(from: url)
        XCTAssertEqual(loaded.predict(X), model.predict(X))
        XCTAssertEqual(loaded.parameters.map(\.name), model.parameters.map(\.name))
    }

    func ambiguousModel() -> (Sequential<Float>, Tensor<Float>) {
        var g = RandomGenerator(seed: 5)
        let model = Sequential<Float>([BatchNorm(units: 2), Dense(inputs: 2, outputs: 3, generator: &g), BatchNorm(units: 3)],
                                      outputActivation: .softmax)
        let X = Tensor<Float>(randomNormal: [2, 16], generator: &g)
        let context = ForwardContext(training: true)
        _ = model.forward(Variable(X), context: context)
        context.commitUpdates()   // non-trivial running averages
        return (model, X)
    }

    func branchedModel() -> (GraphModel<Float>, Tensor<Float>) {
        var g = RandomGenerator(seed: 6)
        let x = GraphNode<Float>.input()
        let shared = Dense<Float>(inputs: 3, outputs: 3, generator: &g)
        let left = Activation<Float>(.relu)(shared(x))
        let right = Activation<Float>(.tanh)(shared(Activation<Float>(.tanh)(x)))
        let joined = Concatenate<Float>()([left, BatchNorm<Float>(units: 3)(right)])
        let out = Dense<Float>(inputs: 6, outputs: 2, generator: &g)(Add<Float>()([joined, Dropout<Float>(keepProbability: 0.9)(joined)]))
        return (GraphModel(inputs: [x], outputs: [out], outputActivation: .softmax), Tensor(randomNormal: [3, 10], generator: &g))
    }

    func testGraphModelRoundTrips() throws {
        let (model, X) = branchedModel()
        XCTAssertEqual(model.parameters.map(\.name), ["dense1.W", "dense1.b", "batchnorm1.gamma", "batchnorm1.beta", "dense2.W", "dense2.b"])
        let url = directory.appendingPathComponent("graph.safetensors")
        try model.save(to: url)
        let loaded = try GraphModel<Float>.load(from: url)
        XCTAssertEqual(loaded.predict(X), model.predict(X))
        XCTAssertEqual(loaded.parameters.map(\.name), model.parameters.map(\.name))
        XCTAssertThrowsError(try Sequential<Float>.load(from: url), "a graph file is not a sequential model")
    }

    /// The same model saves to the same bytes (the header's keys are sorted).
    func testSavingIsByteIdentical() throws {
        let (model, _) = branchedModel()
        let a = directory.appendingPathComponent("a.safetensors"), b = directory.appendingPathComponent("b.safetensors")
        try model.save(to: a)
        try model.save(to: b)
        XCTAssertEqual(try Data(contentsOf: a), try Data(contentsOf: b))
    }

    /// A layer type the library does not know saves like any other; loading
    /// it needs its registration, and says so otherwise.
    func testLayersRegisterThemselvesForLoading() throws {
        final class Scale: Layer {
            typealias Scalar = Float
            let factor: Float
            init(factor: Float) { self.factor = factor }
            func forward(_ input: Variable<Float>, context: ForwardContext) -> Variable<Float> { input * factor }
            var summary: String { "Scale(\(factor))" }
            static var typeName: String { "TestScale" }
            var configuration: LayerConfiguration { LayerConfiguration(["factor": .double(Double(factor))]) }
            convenience init(configuration: LayerConfiguration) throws { self.init(factor: Float(try configuration.double("factor"))) }
        }
        var g = RandomGenerator(seed: 7)
        let model = Sequential<Float>([Dense(inputs: 2, outputs: 2, generator: &g), Scale(factor: 3)])
        let url = directory.appendingPathComponent("custom.safetensors")
        try model.save(to: url)
        XCTAssertThrowsError(try Sequential<Float>.load(from: url)) { error in
            XCTAssertEqual(error as? ModelFileError, .unknownLayer("TestScale"))
        }
        LayerRegistry.register(Scale.self)
        let loaded = try Sequential<Float>.load(from: url)
        let X = Tensor<Float>([[1, 2], [3, 4]])
        XCTAssertEqual(loaded.predict(X), model.predict(X))
    }

    func testMissingAndForeignFilesSayWhatTheyAre() throws {
        let missing = directory.appendingPathComponent("nothing-here.safetensors")
        XCTAssertThrowsError(try Sequential<Float>.load(from: missing)) { error in
            XCTAssertEqual("\(error)", "no such file: \(missing.path)")
        }
        let text = directory.appendingPathComponent("notes.txt")
        try Data("Deep Learning Specialization notes, not a model.\n".utf8).write(to: text)
        XCTAssertThrowsError(try Sequential<Float>.load(from: text)) { error in
            XCTAssertEqual(error as? ModelFileError, .notSafetensors(text.path))
        }
    }

    /// Writes the ambiguous-name model and the branched graph model, with the
    /// values Python must find, for `Reference/check_safetensors.py`:
    ///     SAFETENSORS_EXPORT=/tmp/st swift test --filter testExportForPython
    ///     python Tests/NeuralNetworksTests/Reference/check_safetensors.py /tmp/st
    func testExportForPython() throws {
        let target = ProcessInfo.processInfo.environment["SAFETENSORS_EXPORT"].map { URL(fileURLWithPath: $0) } ?? directory!
        try FileManager.default.createDirectory(at: target, withIntermediateDirectories: true)
        let (sequential, _) = ambiguousModel()
        let (graph, _) = branchedModel()
        var expected: [String: [String: [String: [Double]]]] = [:]
        for (file, tensors) in [("ambiguous", sequential.parameters.map { ($0.name, $0.value) }
                                    + [("0.running_mean", (sequential.layers[0] as! BatchNorm<Float>).runningMean)]),
                                ("graph", graph.parameters.map { ($0.name, $0.value) })] {
            expected[file] = Dictionary(uniqueKeysWithValues: tensors.map { name, t in
                (name, ["shape": t.shape.map(Double.init), "values": t.scalars.map(Double.init)])
            })
        }
        try sequential.save(to: target.appendingPathComponent("ambiguous.safetensors"))
        try graph.save(to: target.appendingPathComponent("graph.safetensors"))
        let json = try JSONSerialization.data(withJSONObject: expected, options: [.sortedKeys])
        try json.write(to: target.appendingPathComponent("expected.json"))
        XCTAssertTrue(FileManager.default.fileExists(atPath: target.appendingPathComponent("graph.safetensors").path))
    }
}
