"""A small single-shot, anchor-free detector split like the classifiers: stem | tail + grid head.

Architecture: the classifier's stem, then its tail without pooling (for `resnet8`: three ResNet basic
blocks, 32x32 -> 8x8 at stride 4), then a head (3x3 conv + BN + ReLU, 1x1 conv) giving per grid cell
K class logits and 4 box numbers (CenterNet-style, Zhou et al. 2019): a cell predicts an object whose
box centre falls in it; (ox, oy) = sigmoid of the centre's offset inside the cell, (lw, lh) = log of the
box size in cells.

Training targets per cell: a Gaussian class heatmap (1 exactly at centre cells, sigma = box side / 6 in
cells, at least 0.3), box numbers at centre cells. Loss: CenterNet's penalty-reduced focal loss on the
heatmap + L1 on the box numbers + GIoU of the decoded boxes, normalised by the number of objects.
Decoding: sigmoid scores, a 3x3 max-pool keeps local peaks per class (no NMS needed on this grid), the
top MAX_DETECTIONS peaks above MIN_SCORE, scores rounded to the 1/1000 grid of `cosim.tasks.detection.ap`.
Augmentation: the 8 flips/transposes of the square image (every shapes class is invariant under them),
applied to images and dense targets alike.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from cosim.tasks.detection.ap import SCORE_LEVELS, ImageMatch, match_image

MAX_DETECTIONS = 10
MIN_SCORE = 0.01
BOX_NUMBERS = 4  # ox, oy, lw, lh
OPERATING_SCORE = 0.5  # confidence at which the engine counts "matched boxes" per image


class Detections:
    """One image's detections: boxes (D, 4) float32 pixel edges, scores (D,) float32, classes (D,) int64.

    Immutable by convention; `match` memoises its result (the engine's decoder cache hands one object to
    every error-free inference of the same sample, so the memo is exact).
    """

    __slots__ = ("_match", "boxes", "classes", "scores")

    def __init__(self, boxes: np.ndarray, scores: np.ndarray, classes: np.ndarray) -> None:
        self.boxes = boxes
        self.scores = scores
        self.classes = classes
        self._match: ImageMatch | None = None

    def __len__(self) -> int:
        return len(self.scores)

    def match(self, gt: np.ndarray, num_classes: int) -> ImageMatch:
        """Matched against ground truth gt (G, 5) rows (class, x0, y0, x1, y1); computed once."""
        if self._match is None:
            gt = np.asarray(gt, dtype=np.float64).reshape(-1, 5)
            self._match = match_image(self.boxes, self.scores, self.classes, gt[:, 1:], gt[:, 0].astype(np.int64),
                                      num_classes)
        return self._match


class DetectionHead(nn.Module):
    """3x3 conv + BN + ReLU, then a 1x1 conv to K class logits + 4 box numbers per cell."""

    def __init__(self, cin: int, num_classes: int, width: int = 64) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, width, 3, 1, 1, bias=False)
        self.bn = nn.BatchNorm2d(width)
        self.out = nn.Conv2d(width, num_classes + BOX_NUMBERS, 1)
        with torch.no_grad():
            self.out.bias.zero_()
            self.out.bias[:num_classes].fill_(-2.19)  # initial scores ~0.1, as CenterNet

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """(B, K + 4, G, G) raw head output."""
        return self.out(F.relu(self.bn(self.conv(x))))


def build_detector(name: str, image_shape: tuple[int, int, int], num_classes: int):
    """The detection `Backbone` (stem | tail + head) of backbone `name` (`small-cnn` or `resnet8`)."""
    from cosim.codec.model import Backbone, BasicBlock

    cin, height, _ = image_shape
    if name == "resnet8":
        stem = [nn.Conv2d(cin, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        tail = [BasicBlock(16, 16, 1), BasicBlock(16, 32, 2), BasicBlock(32, 64, 2), DetectionHead(64, num_classes)]
        return Backbone(nn.Sequential(*stem), nn.Sequential(*tail))
    if name == "small-cnn":
        stem = [nn.Conv2d(cin, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU()]
        if height >= 16:
            stem.append(nn.MaxPool2d(2))
        tail = [nn.Conv2d(16, 32, 3, 2, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(),
                nn.Conv2d(32, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU(),
                DetectionHead(64, num_classes, width=32)]
        return Backbone(nn.Sequential(*stem), nn.Sequential(*tail))
    raise ValueError(f"unknown detector backbone {name!r}; known: resnet8, small-cnn")


# -- targets ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Targets:
    """Dense training targets: heat (N, K, G, G), box numbers (N, 4, G, G), centre cells (N, G, G) bool."""

    heat: torch.Tensor
    box: torch.Tensor
    centre: torch.Tensor

    def __getitem__(self, idx) -> Targets:
        return Targets(self.heat[idx], self.box[idx], self.centre[idx])


def encode_targets(boxes: Sequence[np.ndarray], num_classes: int, grid: int, stride: float) -> Targets:
    """Targets of images with ground truth rows (class, x0, y0, x1, y1) on a grid x grid head."""
    n = len(boxes)
    heat = np.zeros((n, num_classes, grid, grid), dtype=np.float32)
    box = np.zeros((n, BOX_NUMBERS, grid, grid), dtype=np.float32)
    centre = np.zeros((n, grid, grid), dtype=bool)
    cells = np.arange(grid, dtype=np.float32)
    for i, rows in enumerate(boxes):
        for k, x0, y0, x1, y1 in np.asarray(rows, dtype=np.float64).reshape(-1, 5):
            cx, cy = (x0 + x1) / 2 / stride, (y0 + y1) / 2 / stride
            w, h = (x1 - x0) / stride, (y1 - y0) / stride
            ci, cj = min(int(cy), grid - 1), min(int(cx), grid - 1)
            sigma = max(0.3, max(w, h) / 6.0)
            g = np.exp(-((cells[:, None] - ci) ** 2 + (cells[None, :] - cj) ** 2) / (2 * sigma * sigma))
            heat[i, int(k)] = np.maximum(heat[i, int(k)], g)
            heat[i, int(k), ci, cj] = 1.0
            box[i, :, ci, cj] = (cx - cj, cy - ci, np.log(max(w, 1e-3)), np.log(max(h, 1e-3)))
            centre[i, ci, cj] = True
    return Targets(torch.from_numpy(heat), torch.from_numpy(box), torch.from_numpy(centre))


def augment(x: torch.Tensor, t: Targets, gen: torch.Generator) -> tuple[torch.Tensor, Targets]:
    """A random flip/transpose (one of 8) per image, applied to images and targets alike."""
    n = x.shape[0]
    heat, box, centre = t.heat.clone(), t.box.clone(), t.centre.clone()
    x = x.clone()
    draws = torch.randint(0, 2, (3, n), generator=gen).bool()
    for kind in range(3):
        m = draws[kind]
        if not m.any():
            continue
        if kind == 2:  # transpose: swap x and y, and the box numbers' x/y parts
            x[m] = x[m].transpose(-1, -2)
            heat[m] = heat[m].transpose(-1, -2)
            box[m] = box[m].transpose(-1, -2)[:, [1, 0, 3, 2]]
            centre[m] = centre[m].transpose(-1, -2)
            continue
        dim = -1 if kind == 0 else -2  # horizontal / vertical flip
        x[m] = x[m].flip(dim)
        heat[m] = heat[m].flip(dim)
        b = box[m].flip(dim)
        b[:, kind] = 1.0 - b[:, kind]  # the centre offset inside the cell is mirrored
        box[m] = b
        centre[m] = centre[m].flip(dim)
    return x, Targets(heat, box, centre)


# -- loss ------------------------------------------------------------------------------------------------
def _boxes_from_numbers(numbers: torch.Tensor, cells_x: torch.Tensor, cells_y: torch.Tensor) -> torch.Tensor:
    """(P, 4) box numbers (ox, oy, lw, lh) at cells -> (P, 4) boxes in cell units (x0, y0, x1, y1)."""
    cx, cy = cells_x + numbers[:, 0], cells_y + numbers[:, 1]
    w, h = numbers[:, 2].clamp(max=4.0).exp(), numbers[:, 3].clamp(max=4.0).exp()
    return torch.stack([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], dim=1)


def _giou(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Generalised IoU of matching rows of boxes a, b (P, 4)."""
    area_a = (a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])
    area_b = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
    lt, rb = torch.maximum(a[:, :2], b[:, :2]), torch.minimum(a[:, 2:], b[:, 2:])
    inter = (rb - lt).clamp(min=0).prod(1)
    union = area_a + area_b - inter
    hull = (torch.maximum(a[:, 2:], b[:, 2:]) - torch.minimum(a[:, :2], b[:, :2])).prod(1)
    return inter / union.clamp(min=1e-9) - (hull - union) / hull.clamp(min=1e-9)


