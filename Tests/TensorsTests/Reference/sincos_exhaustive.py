"""The vectorized sin/cos of TrigonometricMath.swift, operation for operation
in numpy float32 (IEEE single precision, each operation rounded, no FMA),
measured against float64 libm on EVERY float with 2^-20 <= |x| <= 8192*pi,
both signs (about 2 x 280 million inputs; a minute or so). Below 2^-20 the
reduction is exact (n = 0) and the polynomials are at their most accurate.

    ~/.cache/peer-bench-venv/bin/python sincos_exhaustive.py

Prints the running maximum error in ulps per binade; the header of
TrigonometricMath.swift quotes the final line (sin 0.97, cos 0.95 ulp). If
the Swift arithmetic changes, change this file with it.
"""
import numpy as np

f = np.float32
TWO_OVER_PI = f(0.636619772367581343)
MAGIC = f(12582912.0)                                   # 1.5 * 2^23
C = [f(float.fromhex("0x1.92p0")), f(float.fromhex("0x1.fb8p-12")), f(float.fromhex("-0x1.5ep-23")),
     f(float.fromhex("0x1.0b8p-34")), f(float.fromhex("-0x1.cf72cep-45"))]
BOUND = f(25735.927)


def two_sum(a, b):
    s = a + b
    bv = s - a
    av = s - bv
    return s, (a - av) + (b - bv)


def sin_cos(x, cosine):
    t = x * TWO_OVER_PI + MAGIC
    n = t - MAGIC
    q = t.view(np.int32) - np.int32(0x4B400000) + np.int32(1 if cosine else 0)
    h, lo = two_sum(x - n * C[0], -(n * C[1]))
    h, e = two_sum(h, -(n * C[2]))
    lo = lo + e
    h, e = two_sum(h, -(n * C[3]))
    lo = lo + e
    lo = lo - n * C[4]
    r = h + lo
    r_low = (h - r) + lo
    z = r * r
    s = f(-1.9515295891e-4) * z + f(8.3321608736e-3)
    s = s * z - f(1.6666654611e-1)
    sine = r + (r * z * s + r_low)
    c = f(2.443315711809948e-5) * z - f(1.388731625493765e-3)
    c = c * z + f(4.166664568298827e-2)
    half = f(0.5) * z
    w = f(1) - half
    cosine_of_r = w + (((f(1) - w) - half) + (z * z * c - r * r_low))
    y = np.where((q & 1) == 1, cosine_of_r, sine)
    return np.where((q & 2) != 0, -y, y)


def ulps(y, reference):
    unit = np.maximum(np.spacing(np.abs(reference.astype(np.float32))).astype(np.float64), 2.0 ** -149)
    return np.abs(y.astype(np.float64) - reference) / unit


worst = {"sin": (0.0, 0.0), "cos": (0.0, 0.0)}
for e in range(-20, 15):
    first, last = np.float32(2.0 ** e).view(np.uint32), np.float32(2.0 ** (e + 1)).view(np.uint32)
    for start in range(int(first), int(last), 1 << 22):
        x = np.arange(start, min(int(last), start + (1 << 22)), dtype=np.uint32).view(np.float32)
        x = x[x <= BOUND]
        for sign in (f(1), f(-1)):
            xs = x * sign
            for name, cosine, reference in (("sin", False, np.sin), ("cos", True, np.cos)):
                error = ulps(sin_cos(xs, cosine), reference(xs.astype(np.float64)))
                i = int(np.argmax(error))
                if error[i] > worst[name][0]:
                    worst[name] = (float(error[i]), float(xs[i]))
    print("binade 2^%d: max sin %.3f ulp (x = %r), cos %.3f ulp (x = %r)"
          % (e, worst["sin"][0], worst["sin"][1], worst["cos"][0], worst["cos"][1]), flush=True)
