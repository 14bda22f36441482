"""Reference values for scaled dot-product attention (AttentionTests), float64,
through torch.nn.functional.scaled_dot_product_attention with a boolean mask.

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
print(json.dumps({"attention": cases}))