def detection_loss(out: torch.Tensor, t: Targets) -> torch.Tensor:
    """Focal heatmap loss + L1 box numbers + (1 - GIoU), each per object."""
    k = t.heat.shape[1]
    logits = out[:, :k]
    pos = t.heat == 1.0
    num = pos.sum().clamp(min=1).to(out.dtype)
    log_p, log_q = F.logsigmoid(logits), F.logsigmoid(-logits)
    p = log_p.exp()
    pos_loss = -(log_p * (1 - p) ** 2)[pos].sum()
    neg_loss = -(log_q * p ** 2 * (1 - t.heat) ** 4)[~pos].sum()
    loss = (pos_loss + neg_loss) / num
    cells = t.centre.nonzero()  # (P, 3): image, row, col
    if len(cells):
        raw = out[cells[:, 0], k:, cells[:, 1], cells[:, 2]]
        pred = torch.cat([torch.sigmoid(raw[:, :2]), raw[:, 2:]], dim=1)
        target = t.box[cells[:, 0], :, cells[:, 1], cells[:, 2]]
        loss = loss + F.l1_loss(pred, target, reduction="sum") / num
        cx, cy = cells[:, 2].to(out.dtype), cells[:, 1].to(out.dtype)
        giou = _giou(_boxes_from_numbers(pred, cx, cy), _boxes_from_numbers(target, cx, cy))
        loss = loss + (1.0 - giou).sum() / num
    return loss


