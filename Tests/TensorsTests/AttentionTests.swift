import Foundation
import Tensors
import XCTest

/// Values from `Reference/make_attention.py` (PyTorch float64,
/// `scaled_dot_product_attention` with a boolean mask; gradients of `Σ O ⊙ R`).
struct AttentionReference: Decodable {
    struct Case: Decodable {
        let B: Int, h: Int, Tq: Int, Tk: Int, d: Int, dv: Int
        let mask: String, key_lengths: [Int]?
        let q: [Double], k: [Double], v: [Double], R: [Double]
        let out: [Double], dq: [Double], dk: [Double], dv_: [Double]
        var attentionMask: AttentionMask { AttentionMask(isCausal: mask.contains("causal"), keyLengths: key_lengths) }
    }
    struct LayerNormCase: Decodable {
        let d: Int, m: Int, T: Int, eps: Double
        let x: [Double], gamma: [Double], beta: [Double], R: [Double]
        let y: [Double], dx: [Double], dgamma: [Double], dbeta: [Double]
    }
    let attention: [Case]
    let layer_norm: [LayerNormCase]

    static let shared: AttentionReference = {
        let url = Bundle.module.url(forResource: "attention", withExtension: "json", subdirectory: "Reference")!
        return try! JSONDecoder().decode(AttentionReference.self, from: Data(contentsOf: url))
    }()
}

extension DifferentiationTests {
    func testAttentionMatchesPyTorchWithEveryMask() {
        for c in AttentionReference.shared.attention {
            onBothPaths { path in
                let q = Variable(Tensor<Double>(shape: [c.B, c.h, c.Tq, c.d], scalars: c.q), requiresGradient: true)
                let k = Variable(Tensor<Double>(shape: [c.B, c.h, c.Tk, c.d], scalars: c.k), requiresGradient: true)
                let v = Variable(Tensor<Double>(shape: [c.B, c.h, c.Tk, c.dv], scalars: c.v), requiresGradient: true)
                let out = scaledDotProductAttention(query: q, key: k, value: v, mask: c.attentionMask)
                out.backward(seed: Tensor(shape: out.shape, scalars: c.R))
                let what = "\(c.mask) \(path)"
                assertClose(out.value, c.out, shape: [c.B, c.h, c.Tq, c.dv], relative: 1e-11, absolute: 1e-12, what)
                assertClose(q.gradient!, c.dq, relative: 1e-10, absolute: 1e-12, "dq " + what)
                assertClose(k.gradient!, c.dk, relative: 1e-10, absolute: 1e-12, "dk " + what)
                assertClose(v.gradient!, c.dv_, relative: 1e-10, absolute: 1e-12, "dv " + what)
                // Float on the same values, to Float's accuracy.
                let qf = Variable(Tensor<Float>(q.value), requiresGradient: true), kf = Variable(Tensor<Float>(k.value), requiresGradient: true)
                let vf = Variable(Tensor<Float>(v.value), requiresGradient: true)
                let outf = scaledDotProductAttention(query: qf, key: kf, value: vf, mask: c.attentionMask)
                outf.backward(seed: Tensor(shape: out.shape, scalars: c.R.map(Float.init)))
                assertClose(outf.value, c.out, relative: 1e-4, absolute: 1e-5, "Float " + what)
                assertClose(kf.gradient!, c.dk, relative: 1e-3, absolute: 1e-4, "Float dk " + what)
            }
        }
    }

    func testAttentionGradientsByFiniteDifferences() {
        let masks: [(String, AttentionMask)] = [("none", .none), ("causal", .causal), ("padding", .padding(keyLengths: [3, 1])),
                                                ("causal+padding", AttentionMask(isCausal: true, keyLengths: [2, 4]))]
        for (name, mask) in masks {
            checkGradient("attention \(name)", [random([2, 2, 4, 3]), random([2, 2, 4, 3]), random([2, 2, 4, 2])]) { v in
                scaledDotProductAttention(query: v[0], key: v[1], value: v[2], mask: mask)
            }
            // The notes' layout: (heads·d, m, T) with 2 heads of d_k = 3, d_v = 2.
            checkGradient("multi-head attention \(name)", [random([6, 2, 4]), random([6, 2, 4]), random([4, 2, 4])]) { v in
                scaledDotProductAttention(query: v[0], key: v[1], value: v[2], heads: 2, mask: mask)
            }
        }
    }

