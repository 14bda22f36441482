"""Reference values for select (numpy's where) on broadcast shapes, and for
Double → Float conversion (numpy's astype(float32), round to nearest even).

    python3 make_selection.py > selection.json
"""
import json
import numpy as np

rng = np.random.default_rng(7)
cases = []
for _ in range(40):
    rank = int(rng.integers(1, 4))
    out = [int(v) for v in rng.integers(1, 5, size=rank)]
    def operand():
        keep = int(rng.integers(0, rank + 1))           # drop leading axes
        shape = [d if rng.random() < 0.6 else 1 for d in out[rank - keep:]]
        return shape
    cs, as_, bs = operand(), operand(), operand()
    c = rng.integers(0, 2, size=cs).astype(np.float64)
    if c.size > 1:
        c.ravel()[0] = np.nan                           # NaN counts as true
    a = rng.standard_normal(as_)
    b = rng.standard_normal(bs)
    y = np.where(np.asarray(c, dtype=bool), a, b)
    cases.append({"c_shape": cs, "c": [None if np.isnan(v) else v for v in np.ravel(c).tolist()],
                  "a_shape": as_, "a": np.ravel(a).tolist(), "b_shape": bs, "b": np.ravel(b).tolist(),
                  "out_shape": list(y.shape), "out": np.ravel(y).tolist()})

doubles = np.concatenate([rng.standard_normal(200) * 10.0 ** rng.integers(-40, 40, size=200),
                          [1 + 2.0 ** -24, 1 + 3 * 2.0 ** -24, 3.4028235677973366e38, 1e-46]])
print(json.dumps({"select": cases,
                  "to_float": {"double": doubles.tolist(),
                               "float_bits": [int(v) for v in doubles.astype(np.float32).view(np.uint32)]}}))
