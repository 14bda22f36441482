"""Reference values for batch normalization (NormalizationTests), float64,
through torch.nn.functional.batch_norm, in training mode (batch statistics,
biased variance) and in inference mode (given running statistics).

    python make_normalization.py > normalization.json

Layouts (all arrays flat, row-major in the library's layout):
  - "channels": x (m, H, W, C), channels last; statistics per channel over the
    m*H*W positions (torch sees x permuted to NCHW);
  - "units": x (n, m), n units by m examples; statistics per unit (row) over
    the m examples (torch sees x transposed to (m, n)).
Each case: x, gamma, beta, R (cost sum(y * R)); training: y, dx, dgamma, dbeta,
mean, variance (biased); inference with running_mean, running_var: y_eval,
dx_eval, dgamma_eval, dbeta_eval.
"""
import json

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(16)


def batch_norm(layout, shape, eps):
    x, R = rng.standard_normal(shape) * 3 + 2, rng.standard_normal(shape)
    k = shape[-1] if layout == "channels" else shape[0]
    gamma, beta = 1 + 0.5 * rng.standard_normal(k), 0.5 * rng.standard_normal(k)
    gamma[k // 2] = -abs(gamma[k // 2]) - 0.25                  # a negative scale
    running_mean, running_var = 2 + rng.standard_normal(k), rng.uniform(0.5, 12, k)
    # to torch's (N, C, ...) and back to our layout
    to_torch = (lambda t: t.permute(0, 3, 1, 2)) if layout == "channels" else (lambda t: t.t())
    back = (lambda t: t.permute(0, 2, 3, 1)) if layout == "channels" else (lambda t: t.t())
    flat = lambda a: a.detach().numpy().ravel().tolist()
    out = dict(layout=layout, shape=list(shape), eps=eps, x=x.ravel().tolist(), gamma=gamma.tolist(),
               beta=beta.tolist(), R=R.ravel().tolist(),
               running_mean=running_mean.tolist(), running_var=running_var.tolist())
    for training, suffix in ((True, ""), (False, "_eval")):
        tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
        rm, rv = (None, None) if training else (torch.tensor(running_mean), torch.tensor(running_var))
        y = back(F.batch_norm(to_torch(tx), rm, rv, tg, tb, training=training, eps=eps))
        (y * torch.tensor(R)).sum().backward()
        out.update({"y" + suffix: flat(y), "dx" + suffix: flat(tx.grad),
                    "dgamma" + suffix: flat(tg.grad), "dbeta" + suffix: flat(tb.grad)})
    axes = (0, 1, 2) if layout == "channels" else (1,)
    out.update(mean=x.mean(axis=axes).tolist(), variance=x.var(axis=axes).tolist())
    return out


cases = [
    batch_norm("channels", (2, 3, 4, 5), 1e-5),
    batch_norm("channels", (3, 2, 1, 17), 1e-3),
    batch_norm("channels", (2, 1, 1, 3), 1e-5),      # two positions per channel
    batch_norm("units", (4, 6), 1e-5),
    batch_norm("units", (5, 9), 1e-3),
]

print(json.dumps({"batch_norm": cases}))
