"""The `shapes` data set: procedural 32×32 RGB scenes of 1–3 shapes, label = largest shape's class.

Each scene has a colour-gradient background with Gaussian colour noise and 1–3 non-overlapping shapes
(circle, square, triangle, cross, ring, diamond) of random colour, size, aspect and orientation. The
label is the class of the shape with the largest box; boxes are (class, x0, y0, x1, y1) in pixel edges
(pixel i spans [i, i+1]) and are the tight bounds of the drawn pixels. Generation is vectorised and
deterministic per seed (`numpy.random.SeedSequence(seed)` spawns the train and test streams).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from cosim.data.dataset import Dataset
from cosim.errors import DataError

IMAGE_SIZE = 32
TRAIN_SIZE = 6000
TEST_SIZE = 1500
MAX_SHAPES = 3
CLASS_NAMES = ("circle", "square", "triangle", "cross", "ring", "diamond")
SOURCE = "procedural (cosim.data.shapes), 1-3 shapes on noisy gradients, label = largest shape"

_SECONDARY_FRACTION = 0.7            # largest distractor side / main side
_ASPECT = (0.87, 1.15)               # width/height stretch
_GAP_PX = 1.0                        # minimum gap between nominal boxes
_PLACEMENT_TRIES = 25
_CHUNK = 1024                        # images rendered per vectorised chunk (bounds temporaries)


@dataclass(frozen=True)
class SceneSpec:
    """Geometry and appearance of a family of scenes (`SHAPES` here, `cosim.data.camera.CAMERA`)."""

    size: int = IMAGE_SIZE
    max_shapes: int = MAX_SHAPES
    primary_px: tuple[float, float] = (10.0, 20.0)  # side of the main shape's nominal box
    secondary_min_px: float = 5.0                    # smallest side of a distractor
    noise_sigma: tuple[float, float] = (0.02, 0.08)  # per-image Gaussian pixel noise
    gratings: int = 0                                # background texture: random sinusoidal gratings
    grating_amplitude: float = 0.0                   # largest amplitude of one grating, per channel
    grating_cycles: tuple[float, float] = (1.0, 8.0)  # spatial frequency, cycles per image side


SHAPES = SceneSpec()


@dataclass(frozen=True)
class Scenes:
    """Rendered scenes: images (N,3,H,W) float32, labels int64, boxes per image, shape-index masks."""

    images: np.ndarray
    labels: np.ndarray
    boxes: tuple[np.ndarray, ...]
    masks: np.ndarray  # (N, H, W) int8: index into boxes[i] of the shape covering the pixel, -1 = background


@dataclass(frozen=True)
class _Params:
    """Per-slot shape parameters, arrays of shape (N, slots) (colour: (N, slots, 3))."""

    present: np.ndarray
    kind: np.ndarray
    cx: np.ndarray
    cy: np.ndarray
    rx: np.ndarray
    ry: np.ndarray
    turn: np.ndarray
    thickness: np.ndarray
    colour: np.ndarray


def _overlaps(p: _Params, j: int, i: int, rows: np.ndarray) -> np.ndarray:
    """Whether nominal boxes of slots j and i (with the gap) overlap, for the given rows."""
    return ((np.abs(p.cx[rows, j] - p.cx[rows, i]) < p.rx[rows, j] + p.rx[rows, i] + _GAP_PX)
            & (np.abs(p.cy[rows, j] - p.cy[rows, i]) < p.ry[rows, j] + p.ry[rows, i] + _GAP_PX))


def _draw_params(n: int, rng: np.random.Generator, bg_mean: np.ndarray, spec: SceneSpec) -> _Params:
    """Draw kinds, sizes, non-overlapping positions and contrasting colours for n scenes."""
    k = len(CLASS_NAMES)
    slots, size = spec.max_shapes, spec.size
    shape = (n, slots)
    kind = rng.integers(0, k, size=shape)
    kind[:, 0] = rng.permutation(np.arange(n) % k)          # main shape: balanced classes
    count = rng.integers(1, slots + 1, size=n)
    side = np.empty(shape)
    side[:, 0] = rng.uniform(*spec.primary_px, size=n)
    for j in range(1, slots):
        side[:, j] = rng.uniform(spec.secondary_min_px, _SECONDARY_FRACTION * side[:, 0])
    aspect = rng.uniform(*_ASPECT, size=shape)
    rx, ry = side / 2 * aspect, side / 2 / aspect
    p = _Params(
        present=np.arange(slots)[None, :] < count[:, None], kind=kind,
        cx=rng.uniform(rx, size - rx), cy=rng.uniform(ry, size - ry), rx=rx, ry=ry,
        turn=rng.integers(0, 4, size=shape), thickness=rng.uniform(0.28, 0.45, size=shape),
        colour=np.empty((n, slots, 3)))
    for j in range(1, slots):                           # rejection sampling, vectorised
        bad = p.present[:, j].copy()
        for _ in range(_PLACEMENT_TRIES):
            rows = np.flatnonzero(bad)
            clash = np.zeros(rows.size, dtype=bool)
            for i in range(j):
                clash |= p.present[rows, i] & _overlaps(p, j, i, rows)
            bad[rows[~clash]] = False
            rows = rows[clash]
            if rows.size == 0:
                break
            p.cx[rows, j] = rng.uniform(p.rx[rows, j], size - p.rx[rows, j])
            p.cy[rows, j] = rng.uniform(p.ry[rows, j], size - p.ry[rows, j])
        p.present[bad, j] = False                            # no room left: drop the distractor
    delta = rng.uniform(0.25, 0.5, size=(n, slots, 3))  # per-channel contrast to the background
    toward = np.where(bg_mean[:, None, :] < 0.5, 1.0, -1.0)
    p.colour[:] = bg_mean[:, None, :] + toward * delta
    return p


def _shape_masks(kind: np.ndarray, u: np.ndarray, v: np.ndarray, thickness: np.ndarray) -> np.ndarray:
    """Boolean masks (n,H,W) of each row's shape kind in normalised coordinates u, v ∈ [-1, 1]."""
    t = thickness[:, None, None]
    r2 = u * u + v * v
    au, av = np.abs(u), np.abs(v)
    tests = (
        r2 <= 1.0,                                                   # circle
        np.maximum(au, av) <= 0.92,                                  # square
        (v <= 0.9) & (au <= (v + 1.0) * 0.5),                        # triangle (apex at v = -1)
        ((au <= t) & (av <= 1.0)) | ((av <= t) & (au <= 1.0)),       # cross
        (r2 <= 1.0) & (r2 >= (1.0 - t) ** 2),                        # ring
        au + av <= 1.0,                                              # diamond
    )
    mask = np.zeros(u.shape, dtype=bool)
    for k, test in enumerate(tests):
        mask |= (kind == k)[:, None, None] & test
    return mask


