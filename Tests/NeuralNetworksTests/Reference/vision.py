"""Reference values for VisionReferenceTests (course 4, weeks 3-4), computed
with numpy and PyTorch autograd (float64) on fixed inputs, printed as Swift:

    python vision.py > ../VisionReferenceValues.swift

(the peer-benchmark venv has both: ../../../../shared/bench/install.sh).
Conventions, the library's: boxes are corners (x1, y1, x2, y2), continuous;
classes are 0-based; the YOLO target and output are (m, rows, cols,
anchors*(5+C)) with each anchor's values [p_c, b_x, b_y, b_h, b_w, c...].
"""
import numpy as np
import torch

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(2026)
out = []


def emit(name, values):
    flat = np.asarray(values, dtype=np.float64).ravel()
    out.append(f"    static let {name}: [Double] = [{', '.join(repr(float(v)) for v in flat)}]")


def emit_ints(name, values):
    out.append(f"    static let {name}: [Int] = [{', '.join(str(int(v)) for v in values)}]")


# --- IoU: an independent vectorized numpy form -------------------------------
iou_pairs = np.array([
    [2, 1, 4, 3, 1, 2, 3, 4],          # the assignment's example, 1/7
    [1, 2, 3, 4, 5, 6, 7, 8],          # disjoint
    [1, 1, 2, 2, 2, 1, 3, 2],          # touching along an edge
    [1, 1, 2, 2, 2, 2, 3, 3],          # touching at a corner
    [0, 0, 1, 1, 0, 0, 1, 1],          # identical
    [0, 0, 4, 4, 1, 1, 2, 2],          # contained, 1/16
    [0, 0, 4, 2, 0, 0, 4, 1],          # exactly 0.5
    [1, 1, 1, 1, 1, 1, 1, 1],          # two empty boxes
    [0.1, 0.2, 0.5, 0.9, 0.3, 0.1, 0.8, 0.6],
], dtype=np.float64)
a, b = iou_pairs[:, :4], iou_pairs[:, 4:]
iw = np.clip(np.minimum(a[:, 2], b[:, 2]) - np.maximum(a[:, 0], b[:, 0]), 0, None)
ih = np.clip(np.minimum(a[:, 3], b[:, 3]) - np.maximum(a[:, 1], b[:, 1]), 0, None)
inter = iw * ih
union = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1]) + (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1]) - inter
emit("iouPairs", iou_pairs)
emit("iou", np.where(union > 0, inter / np.where(union > 0, union, 1), 0))

# --- Non-max suppression ------------------------------------------------------
# Boxes with ties on purpose: box 1 scores exactly 0.6 (the threshold); boxes
# 0 and 2 overlap by exactly IoU 0.5; boxes 3 and 4 have equal scores and
# overlap heavily; box 5 is another class on top of box 0.
nms_boxes = np.array([
    [0, 0, 4, 2], [10, 10, 12, 12], [0, 0, 4, 1], [5, 5, 7, 7], [5.2, 5, 7.2, 7],
    [0, 0, 4, 2], [20, 20, 22, 22], [0.5, 0, 4.5, 2], [20.1, 20, 22.1, 22],
], dtype=np.float64)
nms_scores = np.array([0.9, 0.6, 0.8, 0.7, 0.7, 0.95, 0.61, 0.85, 0.99])
nms_classes = np.array([0, 0, 0, 1, 1, 1, 2, 0, 2])


def pairwise_iou(box, boxes):
    iw = np.clip(np.minimum(box[2], boxes[:, 2]) - np.maximum(box[0], boxes[:, 0]), 0, None)
    ih = np.clip(np.minimum(box[3], boxes[:, 3]) - np.maximum(box[1], boxes[:, 1]), 0, None)
    inter = iw * ih
    union = (box[2] - box[0]) * (box[3] - box[1]) + (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1]) - inter
    return inter / union


def nms(score_threshold, iou_threshold, per_class, max_boxes, convention):
    keep_score = nms_scores > score_threshold if convention == "notes" else nms_scores >= score_threshold
    order = [i for i in np.argsort(-nms_scores, kind="stable") if keep_score[i]]
    kept = []
    while order:
        i = order.pop(0)
        kept.append(i)
        ious = pairwise_iou(nms_boxes[i], nms_boxes[order]) if order else np.array([])
        same = np.array([not per_class or nms_classes[j] == nms_classes[i] for j in order], dtype=bool)
        hit = (ious >= iou_threshold) if convention == "notes" else (ious > iou_threshold)
        order = [j for j, h, s in zip(order, hit, same) if not (h and s)]
    return kept[:max_boxes] if max_boxes is not None else kept


emit("nmsBoxes", nms_boxes)
emit("nmsScores", nms_scores)
emit_ints("nmsClasses", nms_classes)
emit_ints("nmsNotesPerClass", nms(0.6, 0.5, True, None, "notes"))
emit_ints("nmsNotesAgnostic", nms(0.6, 0.5, False, None, "notes"))
emit_ints("nmsAssignmentPerClass", nms(0.6, 0.5, True, None, "assignment"))
emit_ints("nmsAssignmentAgnosticMax3", nms(0.6, 0.5, False, 3, "assignment"))

