import Foundation
import NeuralNetworks
import Tensors
import XCTest

/// Seeded fuzzing of the two file loaders: `Sequential.load` / `GraphModel.load`
/// (safetensors model files) and `CSVTable` (CSV text). Every case mutates a
/// valid input — truncation, bit flips, byte overwrites and insertions, a
/// rewritten header length, edited header JSON (dtypes, shapes, data offsets,
/// metadata, the stored architecture), appended garbage — and must either load
/// or throw an error with a non-empty description. A trap anywhere in a loader
/// kills the test process, so a passing run is the proof that none occurred.
///
/// A few fixed cases run first: the inputs that crashed the loaders before
/// they were fixed. Loaded models whose re-saved architecture equals the
/// original's also predict, which must give the original's output shape.
///
/// `FUZZ_CASES` sets the number of cases (default 1,000: two thirds model files,
/// Sequential and GraphModel alternating, one third CSV); `FUZZ_SEED` replaces
/// the fixed seed; `FUZZ_VERBOSE=1` prints each case before it runs, so a crash
/// names its input (the last damaged file also stays in the printed directory),
/// and its outcome. `Reference/fuzz.sh [cases]` runs the test in a release build.
final class FuzzTests: XCTestCase {
    var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("nn-fuzz-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    static var caseCount: Int {
        let text = ProcessInfo.processInfo.environment["FUZZ_CASES"]?.trimmingCharacters(in: .whitespaces) ?? ""
        return Int(text).map { Swift.max($0, 3) } ?? 1000
    }

    static var seed: UInt64 {
        let text = ProcessInfo.processInfo.environment["FUZZ_SEED"]?.trimmingCharacters(in: .whitespaces) ?? ""
        return UInt64(text) ?? 0x5EED_F022
    }

    static var verbose: Bool { ProcessInfo.processInfo.environment["FUZZ_VERBOSE"].map { !$0.isEmpty && $0 != "0" } ?? false }

    func testDamagedFilesLoadOrThrowDescriptiveErrors() throws {
        let total = Self.caseCount
        var g = RandomGenerator(seed: Self.seed)
        var tally = FuzzTally()

        // The valid inputs every case starts from.
        let (sequential, sequentialX) = fuzzSequentialModel(Float.self)
        let (wideSequential, _) = fuzzSequentialModel(Double.self)
        let (graph, graphX) = fuzzGraphModel()
        let sequentialURL = directory.appendingPathComponent("sequential.safetensors")
        let wideURL = directory.appendingPathComponent("sequential-f64.safetensors")
        let graphURL = directory.appendingPathComponent("graph.safetensors")
        try sequential.save(to: sequentialURL)
        try wideSequential.save(to: wideURL)
        try graph.save(to: graphURL)
        let sequentialFile = try Data(contentsOf: sequentialURL), wideFile = try Data(contentsOf: wideURL)
        let graphFile = try Data(contentsOf: graphURL)
        let sequentialReference = ModelReference(
            file: sequentialFile, architecture: try XCTUnwrap(storedArchitecture(in: sequentialFile)),
            prediction: sequential.predict(sequentialX), naming: { "\($1)\($0)" })
        let wideReference = ModelReference(
            file: wideFile, architecture: sequentialReference.architecture,
            prediction: sequentialReference.prediction, naming: sequentialReference.naming)
        let graphReference = ModelReference(
            file: graphFile, architecture: try XCTUnwrap(storedArchitecture(in: graphFile)),
            prediction: graph.predict(graphX), naming: { "dense\($0).\($1)" })
        XCTAssertEqual(try Sequential<Float>.load(from: wideURL).predict(sequentialX).shape, sequentialReference.prediction.shape)

        let damaged = directory.appendingPathComponent("case.safetensors")
        let resaved = directory.appendingPathComponent("resaved.safetensors")
        let damagedCSV = directory.appendingPathComponent("case.csv")
        if Self.verbose { say("FuzzTests: \(total) cases, seed \(Self.seed), inputs in \(directory.path)") }

        // First the inputs that once crashed a loader (and a few other fixed ones), then random mutations.
        let fixed = fixedModelCases(sequential: sequentialReference, graph: graphReference)
        let modelCases = Swift.max(total * 2 / 3, Swift.min(fixed.count, total))
        for index in 0..<total {
            let started = ContinuousClock.now
            let label: String
            let outcome: FuzzOutcome
            if index < modelCases {
                // Alternate the two model kinds; a Double-saved Sequential now and then.
                let isFixed = index < fixed.count
                let isGraph = isFixed ? fixed[index].isGraph : index % 2 == 1
                let reference = isGraph ? graphReference : (g.fzChance(0.2) ? wideReference : sequentialReference)
                let (data, mutation) = isFixed
                    ? (fixed[index].data, fixed[index].label)
                    : mutateModelFile(reference, other: isGraph ? sequentialReference : graphReference, &g)
                // Mostly the matching loader; now and then a Double model, or the other kind (which must refuse the file).
                let loader = isFixed ? 2 : g.nextIndex(below: 20)
                let crossed = loader == 1
                label = "\(isGraph ? "graph" : "sequential") file, \(mutation)\(crossed ? ", read as the other kind" : loader == 0 ? ", read as Double" : "")"
                if Self.verbose { say("case \(index): \(label)") }
                try data.write(to: damaged)
                outcome = attempt {
                    switch (isGraph, loader) {
                    case (true, 1):
                        _ = try Sequential<Float>.load(from: damaged)
                        return .loaded(predicted: false)
                    case (false, 1):
                        _ = try GraphModel<Float>.load(from: damaged)
                        return .loaded(predicted: false)
                    case (true, _):
                        let model = try GraphModel<Float>.load(from: damaged)
                        return .loaded(predicted: try predictIfUnchanged(model, graphX, reference, resaved))
                    case (false, 0):
                        let model = try Sequential<Double>.load(from: damaged)
                        let X = Tensor<Double>(shape: sequentialX.shape, scalars: sequentialX.scalars.map(Double.init))
                        return .loaded(predicted: try predictIfUnchanged(model, X, reference, resaved))
                    default:
                        let model = try Sequential<Float>.load(from: damaged)
                        return .loaded(predicted: try predictIfUnchanged(model, sequentialX, reference, resaved))
                    }
                }
                if mutation == "unchanged" {
                    switch outcome {
                    case .loaded(let predicted): XCTAssertTrue(predicted && !crossed, "\(label): must load and predict as saved")
                    case .threw(let kind, _): XCTAssertTrue(crossed, "\(label): threw \(kind)")
                    }
                }
            } else {
                let (data, mutation, viaText) = mutateCSV(&g)
                let hasHeader = g.fzChance(0.8)
                let separator: Character = viaText ? g.fzPick([",", ",", ";", "\t", " ", "é"]) : ","
                label = "CSV, \(mutation), \(viaText ? "text, separator \(separator.debugDescription)" : "file")\(hasHeader ? "" : ", no header")"
                if Self.verbose { say("case \(index): \(label)") }
                try data.write(to: damagedCSV)
                let labelPick = g.next()
                outcome = attempt {
                    let table = viaText
                        ? try CSVTable<Float>(text: String(decoding: data, as: UTF8.self), hasHeader: hasHeader, separator: separator)
                        : try CSVTable<Float>(contentsOf: damagedCSV, hasHeader: hasHeader)
                    XCTAssertEqual(table.values.rank, 2, label)
                    XCTAssertEqual(table.values.shape.first, table.columnNames.count, label)
                    XCTAssertGreaterThan(table.values.shape.last ?? 0, 0, label)
                    let name = table.columnNames[Int(labelPick % UInt64(table.columnNames.count))]
                    let (X, Y) = try table.features(label: name)
                    XCTAssertEqual(X.shape.first.map { $0 + 1 }, table.columnNames.count, label)
                    XCTAssertEqual(Y.shape, [1, table.values.shape[1]], label)
                    return .loaded(predicted: false)
                }
                if mutation == "unchanged" && hasHeader && separator == "," {
                    if case .threw(let kind, let description) = outcome { XCTFail("\(label): threw \(kind): \(description)") }
                }
            }
            tally.record(outcome, label: label, started: started)
            if Self.verbose {
                switch outcome {
                case .loaded(let predicted): say("  → loaded\(predicted ? ", predicted" : "")")
                case let .threw(kind, description): say("  → \(kind): \(description.prefix(300))")
                }
            }
        }

        print("FuzzTests: \(tally.cases) cases run (seed \(Self.seed); \(modelCases) model files, \(total - modelCases) CSV texts): "
              + "\(tally.loaded) loaded (\(tally.predicted) predicted), \(tally.threw) threw descriptive errors of \(tally.kinds.count) distinct kinds; "
              + "slowest case \(tally.slowestMilliseconds) ms (\(tally.slowestLabel))")
        if Self.verbose {
            for (kind, count) in tally.kinds.sorted(by: { $0.key < $1.key }) { print("  \(kind): \(count)") }
        }
        XCTAssertEqual(tally.loaded + tally.threw, tally.cases)
        // Inputs are at most about a megabyte: no case may take long (a hang guard).
        XCTAssertLessThan(tally.slowestMilliseconds, 20_000, "slowest case: \(tally.slowestLabel)")
    }

