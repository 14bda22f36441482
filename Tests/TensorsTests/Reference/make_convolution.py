"""Reference values for conv2D and its gradients, and for max/average pooling,
from PyTorch in float64 (channels-last tensors are permuted to NCHW for torch).

    python3 make_convolution.py > convolution.json

Cases cover stride 1 and 2, padding 0/1/2 and "same", non-square images,
C_in = 1, 1x1 filters and a 1x1 output. Layouts are the notes': input
(m, n_H, n_W, n_C), filter (f, f, n_C_prev, n_C), output (m, n_H, n_W, n_C).
"""
import json
import math
import torch

torch.manual_seed(20261202)
torch.set_default_dtype(torch.float64)

def case(m, h, w, c, f, k, stride, pad, fw=None):
    fw = fw or f
    x = torch.randn(m, h, w, c)
    W = torch.randn(f, fw, c, k)
    b = torch.randn(k)
    if pad == "same":
        out_h, out_w = math.ceil(h / stride), math.ceil(w / stride)
        th, tw = max((out_h - 1) * stride + f - h, 0), max((out_w - 1) * stride + fw - w, 0)
        pads = (tw // 2, tw - tw // 2, th // 2, th - th // 2)   # left, right, top, bottom
    else:
        pads = (pad, pad, pad, pad)
    xt = x.permute(0, 3, 1, 2).clone().requires_grad_()
    Wt = W.permute(3, 2, 0, 1).clone().requires_grad_()
    bt = b.clone().requires_grad_()
    y = torch.nn.functional.conv2d(torch.nn.functional.pad(xt, pads), Wt, bt, stride=stride)
    dy = torch.randn_like(y)
    y.backward(dy)
    return {
        "x_shape": list(x.shape), "x": x.flatten().tolist(),
        "w_shape": list(W.shape), "w": W.flatten().tolist(), "b": b.tolist(),
        "stride": stride, "padding": pad if pad == "same" else int(pad),
        "y_shape": [m, y.shape[2], y.shape[3], k], "y": y.detach().permute(0, 2, 3, 1).flatten().tolist(),
        "dy": dy.permute(0, 2, 3, 1).flatten().tolist(),
        "dx": xt.grad.permute(0, 2, 3, 1).flatten().tolist(),
        "dw": Wt.grad.permute(2, 3, 1, 0).flatten().tolist(),
        "db": bt.grad.tolist(),
    }

convolutions = [
    case(2, 5, 5, 3, 3, 4, 1, 0),
    case(2, 5, 7, 3, 3, 4, 1, 1),      # non-square image
    case(1, 7, 7, 2, 3, 3, 2, 0),      # the notes' n = 7, f = 3, s = 2 → 3
    case(2, 8, 6, 1, 3, 5, 2, 1),      # C_in = 1, stride 2
    case(1, 6, 6, 3, 5, 2, 1, 2),      # padding 2
    case(2, 4, 4, 6, 1, 8, 1, 0),      # 1x1
    case(1, 5, 5, 4, 1, 3, 2, 0),      # 1x1 stride 2
    case(2, 3, 3, 2, 3, 4, 1, 0),      # 1x1 output
    case(1, 9, 7, 3, 3, 5, 1, "same"),
    case(2, 9, 8, 2, 3, 3, 2, "same"), # asymmetric "same" padding
    case(1, 6, 9, 2, 2, 3, 2, 0, fw=4),  # non-square filter
]

def pool(kind, m, h, w, c, f, stride):
    x = torch.randn(m, h, w, c)
    if kind == "max":
        x[0, 0, 0, 0] = x[0, 0, 1, 0] = x.max() + 1    # a tie inside one window
    xt = x.permute(0, 3, 1, 2).clone().requires_grad_()
    op = torch.nn.functional.max_pool2d if kind == "max" else torch.nn.functional.avg_pool2d
    y = op(xt, f, stride)
    dy = torch.randn_like(y)
    y.backward(dy)
    return {"kind": kind, "x_shape": list(x.shape), "x": x.flatten().tolist(), "f": f, "stride": stride,
            "y_shape": [m, y.shape[2], y.shape[3], c], "y": y.detach().permute(0, 2, 3, 1).flatten().tolist(),
            "dy": dy.permute(0, 2, 3, 1).flatten().tolist(),
            "dx_first": xt.grad.permute(0, 2, 3, 1).flatten().tolist()}

pools = [pool("max", 2, 4, 4, 3, 2, 2), pool("max", 1, 5, 7, 2, 3, 2), pool("avg", 2, 4, 6, 3, 2, 2),
         pool("avg", 1, 5, 5, 2, 3, 1)]

def depthwise(m, h, w, c, f, stride, pad):
    x = torch.randn(m, h, w, c)
    W = torch.randn(f, f, c, 1)
    b = torch.randn(c)
    xt = x.permute(0, 3, 1, 2).clone().requires_grad_()
    Wt = W[..., 0].permute(2, 0, 1).unsqueeze(1).clone().requires_grad_()    # (C, 1, f, f)
    bt = b.clone().requires_grad_()
    y = torch.nn.functional.conv2d(xt, Wt, bt, stride=stride, padding=pad, groups=c)
    dy = torch.randn_like(y)
    y.backward(dy)
    return {"x_shape": list(x.shape), "x": x.flatten().tolist(), "w_shape": list(W.shape), "w": W.flatten().tolist(),
            "b": b.tolist(), "stride": stride, "padding": pad,
            "y_shape": [m, y.shape[2], y.shape[3], c], "y": y.detach().permute(0, 2, 3, 1).flatten().tolist(),
            "dy": dy.permute(0, 2, 3, 1).flatten().tolist(), "dx": xt.grad.permute(0, 2, 3, 1).flatten().tolist(),
            "dw": Wt.grad[:, 0].permute(1, 2, 0).unsqueeze(-1).flatten().tolist(), "db": bt.grad.tolist()}

def transposed(m, h, w, cin, f, cout, stride, pad, output_padding):
    x = torch.randn(m, h, w, cin)
    W = torch.randn(f, f, cout, cin)                                          # the library's layout
    b = torch.randn(cout)
    xt = x.permute(0, 3, 1, 2).clone().requires_grad_()
    Wt = W.permute(3, 2, 0, 1).clone().requires_grad_()                       # torch: (C_in, C_out, f, f)
    bt = b.clone().requires_grad_()
    y = torch.nn.functional.conv_transpose2d(xt, Wt, bt, stride=stride, padding=pad, output_padding=output_padding)
    dy = torch.randn_like(y)
    y.backward(dy)
    return {"x_shape": list(x.shape), "x": x.flatten().tolist(), "w_shape": list(W.shape), "w": W.flatten().tolist(),
            "b": b.tolist(), "stride": stride, "padding": pad, "output_padding": output_padding,
            "y_shape": [m, y.shape[2], y.shape[3], cout], "y": y.detach().permute(0, 2, 3, 1).flatten().tolist(),
            "dy": dy.permute(0, 2, 3, 1).flatten().tolist(), "dx": xt.grad.permute(0, 2, 3, 1).flatten().tolist(),
            "dw": Wt.grad.permute(2, 3, 1, 0).flatten().tolist(), "db": bt.grad.tolist()}

def one_d(m, n, c, f, k, stride, pad):
    x = torch.randn(m, n, c)
    W = torch.randn(f, c, k)
    b = torch.randn(k)
    xt = x.permute(0, 2, 1).clone().requires_grad_()
    Wt = W.permute(2, 1, 0).clone().requires_grad_()                          # torch: (C', C, f)
    bt = b.clone().requires_grad_()
    y = torch.nn.functional.conv1d(xt, Wt, bt, stride=stride, padding=pad)
    dy = torch.randn_like(y)
    y.backward(dy)
    return {"x_shape": list(x.shape), "x": x.flatten().tolist(), "w_shape": list(W.shape), "w": W.flatten().tolist(),
            "b": b.tolist(), "stride": stride, "padding": pad,
            "y_shape": [m, y.shape[2], k], "y": y.detach().permute(0, 2, 1).flatten().tolist(),
            "dy": dy.permute(0, 2, 1).flatten().tolist(), "dx": xt.grad.permute(0, 2, 1).flatten().tolist(),
            "dw": Wt.grad.permute(2, 1, 0).flatten().tolist(), "db": bt.grad.tolist()}

depthwise_cases = [depthwise(2, 6, 5, 3, 3, 1, 1), depthwise(1, 7, 7, 17, 3, 2, 1), depthwise(2, 5, 6, 9, 3, 1, 0)]
transposed_cases = [transposed(2, 2, 2, 3, 3, 4, 2, 1, 1),   # the notes' f = 3, p = 1, s = 2: 2×2 → 4×4
                    transposed(1, 3, 4, 5, 2, 3, 2, 0, 0),   # U-Net's 2×2 s2 up-sampling
                    transposed(2, 4, 3, 2, 3, 2, 1, 1, 0),
                    transposed(1, 3, 3, 2, 3, 3, 2, 0, 1)]
one_d_cases = [one_d(1, 14, 1, 5, 1, 1, 0),                   # the notes' 14-long signal and 5-long filter → 10
               one_d(2, 11, 3, 3, 4, 2, 1), one_d(2, 9, 2, 4, 3, 1, 2)]

def three_d(m, d, h, w, c, f, k, stride, pad):
    x = torch.randn(m, d, h, w, c)
    W = torch.randn(f, f, f, c, k)
    b = torch.randn(k)
    xt = x.permute(0, 4, 1, 2, 3).clone().requires_grad_()
    Wt = W.permute(4, 3, 0, 1, 2).clone().requires_grad_()                   # torch: (C', C, f, f, f)
    bt = b.clone().requires_grad_()
    y = torch.nn.functional.conv3d(xt, Wt, bt, stride=stride, padding=pad)
    dy = torch.randn_like(y)
    y.backward(dy)
    return {"x_shape": list(x.shape), "x": x.flatten().tolist(), "w_shape": list(W.shape), "w": W.flatten().tolist(),
            "b": b.tolist(), "stride": stride, "padding": pad,
            "y_shape": [m, y.shape[2], y.shape[3], y.shape[4], k], "y": y.detach().permute(0, 2, 3, 4, 1).flatten().tolist(),
            "dy": dy.permute(0, 2, 3, 4, 1).flatten().tolist(), "dx": xt.grad.permute(0, 2, 3, 4, 1).flatten().tolist(),
            "dw": Wt.grad.permute(2, 3, 4, 1, 0).flatten().tolist(), "db": bt.grad.tolist()}

three_d_cases = [three_d(2, 4, 5, 4, 2, 3, 3, 1, 0), three_d(1, 5, 5, 6, 3, 3, 2, 2, 1)]

print(json.dumps({"convolutions": convolutions, "pools": pools, "depthwise": depthwise_cases,
                  "transposed": transposed_cases, "one_d": one_d_cases, "three_d": three_d_cases}))
