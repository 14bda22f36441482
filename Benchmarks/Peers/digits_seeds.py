"""scikit-learn's MLPClassifier on the digits split of shared/bench/mlp_train.py, for random_state 0..9.

One run's test accuracy moves by about +-3 of the 359 test examples with the seed, so
`Benchmarks training` reports its own mean over seeds 0..9 next to the single run; this
script gives scikit-learn's mean for the same comparison (same data, split and settings as
mlp_train.py: hidden (64,), adam, batch 32, 200 epochs, no early stopping).
`--standardize` scales the features with StandardScaler fitted on the training examples (what
`Benchmarks training` does with `Normalizer`); `--alpha` sets the L2 penalty (default 1e-4).

    . ~/.cache/peer-bench-venv/bin/activate && python Benchmarks/Peers/digits_seeds.py [--standardize] [--alpha 1e-2]
"""
import argparse
import warnings

import numpy as np
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

parser = argparse.ArgumentParser()
parser.add_argument("--standardize", action="store_true")
parser.add_argument("--alpha", type=float, default=1e-4)
args = parser.parse_args()

warnings.filterwarnings("ignore", category=ConvergenceWarning)
d = load_digits()
X, y = (d.data / 16).astype(np.float32), d.target.astype(np.int64)
test = np.arange(len(y)) % 5 == 4
Xtr, Xte, ytr, yte = X[~test], X[test], y[~test], y[test]
if args.standardize:
    scaler = StandardScaler().fit(Xtr)
    Xtr, Xte = scaler.transform(Xtr), scaler.transform(Xte)
counts = []
for seed in range(10):
    clf = MLPClassifier(hidden_layer_sizes=(64,), solver="adam", batch_size=32, max_iter=200,
                        alpha=args.alpha, n_iter_no_change=200, random_state=seed)
    clf.fit(Xtr, ytr)
    counts.append(int(round(clf.score(Xte, yte) * len(yte))))
total = sum(counts)
print(f"sklearn MLPClassifier (alpha {args.alpha}{', standardized' if args.standardize else ''}) over random_state 0..9: mean test accuracy {total / (10 * len(yte)):.4f} "
      f"({total}/{10 * len(yte)}), per seed {' '.join(map(str, counts))}")
