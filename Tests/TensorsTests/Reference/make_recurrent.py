"""Reference values for the recurrent cells (RecurrentTests), float64:
the LSTM through torch.nn.LSTM itself (its weights mapped from the library's
stacked layout), the basic RNN and the notes' GRU as explicit loops of torch
ops (PyTorch's own GRU is a different function), gradients by autograd.

    python make_recurrent.py > recurrent.json

Library layout: x (n_x, m, T); W (G*n, n + n_x) = [W_a | W_x] with gate rows
RNN [a], GRU [u; r; c~], LSTM [u; f; o; c~]; b (G*n, 1); output a (n, m, T).
The cost is sum(a * R) for a fixed random R, so dJ/da = R.
"""
import json

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(14)
nx, n, m, T = 3, 4, 2, 5


def case(cell, G):
    x = rng.standard_normal((nx, m, T))
    W = 0.5 * rng.standard_normal((G * n, n + nx))
    b = 0.3 * rng.standard_normal((G * n, 1))
    a0 = 0.5 * rng.standard_normal((n, m))
    c0 = 0.5 * rng.standard_normal((n, m)) if cell == "lstm" else None
    R = rng.standard_normal((n, m, T))
    tx, tW, tb, ta0 = (torch.tensor(v, requires_grad=True) for v in (x, W, b, a0))
    tc0 = torch.tensor(c0, requires_grad=True) if c0 is not None else None
    if cell == "lstm":
        lstm = torch.nn.LSTM(nx, n)
        # torch rows i, f, g, o = library rows u, f, c~, o; torch splits W_ih (inputs) and W_hh (state).
        u, f, o, g = tW[:n], tW[n:2 * n], tW[2 * n:3 * n], tW[3 * n:]
        torch_rows = torch.cat([u, f, g, o])
        bu, bf, bo, bg = tb[:n], tb[n:2 * n], tb[2 * n:3 * n], tb[3 * n:]
        torch_bias = torch.cat([bu, bf, bg, bo]).reshape(-1)
        out, _ = torch.func.functional_call(lstm, {
            "weight_ih_l0": torch_rows[:, n:], "weight_hh_l0": torch_rows[:, :n],
            "bias_ih_l0": torch_bias, "bias_hh_l0": torch.zeros(4 * n)},
            (tx.permute(2, 1, 0), (ta0.T.unsqueeze(0), tc0.T.unsqueeze(0))))
        a = out.permute(2, 1, 0)                                   # (T, m, n) -> (n, m, T)
    else:
        state, steps = ta0, []
        for t in range(T):
            h = torch.cat([state, tx[:, :, t]])
            if cell == "rnn":
                state = torch.tanh(tW @ h + tb)
            else:   # the notes' GRU
                ur = torch.sigmoid(tW[:2 * n] @ h + tb[:2 * n])
                uu, r = ur[:n], ur[n:]
                candidate = torch.tanh(tW[2 * n:] @ torch.cat([r * state, tx[:, :, t]]) + tb[2 * n:])
                state = uu * candidate + (1 - uu) * state
            steps.append(state)
        a = torch.stack(steps, dim=2)
    J = (a * torch.tensor(R)).sum()
    J.backward()
    result = {"x": x.ravel().tolist(), "W": W.ravel().tolist(), "b": b.ravel().tolist(), "a0": a0.ravel().tolist(),
              "R": R.ravel().tolist(), "a": a.detach().numpy().ravel().tolist(),
              "dx": tx.grad.numpy().ravel().tolist(), "dW": tW.grad.numpy().ravel().tolist(),
              "db": tb.grad.numpy().ravel().tolist(), "da0": ta0.grad.numpy().ravel().tolist()}
    if c0 is not None:
        result["c0"] = c0.ravel().tolist()
        result["dc0"] = tc0.grad.numpy().ravel().tolist()
    return result


print(json.dumps({"shape": [nx, n, m, T], "rnn": case("rnn", 1), "gru": case("gru", 3), "lstm": case("lstm", 4)}))
