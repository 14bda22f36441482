"""Reference values for MathAPITests and VectorMathAccuracyTests: sin, cos,
std, cumsum, sort/argsort, topK and pow with broadcasting, from numpy (and
mpmath for correctly rounded sines and cosines), on random shapes of rank 1-3
that include axes of length 1 and odd lengths such as 17 and 33.

    ~/.cache/peer-bench-venv/bin/python tensor_math.py > tensor_math.json

Non-finite numbers are written as the strings "nan", "inf" and "-inf".

Contents
- cases: for each random shape, x (float64, standard normal times 4) and
  - sin, cos: correctly rounded (mpmath, 100 bits) for x in float64, and for
    x rounded to float32 (sin32, cos32; the Float tests' inputs);
  - std over everything and along each axis, numpy's ddof=0 and ddof=1
    (PyTorch's correction=1);
  - cumsum along each axis, in float64 and in float32 (np.cumsum adds in
    order, y[k] = y[k-1] + x[k], so the library must match it bit for bit);
  - sorting data t: x rounded to halves (ties, and both -0.0 and 0.0) with a
    NaN, and along each axis np.sort/np.argsort(kind="stable") (NaN last),
    the stable descending order (NaN first; larger first; equal elements in
    their original order - checked against torch.sort(descending=True,
    stable=True)), and topK for a random k: the first k of that descending
    order (values checked against torch.topk).
- pow: broadcast shape pairs; x in [0.1, 3) with a 0 and a negative entry,
  y in [-3, 3) with 0 and integer entries; np.power in float64, and for the
  float32-rounded inputs (pow32, evaluated in float64 and rounded once).
- hard_trig: inputs close to multiples of pi/2, where the argument
  reduction of sin and cos cancels most: for every binade of Float up to
  8192*pi the float closest to a multiple of pi/2 (exhaustive search), and
  for Double binades 0-30 multiples of continued-fraction denominators of
  2/pi (the closest approaches found, down to 2^-60.5), with correctly
  rounded sin and cos.
"""
import json
import math
import warnings

import mpmath
import numpy as np
import torch

mpmath.mp.prec = 100
rng = np.random.default_rng(20261215)


def clean(values):
    """A flat list with NaN and infinities as strings (JSON has no such numbers)."""
    out = []
    for v in np.asarray(values, dtype=np.float64).ravel().tolist():
        if math.isnan(v):
            out.append("nan")
        elif math.isinf(v):
            out.append("inf" if v > 0 else "-inf")
        else:
            out.append(v)
    return out


def correctly_rounded(function, values, dtype):
    return [float(np.asarray(float(function(mpmath.mpf(float(v)))), dtype=np.float64).astype(dtype))
            for v in np.ravel(values)]


def descending_order(t, axis):
    """Stable descending argsort along axis: NaN first, then larger values, ties by position."""
    moved = np.moveaxis(t, axis, -1)
    flat = moved.reshape(-1, moved.shape[-1])
    rows = []
    for row in flat:
        positions = np.arange(row.size)
        filled = np.where(np.isnan(row), 0.0, row)
        rows.append(np.lexsort((positions, -filled, ~np.isnan(row))))
    order = np.array(rows, dtype=np.int64).reshape(moved.shape)
    return np.moveaxis(order, -1, axis)


shapes = [[17], [1], [33, 2], [4, 1], [1, 33], [3, 5, 7], [2, 1, 17], [17, 3, 1], [5, 33], [1, 1, 5], [7, 2, 3], [33]]
cases = []
# ddof=1 over one element is 0/0 = NaN, as in the library.
np.seterr(invalid="ignore", divide="ignore")
warnings.filterwarnings("ignore", message="Degrees of freedom")
for shape in shapes:
    x = rng.standard_normal(shape) * 4
    x32 = x.astype(np.float32)
    case = {"shape": shape, "x": clean(x),
            "sin": clean(correctly_rounded(mpmath.sin, x, np.float64)),
            "cos": clean(correctly_rounded(mpmath.cos, x, np.float64)),
            "sin32": clean(correctly_rounded(mpmath.sin, x32, np.float32)),
            "cos32": clean(correctly_rounded(mpmath.cos, x32, np.float32)),
            "std": clean([np.std(x), np.std(x, ddof=1)]),
            "axes": []}
    t = np.round(x * 2) / 2
    if t.size > 1:
        t.ravel()[rng.integers(0, t.size)] = np.nan
    case["t"] = clean(t)
    for axis in range(len(shape)):
        n = shape[axis]
        ascending = np.argsort(t, axis=axis, kind="stable")
        descending = descending_order(t, axis)
        torch_values, torch_indices = torch.sort(torch.from_numpy(t), dim=axis, descending=True, stable=True)
        assert np.array_equal(torch_indices.numpy(), descending), "descending order differs from torch.sort"
        k = int(rng.integers(1, n + 1))
        top = np.take(descending, np.arange(k), axis=axis)
        top_values = np.take_along_axis(t, top, axis=axis)
        torch_top = torch.topk(torch.from_numpy(t), k, dim=axis).values.numpy()
        assert np.array_equal(torch_top, top_values, equal_nan=True), "topK values differ from torch.topk"
        case["axes"].append({
            "axis": axis,
            "std": clean(np.std(x, axis=axis)),
            "std1": clean(np.std(x, axis=axis, ddof=1)),
            "cumsum": clean(np.cumsum(x, axis=axis)),
            "cumsum32": clean(np.cumsum(x32, axis=axis)),
            "sorted": clean(np.sort(t, axis=axis, kind="stable")),
            "argsort": ascending.ravel().tolist(),
            "sorted_descending": clean(np.take_along_axis(t, descending, axis=axis)),
            "argsort_descending": descending.ravel().tolist(),
            "k": k,
            "topk_values": clean(top_values),
            "topk_indices": top.ravel().tolist(),
        })
    cases.append(case)

