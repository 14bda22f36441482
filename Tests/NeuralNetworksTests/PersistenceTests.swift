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
        try model.fit(X, Y, loss: BinaryCrossEntropy(), optimizer: Adam(), configuration: TrainingConfiguration(epochs: 3, batchSize: 16, learningRate: 0.01))
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
}
