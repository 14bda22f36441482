"""Reference parameter values for OptimizerTests, computed with numpy (float64).

Run: python3 optimizers.py   — prints the arrays pasted into OptimizerTests.swift.
One parameter w0 = [1.0, -2.0, 0.5] receives the gradients g1, g2, g3 on three
steps with learning rate 0.01; each optimizer follows the notes' formulas
(C2W2-05..07; RMSprop with epsilon inside the square root, as the slide writes it).
"""
import numpy as np

w0 = np.array([1.0, -2.0, 0.5])
grads = [np.array([0.1, -0.2, 0.3]), np.array([-0.4, 0.5, 0.05]), np.array([0.2, 0.2, -0.1])]
alpha = 0.01


def run(update):
    w, state, out = w0.copy(), {}, []
    for t, g in enumerate(grads, start=1):
        w = update(w, g, t, state)
        out.append(w.copy())
    return out


def gd(w, g, t, s):
    return w - alpha * g


def momentum(w, g, t, s, beta=0.9):
    s["v"] = beta * s.get("v", 0) + (1 - beta) * g
    return w - alpha * s["v"]


def rmsprop(w, g, t, s, beta2=0.999, eps=1e-8):
    s["s"] = beta2 * s.get("s", 0) + (1 - beta2) * g ** 2
    return w - alpha * g / np.sqrt(s["s"] + eps)


def rmsprop_outside(w, g, t, s, beta2=0.999, eps=1e-8):
    # PyTorch's torch.optim.RMSprop and Keras: epsilon added after the square root.
    s["s"] = beta2 * s.get("s", 0) + (1 - beta2) * g ** 2
    return w - alpha * g / (np.sqrt(s["s"]) + eps)


def adam(w, g, t, s, b1=0.9, b2=0.999, eps=1e-8):
    s["v"] = b1 * s.get("v", 0) + (1 - b1) * g
    s["s"] = b2 * s.get("s", 0) + (1 - b2) * g ** 2
    v_hat = s["v"] / (1 - b1 ** t)
    s_hat = s["s"] / (1 - b2 ** t)
    return w - alpha * v_hat / (np.sqrt(s_hat) + eps)


for name, f in [("gradientDescent", gd), ("momentum", momentum), ("rmsprop", rmsprop), ("rmspropOutside", rmsprop_outside), ("adam", adam)]:
    steps = run(f)
    print(f"{name}: [" + ", ".join("[" + ", ".join(repr(float(x)) for x in w) + "]" for w in steps) + "]")