def _texture(n: int, rng: np.random.Generator, spec: SceneSpec, gx: np.ndarray,
             gy: np.ndarray) -> np.ndarray:
    """Background texture (n,3,H,W): a sum of `spec.gratings` random oriented sinusoidal gratings,
    each with its own frequency, phase and per-channel amplitude (0 where `spec.gratings` is 0)."""
    size = spec.size
    texture = np.zeros((n, 3, size, size), dtype=np.float32)
    for _ in range(spec.gratings):
        angle = rng.uniform(0.0, np.pi, size=n)
        cycles = rng.uniform(*spec.grating_cycles, size=n)
        phase = rng.uniform(0.0, 2 * np.pi, size=n)
        amp = rng.uniform(0.0, spec.grating_amplitude, size=(n, 3)).astype(np.float32)
        kx = (2 * np.pi * cycles * np.cos(angle) / size).astype(np.float32)[:, None, None]
        ky = (2 * np.pi * cycles * np.sin(angle) / size).astype(np.float32)[:, None, None]
        wave = np.sin(kx * gx + ky * gy + phase.astype(np.float32)[:, None, None])  # (n,H,W)
        texture += amp[:, :, None, None] * wave[:, None]
    return texture


def _render_chunk(p: _Params, rows: slice, rng: np.random.Generator, c0: np.ndarray,
                  c1: np.ndarray, direction: np.ndarray, noise: bool,
                  spec: SceneSpec) -> tuple[np.ndarray, np.ndarray]:
    """Render scenes `rows`: images (n,3,H,W) and slot masks (n,H,W) (-1 = background)."""
    size = spec.size
    grid = np.arange(size, dtype=np.float32) + 0.5
    gx, gy = grid[None, None, :], grid[None, :, None]
    dx, dy = direction[rows, 0, None, None], direction[rows, 1, None, None]
    ramp = ((gx - size / 2) * dx + (gy - size / 2) * dy) / size + 0.5
    ramp = ramp.astype(np.float32)[:, None]                             # (n,1,H,W) in ~[0, 1]
    image = c0[rows, :, None, None] + (c1 - c0)[rows, :, None, None] * ramp
    if spec.gratings:
        image = image + _texture(ramp.shape[0], rng, spec, gx, gy)
    slots = np.full((ramp.shape[0], size, size), -1, dtype=np.int8)
    for j in range(spec.max_shapes):
        cx, cy, rx, ry = (a[rows, j, None, None].astype(np.float32) for a in (p.cx, p.cy, p.rx, p.ry))
        u, v = (gx - cx) / rx, (gy - cy) / ry
        turn = p.turn[rows, j]
        cos = np.choose(turn, (1, 0, -1, 0))[:, None, None]
        sin = np.choose(turn, (0, 1, 0, -1))[:, None, None]
        u, v = cos * u + sin * v, cos * v - sin * u
        mask = _shape_masks(p.kind[rows, j], u, v, p.thickness[rows, j].astype(np.float32))
        mask &= p.present[rows, j, None, None]
        slots[mask] = j
        image = np.where(mask[:, None], p.colour[rows, j, :, None, None].astype(np.float32), image)
    if noise:
        sigma = rng.uniform(*spec.noise_sigma, size=(image.shape[0], 1, 1, 1))
        image = image + sigma * rng.standard_normal(image.shape, dtype=np.float32)
    return np.clip(image, 0.0, 1.0).astype(np.float32), slots