    /// Predicts with a loaded model when re-saving it gives the original's
    /// architecture (a damaged architecture may need other input shapes, and a
    /// shape mismatch at predict time is a caller error, not a loader one).
    private func predictIfUnchanged<M: Model>(_ model: M, _ X: Tensor<M.Scalar>, _ reference: ModelReference, _ url: URL) throws -> Bool {
        guard (try? model.save(to: url)) != nil, let data = try? Data(contentsOf: url),
              storedArchitecture(in: data) == reference.architecture else { return false }
        let prediction = model.predict(X)
        XCTAssertEqual(prediction.shape, reference.prediction.shape)
        return true
    }
}

// MARK: - Outcomes

/// Prints unbuffered, so the line is out before a crash.
fileprivate func say(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}

fileprivate enum FuzzOutcome {
    case loaded(predicted: Bool)
    case threw(kind: String, description: String)
}

/// Runs one load, turning a thrown error into its kind and description.
fileprivate func attempt(_ body: () throws -> FuzzOutcome) -> FuzzOutcome {
    do {
        return try body()
    } catch {
        return .threw(kind: errorKind(error), description: "\(error)")
    }
}

/// `ModelFileError.corrupt`, `CSVError.notANumber`, `NSError NSCocoaErrorDomain 259`, ….
fileprivate func errorKind(_ error: any Error) -> String {
    if error as? CSVError == .empty { return "CSVError.empty" }
    if error is ModelFileError || error is CSVError {
        return "\(type(of: error)).\(Mirror(reflecting: error).children.first?.label ?? "\(error)")"
    }
    let ns = error as NSError
    return "\(type(of: error)) \(ns.domain) \(ns.code)"
}

fileprivate struct FuzzTally {
    var cases = 0, loaded = 0, predicted = 0, threw = 0
    var kinds: [String: Int] = [:]
    var slowestMilliseconds = 0
    var slowestLabel = ""

    mutating func record(_ outcome: FuzzOutcome, label: String, started: ContinuousClock.Instant) {
        cases += 1
        switch outcome {
        case .loaded(let didPredict):
            loaded += 1
            if didPredict { predicted += 1 }
        case let .threw(kind, description):
            threw += 1
            kinds[kind, default: 0] += 1
            XCTAssertFalse(description.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty, "\(label): \(kind) has no description")
        }
        let elapsed = started.duration(to: .now)
        let milliseconds = Int(elapsed.components.seconds * 1000 + elapsed.components.attoseconds / 1_000_000_000_000_000)
        if milliseconds > slowestMilliseconds { (slowestMilliseconds, slowestLabel) = (milliseconds, label) }
    }
}

// MARK: - Valid inputs

/// A valid model file and what loading it gives.
fileprivate struct ModelReference {
    var file: Data
    /// The `architecture` string of the file's metadata.
    var architecture: String
    var prediction: Tensor<Float>
    /// The stored name of tensor `key` of the k-th Dense layer (1-based).
    var naming: (Int, String) -> String
}

/// Every built-in single-input layer type, with BatchNorm's running averages set.
fileprivate func fuzzSequentialModel<S: TensorScalar>(_: S.Type) -> (Sequential<S>, Tensor<S>) {
    var g = RandomGenerator(seed: 11)
    let model = Sequential<S>([
        Reshape<S>.flatten(), Dense<S>(inputs: 2, outputs: 5, generator: &g), BatchNorm<S>(units: 5),
        Activation<S>(.leakyRelu(slope: 0.05)), Dropout<S>(keepProbability: 0.8), Dense<S>(inputs: 5, outputs: 3, generator: &g),
        Activation<S>(.tanh), Dense<S>(inputs: 3, outputs: 2, generator: &g), Softmax<S>(),
    ])
    let X = Tensor<S>(randomNormal: [2, 8], generator: &g)
    let context = ForwardContext(training: true)
    _ = model.forward(Variable(X), context: context)
    context.commitUpdates()
    return (model, X)
}

