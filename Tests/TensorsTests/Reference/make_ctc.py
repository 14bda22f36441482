"""Reference values for the CTC loss (CTCTests), float64, through
torch.nn.functional.ctc_loss(logits.log_softmax(class_dim), ...).

    python make_ctc.py          # writes ctc.json next to this script

Library layout: logits (C, m, T) = (classes, batch, time), element (k, b, t)
at (k*m + b)*T + t; torch takes log-probabilities (T, N, C). Gradients are
with respect to the LOGITS, by autograd through log_softmax (the node's
softmax - occupancy form), converted back to (C, m, T).

Each case: C, m, T, blank, logits, targets (unpadded lists), input_lengths,
loss_sum, loss_mean (torch's "mean": each loss divided by its target length,
clamped to >= 1, then the mean over the batch), loss_none (per example), and
grad_sum, grad_mean (d loss / d logits for those two reductions).
"""
import json
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(53)


def case(C, m, T, blank, targets, input_lengths, scale=1.5):
    logits = scale * rng.standard_normal((C, m, T))
    tz = torch.tensor(logits).permute(2, 1, 0).contiguous().requires_grad_(True)   # (T, N, C)
    S = max(1, max(len(t) for t in targets))
    padded = torch.tensor([t + [0] * (S - len(t)) for t in targets])   # padding is ignored
    lengths = dict(input_lengths=torch.tensor(input_lengths), target_lengths=torch.tensor([len(t) for t in targets]))
    result = dict(C=C, m=m, T=T, blank=blank, logits=logits.ravel().tolist(), targets=targets, input_lengths=input_lengths)
    for reduction in ("sum", "mean", "none"):
        tz.grad = None
        loss = F.ctc_loss(tz.log_softmax(2), padded, blank=blank, reduction=reduction, **lengths)
        result["loss_" + reduction] = loss.tolist()
        if reduction != "none":
            loss.backward()
            result["grad_" + reduction] = tz.grad.permute(2, 1, 0).numpy().ravel().tolist()   # (T, N, C) -> (C, m, T)
    return result


cases = [
    # Repeats ([1, 1, 2] needs a blank between the 1s), a length-1 target, shorter inputs.
    case(5, 4, 8, 0, [[1, 1, 2], [3], [2, 4, 2, 1], [4, 4]], [8, 6, 8, 5]),
    # Another blank index, an empty target, and a target that just fits (3 labels + 1 repeat = 4 steps).
    case(4, 3, 6, 2, [[0, 0, 1], [], [3, 1, 3]], [4, 6, 5]),
    # Longer sequences with larger logits.
    case(6, 2, 30, 0, [[1, 2, 2, 3, 5, 5, 5, 4], [5, 1, 3]], [30, 21], scale=3.0),
]
Path(__file__).with_name("ctc.json").write_text(json.dumps({"cases": cases}) + "\n")