    /// The `(heads·d, m, T)` form computes, head by head, what the `(m, heads, T, d)` form does.
    func testHeadsInTheFeatureLayoutMatchTheTokenLayout() {
        let (heads, d, dv, m, tq, tk) = (3, 5, 4, 2, isReleaseBuild ? 70 : 37, isReleaseBuild ? 45 : 20)
        for mask in [AttentionMask.none, .causal, AttentionMask(isCausal: true, keyLengths: [tk, 7])] {
            onBothPaths { path in
                let q = random([heads * d, m, tq]), k = random([heads * d, m, tk]), v = random([heads * dv, m, tk])
                let g = random([heads * dv, m, tq])
                // (h·d, m, T) → (m, h, T, d)
                func tokenMajor(_ x: Tensor<Double>, _ c: Int) -> Tensor<Double> { x.reshaped(to: [heads, c, m, x.shape[2]]).permuted([2, 0, 3, 1]) }
                let vars = [q, k, v].map { Variable($0, requiresGradient: true) }
                let out = scaledDotProductAttention(query: vars[0], key: vars[1], value: vars[2], heads: heads, mask: mask)
                out.backward(seed: g)
                let tvars = [tokenMajor(q, d), tokenMajor(k, d), tokenMajor(v, dv)].map { Variable($0, requiresGradient: true) }
                let tout = scaledDotProductAttention(query: tvars[0], key: tvars[1], value: tvars[2], mask: mask)
                tout.backward(seed: tokenMajor(g, dv))
                assertClose(tokenMajor(out.value, dv), tout.value.scalars, relative: 1e-12, absolute: 1e-13, "output \(path)")
                for (i, c) in [d, d, dv].enumerated() {
                    assertClose(tokenMajor(vars[i].gradient!, c), tvars[i].gradient!.scalars, relative: 1e-11, absolute: 1e-12, "gradient \(i) \(path)")
                }
            }
        }
    }

    /// Random shapes on both paths, several query blocks (with a causal mask blocks of
    /// `AttentionKernels.queryBlock` rows; without one a block holds all the queries while
    /// their scores fit `blockScores`, so 200 × 190 takes two blocks); two threads give
    /// one thread's bits.
    func testAttentionKernelMatchesTheLoopPathAndIsThreadCountIndependent() {
        var shapes = [(1, 1, 1, 1, 1, 1), (2, 3, 33, 31, 7, 9), (1, 2, 64, 64, 16, 16), (3, 1, 5, 70, 17, 3), (1, 1, 200, 190, 8, 5)]
        if isReleaseBuild { shapes.append((2, 4, 130, 129, 64, 64)) }
        for (B, h, tq, tk, d, dv) in shapes {
            for mask in [AttentionMask.none, .causal, .padding(keyLengths: (0..<B).map { ($0 * 7) % (tk + 1) })] {
                let q = Tensor<Float>(random([B, h, tq, d])), k = Tensor<Float>(random([B, h, tk, d]))
                let v = Tensor<Float>(random([B, h, tk, dv])), g = Tensor<Float>(random([B, h, tq, dv]))
                func run() -> [Tensor<Float>] {
                    let vars = [q, k, v].map { Variable($0, requiresGradient: true) }
                    let out = scaledDotProductAttention(query: vars[0], key: vars[1], value: vars[2], mask: mask)
                    out.backward(seed: g)
                    return [out.value] + vars.map { $0.gradient! }
                }
                let loop = withComputePath(.loop) { run() }
                let one = Parallelism.withMaxThreads(1) { run() }, two = Parallelism.withMaxThreads(2) { run() }
                let name = "\(B)×\(h)×\(tq)×\(tk)×\(d)×\(dv) \(mask)"
                for (i, (a, b)) in zip(one, loop).enumerated() {
                    assertClose(a, b.scalars.map(Double.init), relative: 1e-4, absolute: 2e-5, "\(name) result \(i)")
                    XCTAssertFalse(a.scalars.contains { !$0.isFinite }, name)
                }
                XCTAssertEqual(one, two, name)
            }
        }
    }

    /// A batch item with no key to attend to gets 0, not NaN, and passes no gradient; the others are unaffected.
    func testFullyMaskedQueriesGiveZeroAndNoGradient() {
        onBothPaths { path in
            let q = random([2, 1, 3, 4]), k = random([2, 1, 5, 4]), v = random([2, 1, 5, 2])
            let vars = [q, k, v].map { Variable($0, requiresGradient: true) }
            let out = scaledDotProductAttention(query: vars[0], key: vars[1], value: vars[2], mask: .padding(keyLengths: [5, 0]))
            out.backward(seed: .init(shape: out.shape, repeating: 1))
            XCTAssertEqual(Array(out.value.scalars[6...]), [Double](repeating: 0, count: 6), "\(path)")
            for x in vars { XCTAssertEqual(Array(x.gradient!.scalars[(x.value.count / 2)...]), [Double](repeating: 0, count: x.value.count / 2)) }
            let first = scaledDotProductAttention(query: Variable(q.slice(axis: 0, 0..<1)), key: Variable(k.slice(axis: 0, 0..<1)),
                                                  value: Variable(v.slice(axis: 0, 0..<1)))
            XCTAssertEqual(Array(out.value.scalars[..<6]), first.value.scalars)
        }
    }
}

