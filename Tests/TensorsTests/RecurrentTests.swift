import Foundation
import Tensors
import XCTest

/// Values from `Reference/make_recurrent.py` (PyTorch float64: nn.LSTM itself,
/// the basic RNN and the notes' GRU as explicit loops, gradients by autograd).
struct RecurrentReference: Decodable {
    struct Case: Decodable {
        let x: [Double], W: [Double], b: [Double], a0: [Double], R: [Double], a: [Double]
        let dx: [Double], dW: [Double], db: [Double], da0: [Double]
        let c0: [Double]?, dc0: [Double]?
    }
    let shape: [Int]
    let rnn: Case, gru: Case, lstm: Case

    static let shared: RecurrentReference = {
        let url = Bundle.module.url(forResource: "recurrent", withExtension: "json", subdirectory: "Reference")!
        return try! JSONDecoder().decode(RecurrentReference.self, from: Data(contentsOf: url))
    }()
}

extension DifferentiationTests {
    func testRecurrentCellsMatchPyTorchThroughTime() {
        let reference = RecurrentReference.shared
        let (nx, n, m, T) = (reference.shape[0], reference.shape[1], reference.shape[2], reference.shape[3])
        for (cell, values) in [(RecurrentCell.rnn, reference.rnn), (.gru, reference.gru), (.lstm, reference.lstm)] {
            let G = cell.gates
            let x = Variable(Tensor(shape: [nx, m, T], scalars: values.x), requiresGradient: true)
            let W = Variable(Tensor(shape: [G * n, n + nx], scalars: values.W), requiresGradient: true)
            let b = Variable(Tensor(shape: [G * n, 1], scalars: values.b), requiresGradient: true)
            let a0 = Variable(Tensor(shape: [n, m], scalars: values.a0), requiresGradient: true)
            let c0 = values.c0.map { Variable(Tensor(shape: [n, m], scalars: $0), requiresGradient: true) }
            let a = recurrentSequence(cell, x, weight: W, bias: b, initialState: a0, initialCell: c0)
            assertClose(a.value, values.a, shape: [n, m, T], relative: 1e-12, absolute: 1e-13, "\(cell) a⟨t⟩")
            a.backward(seed: Tensor(shape: [n, m, T], scalars: values.R))
            assertClose(x.gradient!, values.dx, relative: 1e-11, absolute: 1e-12, "\(cell) ∂J/∂x")
            assertClose(W.gradient!, values.dW, relative: 1e-11, absolute: 1e-12, "\(cell) ∂J/∂W")
            assertClose(b.gradient!, values.db, relative: 1e-11, absolute: 1e-12, "\(cell) ∂J/∂b")
            assertClose(a0.gradient!, values.da0, relative: 1e-11, absolute: 1e-12, "\(cell) ∂J/∂a⟨0⟩")
            if let c0, let dc0 = values.dc0 { assertClose(c0.gradient!, dc0, relative: 1e-11, absolute: 1e-12, "\(cell) ∂J/∂c⟨0⟩") }
        }
    }

    func testRecurrentCellGradientsByFiniteDifferences() {
        let (nx, n, m, T) = (2, 3, 3, 4)
        for cell in [RecurrentCell.rnn, .gru, .lstm] {
            let G = cell.gates
            let inputs = [random([nx, m, T]), random([G * n, n + nx], -0.8, 0.8), random([G * n, 1], -0.5, 0.5), random([n, m], -0.5, 0.5)]
                + (cell == .lstm ? [random([n, m], -0.5, 0.5)] : [])
            for reversed in [false, true] {
                checkGradient("\(cell)\(reversed ? " reversed" : "") with lengths [4, 2, 0]", inputs) { v in
                    recurrentSequence(cell, v[0], weight: v[1], bias: v[2], initialState: v[3], initialCell: v.count > 4 ? v[4] : nil,
                                      lengths: [4, 2, 0], reversed: reversed, returnsCellStates: cell == .lstm)
                }
            }
        }
    }

    func testPaddedStepsCarryTheStateAndMatchAShorterSequence() {
        // An example of length 2 padded to 4 ends in the state a length-2 run reaches, forward and reversed.
        let (nx, n, T) = (2, 3, 4)
        for cell in [RecurrentCell.rnn, .gru, .lstm] {
            let x = random([nx, 1, T]), W = random([cell.gates * n, n + nx], -0.8, 0.8), b = random([cell.gates * n, 1])
            let padded = recurrentSequence(cell, Variable(x), weight: Variable(W), bias: Variable(b), lengths: [2]).value
            let short = recurrentSequence(cell, Variable(x.slice(axis: 2, 0..<2)), weight: Variable(W), bias: Variable(b)).value
            XCTAssertEqual(padded.slice(axis: 2, 0..<2), short, "\(cell): the valid steps")
            XCTAssertEqual(padded.slice(axis: 2, 3..<4), short.slice(axis: 2, 1..<2), "\(cell): the last output is the last valid state")
            let reversed = recurrentSequence(cell, Variable(x), weight: Variable(W), bias: Variable(b), lengths: [2], reversed: true).value
            let shortReversed = recurrentSequence(cell, Variable(x.slice(axis: 2, 0..<2)), weight: Variable(W), bias: Variable(b), reversed: true).value
            XCTAssertEqual(reversed.slice(axis: 2, 0..<2), shortReversed, "\(cell): a reversed run starts at the last valid step")
        }
    }

