#!/usr/bin/env python3
"""Page faults per training step of PyTorch's LSTM on rnn.py's shapes (input 64,
hidden 128, T 50, batch 32, float32; zero_grad + forward + MSE loss + backward),
the figure `TensorMemory`'s documentation compares the library's steps with.
Counts minor faults (getrusage) over 200 steps after 20 warm-up steps, under
glibc's default allocator settings.

    . ~/.cache/peer-bench-venv/bin/activate
    python Benchmarks/Peers/lstm_page_faults.py [--threads 2]

Nothing is downloaded; inputs and targets are seeded normal draws.
"""
import argparse
import resource
import time

import torch

I, H, T, B = 64, 128, 50, 32


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x, target = torch.randn(T, B, I), torch.randn(T, B, H)
    rnn = torch.nn.LSTM(I, H)

    def step():
        rnn.zero_grad()
        out, _ = rnn(x)
        torch.nn.functional.mse_loss(out, target).backward()

    for _ in range(20):
        step()
    steps = 200
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults
    print(f"torch {torch.__version__}, {args.threads} threads: {faults / steps:.1f} page faults per step, "
          f"{seconds / steps * 1e3:.2f} ms per step")


if __name__ == "__main__":
    main()
