#!/usr/bin/env python3
"""numpy's float32 GEMM on the transformer encoder layer's products in the
library's layout (features × tokens: d 256, feed-forward 1024, 16 × 128
tokens), the rows `Benchmarks gemm --only "W·X"` prints. gemm.py times only
the batch-major shapes; this is the same timing (two warm-up calls, then the
median of 15 samples of at least 10 ms, `np.matmul` into a preallocated C).

    . ~/.cache/peer-bench-venv/bin/activate
    for t in 1 2; do OPENBLAS_NUM_THREADS=$t python Benchmarks/Peers/transformer_products.py; done

Nothing is downloaded; the operands are seeded normal draws.
"""
import os
import time

import numpy as np

# (name as in Benchmarks gemm, m, k, n): C (m × n) = W (m × k) · X (k × n)
SHAPES = [("W·X 256x256@256x2048", 256, 256, 2048),
          ("W·X 1024x256@256x2048", 1024, 256, 2048),
          ("W·X 256x1024@1024x2048", 256, 1024, 2048)]


def median_seconds(a, b, c):
    for _ in range(2):
        np.matmul(a, b, out=c)
    samples = []
    for _ in range(15):
        start, calls = time.perf_counter(), 0
        while True:
            np.matmul(a, b, out=c)
            calls += 1
            if time.perf_counter() - start >= 0.01:
                break
        samples.append((time.perf_counter() - start) / calls)
    samples.sort()
    return samples[len(samples) // 2]


def main():
    rng = np.random.default_rng(0)
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "(all)")
    for name, m, k, n in SHAPES:
        a = rng.standard_normal((m, k), dtype=np.float32)
        b = rng.standard_normal((k, n), dtype=np.float32)
        c = np.empty((m, n), np.float32)
        seconds = median_seconds(a, b, c)
        print(f"{name:26s} numpy threads {threads:>5s}  {2 * m * n * k / seconds / 1e9:7.1f} GFLOPS  {seconds * 1e3:.3f} ms")


if __name__ == "__main__":
    main()