pow_pairs = [([7], [7]), ([3, 1], [4]), ([2, 3, 4], [3, 1]), ([5], []), ([], [2, 3]), ([1, 17], [33, 1]),
             ([4, 1, 3], [1, 5, 1]), ([17], [1]), ([2, 1], [2, 33])]
pow_cases = []
for xs, ys in pow_pairs:
    x = rng.uniform(0.1, 3, size=xs)
    y = rng.uniform(-3, 3, size=ys)
    if x.size > 2:
        x.ravel()[0] = 0.0
        x.ravel()[1] = -1.5
    if y.size > 3:
        y.ravel()[-1] = 0.0
        y.ravel()[1] = 3.0
        y.ravel()[2] = -2.0
    x32, y32 = x.astype(np.float32), y.astype(np.float32)
    pow_cases.append({"x_shape": xs, "x": clean(x), "y_shape": ys, "y": clean(y),
                      "out_shape": list(np.broadcast_shapes(tuple(xs), tuple(ys))),
                      "pow": clean(np.power(x, y)),
                      "pow32": clean(np.power(x32.astype(np.float64), y32.astype(np.float64)).astype(np.float32))})

# Inputs closest to multiples of pi/2.
half_pi = mpmath.pi / 2
float_hard = []
bound = np.float32(8192 * np.pi)
P = [1.57079632673412561417e+00, 6.07710050630396597660e-11, 2.02226624871116645580e-21]   # fdlibm's 33-bit pieces
for e in range(0, 15):
    lo, hi = np.float32(2.0 ** e).view(np.uint32), np.float32(2.0 ** (e + 1)).view(np.uint32)
    v = np.arange(lo, hi, dtype=np.uint32).view(np.float32)
    v = v[v <= bound].astype(np.float64)
    n = np.rint(v / (np.pi / 2))
    r = ((v - n * P[0]) - n * P[1]) - n * P[2]
    float_hard.append(float(v[np.argmin(np.abs(r))]))

double_hard = []
for e in range(0, 31):
    scale = mpmath.mpf(2) ** (e - 52)
    alpha = scale / half_pi
    best, t = None, alpha
    p0, q0, p1, q1 = 0, 1, 1, 0
    while q1 < 2 ** 53:
        a = int(mpmath.floor(t))
        p0, q0, p1, q1 = p1, q1, a * p1 + p0, a * q1 + q0
        if 0 < q1 < 2 ** 53:
            m = max(1, -(-(2 ** 52) // q1)) * q1
            if m < 2 ** 53:
                r = abs(m * scale - mpmath.nint(m * alpha) * half_pi)
                if best is None or r < best[0]:
                    best = (r, float(m * scale))
        t = 1 / (t - a)
    double_hard.append(best[1])

mpmath.mp.prec = 200
hard = {"float": float_hard, "double": double_hard,
        "float_sin": correctly_rounded(mpmath.sin, np.float32(float_hard), np.float32),
        "float_cos": correctly_rounded(mpmath.cos, np.float32(float_hard), np.float32),
        "double_sin": correctly_rounded(mpmath.sin, double_hard, np.float64),
        "double_cos": correctly_rounded(mpmath.cos, double_hard, np.float64)}

print(json.dumps({"cases": cases, "pow": pow_cases, "hard_trig": hard}))