/// A graph with a shared layer, every merge layer, BatchNorm, Dropout and Reshape.
fileprivate func fuzzGraphModel() -> (GraphModel<Float>, Tensor<Float>) {
    var g = RandomGenerator(seed: 12)
    let x = GraphNode<Float>.input()
    let shared = Dense<Float>(inputs: 3, outputs: 3, generator: &g)
    let left = Activation<Float>(.relu)(shared(x))
    let right = Activation<Float>(.tanh)(shared(Activation<Float>(.sigmoid)(x)))
    let joined = Concatenate<Float>()([left, BatchNorm<Float>(units: 3)(right)])
    let gate = Activation<Float>(.sigmoid)(Dense<Float>(inputs: 6, outputs: 6, generator: &g)(joined))
    let mixed = Add<Float>()([Multiply<Float>()([joined, gate]), Dropout<Float>(keepProbability: 0.9)(joined)])
    let out = Dense<Float>(inputs: 6, outputs: 2, generator: &g)(Reshape<Float>(exampleShape: [6])(mixed))
    return (GraphModel(inputs: [x], outputs: [out], outputActivation: .softmax), Tensor(randomNormal: [3, 10], generator: &g))
}

/// The `architecture` metadata string of a safetensors file, if it has one.
fileprivate func storedArchitecture(in data: Data) -> String? {
    guard let parts = try? SafetensorsParts(data) else { return nil }
    return parts.metadata?["architecture"] as? String
}

// MARK: - Safetensors mutations

/// Fixed damaged files, run before the random ones: the inputs that crashed the loaders before they were fixed.
fileprivate func fixedModelCases(sequential: ModelReference, graph: ModelReference) -> [(isGraph: Bool, data: Data, label: String)] {
    [
        (false, sequential.file, "unchanged"),
        (true, graph.file, "unchanged"),
        (false, Data(), "empty file"),
        // Trapped in Tensor.zeros (Int overflow of 2^32 · 2^32) when Dense was rebuilt.
        (false, editedArchitecture(sequential) { setSettings(&$0, of: "Dense", ["inputs": 1 << 32, "outputs": 1 << 32]) },
         "Dense with 2^32 → 2^32"),
        // Tried to allocate 10^24 values (or 10^12 for BatchNorm) before any shape was compared.
        (false, editedArchitecture(sequential) { setSettings(&$0, of: "Dense", ["inputs": 1_000_000_000_000, "outputs": 1_000_000_000_000]) },
         "Dense with 10^12 → 10^12"),
        (true, editedArchitecture(graph) { setSettings(&$0, of: "BatchNorm", ["units": Int.max]) }, "BatchNorm with Int.max units"),
        // Overflowed the stack twice in GraphModel: the recursive topological sort, then the recursive release of the nodes.
        (true, editedArchitecture(graph) { appendActivationChain(&$0, length: 25_000) }, "25000 more activations"),
        // Loaded, then trapped in Add's `require(!inputs.isEmpty)` at the first predict.
        (true, editedArchitecture(graph) { architecture in
            var nodes = architecture["nodes"] as? [[String: Any]] ?? []
            let modules = architecture["modules"] as? [[String: Any]] ?? []
            if let add = modules.firstIndex(where: { $0["type"] as? String == "Add" }),
               let p = nodes.firstIndex(where: { $0["module"] as? Int == add }) {
                nodes[p]["inputs"] = [Int]()
            }
            architecture["nodes"] = nodes
        }, "Add applied to no nodes"),
    ]
}

/// The reference file with its stored architecture edited.
fileprivate func editedArchitecture(_ reference: ModelReference, _ edit: (inout [String: Any]) -> Void) -> Data {
    guard var parts = try? SafetensorsParts(reference.file) else { return reference.file }
    var architecture = parts.architecture
    edit(&architecture)
    parts.architecture = architecture
    return parts.encoded()
}

/// Changes settings of the first module of `type`.
fileprivate func setSettings(_ architecture: inout [String: Any], of type: String, _ settings: [String: Any]) {
    var modules = architecture["modules"] as? [[String: Any]] ?? []
    guard let i = modules.firstIndex(where: { $0["type"] as? String == type }) else { return }
    var configuration = modules[i]["configuration"] as? [String: Any] ?? [:]
    configuration.merge(settings) { $1 }
    modules[i]["configuration"] = configuration
    architecture["modules"] = modules
}

/// Applies the first Activation module `length` more times after the (first) output.
fileprivate func appendActivationChain(_ architecture: inout [String: Any], length: Int) {
    let modules = architecture["modules"] as? [[String: Any]] ?? []
    let activation = modules.firstIndex { $0["type"] as? String == "Activation" } ?? 0
    if var nodes = architecture["nodes"] as? [[String: Any]] {
        var last = (architecture["outputs"] as? [Int])?.first ?? 0
        for _ in 0..<length {
            nodes.append(["module": activation, "inputs": [last]])
            last = nodes.count - 1
        }
        architecture["nodes"] = nodes
        architecture["outputs"] = [last]
    } else {
        architecture["sequence"] = (architecture["sequence"] as? [Int] ?? []) + Array(repeating: activation, count: length)
    }
}

fileprivate struct FuzzSetupError: Error, CustomStringConvertible {
    var description: String
}

/// A safetensors file taken apart: the header as JSON objects and the data section.
fileprivate struct SafetensorsParts {
    var header: [String: Any]
    var body: Data

    init(_ data: Data) throws {
        guard data.count >= 8 else { throw FuzzSetupError(description: "short file") }
        let length = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        guard length <= UInt64(data.count - 8),
              let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + Int(length)))) as? [String: Any] else {
            throw FuzzSetupError(description: "not a safetensors file")
        }
        self.header = header
        body = data.subdata(in: (8 + Int(length))..<data.count)
    }

    var tensorNames: [String] { header.keys.filter { $0 != "__metadata__" }.sorted() }

    var metadata: [String: Any]? {
        get { header["__metadata__"] as? [String: Any] }
        set { header["__metadata__"] = newValue }
    }

    var architecture: [String: Any] {
        get {
            guard let text = metadata?["architecture"] as? String,
                  let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else { return [:] }
            return object
        }
        set { metadata?["architecture"] = String(decoding: fuzzJSON(newValue), as: UTF8.self) }
    }

    func headerJSON() -> Data { fuzzJSON(header) }

    func encoded(pad: Bool = true) -> Data { assembleSafetensors(header: headerJSON(), body: body, pad: pad) }
}

