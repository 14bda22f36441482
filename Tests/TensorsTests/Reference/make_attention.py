"""Reference values for scaled dot-product attention, layer normalization and
the sinusoidal positional encoding (AttentionTests), float64: attention through
torch.nn.functional.scaled_dot_product_attention with a boolean mask, layer
norm through torch.nn.functional.layer_norm, the encoding from its formula
PE(pos, 2i) = sin(pos / 10000^(2i/d)), PE(pos, 2i+1) = cos(pos / 10000^(2i/d)).

    python make_attention.py > attention.json

Each case: q (B, h, Tq, d), k (B, h, Tk, d), v (B, h, Tk, dv), the cost
sum(O * R) for a fixed random R, and O, dq, dk, dv. Masks: "none", "causal"
(query i sees keys j <= i), "padding" (batch item b sees its first
key_lengths[b] keys), "causal+padding". Every query keeps at least one key
(PyTorch gives NaN for a fully masked row; the library defines 0 and is
tested for that separately).
"""
import json

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(15)


def case(B, h, Tq, Tk, d, dv, mask, key_lengths=None):
    q, k, v = (rng.standard_normal(s) for s in ((B, h, Tq, d), (B, h, Tk, d), (B, h, Tk, dv)))
    R = rng.standard_normal((B, h, Tq, dv))
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    allowed = torch.ones(B, 1, Tq, Tk, dtype=torch.bool)
    if "causal" in mask:
        allowed &= torch.ones(Tq, Tk, dtype=torch.bool).tril()
    if "padding" in mask:
        allowed &= (torch.arange(Tk)[None, :] < torch.tensor(key_lengths)[:, None])[:, None, None, :]
    out = F.scaled_dot_product_attention(tq, tk, tv, attn_mask=allowed)
    (out * torch.tensor(R)).sum().backward()
    flat = lambda a: a.detach().numpy().ravel().tolist()
    return dict(B=B, h=h, Tq=Tq, Tk=Tk, d=d, dv=dv, mask=mask, key_lengths=key_lengths,
                q=flat(tq), k=flat(tk), v=flat(tv), R=R.ravel().tolist(),
                out=flat(out), dq=flat(tq.grad), dk=flat(tk.grad), dv_=flat(tv.grad))


cases = [
    case(2, 3, 5, 7, 4, 3, "none"),
    case(2, 2, 6, 6, 5, 5, "causal"),
    case(3, 2, 4, 6, 3, 2, "padding", [6, 2, 4]),
    case(2, 1, 40, 40, 8, 6, "causal+padding", [40, 17]),   # more than one query block
    case(1, 2, 70, 33, 16, 16, "none"),
]


def layer_norm(d, m, T, eps):
    """x in the library's (d, m, T) layout, normalized over d; cost sum(y * R)."""
    x = rng.standard_normal((d, m, T)) * 3 + 1
    gamma, beta, R = 1 + 0.3 * rng.standard_normal(d), 0.2 * rng.standard_normal(d), rng.standard_normal((d, m, T))
    tx, tg, tb = (torch.tensor(a, requires_grad=True) for a in (x, gamma, beta))
    y = F.layer_norm(tx.permute(1, 2, 0), (d,), tg, tb, eps).permute(2, 0, 1)
    (y * torch.tensor(R)).sum().backward()
    flat = lambda a: a.detach().numpy().ravel().tolist()
    return dict(d=d, m=m, T=T, eps=eps, x=x.ravel().tolist(), gamma=gamma.tolist(), beta=beta.tolist(), R=R.ravel().tolist(),
                y=flat(y), dx=flat(tx.grad), dgamma=flat(tg.grad), dbeta=flat(tb.grad))


def positional_encoding(T, d):
    """(d, T): row 2i is sin(pos / 10000^(2i/d)), row 2i + 1 its cosine."""
    pos, i = np.arange(T)[None, :], np.arange(0, d, 2)[:, None]
    pe = np.zeros((d, T))
    pe[0::2] = np.sin(pos / 10000 ** (i / d))
    pe[1::2] = np.cos(pos / 10000 ** (i[: d // 2] / d))
    return dict(T=T, d=d, pe=pe.ravel().tolist())


print(json.dumps({"attention": cases, "layer_norm": [layer_norm(5, 3, 4, 1e-5), layer_norm(16, 2, 3, 1e-3)],
                  "positional_encoding": [positional_encoding(50, 16), positional_encoding(7, 5)]}))