    /// The fused kernel on a batch of 9 (two strips of 8, the second padded,
    /// and three of 4 with the 6-row kernel family) run on two threads, with hidden sizes
    /// that leave partial vectors and partial panels (release: n = 260, debug:
    /// n = 150): it matches the loop path's per-step tensor operations, forward
    /// and through time, with lengths, reversal, initial states and cell states;
    /// and one thread gives the same bits as two.
    func testFusedKernelMatchesTheLoopPathAcrossStripsAndThreads() {
        let (nx, n, m, T) = (5, isReleaseBuild ? 260 : 150, 9, 3)
        let lengths = [3, 0, 1, 2, 3, 3, 2, 1, 3]
        // Both micro-kernel families, whichever the calibration chose: strips of 4 rows
        // (`rowsKernel4x2`) and of 8 (`rowsKernel8x2`).
        withEachGEMMKernel([GEMMKernel.fma6x16, .fma12x32]) { kernel in
            for cell in [RecurrentCell.rnn, .gru, .lstm] {
                let G = cell.gates, lstm = cell == .lstm
                let x = random([nx, m, T]), W = random([G * n, n + nx], -0.1, 0.1), b = random([G * n, 1], -0.5, 0.5)
                let a0 = random([n, m], -0.5, 0.5), c0 = random([n, m], -0.5, 0.5)
                let R = random([lstm ? 2 * n : n, m, T])
                for reversed in isReleaseBuild ? [false, true] : [true] {
                    func run() -> [Tensor<Double>] {
                        let v = [x, W, b, a0] .map { Variable($0, requiresGradient: true) }
                        let c = lstm ? Variable(c0, requiresGradient: true) : nil
                        let y = recurrentSequence(cell, v[0], weight: v[1], bias: v[2], initialState: v[3], initialCell: c,
                                                  lengths: lengths, reversed: reversed, returnsCellStates: lstm)
                        y.backward(seed: R)
                        return [y.value] + v.map { $0.gradient! } + (c.map { [$0.gradient!] } ?? [])
                    }
                    let name = "\(kernel.rawValue) \(cell)\(reversed ? " reversed" : "")"
                    let fused = run(), loop = withComputePath(.loop) { run() }
                    let single = Parallelism.withMaxThreads(1) { run() }
                    for (k, (f, l)) in zip(fused, loop).enumerated() {
                        XCTAssertEqual(f.shape, l.shape, name)
                        let worst = zip(f.scalars, l.scalars).map { abs($0 - $1) / max(1, abs($1)) }.max() ?? 0
                        XCTAssertLessThan(worst, 1e-12, "\(name): result \(k), fused vs loop")
                        XCTAssertGreaterThan(f.scalars.map(abs).max() ?? 0, 0, "\(name): result \(k) is all zeros")
                    }
                    XCTAssertEqual(fused, single, "\(name): two threads vs one")
                }
            }
        }
    }
}

extension DifferentiationTests {
    /// The fused negative-sampling node against the same cost composed of row
    /// lookups, products, sums and softplus (values, and row gradients for leaf
    /// tables with repeated words), and by finite differences through computed
    /// tables (its dense path).
    func testNegativeSamplingCostMatchesItsCompositionAndFiniteDifferences() {
        let (V, d, B, k) = (9, 11, 6, 3)
        let E = random([V, d], -0.7, 0.7), Θ = random([V, d], -0.7, 0.7)
        let centers = [1, 4, 1, 8, 0, 4], contexts = [2, 2, 5, 7, 1, 3]
        let negatives = [0, 6, 2, 3, 3, 1, 8, 8, 2, 5, 6, 7, 0, 1, 2, 4, 4, 4]
        func softplus(_ x: Variable<Double>) -> Variable<Double> { log(1 + exp(x)) }   // |x| stays small here
        func composed(_ e: Variable<Double>, _ θ: Variable<Double>) -> Variable<Double> {
            let c = rowLookup(e, indices: centers)                                               // (d, B)
            let positive = (c * rowLookup(θ, indices: contexts)).sum(axis: 0)                   // (B)
            let negative = (c.reshaped(to: [d, B, 1]) * rowLookup(θ, indices: negatives).reshaped(to: [d, B, k])).sum(axis: 0)
            return (softplus(-positive).sum() + softplus(negative).sum()) / Double(B)
        }
        let (e1, θ1) = (Variable(E, requiresGradient: true), Variable(Θ, requiresGradient: true))
        let fused = negativeSamplingCost(centerTable: e1, contextTable: θ1, centers: centers, contexts: contexts, negatives: negatives)
        let (e2, θ2) = (Variable(E, requiresGradient: true), Variable(Θ, requiresGradient: true))
        let reference = composed(e2, θ2)
        XCTAssertEqual(fused.value.scalar, reference.value.scalar, accuracy: 1e-13)
        fused.backward()
        reference.backward()
        XCTAssertNil(e1.gradient, "a leaf table gets row gradients only")
        assertClose(e1.rowGradient!.dense(rows: V), e2.rowGradient!.dense(rows: V).scalars, relative: 1e-12, absolute: 1e-14, "∂J/∂E")
        assertClose(θ1.rowGradient!.dense(rows: V), θ2.rowGradient!.dense(rows: V).scalars, relative: 1e-12, absolute: 1e-14, "∂J/∂Θ")
        checkGradient("negative sampling through computed tables", [E, Θ]) { v in
            negativeSamplingCost(centerTable: v[0] * 1, contextTable: v[1] * 1, centers: centers, contexts: contexts, negatives: negatives)
        }
    }
}
