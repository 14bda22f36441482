"""Reference values for the tensor subscripts (Indexing.swift), from numpy.

For random shapes (rank 1-4) and random subscripts mixing integers (negative
too), half-open and closed ranges with missing or negative bounds, strides and
position lists, records what numpy selects from arange(n).reshape(shape), and
what assigning a broadcast value through the same subscript leaves behind.

    python3 make_indexing.py > indexing.json

Entries: {"i": k} an integer, {"r": [lo, hi, closed]} a range (null bound =
open; closed means lo...hi), {"p": [..]} positions, {"all": true} the whole axis.
"""
import json
import numpy as np

rng = np.random.default_rng(20261202)


def entry(n):
    kind = rng.integers(0, 6)
    if kind == 0:
        k = int(rng.integers(-n, n))
        return {"i": k}, k
    if kind == 1:
        lo = int(rng.integers(0, n + 1)); hi = int(rng.integers(lo, n + 1))
        if rng.random() < 0.3 and lo < n: lo -= n          # negative lower bound
        if rng.random() < 0.2: lo = None
        if rng.random() < 0.2: hi = None
        return {"r": [lo, hi, False]}, slice(lo, hi)
    if kind == 2:
        lo = int(rng.integers(0, n)); hi = int(rng.integers(lo, n))
        if rng.random() < 0.3: hi -= n                     # closed range to a negative bound
        py_hi = None if hi == -1 else hi + 1
        return {"r": [lo, hi, True]}, slice(lo, py_hi)
    if kind == 3:
        step = int(rng.integers(1, 4)); start = int(rng.integers(0, n))
        positions = list(range(start, n, step))
        return {"p": positions}, positions
    if kind == 4:
        positions = [int(v) for v in rng.integers(-n, n, size=int(rng.integers(1, 4)))]
        return {"p": positions}, positions
    return {"all": True}, slice(None)


cases = []
for _ in range(60):
    rank = int(rng.integers(1, 5))
    shape = [int(v) for v in rng.integers(1, 6, size=rank)]
    x = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    count = int(rng.integers(1, rank + 1))
    entries, keys = zip(*[entry(shape[a]) for a in range(count)])
    # numpy combines several integer arrays by broadcasting them together; the
    # library selects positions per axis (an outer product), so apply the
    # subscript one axis at a time, as np.ix_ would.
    selected = x
    axis = 0
    for key in keys:
        if isinstance(key, list):
            selected = np.take(selected, key, axis=axis)
            axis += 1
        elif isinstance(key, slice):
            selected = selected[(slice(None),) * axis + (key,)]
            axis += 1
        else:
            selected = np.take(selected, key, axis=axis)
    # Assignment: a value broadcast from the selection's last axis (or a scalar).
    target = x.copy()
    value_shape = list(selected.shape[-1:]) if selected.ndim > 0 and rng.random() < 0.5 else []
    value = -1.0 - np.arange(int(np.prod(value_shape)), dtype=np.float64).reshape(value_shape)
    index_arrays = []
    for a in range(rank):
        if a < count:
            key = keys[a]
            if isinstance(key, list): idx = np.array(key) % shape[a]
            elif isinstance(key, slice): idx = np.arange(shape[a])[key]
            else: idx = np.array([key % shape[a]])
        else:
            idx = np.arange(shape[a])
        index_arrays.append(idx)
    view_shape = [len(i) for i in index_arrays]
    kept = [a for a in range(rank) if not (a < count and not isinstance(keys[a], (list, slice)))]
    full = np.broadcast_to(value, selected.shape).reshape(view_shape)
    target[np.ix_(*index_arrays)] = full
    cases.append({
        "shape": shape, "entries": list(entries),
        "out_shape": list(selected.shape), "out": selected.ravel().tolist(),
        "value_shape": value_shape, "value": value.ravel().tolist(),
        "assigned": target.ravel().tolist(),
    })

print(json.dumps({"cases": cases}))
