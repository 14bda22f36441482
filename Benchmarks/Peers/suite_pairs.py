#!/usr/bin/env python3
"""Alternated comparison of one `Benchmarks` suite with its peer script, as
`gemm_pairs.py` does for GEMM: every round runs this library's cases and the
peer's (a few seconds apart, in alternating order), and the table gives per
case the median over rounds of each side's time, the range of the per-round
ratio ours / peer, and in how many rounds ours was at least as fast. Two
figures taken minutes apart on this kind of shared machine can differ by 1.5×
for either side; alternation puts both sides of a round in the same phase.

Cases are matched by name: a row of ours (`case`) with the peer's rows whose
`op` or `case` is the same string (the suites name their cases after the peer
scripts'); `--peer-filter key=value` keeps only peer rows with that field
(e.g. `layout=channels_last`, `lib=torch`). Times are milliseconds (the peers' `ms`
field; ours `median_s`). Ours runs with `--retain-freed` unless
`--glibc-defaults` (compare with `conv.py --malloc no-mmap` rows, or the
peers' own allocator).

    . ~/.cache/peer-bench-venv/bin/activate      # the peers (see shared/bench/README.md)
    swift build -c release -Xswiftc -target-cpu -Xswiftc native --product Benchmarks
    python Benchmarks/Peers/suite_pairs.py --suite conv --only depthwise \\
        --peer conv.py --peer-args "--malloc no-mmap --ops dw" --peer-filter layout=channels_last --rounds 3
    python Benchmarks/Peers/suite_pairs.py --suite attention --only "transformer encoder layer" \\
        --peer seq.py --peer-args "--libs torch" --rounds 3

(`elementwise.py` names its rows differently — `op`, `size`, `mode` — and is
not matched.) Nothing is downloaded.
"""
import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys


def ours(binary, suite, only, threads, retain, variant):
    """Our rows of `variant` (the start of the variant's name) on `threads`
    threads (its end: the suites write "\\(n) threads"), one per case."""
    argv = [binary, suite, "--json", "--threads", str(threads), "--only", only] + (["--retain-freed"] if retain else [])
    rows = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)
    out = {}
    for r in rows:
        if r["variant"].startswith(variant) and r["variant"].endswith((f" {threads} threads", f" {threads} thread")):
            if r["case"] in out:
                sys.exit(f"two rows of ours for {r['case']!r} match --variant {variant!r}: name a longer one")
            out[r["case"]] = r["median_s"] * 1e3
    return out


def peer(script, args, threads, filters):
    argv = [sys.executable, script, "--json", "--threads", str(threads)] + shlex.split(args)
    rows = json.loads(subprocess.run(argv, check=True, capture_output=True, text=True).stdout)["rows"]
    out = {}
    for r in rows:
        if r.get("threads") != threads or any(str(r.get(k)) != v for k, v in filters):
            continue
        ms = r["ms"] if "ms" in r else r["us"] / 1e3 if "us" in r else None
        if ms is None:
            continue
        label = r.get("lib", "peer") + ("" if "layout" not in r or any(k == "layout" for k, _ in filters) else f" {r['layout']}")
        for name in {r.get("op"), r.get("case")} - {None}:
            out.setdefault(name, {})[label] = ms
    return out


def main():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--suite", required=True, help="a Benchmarks suite: conv, sequence, attention, training, …")
    p.add_argument("--only", required=True, help="cases of ours whose name contains this text")
    p.add_argument("--peer", required=True, help="the peer script's file name in --peers (conv.py, seq.py, rnn.py, cnn.py)")
    p.add_argument("--peer-args", default="", help="arguments for the peer script (its own filters)")
    p.add_argument("--peer-filter", action="append", default=[], help="key=value a peer row must have (repeatable)")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--variant", default="vectorized,",
                   help="our rows whose variant starts with this (default: the vectorized path, not e.g. "
                        "\"direct (no Winograd)\" or \"loop\")")
    p.add_argument("--glibc-defaults", action="store_true", help="run ours without --retain-freed")
    p.add_argument("--benchmarks", default=os.path.join(root, ".build", "release", "Benchmarks"))
    p.add_argument("--peers", default=os.path.join(root, "..", "shared", "bench"))
    a = p.parse_args()
    filters = [tuple(f.split("=", 1)) for f in a.peer_filter]
    script = os.path.join(a.peers, a.peer)
    per_case = {}   # (case, peer label) -> [(ours ms, peer ms)] per round
    for round_ in range(a.rounds):
        sides = [("ours", lambda: ours(a.benchmarks, a.suite, a.only, a.threads, not a.glibc_defaults, a.variant)),
                 ("peer", lambda: peer(script, a.peer_args, a.threads, filters))]
        results = {}
        for name, run in (sides if round_ % 2 == 0 else sides[::-1]):
            results[name] = run()
        for case, mine in results["ours"].items():
            for label, theirs in results["peer"].get(case, {}).items():
                per_case.setdefault((case, label), []).append((mine, theirs))
            if case not in results["peer"]:
                per_case.setdefault((case, "(no peer row)"), []).append((mine, float("nan")))
        print(f"# round {round_ + 1} of {a.rounds} done", file=sys.stderr)
    print(f"# ms, median over {a.rounds} rounds, {a.threads} thread(s); ratio = ours / peer per round (below 1: ours faster)")
    print(f"{'case':58s} {'peer':18s} {'ours':>8s} {'peer':>8s}  ratio min..max  rounds ours <=")
    for (case, label), pairs in per_case.items():
        mine = statistics.median(m for m, _ in pairs)
        theirs = statistics.median(t for _, t in pairs)
        ratios = [m / t for m, t in pairs if t == t]
        span = f"{min(ratios):.3f}..{max(ratios):.3f}" if ratios else "-"
        wins = sum(m <= t for m, t in pairs if t == t)
        print(f"{case[:58]:58s} {label[:18]:18s} {mine:8.2f} {theirs:8.2f}  {span:14s}  {wins}/{len(pairs)}")


if __name__ == "__main__":
    main()