fileprivate func fuzzJSON(_ object: [String: Any]) -> Data {
    (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
}

/// The 8-byte little-endian header length, the header (padded with spaces to 8 bytes) and the data.
fileprivate func assembleSafetensors(header: Data, body: Data, pad: Bool = true, padByte: UInt8 = 0x20) -> Data {
    var json = header
    if pad { json.append(contentsOf: [UInt8](repeating: padByte, count: (8 - json.count % 8) % 8)) }
    var data = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
    data.append(json)
    data.append(body)
    return data
}

/// Values a damaged configuration, shape or index might hold.
fileprivate let fuzzIntegers = [Int.max, Int.min, Int.max - 1, -1, 0, 1, 2, 7, 1 << 31, 1 << 32, 1 << 40, 1 << 62, 1_000_000_000_000, -1_000_000]
fileprivate func fuzzValue(_ g: inout RandomGenerator) -> Any {
    let pool: [Any] = [1e300, -1e300, 0.5, Double.leastNonzeroMagnitude, -0.0, 2.5, "relu", "", "x", "2", [1, 2], [Int.max], [Int](), true, false, NSNull(),
                       ["a": 1], [[1]], String(repeating: "z", count: 2000)]
    return g.fzChance(0.5) ? g.fzPick(fuzzIntegers) : g.fzPick(pool)
}

/// A damaged copy of a valid model file and what was done to it.
fileprivate func mutateModelFile(_ reference: ModelReference, other: ModelReference, _ g: inout RandomGenerator) -> (Data, String) {
    let original = reference.file
    var (data, label): (Data, String)
    let roll = g.nextIndex(below: 100)
    switch roll {
    case 0: (data, label) = (original, "unchanged")
    case 1..<8: (data, label) = truncate(original, &g)
    case 8..<26: (data, label) = damageBytes(original, &g)
    case 26..<34: (data, label) = damageLengthField(original, &g)
    case 34..<38: (data, label) = appendGarbage(original, &g)
    case 38..<41: (data, label) = tinyFile(original, &g)
    case 41..<56: (data, label) = damageTensorEntry(original, reference, &g)
    case 56..<64: (data, label) = damageMetadata(original, other: other, &g)
    case 64..<92: (data, label) = damageArchitecture(original, reference, &g)
    default: (data, label) = damageHeaderText(original, &g)
    }
    // Now and then, damage twice.
    if roll != 0 && g.fzChance(0.1) {
        let (again, second) = g.fzChance(0.5) ? damageBytes(data, &g) : truncate(data, &g)
        (data, label) = (again, label + " + " + second)
    }
    return (data, label)
}

fileprivate func truncate(_ data: Data, _ g: inout RandomGenerator) -> (Data, String) {
    guard !data.isEmpty else { return (data, "truncate empty") }
    let length: Int
    switch g.nextIndex(below: 3) {
    case 0: length = g.nextIndex(below: Swift.min(17, data.count))
    case 1: length = g.nextIndex(below: Swift.min(data.count, 2048))
    default: length = g.nextIndex(below: data.count)
    }
    return (data.prefix(length), "truncated to \(length) of \(data.count) bytes")
}

/// Bit flips, byte overwrites, insertions and deletions, anywhere or only in the data section.
fileprivate func damageBytes(_ data: Data, _ g: inout RandomGenerator) -> (Data, String) {
    var bytes = [UInt8](data)
    guard !bytes.isEmpty else { return (data, "no bytes to damage") }
    let count = g.fzInt(1...8)
    let kind = g.nextIndex(below: 5)
    // Kind 4 damages only the tensor data (a file that still parses, with odd values).
    let headerEnd = (try? SafetensorsParts(data)).map { data.count - $0.body.count } ?? 0
    for _ in 0..<count where !bytes.isEmpty {
        let position = kind == 4 && headerEnd < bytes.count
            ? headerEnd + g.nextIndex(below: bytes.count - headerEnd) : g.nextIndex(below: bytes.count)
        switch kind {
        case 0, 4: bytes[position] ^= UInt8(1) << UInt8(g.nextIndex(below: 8))
        case 1: bytes[position] = UInt8(truncatingIfNeeded: g.next())
        case 2: bytes.insert(contentsOf: g.fzPick(fuzzInsertions), at: position)
        default: bytes.removeSubrange(position..<Swift.min(bytes.count, position + g.fzInt(1...16)))
        }
    }
    let names = ["bit flips", "byte overwrites", "insertions", "deletions", "bit flips in the data section"]
    return (Data(bytes), "\(count) \(names[kind])")
}

fileprivate let fuzzInsertions: [[UInt8]] = [
    [0x00], [0xFF], [0x80], [0xC3], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF],
    Array("\"".utf8), Array("{".utf8), Array("}".utf8), Array("[".utf8), Array(",".utf8), Array(":".utf8), Array("\\".utf8),
    Array("null".utf8), Array("-1".utf8), Array("1e999".utf8), Array("NaN".utf8), Array("\\u0000".utf8), Array("\\ud800".utf8),
    Array(" ".utf8), Array("\n".utf8), Array("9223372036854775808".utf8),
]

fileprivate func damageLengthField(_ data: Data, _ g: inout RandomGenerator) -> (Data, String) {
    guard data.count >= 8 else { return (data, "no length field") }
    let actual = data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
    let choices: [UInt64] = [
        g.next(), UInt64.max, 1 << 63, UInt64(Int.max), UInt64(Int.max) + 1, 1 << 32, 0, 1, 2, 7, 8, actual / 2,
        actual &- 1, actual + 1, actual &- UInt64(g.fzInt(1...8)), actual + UInt64(g.fzInt(1...8)),
        UInt64(data.count - 8), UInt64(data.count - 7), UInt64(g.nextIndex(below: data.count)),
    ]
    let length = g.fzPick(choices)
    var out = data
    withUnsafeBytes(of: length.littleEndian) { out.replaceSubrange(0..<8, with: $0) }
    return (out, "header length \(length) (was \(actual))")
}

fileprivate func appendGarbage(_ data: Data, _ g: inout RandomGenerator) -> (Data, String) {
    var out = data
    let count = g.fzPick([1, 7, 100, 4096, 65_536, 262_144, 1 << 20])
    switch g.nextIndex(below: 3) {
    case 0:
        out.append(contentsOf: g.fzBytes(count))
        return (out, "\(count) random bytes appended")
    case 1:
        while out.count < data.count + count { out.append(data) }
        return (out, "copies of itself appended (\(out.count) bytes)")
    default:
        // Garbage between the header and the data: the offsets now point at the wrong bytes.
        guard let parts = try? SafetensorsParts(data) else { return (out, "no header") }
        let garbage = Data(g.fzBytes(Swift.min(count, 4096)))
        return (assembleSafetensors(header: parts.headerJSON(), body: garbage + parts.body), "\(garbage.count) bytes before the data")
    }
}

fileprivate func tinyFile(_ data: Data, _ g: inout RandomGenerator) -> (Data, String) {
    switch g.nextIndex(below: 6) {
    case 0: return (Data(), "empty file")
    case 1: let n = g.fzInt(1...16); return (Data(g.fzBytes(n)), "\(n) random bytes")
    case 2: return (Data(repeating: 0, count: 8), "zero header length, nothing else")
    case 3: return (assembleSafetensors(header: Data("{}".utf8), body: Data()), "empty header object")
    case 4:
        // A well-formed file holding an empty Sequential.
        let architecture = #"{"kind":"sequential","modules":[],"sequence":[],"outputActivation":"identity"}"#
        let header: [String: Any] = ["__metadata__": ["format": "swift-deep-learning", "version": "2", "architecture": architecture]]
        return (assembleSafetensors(header: fuzzJSON(header), body: Data()), "empty model")
    default: return (data.prefix(8) + Data("{".utf8), "length field and an open brace")
    }
}

