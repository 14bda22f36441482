#!/usr/bin/env python3
"""Interleaved GEMM comparison: this library's `Benchmarks gemm --peer-rows` and
the peer script `gemm.py` (numpy on OpenBLAS, AVX-512 `SkylakeX` kernels),
alternated round by round so that both see the same phases of a noisy machine.

The machine's clock and cache behaviour drift over minutes (two-thread
figures of the same binary swing by 10 % and more), so one run of each, minutes
apart, can put either side ahead. Here every round runs both, in alternating
order, and the table gives per case the median over rounds of each side's
median GFLOPS, the range of the per-round ratio ours / numpy, and in how many
rounds ours was at least numpy's figure.

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


def ours(binary, only):
    argv = [binary, "gemm", "--peer-rows", "--json", "--retain-freed"] + (["--only", only] if only else [])
    rows = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    out = {}
    for r in rows:
        scalar, rest = r["variant"].split(" matmul, ")
        threads = int(rest.split()[0])
        out[(r["case"], {"Float": "float32", "Double": "float64"}[scalar], threads)] = r["gflops"]
    return out


def numpy_rows(peers, only):
    env = dict(os.environ, OPENBLAS_CORETYPE="SkylakeX")
    argv = [sys.executable, os.path.join(peers, "gemm.py"), "--libs", "numpy", "--coretypes", "", "--json"]
    data = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True, env=env).stdout)
    return {(r["case"], r["dtype"], r["threads"]): r["gflops"] for r in data["rows"]
            if only is None or only in r["case"]}


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", help="cases whose name contains this text")
    parser.add_argument("--benchmarks", default=os.path.join(root, ".build", "release", "Benchmarks"))
    parser.add_argument("--peers", default=os.path.join(root, "..", "shared", "bench"),
                        help="folder holding gemm.py")
    args = parser.parse_args()

    mine, theirs = {}, {}
    for index in range(args.rounds):
        steps = [("ours", lambda: ours(args.benchmarks, args.only)), ("numpy", lambda: numpy_rows(args.peers, args.only))]
        for name, step in (steps if index % 2 == 0 else steps[::-1]):
            for key, value in step().items():
                (mine if name == "ours" else theirs).setdefault(key, []).append(value)
        print(f"# round {index + 1} of {args.rounds} done", file=sys.stderr)

    print(f"# GFLOPS, median over {args.rounds} alternating rounds; ratio = ours / numpy[SkylakeX] per round")
    print(f"{'case':24} {'dtype':8} {'thr':>3} {'ours':>8} {'numpy':>8} {'ratio min..max':>15} {'rounds >=':>9}")
    for key in sorted(mine, key=lambda k: (k[1], k[2], list(mine).index(k))):
        if key not in theirs:
            continue
        a, b = mine[key], theirs[key]
        ratios = [x / y for x, y in zip(a, b)]
        wins = sum(r >= 1 for r in ratios)
        print(f"{key[0]:24} {key[1]:8} {key[2]:>3} {statistics.median(a):8.1f} {statistics.median(b):8.1f} "
              f"{min(ratios):7.3f}..{max(ratios):5.3f} {wins:>5}/{len(ratios)}")


if __name__ == "__main__":
    main()
