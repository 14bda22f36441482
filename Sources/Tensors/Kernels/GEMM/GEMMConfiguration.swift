import Dispatch
import Foundation
import Synchronization

/// The micro-kernel variant the blocked GEMM uses.
///
/// Swift cannot see the CPU flags a module was compiled with, so the library
/// ships each variant and picks one per process by timing them once
/// (≈ 2 ms, at the first large product). Tile shapes are given for `Float`;
/// `Double` tiles have half the columns (SIMD8<Double> / SIMD4<Double>).
public enum GEMMKernel: String, CaseIterable, Sendable {
    /// 12 × 32 tile of `SIMD16<Float>`, fused multiply-add — AVX-512 builds.
    case fma12x32 = "fma-12x32"
    /// 12 × 32 tile, separate multiply and add — builds without FMA code generation.
    case mulAdd12x32 = "muladd-12x32"
    /// 6 × 16 tile of `SIMD8<Float>`, fused multiply-add — AVX2-class register files.
    case fma6x16 = "fma-6x16"
    /// 6 × 16 tile, separate multiply and add.
    case mulAdd6x16 = "muladd-6x16"

    var rows: Int { self == .fma12x32 || self == .mulAdd12x32 ? 12 : 6 }
    var isFused: Bool { self == .fma12x32 || self == .fma6x16 }
    var isWide: Bool { rows == 12 }

    /// A nonzero byte naming the case (stored atomically by ``GEMMConfiguration/kernel``).
    var code: UInt8 {
        switch self {
        case .fma12x32: 1
        case .mulAdd12x32: 2
        case .fma6x16: 3
        case .mulAdd6x16: 4
        }
    }

    init?(code: UInt8) {
        switch code {
        case 1: self = .fma12x32
        case 2: self = .mulAdd12x32
        case 3: self = .fma6x16
        case 4: self = .mulAdd6x16
        default: return nil
        }
    }
}

/// Block sizes of the blocked GEMM, in one place (measured with `Benchmarks gemm`
/// on the project machine: Zen 5, 48 KiB L1d, 1 MiB L2 per core, 32 MiB L3).
///
/// - `kc`: depth of a packed panel; a `kc × 12` Ã micro-panel stays in L1
///   (24 KiB in Float) while B̃'s `kc × 2w` micro-panels stream past it from L2.
///   C is read and written once per block of k.
/// - `mc`: rows of a packed Ã block (`mc × kc` stays in L2).
/// - `nc`: columns of a packed B̃ panel (`kc × nc` stays in L3).
struct GEMMBlocking {
    let kc: Int
    let mc: Int
    let nc: Int
    /// `nc` of the schedule that packs B̃ one depth block at a time (`BlockedGEMM.perDepthBlock`):
    /// a `kc × nc` block of 2 MiB (Float; 4 MiB with `kc` 512) or 3 MiB (Double), in L3.
    let depthBlockColumns: Int

    /// The blocking of an `m × k` by `k × n` product: it depends on the scalar
    /// type and the shape alone, whichever micro-kernel or thread count runs —
    /// `kc` decides the order in which a product's terms are added, so a
    /// blocking that followed the kernel choice or the threads would let them
    /// change the bits. (`mc` is a multiple of both tiles' rows, `nc` of both
    /// tiles' columns.)
    ///
    /// Float products whose C outgrows the L2 (at least 2¹⁸ elements, 1 MiB)
    /// take `kc` up to 512 (with `mc` 72, the same 144 KiB Ã block) when k is
    /// deeper than 256: C goes through the caches once per block of k, and
    /// half as many blocks halve that traffic. Where C stays in L2 the deeper
    /// blocks only cost (a 1 × 1 convolution's weight gradient, N32 C64 56² K256:
    /// C 64 × 256 over k = 100,352, 253 / 231 → 220 / 211 GFLOPS on two threads), and so
    /// did the smaller row blocks for shallow products (the same convolution's
    /// forward pass and input gradient, k = 64 and 256: −5 %).
    static func forProblem(_ scalarType: ScalarType, m: Int, n: Int, k: Int) -> GEMMBlocking {
        let deep = m * n >= 1 << 18 && k > 256
        switch scalarType {
        case .float32 where deep: return GEMMBlocking(kc: 512, mc: 72, nc: 1024, depthBlockColumns: 2048)
        default: return forScalarType(scalarType)
        }
    }

