#!/usr/bin/env python3
"""The peers of `Benchmarks training` on a processor without AVX-512: the workers
of `mlp_train.py` (numpy by hand, PyTorch, JAX; scikit-learn for the digits),
run through its own `common.run_workers`, without the extra numpy worker that
`mlp_train.py` starts with OPENBLAS_CORETYPE=SkylakeX (OpenBLAS's AVX-512
kernels stop with SIGILL where the processor has no AVX-512, and the whole run
with them). numpy uses the OpenBLAS kernels of the environment's core type
(on AMD Zen 1-3 with none set: its Haswell kernels).

    . ~/.cache/peer-bench-venv/bin/activate      # see shared/bench/README.md
    python Benchmarks/Peers/mlp_peers.py mlp [--peers ../shared/bench]
    python Benchmarks/Peers/mlp_peers.py digits
"""
import argparse
import os
import sys
import types


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("part", choices=["mlp", "digits"])
    parser.add_argument("--peers", default=os.path.join(here, "..", "..", "..", "shared", "bench"),
                        help="folder holding mlp_train.py and common.py")
    args = parser.parse_args()
    peers = os.path.abspath(args.peers)
    sys.path.insert(0, peers)
    import common   # shared/bench/common.py
    threads = "1,2" if args.part == "mlp" else "1"   # as mlp_train.py: the digits on one thread
    libs = ["numpy", "torch", "jax"] if args.part == "mlp" else ["numpy", "torch", "sklearn"]
    options = types.SimpleNamespace(threads=threads, json=True, worker=False)
    rows, _ = common.run_workers(os.path.join(peers, "mlp_train.py"), options,
                                 [(["--part", args.part, "--lib", lib], {}) for lib in libs])
    print(f"# {args.part}, OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(not set)')}")
    for r in rows:
        print(f"{r['part']:7} {r['lib']:24} {r['threads']} thread(s)  examples/s {r.get('examples_per_s', 0):9.0f}"
              f"  seconds {r.get('secs', 0):7.3f}  test accuracy {r.get('test_acc', float('nan')):.4f}")


if __name__ == "__main__":
    main()