# --- The notes' localization loss (8, m) --------------------------------------
m = 5
y = rng.standard_normal((8, m))
y[0] = [1, 0, 1, 0, 1]
yhat = torch.tensor(rng.standard_normal((8, m)), requires_grad=True)
yt = torch.tensor(y)
present = yt[0:1] == 1
per_term = (yhat - yt) ** 2
loss = (per_term[0].sum() + torch.where(present, per_term, torch.zeros_like(per_term))[1:].sum()) / m
loss.backward()
emit("localizationPrediction", yhat.detach().numpy())
emit("localizationTarget", y)
emit("localizationCost", [loss.item()])
emit("localizationGradient", yhat.grad.numpy())

# --- YOLO loss on logits (m=2, 2x3 grid, 2 anchors, 3 classes) ----------------
rows, cols, anchors, C = 2, 3, np.array([[1.0, 2.0], [2.5, 1.0]]), 3   # anchors as (width, height)
A, V = len(anchors), 5 + C
target = np.zeros((2, rows, cols, A, V))
for (i, r, c, a_, bx, by, bh, bw, k) in [(0, 0, 1, 0, 0.3, 0.7, 1.5, 0.8, 2), (0, 1, 2, 1, 0.5, 0.5, 0.6, 2.0, 0),
                                         (1, 1, 0, 1, 0.9, 0.1, 1.2, 3.1, 1)]:
    target[i, r, c, a_, :5] = [1, bx, by, bh, bw]
    target[i, r, c, a_, 5 + k] = 1
logits = torch.tensor(rng.standard_normal((2, rows, cols, A, V)), requires_grad=True)
tt = torch.tensor(target)
obj = tt[..., 0]
bce = torch.nn.functional.binary_cross_entropy_with_logits(logits[..., 0], obj, reduction="none")
lc, ln = 5.0, 0.5
cost = (torch.where(obj == 1, bce, ln * bce)).sum()
aw = torch.tensor(anchors[:, 0]).view(1, 1, 1, A)
ah = torch.tensor(anchors[:, 1]).view(1, 1, 1, A)
safe = lambda x: torch.where(obj == 1, x, torch.ones_like(x))
coord = (torch.sigmoid(logits[..., 1]) - tt[..., 1]) ** 2 + (torch.sigmoid(logits[..., 2]) - tt[..., 2]) ** 2 \
    + (logits[..., 3] - torch.log(safe(tt[..., 3]) / ah)) ** 2 + (logits[..., 4] - torch.log(safe(tt[..., 4]) / aw)) ** 2
classes = -(tt[..., 5:] * torch.log_softmax(logits[..., 5:], dim=-1)).sum(-1)
cost = (cost + (obj * (lc * coord + classes)).sum()) / 2
cost.backward()
emit("yoloAnchors", anchors)
emit("yoloTarget", target)
emit("yoloLogits", logits.detach().numpy())
emit("yoloCost", [cost.item()])
emit("yoloGradient", logits.grad.numpy())

# YOLO decoding of the same logits: score = sigmoid(t0) * max softmax, boxes as corners.
t = logits.detach().numpy()
pc = 1 / (1 + np.exp(-t[..., 0]))
probs = np.exp(t[..., 5:] - t[..., 5:].max(-1, keepdims=True))
probs /= probs.sum(-1, keepdims=True)
cx = (np.arange(cols).reshape(1, 1, cols, 1) + 1 / (1 + np.exp(-t[..., 1]))) / cols
cy = (np.arange(rows).reshape(1, rows, 1, 1) + 1 / (1 + np.exp(-t[..., 2]))) / rows
h = anchors[:, 1].reshape(1, 1, 1, A) * np.exp(t[..., 3]) / rows
w = anchors[:, 0].reshape(1, 1, 1, A) * np.exp(t[..., 4]) / cols
emit("yoloDecodedCorners", np.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], -1))
emit("yoloDecodedScores", pc * probs.max(-1))
emit_ints("yoloDecodedClasses", probs.argmax(-1).ravel())

# --- Triplet loss (d=4, m=5): margin 0.2, some hinges active, some not --------
anchor = rng.standard_normal((4, 5))
positive = anchor + 0.3 * rng.standard_normal((4, 5))
negative = anchor + np.array([0.2, 2.0, 0.25, 3.0, 0.1]) * rng.standard_normal((4, 5))
ta, tp, tn = (torch.tensor(x, requires_grad=True) for x in (anchor, positive, negative))
triplet = torch.clamp(((ta - tp) ** 2).sum(0) - ((ta - tn) ** 2).sum(0) + 0.2, min=0).sum()
triplet.backward()
emit("tripletAnchor", anchor)
emit("tripletPositive", positive)
emit("tripletNegative", negative)
emit("tripletCost", [triplet.item()])
emit("tripletActive", (((anchor - positive) ** 2).sum(0) - ((anchor - negative) ** 2).sum(0) + 0.2 > 0).astype(float))
emit("tripletGradientAnchor", ta.grad.numpy())
emit("tripletGradientPositive", tp.grad.numpy())
emit("tripletGradientNegative", tn.grad.numpy())