def class_score(out: torch.Tensor, t: Targets) -> torch.Tensor:
    """(B,) sum of the true class logits at the objects' centre cells (the XAI attribution target)."""
    k = t.heat.shape[1]
    return (out[:, :k] * (t.heat == 1.0)).flatten(1).sum(1)


# -- decoding --------------------------------------------------------------------------------------------
def decode(out: torch.Tensor, num_classes: int, stride: float, image_hw: tuple[int, int],
           max_detections: int = MAX_DETECTIONS, min_score: float = MIN_SCORE) -> list[Detections]:
    """Per-image detections from the head output (B, K + 4, G, G)."""
    b, _, g, _ = out.shape
    scores = torch.sigmoid(out[:, :num_classes].float())
    peaks = scores == F.max_pool2d(scores, 3, 1, 1)
    flat = (scores * peaks).flatten(1)
    top = min(max_detections, flat.shape[1])
    best, where = flat.topk(top, dim=1)
    cls = torch.div(where, g * g, rounding_mode="floor")
    cell = where % (g * g)
    row, col = torch.div(cell, g, rounding_mode="floor"), cell % g
    box = out[:, num_classes:].float().flatten(2).gather(2, cell.unsqueeze(1).expand(b, BOX_NUMBERS, top))
    cx = (col + torch.sigmoid(box[:, 0])) * stride
    cy = (row + torch.sigmoid(box[:, 1])) * stride
    w = box[:, 2].clamp(max=8.0).exp() * stride
    h = box[:, 3].clamp(max=8.0).exp() * stride
    height, width = image_hw
    boxes = torch.stack([(cx - w / 2).clamp(0, width), (cy - h / 2).clamp(0, height),
                         (cx + w / 2).clamp(0, width), (cy + h / 2).clamp(0, height)], dim=2)
    level = torch.round(best * SCORE_LEVELS)
    keep = (best >= min_score) & (level > 0)
    boxes_np, level_np, cls_np, keep_np = boxes.numpy(), level.numpy(), cls.numpy(), keep.numpy()
    out_list = []
    for i in range(b):
        m = keep_np[i]
        out_list.append(Detections(boxes_np[i][m].astype(np.float32),
                                   (level_np[i][m] / SCORE_LEVELS).astype(np.float32),
                                   cls_np[i][m].astype(np.int64)))
    return out_list


def as_object_array(items: list) -> np.ndarray:
    """A 1-D object array holding `items` (numpy would otherwise try to stack them)."""
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


# -- the training task -----------------------------------------------------------------------------------
class DetectionTask:
    """What training needs for detection: batches with targets, the loss, the XAI target, the test score."""

    name = "detection"

    def __init__(self, x: torch.Tensor, boxes: Sequence[np.ndarray], num_classes: int, grid: int,
                 stride: float) -> None:
        self.x = x
        self.targets = encode_targets(boxes, num_classes, grid, stride)
        self.num_classes = num_classes

    def __len__(self) -> int:
        return self.x.shape[0]

    def batch(self, idx: torch.Tensor, augment_on: bool, gen: torch.Generator) -> tuple[torch.Tensor, Targets]:
        """Images and targets of rows `idx`, randomly flipped/transposed if asked."""
        xb, tb = self.x[idx], self.targets[idx]
        return augment(xb, tb, gen) if augment_on else (xb, tb)

    def loss(self, out: torch.Tensor, target: Targets) -> torch.Tensor:
        """Detection loss of head outputs."""
        return detection_loss(out, target)

    def attribution(self, forward: Callable[[torch.Tensor], torch.Tensor],
                    target: Targets) -> tuple[Callable[[torch.Tensor], torch.Tensor], torch.Tensor]:
        """(forward giving (B, 1) true-class scores, target index 0) for `xai.attributions`."""
        def score(s: torch.Tensor) -> torch.Tensor:
            return class_score(forward(s), target).unsqueeze(1)
        return score, torch.zeros(target.heat.shape[0], dtype=torch.int64)