/// Edits of one tensor's header entry: dtype, shape, data_offsets, keys.
fileprivate func damageTensorEntry(_ data: Data, _ reference: ModelReference, _ g: inout RandomGenerator) -> (Data, String) {
    guard var parts = try? SafetensorsParts(data), !parts.tensorNames.isEmpty else { return (data, "no tensors") }
    let names = parts.tensorNames
    let name = g.fzPick(names)
    var entry = parts.header[name] as? [String: Any] ?? [:]
    let shape = entry["shape"] as? [Int] ?? []
    let offsets = entry["data_offsets"] as? [Int] ?? [0, 0]
    let label: String
    switch g.nextIndex(below: 15) {
    case 0:
        let dtypes: [Any] = ["F16", "BF16", "I32", "I64", "U8", "BOOL", "f32", "F32 ", "", "F128", 42, NSNull(), ["F32"]]
        entry["dtype"] = g.fzPick(dtypes)
        label = "dtype \(entry["dtype"]!)"
    case 1:
        entry["dtype"] = entry["dtype"] as? String == "F32" ? "F64" : "F32"
        label = "dtype swapped to \(entry["dtype"]!)"
    case 2:
        var s = shape.isEmpty ? [1] : shape
        s[g.nextIndex(below: s.count)] = g.fzPick([-1, -2, Int.min, -1_000_000])
        entry["shape"] = s
        label = "negative shape \(s)"
    case 3:
        var s = shape.isEmpty ? [1] : shape
        s[g.nextIndex(below: s.count)] = g.fzPick([Int.max, 1 << 62, 1 << 40, 1 << 31, 1_000_000_007])
        entry["shape"] = s
        label = "huge shape \(s)"
    case 4:
        let options: [[Int]] = [shape + [1], shape + [g.fzInt(2...9)], Array(shape.dropLast()), [], [0], [1, 1, 1, 1, 1, 1, 1, 1],
                                shape.reversed(), [shape.reduce(1, *)], [1, shape.reduce(1, *)]]
        let s = g.fzPick(options)
        entry["shape"] = s
        label = "shape \(s) for \(shape)"
    case 5:
        let s = g.fzPick([[1 << 32, 1 << 32], [Int.max, 2], [3_037_000_500, 3_037_000_500], [1 << 62, 4, 0], [0, Int.max],
                          [Int.max, Int.max, Int.max], [1 << 21, 1 << 21, 1 << 21]])
        entry["shape"] = s
        label = "overflowing shape \(s)"
    case 6:
        let values: [Any] = [[2.5, 1], ["2", 1], [NSNull()], "2", 7, [true, 1], [1e300], [[1]], NSNull()]
        entry["shape"] = g.fzPick(values)
        label = "non-integer shape"
    case 7:
        entry["data_offsets"] = [offsets[1], offsets[0]]
        label = "reversed offsets"
    case 8:
        let n = parts.body.count
        let options: [[Int]] = [[offsets[0], n + 4], [Int.max - 4, Int.max], [offsets[0] + n, offsets[1] + n], [offsets[0], Int.max],
                                [-4, offsets[1] - 4], [Int.min, offsets[1]], [n, n + offsets[1] - offsets[0]]]
        let o = g.fzPick(options)
        entry["data_offsets"] = o
        label = "out-of-range offsets \(o)"
    case 9:
        // Overlap another tensor's bytes, or shift into a neighbour.
        let other = (parts.header[g.fzPick(names)] as? [String: Any])?["data_offsets"] as? [Int] ?? [0, 0]
        let delta = g.fzPick([-8, -4, 4, 8])
        let options: [[Int]] = [[other[0], other[0] + offsets[1] - offsets[0]], [offsets[0] + delta, offsets[1] + delta],
                                [0, offsets[1] - offsets[0]], other]
        let o = g.fzPick(options)
        entry["data_offsets"] = o
        label = "overlapping offsets \(o)"
    case 10:
        let values: [Any] = [[offsets[0]], [offsets[0], offsets[1], offsets[1]], [Int](), "0,4", [0.5, 4], NSNull(), [true, true]]
        entry["data_offsets"] = g.fzPick(values)
        label = "malformed offsets"
    case 11:
        let key = g.fzPick(["dtype", "shape", "data_offsets"])
        entry[key] = nil
        label = "no \(key)"
    case 12:
        entry["shape"] = g.fzPick([[0, 5], [5, 0], [0]])
        entry["data_offsets"] = [offsets[0], offsets[0]]
        label = "empty tensor"
    case 13:
        switch g.nextIndex(below: 5) {
        case 0:
            parts.header[name] = nil
            return (parts.encoded(), "tensor \(name) removed")
        case 1:
            parts.header[name] = nil
            parts.header[name + "x"] = entry
            return (parts.encoded(), "tensor \(name) renamed")
        case 2:
            parts.header["extra"] = ["dtype": "F32", "shape": [1], "data_offsets": [0, 4]]
            return (parts.encoded(), "unknown tensor added")
        case 3:
            let values: [Any] = ["x", 5, [Int](), NSNull(), true]
            parts.header[name] = g.fzPick(values)
            return (parts.encoded(), "entry \(name) not an object")
        default:
            for other in names where other != name { parts.header[other] = nil }
            return (parts.encoded(), "every tensor but \(name) removed")
        }
    default:
        entry["extra"] = fuzzValue(&g)
        label = "extra entry key"
    }
    parts.header[name] = entry
    return (parts.encoded(pad: g.fzChance(0.8)), "\(name): \(label)")
}