    /// The blocking of products that ``forProblem(_:m:n:k:)`` does not deepen.
    static func forScalarType(_ scalarType: ScalarType) -> GEMMBlocking {
        switch scalarType {
        // Float 12×32 at n = 1024, one core / two cores: kc 256, mc 144 gave 191/365 GFLOPS
        // (kc 384: 176; kc 192: 197/378; kc 512: 184; mc 96: 194/363); nc 512 beat 3072 at
        // n = 2048 (386 vs 376 on two cores). Re-measured after C was stored, not added, on the
        // first k-block (one core, % of the peak measured alongside, four rounds each): nc 1024
        // 89–90 % vs nc 512 86–88 % at n = 1024 (Ã packed once instead of twice); at n = 2048
        // both 85–89 %, and two cores unchanged (396–428 vs 401–428). The 6×16 tile had used
        // mc 120, nc 512; it now shares these.
        // Tried at n = 2048 on two cores and not kept (tenth session, medians of 20 products,
        // alternating binaries, ±3 % between rounds): each thread its own L2-sized column
        // block of B̃ (512 columns, Ã packed whole once; 429–470 vs 454–464 GFLOPS; 256 and
        // 128 columns worse); in the schedule of the time, row blocks one panel apart in size
        // and a multiple of the thread count alone (440–459 vs 451–455; they are part of
        // `BlockedGEMM.perDepthBlock`, which was kept); nc 2048, mc 96 or 192 (±2 %); software
        // prefetch (`llvm.prefetch` declared by its LLVM name) of the C tile before the
        // micro-kernel's loop or spread over its first steps, and of B̃ 8–32 steps ahead
        // (437–456 vs 437–450). In the profile the micro-kernel is 89 % of the cycles at
        // one and two threads alike, packing 7 %, waiting under 1 %.
        // Eleventh session (interleaved pairs of 20–30-product medians): B̃'s micro-panel
        // outer and Ã's inner in `multiplyBlock` (BLIS's order: the B̃ sliver in L1, Ã from L2)
        // — one thread ±1 %, two threads n = 2048 398–405 vs 449–451 GFLOPS (C tiles 12 rows
        // apart lose the hardware prefetcher); with the next C tile prefetched a call ahead,
        // 429–439 vs 425–465. kc 512: one thread n = 1024 +2.2 % (six pairs), n = 2048 −1.7 %,
        // two threads ±0 % (kc is shared by all thread counts, so it cannot differ by them).
        // Products with k = 256 run at 244 GFLOPS on one core against 229 at k = 1024
        // (C read and written once per block of k); in the profile at n = 1024 the
        // micro-kernel is 95 % of the product's cycles with its samples spread evenly
        // over the loop (no hot load). Packing the next B̃ block while multiplying with the
        // current one (two block buffers; each thread packing its panels of the next 16 rows at
        // a time between micro-kernel calls, one barrier per block of k): two threads n = 1024
        // 415–458 vs 422–483 GFLOPS (six pairs, median −4.4 %), n = 2048 −6.2 % (five pairs).
        // Twelfth session (variants interleaved call by call in one process, medians of 20–40):
        // kept — B̃ swept in 512 KiB groups of panels (`BlockedGEMM.multiplyBlock`), the
        // per-depth-block schedule on one thread for n > nc, packing with prefetches and
        // vector row copies (together: one thread n = 1024 224 → 231, n = 2048 213 → 228;
        // two threads 443 → 453, 439 → 454); not kept — C's columns split between the two
        // threads (±1 %), prefetching B's rows eight ahead instead of four (±0.5 %), one
        // parallel round per block of k (B̃ double-buffered, the next block packed by whichever
        // thread finishes its rows first: two threads n = 1024 −0.1 %, n = 2048 +0.4 %), row
        // blocks of 288 instead of 144 in the per-depth-block schedule (+0.2 %, +1.7 %, one
        // thread −0.5 %), kc 512 again with the groups (two threads +1.6–1.9 %, one thread
        // n = 1024 −1.5 %, n = 2048 +1.3 %: within the rounds' spread), each thread packing all
        // its row blocks' Ã first and sweeping 256 KiB groups of B̃ across them (4× fewer reads
        // of the B̃ half the other core packed; two threads +0.1 % / +2.0 %, one thread n = 2048
        // −2.7 %: its Ã outgrows L2). Two-thread profile at n = 1024: micro-kernel 92 % of
        // the product's cycles (≈ 98 % of the measured peak while it runs), packing 4.5 %, the
        // rest waiting and scheduling.
        // Thirteenth session (another machine of the kind: one core's peak 228–246, clock
        // ≈ 3.65 GHz, i.e. 64 FLOP per cycle; variants interleaved in one process, 8 rounds of
        // 10–20 products): not kept, all within ±1 % — the C tile fetched for writing
        // (`prefetchw`, 24 lines) as the micro-kernel starts; B̃ prefetched 2, 4 or 8 steps
        // ahead inside the micro-kernel's loop; the per-depth-block schedule on one thread at
        // n = 1024 (B̃ one reused 1 MiB block instead of a 4 MiB slice); on two threads each
        // thread packing its own copy of every B̃ block and running with no barrier at all
        // (n = 2048 357–361 vs 357–359, n = 1024 370–382 vs 367–390). One-thread profile at
        // n = 1024: micro-kernel 93.5 % of the product (≈ 96 % of the peak while it runs),
        // packing B̃ 2.8 % (stores missing the cache), Ã 2–3 %. Two threads at n = 2048 in the
        // machine's slow phases: the micro-kernel itself drops to ≈ 85 % of the peak.
        // Fifteenth session (variants interleaved in one process, 6–8 rounds of 4–10 products): kc 512
        // with mc 72 (the Ã block stays 144 KiB), C read and written half as often (`forProblem`):
        // one thread n = 1024 205.7 → 210.3, n = 2048 181.2 → 188.4 GFLOPS; two threads with
        // `PanelClaims` n = 1024 378.5 → 385.1, n = 2048 378.8 → 399.9 (claims alone 379.4 / 383.6).
        // Shallow and tall products (k = 64 / 256, m = 100352) and 512³ read level (±2 %).
        // Not kept: kc 512 with mc 144 or 48, kc 768 / mc 48, kc 1024 / mc 36, kc 384 / mc 144 (two
        // threads n = 1024 within ±1 % of kc 512 / mc 72 or below it; mc 48 −5 % at n = 2048); with
        // kc 512 at n = 2048, mc 96 (one / two threads +0.9 / −2.3 %) and B̃ depth blocks of 1024
        // columns instead of 2048 (2 MiB instead of 4, Ã packed twice: −3.5 / −2.9 %).
        // Sixteenth session (probe, variants interleaved in one process, 6–8 rounds of 4–8 products,
        // n = 2048): the ceiling of packing — the same products on stale packed buffers, no packing
        // at all — is +4.9 % on one thread (Ã alone +2.7 %, B̃ +2.2 %) and +2.4 % on two. Not kept:
        // requesting the next blocks' sources while multiplying (the next Ã block's rows of A and the
        // thread's share of the next depth block's rows of B, a few lines after each micro-kernel call;
        // one thread 224.7 / 226.5 → 219.7–226.6, two threads 467.2 → 460.3–465.8); Ã copied row by row
        // (no transpose) and read by the in-place micro-kernel with rows kc apart (same bits; one thread
        // 223.1 → 228.2, n = 1024 ±0, two threads −0.5 %: the kernel's twelve row addresses cost what
        // the transpose saved); B̃ groups of 256 KiB, mc 144 with kc 512, and both (±1 %). Nor do
        // transparent huge pages, which numpy asks for on arrays of 4 MiB and more: with
        // `GLIBC_TUNABLES=glibc.malloc.hugetlb=1` (96 MiB of the benchmark in 2 MiB pages) n = 2048
        // read 222–233 / 424–458 against 224–227 / 422–447 in three alternations.
        // Nineteenth session: mc 144 again in the per-depth-block schedule, n = 2048 on one thread
        // (half as many passes of the 4 MiB B̃ block through L3, should neighbours crowd it), eight
        // alternations: median 230.1 vs 230.8 GFLOPS, 4 of 8 ahead.
        // Twentieth session (probe, variants interleaved in one process, 6–8 rounds of 5 products,
        // one thread bound to a processor, n = 2048): two profiles put 5.7 and 4.7 % of the
        // micro-kernel's samples on C's load-add-store after the loop (waiting for C's lines: four
        // passes of the 16 MiB C at kc = 512). Kept: the next call's C tile requested (`prefetchw`, 24 lines)
        // before each call of the per-depth-block schedule's accumulating passes
        // (`BlockedGEMM.multiplyBlock`'s `requestsC`): in one process 227.7 → 232.9 and
        // 232.8 → 235.1 (`prefetcht0` +1.3 %, `prefetcht1` +0.7 %; two threads 449.4 / 447.2;
        // n = 1024 one thread, the other schedule, −0.6 %); alternating binaries, eight pairs one
        // thread all ahead (median ratio 1.05: +0.6–2 % in quiet pairs, +8–14 % in noisy ones, where
        // C's lines come from further away), two threads 5 of 6 ahead at n = 2048 and at 1024.
        // Not kept: each 512-deep block run as two or three shallower micro-kernel calls per panel
        // (so that a call's Ã and B̃ steps fit L1; C's tile re-read from L2 in between):
        // 227.9 / 227.9 / 227.5 GFLOPS, ±0. Nor do fewer
        // passes of C at n = 2048 (the fifteenth session's "kc 768" was kc 512 at n = 1024, where
        // `evenSplit` turns 768 into two blocks of 512): kc 683 (limit 768) with mc 48 / 72, kc 1024
        // with mc 36, against kc 512 / mc 72 — 230.9 / 227.4 / 231.0 vs 230.1 GFLOPS; nor the
        // accumulating tile's 24 loads of C issued before any of its stores (rows 8 KiB apart alias
        // in their low 12 address bits): +0.7 %, with the `prefetchw` above +0.9 % (against +1.0 %
        // for the `prefetchw` alone in the same eight rounds).
        // What separates 2048³ from 2048 × 512 × 2048 (same packing share, 4.3 % of the samples;
        // 2048 × 512 × 2048 runs as fast cycling through four operand sets, 96 MiB, as on one) is
        // the accumulating passes' epilogue: 4.7 % of the micro-kernel's samples against 1.5 %.
        // Twenty-first session, on an AVX2 machine (Zen 3: 32 KiB L1d, 512 KiB L2 per core; the 6 × 16
        // tile), one build switched by the environment, two alternations, one / two threads, GFLOPS:
        // with the 6-row tile kc 256 (mc 72 or 144) instead of 512 — 2048³ 89.2–91.0 / 173–179 vs
        // 91.1–92.0 / 176–180, 1024³ 85.8–89.3 vs 85.5–91.9, 512³ 80.8–89.7 vs 85.5–90.6 — so the
        // blocking stays the same for every kernel (at kc 512 the 6 × 16 tile's Ã and B̃ micro-panels,
        // 12 + 32 KiB, both stream from L2, and that costs no more); mc 36 (2048³ 92.1–92.9 / 184 vs
        // 91.1–92.0 / 176–180, 512³ and 1024³ level) and B̃ groups of a quarter of the L2 instead of
        // half (level): within the rounds' spread, not kept. On that machine the blocked path
        // reads 0.93–0.99 of numpy on OpenBLAS's Haswell kernels per round (n = 512–2048, one and two
        // threads), its calibration tile 90–101 GFLOPS against a measured peak of 99–100.
        // Twenty-second session, same kind of machine (one build switched by the environment, 2048³,
        // two alternations each, one / two threads, GFLOPS; the unchanged code read 82.4–91.0 /
        // 175–182 in the same runs): the 6 × 16 tile requesting B̃ and Ã ahead in its loop
        // (`prefetcht0` 512 / 192, 1024 / 384, 2048 / 768 bytes ahead, or B̃ or Ã alone) —
        // 86.4–92.2 / 157–184, within the spread; BLIS's order (each B̃ panel swept across the
        // block's Ã micro-panels) 78.8–83.4 / 95–152. A profile of 2048³ on one thread puts 95 %
        // of the samples in the micro-kernel (≈ 91 % of the peak while it runs), 4.6 % in packing.
        // Twenty-fifth session, same kind (one build switched by the environment, alternated, one
        // thread, GFLOPS): BLIS's order again, now at kc 256 — each B̃ panel (16 KiB) kept in L1 and
        // swept down the block's 6-row Ã micro-panels, which stream from L2 at 24 bytes a step
        // against B̃'s 64 in the present order — with mc 72 / 144 / 288 / 480: 2048³ 84.5–92.2 against
        // 89.9–93.6, 1024³ 80.3–88.3 against 90.3–91.6; kc 256 in the present order (mc 144) level
        // (1024³ 89.5–91.9 vs 90.3–91.6, 2048³ 89.2–90.7 vs 89.9–92.2); at 512³ (kc 512) mc 36 or 144,
        // and B̃ groups of a quarter of the L2, medians of three 84.2–87.3 against 88.4. Numpy's
        // OpenBLAS (0.3.31, Haswell kernels) runs the same register tile in its orientation, 16 × 6
        // (two vector loads, six broadcasts, twelve multiply-adds a step; its streamed operand
        // requested 512 bytes ahead); its 512³ profile on one thread: kernel 91.8 % of the samples,
        // packing 4.4 %.
        // `gemm_pairs.py --rounds 5`, one thread, ours / numpy: 512³ 85.5 / 93.8 (no round ahead),
        // 1024³ 85.8 / 92.8 (1 of 5), 2048³ 87.1 / 88.8 (none); Double level or ahead.
        // Double 12×16: kc 384/mc 72 gave 167 on two cores (kc 256/mc 96: 163; kc 192: 157);
        // nc 512 gave 196 vs 182 at n = 2048 (the 6×8 tile had used kc 256).
        case .float32: GEMMBlocking(kc: 256, mc: 144, nc: 1024, depthBlockColumns: 2048)
        case .float64: GEMMBlocking(kc: 384, mc: 72, nc: 512, depthBlockColumns: 1024)
        }
    }
}

