"""Exports scikit-learn's bundled handwritten digits to the package resource
Sources/NeuralNetworks/Resources/digits.csv (1,797 rows: 64 pixel values 0..16
in row-major 8x8 order, then the label 0..9), in scikit-learn's order.

Run with scikit-learn installed (e.g. the peer-benchmark venv):
    python export_digits.py ../../../Sources/NeuralNetworks/Resources/digits.csv
"""
import sys
from sklearn.datasets import load_digits

d = load_digits()
with open(sys.argv[1], "w") as f:
    f.write(",".join([f"p{i}" for i in range(64)] + ["label"]) + "\n")
    for x, y in zip(d.data.astype(int), d.target):
        f.write(",".join(map(str, x)) + f",{y}\n")
print(len(d.target), "digits written")