fileprivate func damageMetadata(_ data: Data, other: ModelReference, _ g: inout RandomGenerator) -> (Data, String) {
    guard var parts = try? SafetensorsParts(data) else { return (data, "no header") }
    let label: String
    switch g.nextIndex(below: 9) {
    case 0:
        let key = g.fzPick(["format", "version", "architecture"])
        parts.metadata?[key] = nil
        label = "no \(key)"
    case 1:
        let v = g.fzPick(["1", "3", "", "2.0", " 2", "02", "２"])
        parts.metadata?["version"] = v
        label = "version \"\(v)\""
    case 2:
        parts.metadata?["format"] = g.fzPick(["", "safetensors", "swift-deep-learning ", "SWIFT-DEEP-LEARNING"])
        label = "format tag changed"
    case 3:
        let values: [Any] = ["x", 5, ["format"], NSNull(), [String: Any]()]
        parts.header["__metadata__"] = g.fzPick(values)
        label = "metadata not a string map"
    case 4:
        parts.metadata?[g.fzPick(["version", "format", "architecture"])] = fuzzValue(&g)
        label = "metadata value not a string"
    case 5:
        parts.metadata?["comment"] = String(repeating: "garbage ", count: g.fzInt(1...2000))
        parts.metadata?["other"] = "\u{0}\u{FFFD}é"
        label = "extra metadata"
    case 6:
        parts.header["__metadata__"] = nil
        label = "metadata removed"
    case 7:
        let text = parts.metadata?["architecture"] as? String ?? ""
        let values: [String] = ["", "{", "null", "[]", "{}", "42", String(text.prefix(g.nextIndex(below: Swift.max(1, text.count)))),
                                String(decoding: g.fzBytes(32), as: UTF8.self), text + text]
        parts.metadata?["architecture"] = g.fzPick(values)
        label = "architecture text garbled"
    default:
        // The other model's architecture over this file's tensors.
        parts.metadata?["architecture"] = other.architecture
        label = "the other model's architecture"
    }
    return (parts.encoded(), label)
}

/// Edits of the stored architecture: kinds, layer types and settings, the sequence, graph nodes and outputs.
fileprivate func damageArchitecture(_ data: Data, _ reference: ModelReference, _ g: inout RandomGenerator) -> (Data, String) {
    guard var parts = try? SafetensorsParts(data) else { return (data, "no header") }
    var arch = parts.architecture
    var modules = arch["modules"] as? [[String: Any]] ?? []
    let isGraph = arch["nodes"] != nil
    func positions(of type: String) -> [Int] { modules.indices.filter { modules[$0]["type"] as? String == type } }
    func setting(_ i: Int, _ key: String, _ value: Any) {
        var configuration = modules[i]["configuration"] as? [String: Any] ?? [:]
        configuration[key] = value
        modules[i]["configuration"] = configuration
    }
    var label: String
    switch g.nextIndex(below: 15) {
    case 0:
        let values: [Any] = ["graph", "sequential", "Sequential", "", 3, NSNull()]
        arch["kind"] = g.fzChance(0.2) ? nil : g.fzPick(values)
        label = "kind changed"
    case 1:
        let values: [Any] = ["relu", "", 1, NSNull(), "SOFTMAX", "sigmoid"]
        arch["outputActivation"] = g.fzChance(0.2) ? nil : g.fzPick(values)
        label = "output activation changed"
    case 2 where !modules.isEmpty:
        let i = g.nextIndex(below: modules.count)
        let values: [Any] = ["Conv2D", "dense", "", "Dense ", "Dropout", "Add", "Reshape", "BatchNorm", "Softmax", "Dense", "Concatenate",
                             "Activation", "Multiply", 7, NSNull()]
        modules[i]["type"] = g.fzPick(values)
        label = "module \(i) type \(modules[i]["type"]!)"
    case 3 where !modules.isEmpty:
        let i = g.nextIndex(below: modules.count)
        switch g.nextIndex(below: 4) {
        case 0: modules[i]["type"] = nil
        case 1: modules[i]["configuration"] = nil
        case 2: modules[i]["configuration"] = g.fzPick([[Int](), "x", 5, NSNull()] as [Any])
        default: modules[i] = [:]
        }
        label = "module \(i) incomplete"
    case 4 where !modules.isEmpty:
        let i = g.nextIndex(below: modules.count)
        let keys = (modules[i]["configuration"] as? [String: Any])?.keys.sorted() ?? []
        let key = keys.isEmpty || g.fzChance(0.2) ? "extra" : g.fzPick(keys)
        if g.fzChance(0.2) {
            var configuration = modules[i]["configuration"] as? [String: Any] ?? [:]
            configuration[key] = nil
            modules[i]["configuration"] = configuration
            label = "module \(i) setting \(key) removed"
        } else {
            setting(i, key, fuzzValue(&g))
            label = "module \(i) setting \(key) changed"
        }
    case 5, 6:
        // Absurd sizes for the layers that allocate from their settings.
        let dense = positions(of: "Dense"), norm = positions(of: "BatchNorm")
        if g.fzChance(0.7), !dense.isEmpty {
            let i = g.fzPick(dense)
            let sizes = g.fzPick([(1_000_000_000_000, 1_000_000_000_000), (Int.max, Int.max), (Int.max, 2), (2, Int.max), (1 << 32, 1 << 32),
                                  (1_000_000_000_000, 1), (1, 1_000_000_000_000), (0, 1_000_000_000_000), (1_000_000_000_000, 0),
                                  (100_000, 100_000), (-1, 5), (Int.min, Int.min), (3_037_000_500, 3_037_000_500), (0, 0)])
            setting(i, "inputs", sizes.0)
            setting(i, "outputs", sizes.1)
            label = "Dense \(i) with \(sizes.0) → \(sizes.1)"
        } else if !norm.isEmpty {
            let i = g.fzPick(norm)
            let units = g.fzPick([1_000_000_000_000, Int.max, 1 << 40, 1 << 28, -1, 0, Int.min])
            setting(i, "units", units)
            label = "BatchNorm \(i) with \(units) units"
        } else {
            label = "no sized layer"
        }
    case 7:
        // Odd but type-correct settings for the other layers.
        let all: [(String, String, Any)] = [
            ("Reshape", "exampleShape", g.fzPick([[Int.max], [-5], [], [0], [1 << 62, 1 << 62], [Int.min], [-1, -1], [3, 2]])),
            ("Concatenate", "axis", g.fzPick([Int.max, Int.min, -1, 1, 5])),
            ("Dropout", "keepProbability", g.fzPick([0, -1, 2, 1e300, -0.0, Double.leastNonzeroMagnitude, 1])),
            ("Activation", "function", g.fzPick(["softmax", "leakyRelu", "relu", "Relu", ""])),
            ("Activation", "slope", g.fzPick([1e300, -1e300, 0, Int.max] as [Any])),
            ("BatchNorm", "epsilon", g.fzPick([0, -1, 1e300, Double.leastNonzeroMagnitude, Int.min] as [Any])),
            ("BatchNorm", "momentum", g.fzPick([2, -1, 1e300] as [Any])),
            ("BatchNorm", "runningVariance", g.fzPick(["", "Biased", "unbiased"])),
        ]
        let present = all.filter { !positions(of: $0.0).isEmpty }
        if present.isEmpty { label = "no layer to change"; break }
        let (type, key, value) = g.fzPick(present)
        let i = g.fzPick(positions(of: type))
        setting(i, key, value)
        label = "\(type) \(i) \(key) = \(value)"
    case 8:
        // A consistent but absurd Dense: no weights, 10^12 inputs.
        if let i = positions(of: "Dense").first {
            setting(i, "inputs", 1_000_000_000_000)
            setting(i, "outputs", 0)
            for (key, shape) in [("W", [0, 1_000_000_000_000]), ("b", [0, 1])] {
                let name = reference.naming(1, key)
                var entry = parts.header[name] as? [String: Any] ?? [:]
                entry["shape"] = shape
                entry["data_offsets"] = [0, 0]
                parts.header[name] = entry
            }
            label = "Dense 0 with 10^12 inputs and no outputs, tensors to match"
        } else {
            label = "no Dense"
        }
    case 9...11 where !isGraph:
        var sequence = arch["sequence"] as? [Int] ?? []
        switch g.nextIndex(below: 6) {
        case 0 where !sequence.isEmpty:
            let i = g.nextIndex(below: sequence.count)
            sequence[i] = g.fzPick([-1, modules.count, Int.max, Int.min, modules.count + 1])
            label = "sequence entry \(i) = \(sequence[i])"
        case 1 where !sequence.isEmpty:
            sequence.remove(at: g.nextIndex(below: sequence.count))
            label = "sequence entry removed"
        case 2:
            sequence = []
            label = "empty sequence"
        case 3 where !sequence.isEmpty:
            sequence.insert(sequence[g.nextIndex(below: sequence.count)], at: g.nextIndex(below: sequence.count))
            label = "sequence entry repeated"
        case 4:
            g.shuffle(&sequence)
            label = "sequence shuffled"
        default:
            label = "sequence not a list of integers"
        }
        arch["sequence"] = label == "sequence not a list of integers" ? g.fzPick([NSNull(), "0", [0.5], 3] as [Any]) : sequence
    case 9...11:
        var nodes = arch["nodes"] as? [[String: Any]] ?? []
        guard !nodes.isEmpty else { label = "no nodes"; break }
        var p = g.nextIndex(below: nodes.count)
        switch g.nextIndex(below: 14) {
        case 13:
            // A merge layer applied to nothing.
            let merges = Set(positions(of: "Add") + positions(of: "Multiply") + positions(of: "Concatenate"))
            p = nodes.indices.first { nodes[$0]["module"].flatMap { $0 as? Int }.map(merges.contains) ?? false } ?? p
            nodes[p]["inputs"] = [Int]()
            label = "node \(p) merges nothing"
        case 0: nodes[p]["inputs"] = [g.fzPick([p, p + 1, nodes.count, -1, Int.max, Int.min])]; label = "node \(p) reads a missing or later node"
        case 1: nodes[p]["inputs"] = [p]; label = "node \(p) reads itself"
        case 2: nodes[p]["inputs"] = [Int](); label = "node \(p) reads nothing"
        case 3: nodes[p]["inputs"] = [0, 0]; label = "node \(p) reads two nodes"
        case 4: nodes[p]["input"] = 0; nodes[p]["module"] = 0; label = "node \(p) both input and module"
        case 5: nodes[p] = [:]; label = "node \(p) empty"
        case 6: nodes[p] = ["input": g.fzPick([1, -1, Int.max, Int.min, 0])]; label = "node \(p) an input numbered \(nodes[p]["input"]!)"
        case 7: nodes[p]["module"] = g.fzPick([-1, modules.count, Int.max]); label = "node \(p) applies a missing module"
        case 8: nodes.remove(at: p); label = "node \(p) removed"
        case 9: nodes.swapAt(p, g.nextIndex(below: nodes.count)); label = "nodes swapped"
        case 10: nodes.insert(nodes[p], at: g.nextIndex(below: nodes.count)); label = "node \(p) duplicated"
        case 11: nodes = []; label = "no nodes"
        default: nodes[p]["inputs"] = fuzzValue(&g); label = "node \(p) inputs garbled"
        }
        arch["nodes"] = nodes
    case 12:
        let count = (arch["nodes"] as? [Any])?.count ?? 0
        let values: [Any] = [[Int](), [-1], [Int.max], [count], [count - 1, count - 1], Array(0..<count), NSNull(), [0]]
        arch["outputs"] = g.fzPick(values)
        label = "outputs changed"
    case 14 where g.fzChance(0.3):
        // A long chain of activations after the output: once a stack overflow in GraphModel.
        let length = g.fzPick([1000, 25_000])
        arch["modules"] = modules
        appendActivationChain(&arch, length: length)
        label = "\(length) more activations"
    default:
        if isGraph {
            arch["sequence"] = [0, 1]
            arch["kind"] = g.fzPick(["sequential", "graph"])
        } else {
            arch["nodes"] = [["input": 0], ["inputs": [0], "module": 0]]
            arch["outputs"] = [1]
            arch["kind"] = g.fzPick(["sequential", "graph"])
        }
        label = "both a sequence and nodes, kind \(arch["kind"]!)"
    }
    arch["modules"] = modules
    parts.architecture = arch
    return (parts.encoded(), label)
}