/// Process-wide GEMM settings: the micro-kernel choice and its override.
public enum GEMMConfiguration {
    /// Products with at least this many multiply-adds use several threads
    /// (≈ 2 µs of single-core work). It was 128³ while every parallel kernel paid
    /// a Dispatch round (10–30 µs); on ``WorkerPool`` a job starts in about 1 µs,
    /// and on two cores 64³ went from 155 to 165 GFLOPS and the `Aᵀ·B` weight
    /// gradient 128×256 → 10 from 116 to 143.
    public static let parallelLimit = 64 * 64 * 64

    /// Below this many multiply-adds the direct kernel beats cache blocking
    /// (measured: 128×784×256 direct 186 vs blocked 160 GFLOPS on one core;
    /// n = 1024 direct 137 vs blocked 191), so mid-size products run the direct
    /// kernel on fixed pieces of C in parallel.
    public static let blockingLimit = 320 * 320 * 320

    /// `matmul` runs the direct kernel up to this many multiply-adds in `Float`
    /// when op(B) is smaller than ``directOperandBytes``
    /// (`Double` keeps ``blockingLimit``: its B read in place outgrows L2 at
    /// n = 512, direct 87 / 168 vs blocked 118 / 208 GFLOPS). With the
    /// worker pool (a job starts in ~1 µs) the direct kernel on pieces of C beats
    /// cache blocking on two cores up to n = 512 (measured at n = 256 / 512:
    /// direct 447 / 455 vs blocked 252 / 330 GFLOPS; one core 242 / 229 vs
    /// 226 / 244); at n = 1024 blocking wins (two cores 441 vs 289). The choice
    /// depends on the shape alone, never on the thread count, so results stay
    /// bitwise identical for any thread count.
    public static let directLimit = 512 * 512 * 512 + 1

