"""Reference values for TensorsTests, computed with numpy in float64.

Run from this folder:  python3 make_reference.py
Writes reference.json (committed). The tests load it as a bundle resource.

Contents
- broadcasting: random shape pairs (with 1s and mismatched ranks) and
  a+b, a-b, a*b, a/b, np.minimum, np.maximum results.
- reductions: random tensors and sum/mean/max/min/argmax/var/norm along each
  axis with keepdims, plus the all-element values.
- logistic_regression: X (n_x, m), Y (1, m), w (n_x, 1), b and the notes'
  vectorized forward/backward (C1W2-18..20): cost J, dw, db, and w, b after
  100 gradient-descent steps with alpha = 0.1.
- rng: the first outputs of xoshiro256** seeded by SplitMix64 (an independent
  Python implementation of RandomGenerator's documented algorithm).
"""
import json
import numpy as np

rng = np.random.default_rng(20261121)


def rand_shape_pair():
    rank_a = rng.integers(0, 5)
    rank_b = rng.integers(0, 5)
    full = [int(d) for d in rng.integers(1, 6, size=max(rank_a, rank_b))]
    def derive(rank):
        s = full[len(full) - rank:] if rank else []
        return [1 if rng.random() < 0.3 else d for d in s]
    return derive(rank_a), derive(rank_b)


cases = []
while len(cases) < 40:
    sa, sb = rand_shape_pair()
    a = rng.standard_normal(sa).round(3)
    b = rng.standard_normal(sb).round(3)
    b = np.where(np.abs(b) < 0.05, 0.5, b)  # keep a/b finite
    cases.append(dict(
        a_shape=sa, a=np.asarray(a).ravel().tolist(), b_shape=sb, b=np.asarray(b).ravel().tolist(),
        out_shape=list(np.broadcast_shapes(tuple(sa), tuple(sb))),
        add=np.ravel(a + b).tolist(), sub=np.ravel(a - b).tolist(), mul=np.ravel(a * b).tolist(),
        div=np.ravel(a / b).tolist(), minimum=np.ravel(np.minimum(a, b)).tolist(),
        maximum=np.ravel(np.maximum(a, b)).tolist()))

reductions = []
for _ in range(12):
    shape = [int(d) for d in rng.integers(1, 7, size=rng.integers(1, 5))]
    x = rng.standard_normal(shape).round(3)
    per_axis = []
    for axis in range(len(shape)):
        per_axis.append(dict(
            axis=axis,
            sum=np.sum(x, axis=axis, keepdims=True).ravel().tolist(),
            mean=np.mean(x, axis=axis, keepdims=True).ravel().tolist(),
            max=np.max(x, axis=axis, keepdims=True).ravel().tolist(),
            min=np.min(x, axis=axis, keepdims=True).ravel().tolist(),
            argmax=np.argmax(x, axis=axis).ravel().tolist(),
            var=np.var(x, axis=axis, keepdims=True).ravel().tolist(),
            norm=np.linalg.norm(x, axis=axis, keepdims=True).ravel().tolist()))
    reductions.append(dict(shape=shape, x=x.ravel().tolist(), axes=per_axis,
                           sum=float(x.sum()), mean=float(x.mean()), max=float(x.max()),
                           var=float(x.var()), norm=float(np.linalg.norm(x.ravel()))))

# Logistic regression, vectorized exactly as the notes write it.
n_x, m = 4, 30
X = rng.standard_normal((n_x, m)).round(3)
true_w = np.array([[1.5], [-2.0], [0.5], [0.0]])
Y = (1 / (1 + np.exp(-(true_w.T @ X + 0.3))) > rng.random((1, m))).astype(float)
w = np.array([[0.1], [-0.2], [0.05], [0.3]])
b = 0.1


def step(w, b):
    Z = w.T @ X + b
    A = 1 / (1 + np.exp(-Z))
    J = -np.mean(Y * np.log(A) + (1 - Y) * np.log(1 - A))
    dZ = A - Y
    dw = X @ dZ.T / m
    db = np.sum(dZ) / m
    return J, dw, db


J0, dw0, db0 = step(w, b)
wt, bt = w.copy(), b
costs = []
for _ in range(100):
    J, dw, db = step(wt, bt)
    costs.append(J)
    wt = wt - 0.1 * dw
    bt = bt - 0.1 * db
lr = dict(n_x=n_x, m=m, X=X.ravel().tolist(), Y=Y.ravel().tolist(), w=w.ravel().tolist(), b=b,
          cost=J0, dw=dw0.ravel().tolist(), db=db0, alpha=0.1, iterations=100,
          w_after=wt.ravel().tolist(), b_after=bt, cost_last=costs[-1])

# xoshiro256** with SplitMix64 seeding.
MASK = (1 << 64) - 1


def splitmix(state):
    state = (state + 0x9E3779B97F4A7C15) & MASK
    z = state
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
    return state, z ^ (z >> 31)


def xoshiro(seed, count):
    s, st = [], seed
    for _ in range(4):
        st, z = splitmix(st)
        s.append(z)
    rotl = lambda x, k: ((x << k) | (x >> (64 - k))) & MASK
    out = []
    for _ in range(count):
        out.append(rotl((s[1] * 5) & MASK, 7) * 9 & MASK)
        t = (s[1] << 17) & MASK
        s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
        s[3] = rotl(s[3], 45)
    return out


rng_ref = dict(seed=42, outputs=[str(v) for v in xoshiro(42, 8)])

with open("reference.json", "w") as f:
    json.dump(dict(broadcasting=cases, reductions=reductions, logistic_regression=lr, rng=rng_ref), f)
print("wrote reference.json:", len(cases), "broadcast cases,", len(reductions), "reduction cases")