/// Edits of the header text itself: duplicate keys, raw tokens JSON objects cannot hold, odd padding.
fileprivate func damageHeaderText(_ data: Data, _ g: inout RandomGenerator) -> (Data, String) {
    guard let parts = try? SafetensorsParts(data), let name = parts.tensorNames.first else { return (data, "no header") }
    var json = [UInt8](parts.headerJSON())
    func insertBeforeClosingBrace(_ text: String) {
        if let end = json.lastIndex(of: UInt8(ascii: "}")) { json.insert(contentsOf: Array(text.utf8), at: end) }
    }
    var padByte: UInt8 = 0x20
    let label: String
    switch g.nextIndex(below: 9) {
    case 0:
        insertBeforeClosingBrace(#","__metadata__":{"format":"x","version":"1"}"#)
        label = "duplicate metadata key"
    case 1:
        insertBeforeClosingBrace(#","\#(name)":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}"#)
        label = "duplicate tensor key"
    case 2:
        let token = g.fzPick(["NaN", "Infinity", "-Infinity", "1e999", "-0", "1.0e2", "9223372036854775808", "0x10", "01", "\"1\"", "null"])
        let text = String(decoding: json, as: UTF8.self)
        if let range = text.range(of: "\"shape\":[") {
            json = Array(text.replacingCharacters(in: range, with: "\"shape\":[\(token),").utf8)
        }
        label = "shape token \(token)"
    case 3:
        let depth = g.fzPick([10, 100, 500])
        insertBeforeClosingBrace(",\"deep\":" + String(repeating: "[", count: depth) + String(repeating: "]", count: depth))
        label = "nested \(depth) deep"
    case 4:
        json += Array("xyz".utf8)
        label = "garbage after the header object"
    case 5:
        insertBeforeClosingBrace(#","\u0000\ud800":{"dtype":"F32","shape":[0],"data_offsets":[0,0]}"#)
        label = "odd escapes in a key"
    case 6:
        padByte = g.fzPick([0x00, 0xFF, 0x0A, 0x7D])
        label = "header padded with \(padByte)"
    case 7:
        json = [0xEF, 0xBB, 0xBF] + json
        label = "byte-order mark before the header"
    default:
        json = Array("[\(String(decoding: json, as: UTF8.self))]".utf8)
        label = "header wrapped in an array"
    }
    return (assembleSafetensors(header: Data(json), body: parts.body, pad: padByte != 0x20 || g.fzChance(0.8), padByte: padByte), label)
}

// MARK: - CSV mutations

/// A valid CSV text: a header and rows of numbers in several spellings.
fileprivate func fuzzCSVBase(_ g: inout RandomGenerator) -> String {
    let columns = g.fzInt(1...5), rows = g.fzInt(1...12)
    let newline = g.fzPick(["\n", "\r\n"])
    var lines = [(0..<columns).map { $0 == columns - 1 ? "label" : "x\($0 + 1)" }.joined(separator: ",")]
    for _ in 0..<rows {
        lines.append((0..<columns).map { _ -> String in
            let value = g.nextNormal() * 10
            switch g.nextIndex(below: 5) {
            case 0: return "\(Int(value))"
            case 1: return String(format: "%.3f", value)
            case 2: return String(format: "%.2e", value)
            case 3: return " \(value) "
            default: return "\(Float(value))"
            }
        }.joined(separator: ","))
    }
    return lines.joined(separator: newline) + (g.fzChance(0.7) ? newline : "")
}

fileprivate let fuzzCSVTokens = [
    "\"", "\"1.5\"", ",", ";", "\t", "\n", "\r\n", "\r", "\n\n\n", "   \n", ",,,", "NaN", "nan", "inf", "-inf", "Infinity", "1e999",
    "-1e999", "1e-999", "0x1p-2", "+5", ".5", "5.", "1,5", "-", "e", ".", "--1", "1_000", "１２", "٣", "\u{0301}", "\u{FEFF}", "\u{0}",
    "🙂", "é", " ", "label", "x1,x2", String(repeating: "9", count: 400),
]

/// A damaged CSV, what was done, and whether to parse it as text (else read it from a file).
fileprivate func mutateCSV(_ g: inout RandomGenerator) -> (Data, String, Bool) {
    let base = fuzzCSVBase(&g)
    var bytes = [UInt8](base.utf8)
    var label: String
    switch g.nextIndex(below: 12) {
    case 0: label = "unchanged"
    case 1:
        let length = g.nextIndex(below: bytes.count + 1)
        bytes = Array(bytes.prefix(length))
        label = "truncated to \(length) of \(base.utf8.count) bytes"
    case 2:
        let n = g.fzInt(1...6)
        for _ in 0..<n { bytes[g.nextIndex(below: bytes.count)] ^= UInt8(1) << UInt8(g.nextIndex(below: 8)) }
        label = "\(n) bit flips"
    case 3:
        let n = g.fzInt(1...6)
        for _ in 0..<n { bytes[g.nextIndex(below: bytes.count)] = UInt8(truncatingIfNeeded: g.next()) }
        label = "\(n) byte overwrites"
    case 4, 5:
        let n = g.fzInt(1...5)
        var inserted: [String] = []
        for _ in 0..<n {
            let token = g.fzPick(fuzzCSVTokens)
            bytes.insert(contentsOf: Array(token.utf8), at: g.nextIndex(below: bytes.count + 1))
            inserted.append(token.count > 20 ? "\(token.count) characters" : token.debugDescription)
        }
        label = "inserted \(inserted.joined(separator: " "))"
    case 6:
        let invalid = g.fzPick([[0xFF], [0x80], [0xC3], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xFE, 0xFF]] as [[UInt8]])
        bytes.insert(contentsOf: invalid, at: g.nextIndex(below: bytes.count + 1))
        label = "invalid UTF-8 \(invalid)"
    case 7:
        // A very long line: many fields or one huge number.
        let line = g.fzChance(0.5)
            ? Array(repeating: "1", count: g.fzPick([10, 1000, 20_000])).joined(separator: ",")
            : String(repeating: "7", count: g.fzPick([1000, 100_000])) + ".5"
        var lines = base.components(separatedBy: "\n")
        lines.insert(line, at: g.nextIndex(below: lines.count + 1))
        bytes = Array(lines.joined(separator: "\n").utf8)
        label = "a line of \(line.utf8.count) bytes"
    case 8:
        // Ragged rows: a field added to or removed from a line.
        var lines = base.components(separatedBy: "\n")
        let i = g.nextIndex(below: lines.count)
        if g.fzChance(0.5) { lines[i] += ",1" } else if let comma = lines[i].lastIndex(of: ",") { lines[i] = String(lines[i][..<comma]) }
        bytes = Array(lines.joined(separator: "\n").utf8)
        label = "ragged line \(i + 1)"
    case 9:
        var lines = base.components(separatedBy: "\n")
        switch g.nextIndex(below: 4) {
        case 0: lines = Array(lines.prefix(1)); label = "header only"
        case 1: lines.removeFirst(); label = "no header line"
        case 2: g.shuffle(&lines); label = "lines shuffled"
        default: lines = lines.map { _ in g.fzPick(["", " ", "\t", "\r"]) }; label = "blank lines only"
        }
        bytes = Array(lines.joined(separator: "\n").utf8)
    case 10:
        // A number spelled as a non-finite or odd text.
        let text = String(decoding: bytes, as: UTF8.self)
        let token = g.fzPick(["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "1e-999", "0x1p-2", "\"2\"", "", " ", "1 2", "٣"])
        var fields = text.components(separatedBy: ",")
        let i = g.nextIndex(below: fields.count)
        if i > 0 { fields[i] = token }
        bytes = Array(fields.joined(separator: ",").utf8)
        label = "field \(i) = \(token.debugDescription)"
    default:
        let start = g.nextIndex(below: bytes.count)
        let end = Swift.min(bytes.count, start + g.fzInt(1...40))
        bytes.removeSubrange(start..<end)
        label = "bytes \(start)..<\(end) deleted"
    }
    return (Data(bytes), label, g.fzChance(0.3))
}

// MARK: - Random helpers

extension RandomGenerator {
    fileprivate mutating func fzChance(_ p: Double) -> Bool { nextUniform() < p }
    fileprivate mutating func fzInt(_ range: ClosedRange<Int>) -> Int { range.lowerBound + nextIndex(below: range.count) }
    fileprivate mutating func fzPick<T>(_ options: [T]) -> T { options[nextIndex(below: options.count)] }
    fileprivate mutating func fzBytes(_ count: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 8)
        while bytes.count < count { withUnsafeBytes(of: next()) { bytes.append(contentsOf: $0) } }
        return Array(bytes.prefix(count))
    }
}

