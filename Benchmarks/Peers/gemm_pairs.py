#!/usr/bin/env python3
"""Interleaved GEMM comparison: this library's `Benchmarks gemm --peer-rows` and
the peer script `gemm.py`'s numpy timing (OpenBLAS: its AVX-512 `SkylakeX`
kernels, or on processors without AVX-512 its `Haswell` ones; `--coretype`),
alternated case by case so that both sides of a case see the same phase of a
noisy machine.

The machine's clock and cache behaviour drift over minutes (two-thread
figures of the same binary swing by 10 % and more, and in some phases another
tenant shares the cores: two threads then reach barely more than one). Running
each side's whole suite in turn put 15–30 s between the two measurements of a
case, and a phase change in between made single rounds read 0.6× or 2.9×. Here
every round visits the cases in turn and runs both sides of a case back to back
(a few seconds apart), in alternating order, and the table gives per case the
median over rounds of each side's median GFLOPS, the range of the per-round
ratio ours / numpy, and in how many rounds ours was at least numpy's figure.

Other tenants of a virtual machine take its processors away at times: Linux
counts that as steal time (`/proc/stat`). Each side's steal during its part
of a round is recorded; `steal %` is the largest share of that side's
processor time stolen in any round, and `quiet >=` counts the wins among the
rounds in which neither side lost more than `--quiet-steal` percent — the
rounds that meet gemm.py's "nothing else running". (Neighbours that share
caches or memory bandwidth without taking a processor do not show as steal.)

The numpy side is gemm.py's own code — its `cases`, `operands` and `TIMING`,
and `common.timeit` — imported from `--peers` and run in a fresh worker per
thread count with OPENBLAS/OMP/MKL_NUM_THREADS and the affinity set before
numpy is imported, as gemm.py's workers do.

    . ~/.cache/peer-bench-venv/bin/activate      # numpy (see shared/bench/README.md)
    swift build -c release -Xswiftc -target-cpu -Xswiftc native --product Benchmarks
    python Benchmarks/Peers/gemm_pairs.py --rounds 5 [--only sq1024] [--peers ../shared/bench]

Nothing is downloaded; both sides time a @ b / matmul into C the same way
(two warm-up calls, median of 15 samples of at least 10 ms).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time


def steal_seconds():
    """Processor time stolen by the hypervisor since boot, summed over all processors (None off Linux)."""
    try:
        with open("/proc/stat") as f:
            fields = f.readline().split()
        return int(fields[8]) / os.sysconf("SC_CLK_TCK")   # cpu user nice system idle iowait irq softirq steal
    except (OSError, IndexError, ValueError):
        return None


def ours(binary, case):
    argv = [binary, "gemm", "--peer-rows", "--json", "--retain-freed", "--only", case]
    rows = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    out = {}
    for r in rows:
        if r["case"] != case:   # `--only` selects by substring
            continue
        scalar, rest = r["variant"].split(" matmul, ")
        threads = int(rest.split()[0])
        out[(r["case"], {"Float": "float32", "Double": "float64"}[scalar], threads)] = r["gflops"]
    return out


def has_avx512():
    """Whether this processor runs AVX-512 (OpenBLAS's SkylakeX kernels stop with SIGILL where it does not)."""
    try:
        with open("/proc/cpuinfo") as f:
            return any(line.startswith("flags") and " avx512f" in line for line in f)
    except OSError:
        return False


def numpy_side(peers, case, dtypes, threads, coretype):
    """gemm.py's timing of one case, in a worker with `threads` BLAS threads and OpenBLAS's `coretype` kernels."""
    env = dict(os.environ, OPENBLAS_CORETYPE=coretype,
               **{v: str(threads) for v in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")})
    argv = [sys.executable, os.path.abspath(__file__), "--numpy-worker", case, "--dtypes", ",".join(dtypes),
            "--threads", str(threads), "--peers", peers]
    rows = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout)
    return {(case, dtype, threads): gflops for dtype, gflops in rows}


def numpy_worker(peers, case, dtypes, threads):
    sys.path.insert(0, os.path.abspath(peers))
    import common   # shared/bench/common.py
    common.pin_threads(threads)
    import numpy as np
    import gemm     # shared/bench/gemm.py: its cases, operands and timing
    label, M, K, N, ta, tb = next(c for c in gemm.cases() if c[0] == case)
    rows = []
    for dtype in dtypes:
        A, B = gemm.operands(np.random.default_rng(0), M, K, N, ta, tb, getattr(np, dtype))
        a, b = (A.T if ta else A), (B.T if tb else B)
        t, _ = common.timeit(lambda: a @ b, **gemm.TIMING)
        rows.append((dtype, 2 * M * K * N / t / 1e9))
    print(json.dumps(rows))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="cases whose name contains this text")
    parser.add_argument("--benchmarks", default=os.path.join(root, ".build", "release", "Benchmarks"))
    parser.add_argument("--peers", default=os.path.join(root, "..", "shared", "bench"),
                        help="folder holding gemm.py")
    parser.add_argument("--quiet-steal", type=float, default=0.5,
                        help="percent of a side's processor time stolen above which its round is not quiet")
    parser.add_argument("--coretype", default="auto",
                        help="OPENBLAS_CORETYPE of the numpy side: SkylakeX (AVX-512) where the processor has "
                             "AVX-512, else Haswell (AVX2, the kernels OpenBLAS runs on AMD Zen 1-3) — or name one")
    parser.add_argument("--per-round", action="store_true",
                        help="after the table, each case's per-round GFLOPS of both sides (ours/numpy, in round order)")
    parser.add_argument("--numpy-worker", help=argparse.SUPPRESS)
    parser.add_argument("--dtypes", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.numpy_worker:
        return numpy_worker(args.peers, args.numpy_worker, args.dtypes.split(","), args.threads)

    coretype = args.coretype if args.coretype != "auto" else ("SkylakeX" if has_avx512() else "Haswell")
    sys.path.insert(0, os.path.abspath(args.peers))
    import gemm     # only for its list of cases (imports no numerics library)
    cases = [c[0] for c in gemm.cases() if args.only is None or args.only in c[0]]
    mine, theirs = {}, {}
    stolen = {}   # (side, case) -> per-round share of the side's processor time stolen, percent
    processors = len(os.sched_getaffinity(0))
    for index in range(args.rounds):
        for number, case in enumerate(cases):
            def numpy_step():
                # The rows `Benchmarks gemm --peer-rows` prints: Float everywhere, Double for squares
                # from 256, on one thread and on every processor the process may use.
                dtypes = ["float32"] + (["float64"] if case.startswith("sq") and int(case[2:]) >= 256 else [])
                result = {}
                for threads in sorted({1, len(os.sched_getaffinity(0))}):
                    result.update(numpy_side(args.peers, case, dtypes, threads, coretype))
                return result
            # Which side goes first alternates from case to case and from round to round.
            steps = [("ours", lambda: ours(args.benchmarks, case)), ("numpy", numpy_step)]
            first_ours = (index + number) % 2 == 0
            for name, step in (steps if first_ours else steps[::-1]):
                before, start = steal_seconds(), time.monotonic()
                for key, value in step().items():
                    (mine if name == "ours" else theirs).setdefault(key, []).append(value)
                after, wall = steal_seconds(), time.monotonic() - start
                share = None if before is None or after is None else 100 * (after - before) / (wall * processors)
                stolen.setdefault((name, case), []).append(share)
        print(f"# round {index + 1} of {args.rounds} done", file=sys.stderr)

    print(f"# GFLOPS, median over {args.rounds} rounds, the two sides of each case back to back in alternating order;"
          f" ratio = ours / numpy[{coretype}] per round")
    print(f"{'case':24} {'dtype':8} {'thr':>3} {'ours':>8} {'numpy':>8} {'ratio min..max':>15} {'rounds >=':>9}"
          f" {'steal % o/n':>12} {'quiet >=':>8}")
    for key in sorted(mine, key=lambda k: (k[1], k[2], list(mine).index(k))):
        if key not in theirs:   # the dtype / thread rule in numpy_step no longer matches Benchmarks' rows
            print(f"# {key}: no numpy row to compare with", file=sys.stderr)
            continue
        a, b = mine[key], theirs[key]
        ratios = [x / y for x, y in zip(a, b)]
        wins = sum(r >= 1 for r in ratios)
        own, peer = stolen[("ours", key[0])], stolen[("numpy", key[0])]
        if None in own or None in peer:
            steal, quiet = "n/a", "n/a"
        else:
            calm = [r for r, x, y in zip(ratios, own, peer) if max(x, y) <= args.quiet_steal]
            steal, quiet = f"{max(own):.1f}/{max(peer):.1f}", f"{sum(r >= 1 for r in calm)}/{len(calm)}"
        print(f"{key[0]:24} {key[1]:8} {key[2]:>3} {statistics.median(a):8.1f} {statistics.median(b):8.1f} "
              f"{min(ratios):7.3f}..{max(ratios):5.3f} {wins:>5}/{len(ratios)} {steal:>12} {quiet:>8}")
    if args.per_round:
        print("# per round, ours/numpy GFLOPS")
        for key in sorted(mine, key=lambda k: (k[1], k[2], list(mine).index(k))):
            if key in theirs:
                rounds = "  ".join(f"{x:.1f}/{y:.1f}" for x, y in zip(mine[key], theirs[key]))
                print(f"{key[0]:24} {key[1]:8} {key[2]:>3}  {rounds}")


if __name__ == "__main__":
    main()