    /// Above ``blockingLimit``, the direct kernel reads op(B) in place once per
    /// 12-row panel of A, so it needs B to stay in the 1 MiB L2; a larger B
    /// takes the blocked path. Sixteenth session, one / two threads, medians of
    /// 5 rounds × 10 products, direct vs blocked GFLOPS — B in L2:
    /// 352³ 255 / 497 vs 239 / 419, 448³ 255 / 463 vs 240 / 447,
    /// 1024×256×256 258 / 509 vs 242 / 469, 1024×384×320 240 / 413 vs 227 / 420;
    /// B of 1 MiB or more: 512³ (five runs) 193–242 / 381–489 vs 222–244 / 424–466
    /// (the direct kernel's two-thread figures swing with the other core's L3
    /// traffic), 256×512×1024 170 / 335 vs 234 / 457, 384×256×1280 192 / 337 vs
    /// 229 / 405, 256×1024×448 202 / 365 vs 213 / 385. (Below ``blockingLimit``
    /// the direct kernel still wins with a large B: 64×768×640 188 / 398 vs
    /// 181 / 310.)
    public static let directOperandBytes = 1 << 20

    /// The L2 cache of one core, in bytes: glibc's `sysconf(_SC_LEVEL2_CACHE_SIZE)`
    /// (read from the processor's `cpuid`), 1 MiB where it does not say. Sets
    /// only the order in which whole micro-kernel calls run (which panels share
    /// the L2), so that results do not depend on it.
    static let level2CacheBytes: Int = {
        #if os(Linux)
        let reported = sysconf(Int32(_SC_LEVEL2_CACHE_SIZE))
        if reported >= 64 << 10 && reported <= 64 << 20 { return reported }
        #endif
        return 1 << 20
    }()