extension DifferentiationTests {
    /// The stacked projections give what separate operands give, values and gradients.
    func testStackedProjectionsMatchSeparateOperands() {
        onBothPaths { path in
            let (heads, d, m, t, tk) = (2, 3, 2, 5, 4)
            let qkv = random([3 * heads * d, m, t]), kv = random([2 * heads * d, m, tk]), query = random([heads * d, m, t])
            let g = random([heads * d, m, t])
            let block = heads * d
            for mask in [AttentionMask.causal, .padding(keyLengths: [4, 2])] {
                let stacked = Variable(qkv, requiresGradient: true)
                let out = scaledDotProductAttention(stackedQueryKeyValue: stacked, heads: heads, mask: mask)
                out.backward(seed: g)
                let parts = (0..<3).map { Variable(qkv.slice(axis: 0, $0 * block..<($0 + 1) * block), requiresGradient: true) }
                let separate = scaledDotProductAttention(query: parts[0], key: parts[1], value: parts[2], heads: heads, mask: mask)
                separate.backward(seed: g)
                XCTAssertEqual(out.value, separate.value, "\(path)")
                XCTAssertEqual(stacked.gradient!, Tensor.concatenate(parts.map { $0.gradient! }, axis: 0), "\(path)")
            }
            let q = Variable(query, requiresGradient: true), stackedKV = Variable(kv, requiresGradient: true)
            let cross = scaledDotProductAttention(query: q, stackedKeyValue: stackedKV, heads: heads, mask: .padding(keyLengths: [1, 4]))
            cross.backward(seed: g)
            let k = Variable(kv.slice(axis: 0, 0..<block), requiresGradient: true), v = Variable(kv.slice(axis: 0, block..<2 * block), requiresGradient: true)
            let q2 = Variable(query, requiresGradient: true)
            let reference = scaledDotProductAttention(query: q2, key: k, value: v, heads: heads, mask: .padding(keyLengths: [1, 4]))
            reference.backward(seed: g)
            XCTAssertEqual(cross.value, reference.value)
            XCTAssertEqual(q.gradient!, q2.gradient!)
            XCTAssertEqual(stackedKV.gradient!, Tensor.concatenate([k.gradient!, v.gradient!], axis: 0))
            checkGradient("stacked self-attention \(path)", [random([3 * heads * d, m, t])]) { v in
                scaledDotProductAttention(stackedQueryKeyValue: v[0], heads: heads, mask: .causal)
            }
        }
    }
}

extension DifferentiationTests {
    func testLayerNormalizationMatchesPyTorch() {
        for c in AttentionReference.shared.layer_norm {
            onBothPaths { path in
                let x = Variable(Tensor<Double>(shape: [c.d, c.m, c.T], scalars: c.x), requiresGradient: true)
                let gamma = Variable(Tensor<Double>(shape: [c.d, 1], scalars: c.gamma), requiresGradient: true)
                let beta = Variable(Tensor<Double>(shape: [c.d, 1], scalars: c.beta), requiresGradient: true)
                let y = layerNormalization(x, gamma: gamma, beta: beta, epsilon: c.eps)
                y.backward(seed: Tensor(shape: y.shape, scalars: c.R))
                assertClose(y.value, c.y, shape: [c.d, c.m, c.T], relative: 1e-12, absolute: 1e-12, "\(path)")
                assertClose(x.gradient!, c.dx, relative: 1e-10, absolute: 1e-12, "dx \(path)")
                assertClose(gamma.gradient!, c.dgamma, relative: 1e-10, absolute: 1e-12, "dγ \(path)")
                assertClose(beta.gradient!, c.dbeta, relative: 1e-10, absolute: 1e-12, "dβ \(path)")
            }
        }
    }

    func testLayerNormalizationGradientsByFiniteDifferences() {
        checkGradient("layer norm", [random([4, 3, 2]), random([4, 1]), random([4, 1])]) { v in
            layerNormalization(v[0], gamma: v[1], beta: v[2])
        }
    }

    /// Several column blocks and partial SIMD groups: the loop path's values, one thread's bits on two.
    func testLayerNormalizationKernelAcrossBlocksAndThreads() {
        for (d, n) in [(1, 1), (3, 7), (33, 300), (64, 1000)] {
            let x = Tensor<Float>(random([d, n], -3, 5)), gamma = Tensor<Float>(random([d, 1])), beta = Tensor<Float>(random([d, 1]))
            let g = Tensor<Float>(random([d, n]))
            func run() -> [Tensor<Float>] {
                let vars = [x, gamma, beta].map { Variable($0, requiresGradient: true) }
                let y = layerNormalization(vars[0], gamma: vars[1], beta: vars[2])
                y.backward(seed: g)
                return [y.value] + vars.map { $0.gradient! }
            }
            let loop = withComputePath(.loop) { run() }
            let one = Parallelism.withMaxThreads(1) { run() }, two = Parallelism.withMaxThreads(2) { run() }
            for (i, (a, b)) in zip(one, loop).enumerated() {
                assertClose(a, b.scalars.map(Double.init), relative: 1e-4, absolute: 1e-4, "(\(d), \(n)) result \(i)")
            }
            XCTAssertEqual(one, two, "(\(d), \(n))")
        }
    }
}
