import Foundation
import Tensors

/// A seeded split of the columns of `X` and `Y` into train, dev and test sets
/// (C2W1-01): 60/20/20 for small data, 98/1/1 (or finer) when `m` is large.
/// `fractions` are those of train and dev; test gets the rest.
public func trainDevTestSplit<S>(
    _ X: Tensor<S>, _ Y: Tensor<S>, train: Double, dev: Double, seed: UInt64
) -> (train: (X: Tensor<S>, Y: Tensor<S>), dev: (X: Tensor<S>, Y: Tensor<S>), test: (X: Tensor<S>, Y: Tensor<S>)) {
    require(X.rank == 2 && Y.rank == 2, "trainDevTestSplit: X \(X.shape) and Y \(Y.shape) must be (n, m), one example per column")
    let m = X.shape[1]
    require(train >= 0 && dev >= 0 && train + dev <= 1, "trainDevTestSplit: fractions \(train), \(dev) must be ≥ 0 and sum to ≤ 1")
    require(Y.shape.last == m, "trainDevTestSplit: X \(X.shape) and Y \(Y.shape) must have the same number of columns")
    let take = seededColumnSlices(X, Y, seed: seed)
    let trainCount = Int((Double(m) * train).rounded()), devCount = Int((Double(m) * dev).rounded())
    let devEnd = Swift.min(m, trainCount + devCount)
    return (take(0..<trainCount), take(trainCount..<devEnd), take(devEnd..<m))
}

/// Carves a training-dev set out of the training data (C3W2-06): a seeded
/// random `fraction` of the columns of `X` and `Y`, from the training
/// distribution but not trained on, so that the error ladder separates
/// variance (training-dev − train) from data mismatch (dev − training-dev)
/// when dev and test come from another distribution
/// (``MLStrategy/errorReport(humanLevel:train:trainDev:dev:test:)``).
public func trainingDevSplit<S>(
    _ X: Tensor<S>, _ Y: Tensor<S>, fraction: Double, seed: UInt64
) -> (train: (X: Tensor<S>, Y: Tensor<S>), trainingDev: (X: Tensor<S>, Y: Tensor<S>)) {
    require(X.rank == 2 && Y.rank == 2, "trainingDevSplit: X \(X.shape) and Y \(Y.shape) must be (n, m), one example per column")
    let m = X.shape[1]
    require(fraction >= 0 && fraction <= 1, "trainingDevSplit: fraction \(fraction) must be in [0, 1]")
    require(Y.shape.last == m, "trainingDevSplit: X \(X.shape) and Y \(Y.shape) must have the same number of columns")
    let take = seededColumnSlices(X, Y, seed: seed)
    let held = Int((Double(m) * fraction).rounded())
    return (take(held..<m), take(0..<held))
}

/// Slices of one seeded permutation of the columns of `(n, m)` data: `take(r)`
/// is the columns at positions `r` of the permutation, of `X` and `Y` alike —
/// the splits and the learning curve cut their sets from it.
func seededColumnSlices<S>(_ X: Tensor<S>, _ Y: Tensor<S>, seed: UInt64) -> (Range<Int>) -> (X: Tensor<S>, Y: Tensor<S>) {
    var g = RandomGenerator(seed: seed)
    let order = g.permutation(X.shape[1])
    return { range in
        let columns = Array(order[range])
        return (X.gathering(columns, axis: 1), Y.gathering(columns, axis: 1))
    }
}

/// Input normalization fitted on the training set and reused for dev/test
/// (C2W1-10): `x := (x − μ) / σ` per feature (row), `μ`, `σ²` of shape `(n_x, 1)`.
public struct Normalizer<Scalar: TensorScalar>: Sendable {
    public let mean: Tensor<Scalar>
    public let standardDeviation: Tensor<Scalar>

    /// Fits `μ` and `σ` (population, with σ = 0 replaced by 1) to the columns of `X`.
    public init(fitting X: Tensor<Scalar>) {
        mean = X.mean(axis: 1, keepingDimensions: true)
        let sigma = sqrt(X.variance(axis: 1, keepingDimensions: true))
        standardDeviation = Tensor(shape: sigma.shape, scalars: sigma.scalars.map { $0 == 0 ? 1 : $0 })
    }

    /// `(X − μ)/σ` with the training set's statistics.
    public func callAsFunction(_ X: Tensor<Scalar>) -> Tensor<Scalar> { (X - mean) / standardDeviation }
}

/// A CSV problem, with the 1-based line (and column) where it was found.
public enum CSVError: Error, CustomStringConvertible, Equatable {
    case empty
    case wrongFieldCount(line: Int, expected: Int, found: Int)
    case notANumber(line: Int, column: Int, text: String)
    case unknownColumn(String)

    public var description: String {
        switch self {
        case .empty: "CSV file has no data rows"
        case let .wrongFieldCount(line, expected, found): "CSV line \(line): expected \(expected) fields, found \(found)"
        case let .notANumber(line, column, text): "CSV line \(line), column \(column): \"\(text)\" is not a number"
        case .unknownColumn(let name): "CSV has no column named \"\(name)\""
        }
    }
}

/// A numeric table read from CSV text: one example per row in the file,
/// returned in the notes' layout (one example per column).
public struct CSVTable<Scalar: TensorScalar> {
    /// Column names from the header row (or `column1`, `column2`, … without one).
    public let columnNames: [String]
    /// The values, `(columns, rows)` — each file row becomes a column.
    public let values: Tensor<Scalar>

    /// Parses comma-separated numbers. Empty lines are skipped; fields may be
    /// surrounded by spaces. With `hasHeader`, the first line names the columns.
    public init(text: String, hasHeader: Bool = true, separator: Character = ",") throws {
        var names: [String]? = nil
        var rows: [[Scalar]] = []
        // `isNewline` also matches "\r\n", which Swift treats as one Character.
        for (index, line) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            if line.allSatisfy(\.isWhitespace) { continue }
            let fields = line.split(separator: separator, omittingEmptySubsequences: false)
                .map { $0.trimmingCharacters(in: .whitespaces) }
            if hasHeader && names == nil {
                names = fields
                continue
            }
            let expected = names?.count ?? rows.first?.count ?? fields.count
            if fields.count != expected {
                throw CSVError.wrongFieldCount(line: index + 1, expected: expected, found: fields.count)
            }
            rows.append(try fields.enumerated().map { column, text in
                guard let value = Double(text) else {
                    throw CSVError.notANumber(line: index + 1, column: column + 1, text: text)
                }
                return Scalar(value)
            })
        }
        guard let first = rows.first else { throw CSVError.empty }
        columnNames = names ?? (1...first.count).map { "column\($0)" }
        values = Tensor(rows).transposed()
    }

    /// Reads a CSV file (UTF-8).
    public init(contentsOf url: URL, hasHeader: Bool = true) throws {
        try self.init(text: try String(contentsOf: url, encoding: .utf8), hasHeader: hasHeader)
    }

    /// Splits the table into features and a label row: `X` `(n_x, m)` and `Y` `(1, m)`.
    public func features(label: String) throws -> (X: Tensor<Scalar>, Y: Tensor<Scalar>) {
        guard let index = columnNames.firstIndex(of: label) else { throw CSVError.unknownColumn(label) }
        let others = columnNames.indices.filter { $0 != index }
        return (values.gathering(others, axis: 0), values.gathering([index], axis: 0))
    }
}