    /// The chosen kernel's ``GEMMKernel/code``, 0 while none is chosen.
    /// Atomic rather than locked: every product reads it, so reading it
    /// takes no lock once a kernel is chosen.
    private static let selection = Atomic<UInt8>(0)
    private static let calibration = Mutex<[GEMMKernel: Double]>([:])

    /// The micro-kernel in use. Chosen on first use by timing all variants
    /// (``calibrate()``), unless the environment variable `TENSORS_GEMM_KERNEL` names one
    /// (`fma-12x32`, `muladd-12x32`, `fma-6x16`, `muladd-6x16`) or a value is
    /// assigned here — both make runs reproducible across machines.
    public static var kernel: GEMMKernel {
        get {
            let code = selection.load(ordering: .acquiring)
            if let chosen = GEMMKernel(code: code) { return chosen }
            return chooseKernel()
        }
        set { selection.store(newValue.code, ordering: .releasing) }
    }

    /// The first use: the environment's choice or the calibrated one, unless a
    /// value was assigned (or another thread chose) in the meantime.
    @inline(never)
    private static func chooseKernel() -> GEMMKernel {
        let chosen = ProcessInfo.processInfo.environment["TENSORS_GEMM_KERNEL"].flatMap(GEMMKernel.init(rawValue:))
            ?? calibrate()
        let (exchanged, current) = selection.compareExchange(
            expected: 0, desired: chosen.code, successOrdering: .acquiringAndReleasing, failureOrdering: .acquiring)
        return exchanged ? chosen : GEMMKernel(code: current)!
    }

