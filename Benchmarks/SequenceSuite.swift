import Foundation
import NeuralNetworks
import Tensors

/// Recurrent networks, named like `shared/bench/rnn.py`'s cases: one LSTM or
/// GRU layer (input 64, hidden 128, 50 steps, batch 32) and a 2-layer
/// bidirectional LSTM; "fwd+bwd step" is the forward pass over the whole
/// sequence, a mean squared error against a fixed target and the backward
/// pass to every weight and the input (no update); "fwd only" records
/// nothing. GFLOPS count the gate GEMMs only, as the peer does:
/// `2·T·B·G·H·(I + H)` per layer and direction, a step 3× that.
/// (The peer's GRU is PyTorch's variant, the same shape of work.)
func sequenceSuite(_ h: inout Harness) {
    h.note("\n== sequence: recurrent layers, fused over the sequence with BPTT (rnn.py's cases) ==")
    let (I, H, T, B) = (64, 128, 50, 32)
    let threads = "\(Parallelism.maxThreads) threads"
    var g = RandomGenerator(seed: 5)
    let x = Tensor<Float>(randomNormal: [I, B, T], generator: &g)

    struct Direction { var W: Variable<Float>, b: Variable<Float>, reversed: Bool }
    func direction(_ cell: RecurrentCell, inputs: Int, reversed: Bool) -> Direction {
        let scale = Float(1 / Double(H).squareRoot())
        return Direction(W: Variable(Tensor(randomUniform: [cell.gates * H, H + inputs], lower: -scale, upper: scale, generator: &g), requiresGradient: true),
                         b: Variable(Tensor(randomUniform: [cell.gates * H, 1], lower: -scale, upper: scale, generator: &g), requiresGradient: true),
                         reversed: reversed)
    }
    for (name, cell, layers) in [("LSTM", RecurrentCell.lstm, 1), ("GRU", .gru, 1), ("2-layer bidirectional LSTM", .lstm, 2)] {
        let bidirectional = layers == 2
        var stack: [[Direction]] = []
        for layer in 0..<layers {
            let inputs = layer == 0 ? I : 2 * H
            stack.append(bidirectional ? [direction(cell, inputs: inputs, reversed: false), direction(cell, inputs: inputs, reversed: true)]
                                       : [direction(cell, inputs: inputs, reversed: false)])
        }
        func run(_ input: Variable<Float>) -> Variable<Float> {
            var a = input
            for directions in stack {
                let outputs = directions.map { recurrentSequence(cell, a, weight: $0.W, bias: $0.b, reversed: $0.reversed) }
                a = outputs.count == 1 ? outputs[0] : Variable.concatenate(outputs, axis: 0)
            }
            return a
        }
        let dirs = bidirectional ? 2 : 1
        let target = Tensor<Float>(randomNormal: [dirs * H, B, T], generator: &g)
        let gemmFlops = (0..<layers).reduce(0.0) { total, layer in
            total + Double(dirs * 2 * T * B * cell.gates * H * ((layer == 0 ? I : dirs * H) + H))
        }
        let input = Variable(x, requiresGradient: true)
        h.measure("sequence", "\(name) fwd+bwd step I\(I) H\(H) T\(T) B\(B)", variant: "vectorized, \(threads)", shape: "[\(I), \(B), \(T)]",
                  metric: .gflops, work: 3 * gemmFlops) {
            for directions in stack { for d in directions { d.W.gradient = nil; d.b.gradient = nil } }
            input.gradient = nil
            let J = GradientTape.$isRecording.withValue(true) { square(run(input) - Variable(target)).mean() }
            J.backward()
            consume(input.gradient)
        }
        h.measure("sequence", "\(name) fwd only I\(I) H\(H) T\(T) B\(B)", variant: "vectorized, \(threads)", shape: "[\(I), \(B), \(T)]",
                  metric: .gflops, work: gemmFlops) {
            consume(withoutGradients { run(Variable(x)) })
        }
    }

    // Skip-gram with negative sampling, as seq.py times it: one SGD step (α = 0.1) on 1,024 centres,
    // each with its context and 5 negatives, vocabulary 10,000, 128 dimensions. Ours updates only the rows used.
    let (V, D, SB, K) = (10_000, 128, 1024, 5)
    let skipGram = SkipGram<Float>(vocabulary: V, dimensions: D, generator: &g)
    skipGram.centers.E.value = Tensor(randomUniform: [V, D], lower: -0.5, upper: 0.5, generator: &g)
    skipGram.contexts.E.value = Tensor(randomUniform: [V, D], lower: -0.5, upper: 0.5, generator: &g)
    let centres = (0..<SB).map { _ in g.nextIndex(below: V) }, contexts = (0..<SB).map { _ in g.nextIndex(below: V) }
    let negatives = (0..<SB * K).map { _ in g.nextIndex(below: V) }
    let sgd = GradientDescent<Float>(learningRate: 0.1)
    h.measure("sequence", "skip-gram NS step V\(V) E\(D) B\(SB) neg\(K)", variant: "vectorized, \(threads)", shape: "[\(SB), \(1 + K)]",
              metric: .itemsPerSecond, work: Double(SB)) {
        for p in skipGram.parameters { p.gradient = nil; p.rowGradient = nil }
        let J = GradientTape.$isRecording.withValue(true) {
            skipGram.negativeSamplingCost(centers: centres, contexts: contexts, negatives: negatives)
        }
        J.backward()
        sgd.step(skipGram.parameters)
    }

    // The notes' lesson for sequences: the RNN forward pass on the loop path and vectorized.
    let (smallI, smallH, smallT, smallB) = (16, 32, 20, 8)
    let smallX = Variable(Tensor<Float>(randomNormal: [smallI, smallB, smallT], generator: &g))
    let smallW = Variable(Tensor<Float>(randomNormal: [smallH, smallH + smallI], standardDeviation: 0.2, generator: &g))
    let smallB2 = Variable(Tensor<Float>.zeros([smallH, 1]))
    let smallFlops = Double(2 * smallT * smallB * smallH * (smallI + smallH))
    let caseName = "RNN fwd I\(smallI) H\(smallH) T\(smallT) B\(smallB)"
    let loop = h.measure("sequence", caseName, variant: "loop", shape: "[\(smallI), \(smallB), \(smallT)]", metric: .gflops,
                         work: smallFlops, maxSeconds: 5) {
        consume(withComputePath(.loop) { withoutGradients { recurrentSequence(.rnn, smallX, weight: smallW, bias: smallB2) } })
    }
    let vectorized = h.measure("sequence", caseName, variant: "vectorized, \(threads)", shape: "[\(smallI), \(smallB), \(smallT)]",
                               metric: .gflops, work: smallFlops) {
        consume(withoutGradients { recurrentSequence(.rnn, smallX, weight: smallW, bias: smallB2) })
    }
    h.speedup(loop, vectorized)
}