def _boxes_and_labels(p: _Params, slots: np.ndarray) -> tuple[tuple[np.ndarray, ...], np.ndarray, np.ndarray]:
    """Tight boxes from the slot masks, labels (class of largest box) and masks renumbered per box."""
    n, size = slots.shape[0], slots.shape[-1]
    bounds = np.zeros((n, p.kind.shape[1], 4), dtype=np.float32)
    drawn = np.zeros((n, p.kind.shape[1]), dtype=bool)
    for j in range(p.kind.shape[1]):
        m = slots == j
        cols, rows = m.any(axis=1), m.any(axis=2)
        drawn[:, j] = cols.any(axis=1)
        bounds[:, j, 0] = cols.argmax(axis=1)
        bounds[:, j, 1] = rows.argmax(axis=1)
        bounds[:, j, 2] = size - cols[:, ::-1].argmax(axis=1)
        bounds[:, j, 3] = size - rows[:, ::-1].argmax(axis=1)
    area = (bounds[..., 2] - bounds[..., 0]) * (bounds[..., 3] - bounds[..., 1])
    area[~drawn] = -1.0
    labels = p.kind[np.arange(n), area.argmax(axis=1)].astype(np.int64)
    boxes, masks = [], np.full_like(slots, -1)
    for i in range(n):
        kept = np.flatnonzero(drawn[i])
        boxes.append(np.column_stack([p.kind[i, kept].astype(np.float32), bounds[i, kept]]))
        for new, j in enumerate(kept):
            masks[i][slots[i] == j] = new
    return tuple(boxes), labels, masks


def generate_scenes(n: int, rng: np.random.Generator, noise: bool = True, spec: SceneSpec = SHAPES) -> Scenes:
    """Render n scenes of `spec` from `rng` (noise=False: no pixel noise, for checking boxes)."""
    c0 = rng.uniform(0.1, 0.9, size=(n, 3)).astype(np.float32)
    c1 = np.clip(c0 + rng.uniform(-0.3, 0.3, size=(n, 3)), 0.0, 1.0).astype(np.float32)
    angle = rng.uniform(0.0, 2 * np.pi, size=n)
    direction = np.column_stack([np.cos(angle), np.sin(angle)]).astype(np.float32)
    p = _draw_params(n, rng, (c0 + c1) / 2, spec)
    images = np.empty((n, 3, spec.size, spec.size), dtype=np.float32)
    slots = np.empty((n, spec.size, spec.size), dtype=np.int8)
    for start in range(0, n, _CHUNK):
        rows = slice(start, min(n, start + _CHUNK))
        images[rows], slots[rows] = _render_chunk(p, rows, rng, c0, c1, direction, noise, spec)
    boxes, labels, masks = _boxes_and_labels(p, slots)
    return Scenes(images=images, labels=labels, boxes=boxes, masks=masks)


def load_shapes_dataset(seed: int = 0, train_size: int = TRAIN_SIZE, test_size: int = TEST_SIZE) -> Dataset:
    """Generate the shapes data set for `seed` (train and test from independent spawned streams)."""
    if int(seed) < 0:
        raise DataError(f"data set 'shapes': seed must be a non-negative integer, got {seed}")
    train_rng, test_rng = (np.random.default_rng(s) for s in np.random.SeedSequence(int(seed)).spawn(2))
    train, test = generate_scenes(train_size, train_rng), generate_scenes(test_size, test_rng)
    return Dataset(
        name="shapes", x_train=train.images, y_train=train.labels, x_test=test.images,
        y_test=test.labels, num_classes=len(CLASS_NAMES), class_names=CLASS_NAMES,
        boxes_train=train.boxes, boxes_test=test.boxes, source=f"{SOURCE}, seed {int(seed)}")