    /// GFLOPS each variant reached during calibration (empty if it did not run).
    public static var calibrationResults: [GEMMKernel: Double] { calibration.withLock { $0 } }

    /// Times each Float micro-kernel on L1-resident packed panels (best of
    /// three 0.3 ms rounds, interleaved so a noisy moment hits all variants)
    /// and decides only on gaps that timing noise (±15 % here) cannot produce,
    /// so every process on a given CPU and build makes the same choice:
    ///
    /// - fused multiply-add unless the separate form is over 2× faster — the
    ///   build has no FMA code generation and every fused lane is a libm call
    ///   (measured 1 vs 30 GFLOPS); fused and separate round differently, so
    ///   this choice must not hang on a timing race;
    /// - the 12-row wide tile only if it is over 1.5× the 6-row one (AVX-512
    ///   builds: ≈ 2×; AVX2 builds spill the wide tile: ≈ ⅓).
    static func calibrate() -> GEMMKernel {
        var results: [GEMMKernel: Double] = [:]
        for _ in 0..<3 {
            for kernel in GEMMKernel.allCases {
                results[kernel] = Swift.max(results[kernel] ?? 0, measurePeak(kernel, seconds: 0.0003))
            }
        }
        calibration.withLock { $0 = results }
        let fused = Swift.max(results[.fma12x32]!, results[.fma6x16]!) * 2 >= Swift.max(results[.mulAdd12x32]!, results[.mulAdd6x16]!)
        let (wide, narrow): (GEMMKernel, GEMMKernel) = fused ? (.fma12x32, .fma6x16) : (.mulAdd12x32, .mulAdd6x16)
        return results[wide]! > 1.5 * results[narrow]! ? wide : narrow
    }