# --- Gram matrix, content and style costs on (1, 3, 4, 5) activations ---------
nH, nW, nC = 3, 4, 5
content = rng.standard_normal((1, nH, nW, nC))
style = rng.standard_normal((1, nH, nW, nC))
generated = torch.tensor(rng.standard_normal((1, nH, nW, nC)), requires_grad=True)
unrolled = lambda a: a.reshape(nH * nW, nC).T          # the notes' A, (n_C, n_H*n_W)
gram_style = unrolled(torch.tensor(style)) @ unrolled(torch.tensor(style)).T
content_notes = 0.5 * ((torch.tensor(content) - generated) ** 2).sum()
content_assignment = ((torch.tensor(content) - generated) ** 2).sum() / (4 * nH * nW * nC)
style_cost = ((gram_style - unrolled(generated) @ unrolled(generated).T) ** 2).sum() / (2 * nH * nW * nC) ** 2
emit("styleContent", content)
emit("styleStyle", style)
emit("styleGenerated", generated.detach().numpy())
emit("styleGram", gram_style.numpy())
emit("contentCostNotes", [content_notes.item()])
emit("contentCostAssignment", [content_assignment.item()])
emit("styleLayerCost", [style_cost.item()])
(grad_style,) = torch.autograd.grad(style_cost, generated)
(grad_content,) = torch.autograd.grad(content_notes, generated)
emit("styleLayerGradient", grad_style.numpy())
emit("contentNotesGradient", grad_content.numpy())

# --- Mean average precision at IoU 0.5, VOC devkit style (sentinels, envelope) --
# Two images; class 0 has 3 truths, class 1 has 1, class 2 none (left out of the mean).
map_truths = [[(0, 0, 0, 2, 2), (0, 5, 5, 7, 7), (1, 0, 5, 2, 7)], [(0, 1, 1, 3, 3)]]   # (class, x1, y1, x2, y2)
map_dets = [[(0, 0.9, 0, 0, 2, 2), (0, 0.8, 0.1, 0, 2.1, 2), (0, 0.7, 5, 5, 7, 7.2), (1, 0.6, 0, 5, 2, 7), (2, 0.5, 9, 9, 10, 10)],
            [(0, 0.95, 4, 4, 5, 5), (0, 0.3, 1, 1, 3, 3), (1, 0.4, 1, 1, 3, 3)]]            # (class, score, x1, y1, x2, y2)


def voc_ap(k):
    gts = {i: np.array([t[1:] for t in ts if t[0] == k], dtype=float).reshape(-1, 4) for i, ts in enumerate(map_truths)}
    npos = sum(len(g) for g in gts.values())
    if npos == 0:
        return None
    dets = [(i, d[1], np.array(d[2:], dtype=float)) for i, ds in enumerate(map_dets) for d in ds if d[0] == k]
    dets.sort(key=lambda d: -d[1])                       # Python's sort is stable: ties stay in image order
    used = {i: np.zeros(len(g), dtype=bool) for i, g in gts.items()}
    tp = np.zeros(len(dets)); fp = np.zeros(len(dets))
    for n, (i, _, b) in enumerate(dets):
        g = gts[i]
        ov = pairwise_iou(b, g) if len(g) else np.array([])
        if len(ov) and ov.max() >= 0.5 and not used[i][ov.argmax()]:
            tp[n] = 1; used[i][ov.argmax()] = True
        else:
            fp[n] = 1
    tp, fp = np.cumsum(tp), np.cumsum(fp)
    rec, prec = tp / npos, tp / (tp + fp)
    mrec = np.concatenate([[0.0], rec, [1.0]]); mpre = np.concatenate([[0.0], prec, [0.0]])
    for j in range(len(mpre) - 2, -1, -1):
        mpre[j] = max(mpre[j], mpre[j + 1])
    idx = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[idx + 1] - mrec[idx]) * mpre[idx + 1]))


aps = [voc_ap(k) for k in range(3)]
out.append("    static let mapTruths: [[(Int, Double, Double, Double, Double)]] = " + repr(map_truths).replace("[(", "[(").replace("]]", "]]"))
out.append("    static let mapDetections: [[(Int, Double, Double, Double, Double, Double)]] = " + repr(map_dets))
emit("mapPerClass", [a for a in aps if a is not None])
emit("mapMean", [np.mean([a for a in aps if a is not None])])

print("// Generated by Reference/vision.py (numpy + PyTorch autograd, float64); do not edit.")
print("enum VisionReference {")
print("\n".join(out))
print("}")