    /// Micro-kernel GFLOPS for `Float` with packed panels in L1 (kc = 256), one thread.
    static func measurePeak(_ kernel: GEMMKernel, seconds: Double) -> Double {
        let kc = 256
        let a = UnsafeMutablePointer<Float>.allocate(capacity: 12 * kc)
        let b = UnsafeMutablePointer<Float>.allocate(capacity: 32 * kc)
        let c = UnsafeMutablePointer<Float>.allocate(capacity: 12 * 32)
        defer { a.deallocate(); b.deallocate(); c.deallocate() }
        for i in 0..<(12 * kc) { a[i] = Float(i % 7) * 0.001 }
        for i in 0..<(32 * kc) { b[i] = Float(i % 5) * 0.001 }
        c.initialize(repeating: 0, count: 12 * 32)
        var calls = 0
        let start = DispatchTime.now().uptimeNanoseconds
        var elapsed = 0.0
        repeat {
            for _ in 0..<64 {
                BlockedGEMM.runMicroKernel(kernel, kc, UnsafePointer(a), UnsafePointer(b), c, 32, 1,
                                           rows: kernel.rows, columns: kernel.isWide ? 32 : 16)
            }
            calls += 64
            elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) * 1e-9
        } while elapsed < seconds
        let flopsPerCall = 2.0 * Double(kc) * Double(kernel.rows) * Double(kernel.isWide ? 32 : 16)
        return Double(calls) * flopsPerCall / elapsed / 1e9
    }

    /// The measured FMA peak of one core: the chosen micro-kernel in L1 for `seconds`.
    public static func measuredSingleCorePeak(seconds: Double = 0.2) -> Double {
        measurePeak(kernel, seconds: seconds)
    }

    /// The measured FMA peak of `threads` cores, in GFLOPS: the chosen
    /// micro-kernel in L1 on every thread at once for `seconds`, summed (one
    /// thread is ``measuredSingleCorePeak(seconds:)``).
    public static func measuredPeak(threads: Int, seconds: Double = 0.2) -> Double {
        if threads <= 1 { return measuredSingleCorePeak(seconds: seconds) }
        let chosen = kernel
        let total = Mutex<Double>(0)
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            let gflops = measurePeak(chosen, seconds: seconds)
            total.withLock { $0 += gflops }
        }
        return total.withLock { $0 }
    }
}

/// Reusable, 64-byte aligned scratch buffers for packing, so steady-state
/// products allocate nothing. Each caller takes a buffer for the duration of
/// one packed block and gives it back. Buffers of at most ``smallLimit``
/// bytes (small products) never touch the pool: they come from
/// ``withStackScratch(byteCount:alignment:_:)`` — the stack up to 1 KiB,
/// above that `malloc`'s per-thread caches — so no lock and no line of the
/// pool's state moves between the cores. Until the thirteenth session these
/// buffers were meant to be on the stack but were asked 64-byte aligned, which
/// the standard library serves with `posix_memalign` and `free` per call;
/// `malloc` instead, on two threads at 64³ (each thread takes a 3 KiB panel),
/// alternating binaries: 167 → 202 GFLOPS. Taking them from the pool instead
/// read 150 against the old code's 160 in a later, slower phase.
///
/// Memory stays bounded: sizes are rounded up to powers of two (so varying
/// batch or sequence lengths reuse a few size classes instead of adding one
/// size per shape), and a returned buffer is freed instead of kept when the
/// idle buffers would exceed ``idleLimit`` bytes.
///
/// A thread gets back the buffer it used last when one is idle (else the most
/// recently returned one): handed the other core's buffer, a thread must pull
/// every line it writes over from that core first. Measured on the two-thread
/// direct path of a 256 × 10 × 128 `A·Bᵀ` (each thread copies Bᵀ and packs A
/// into its own buffer), interleaved runs: 144 → 165 GFLOPS.
///
/// The lock is an `NSLock` (a pthread mutex) rather than `Mutex`: the thread
/// sanitizer sees pthread locking, while `Mutex`'s futex word lives in a
/// module built without instrumentation and every pool access would be
/// reported as a race.
final class PackingBufferPool: @unchecked Sendable {
    static let shared = PackingBufferPool()

    private struct Idle {
        /// Idle buffers by size class, each with the thread that last used it.
        var buffers: [Int: [(buffer: UncheckedSendable<UnsafeMutableRawPointer>, thread: UInt)]] = [:]
        var bytes = 0
    }

    /// The calling thread's identity (`pthread_self`), to hand a thread back the
    /// buffer it used last: its lines are still in that core's caches, where
    /// another thread's buffer would have to be moved over from the other core
    /// line by line before it can be written.
    @inline(__always)
    static var currentThread: UInt {
        #if canImport(Darwin)
        UInt(bitPattern: pthread_self())
        #else
        UInt(pthread_self())
        #endif
    }
    private var state = Idle()
    private let lock = NSLock()

    /// Frees the idle buffers (the shared pool lives as long as the process;
    /// a pool made for a test does not).
    deinit {
        for idle in state.buffers.values {
            for entry in idle { entry.buffer.value.deallocate() }
        }
    }

    private func withIdle<R>(_ body: (inout Idle) -> R) -> R {
        lock.lock()
        defer { lock.unlock() }
        return body(&state)
    }

    /// The largest buffer served outside the pool (see the type's documentation).
    static let smallLimit = 16 << 10
    /// Idle bytes kept for reuse: the packed blocks of two threads' largest
    /// products (Ã ≤ mc·kc, B̃ ≤ kc·nc per thread: ~2.5 MiB for Float) many times
    /// over, and the traces of a 2-layer bidirectional LSTM's four directions
    /// (8 MiB each at 128 units, batch 32, 50 steps).
    static let idleLimit = 64 << 20

    /// The size class serving `bytes`: the next power of two, at least 4 KiB.
    static func sizeClass(_ bytes: Int) -> Int { Swift.max(4096, 1 << (Int.bitWidth - (bytes - 1).leadingZeroBitCount)) }

    func withBuffer<R>(bytes: Int, _ body: (UnsafeMutableRawPointer) -> R) -> R {
        if bytes <= Self.smallLimit {
            return withStackScratch(byteCount: bytes, alignment: 64, body)
        }
        let buffer = take(bytes: bytes)
        defer { give(buffer, bytes: bytes) }
        return body(buffer)
    }

    /// A buffer of at least `bytes` bytes (an idle one when there is one), to be
    /// handed back with ``give(_:bytes:)`` — for scratch that outlives one call,
    /// such as a recurrent forward pass's trace kept for its backward pass.
    /// Freshly mapped memory costs a page fault per 4 KiB on first touch: a
    /// 128-unit LSTM's 8 MB trace took 1–6 ms to allocate and zero per call.
    func take(bytes: Int) -> UnsafeMutableRawPointer {
        let size = Self.sizeClass(bytes), thread = Self.currentThread
        let reused = withIdle { state -> UncheckedSendable<UnsafeMutableRawPointer>? in
            guard let idle = state.buffers[size], !idle.isEmpty else { return nil }
            let index = idle.lastIndex { $0.thread == thread } ?? idle.count - 1
            state.bytes -= size
            return state.buffers[size]!.remove(at: index).buffer
        }
        return reused?.value ?? UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
    }

    /// Returns a buffer from ``take(bytes:)`` (with the same `bytes`): kept for
    /// reuse, or freed when the idle buffers would exceed ``idleLimit``.
    func give(_ buffer: UnsafeMutableRawPointer, bytes: Int) {
        let size = Self.sizeClass(bytes)
        let kept = withIdle { state -> Bool in
            guard state.bytes + size <= Self.idleLimit else { return false }
            state.buffers[size, default: []].append((UncheckedSendable(buffer), Self.currentThread))
            state.bytes += size
            return true
        }
        if !kept { buffer.deallocate() }
    }

    /// Bytes held by idle buffers (for tests).
    var idleBytes: Int { withIdle { $0.bytes } }
}
