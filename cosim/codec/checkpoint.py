"""Codec checkpoints: save, verify and load (`torch.load(weights_only=True)`, never arbitrary pickles).

A checkpoint is a dict: format tag, version, codec config, training config, test metrics, the weights
(state dict of float tensors) and the SHA-256 of the weights. Anything corrupt, truncated, foreign or
whose weights do not match their hash raises `CheckpointError` naming the file.
`load_codec(spec)` takes a path or `builtin:NAME` (cosim/builtin/NAME.pt).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import torch

from cosim.codec.model import CODEC_KINDS, CodecConfig, SplitModel, build_split_model
from cosim.errors import CheckpointError
from cosim.io import atomic_write

FORMAT = "cosim-semanticnn-codec"
VERSION = 1
BUILTIN_DIR = Path(__file__).resolve().parents[1] / "builtin"


def weights_sha256(state_dict: dict[str, torch.Tensor]) -> str:
    """SHA-256 over the weights: for each key in sorted order, key, dtype, shape and raw bytes."""
    h = hashlib.sha256()
    for key in sorted(state_dict):
        t = state_dict[key].detach().cpu().contiguous()
        h.update(key.encode())
        h.update(str(t.dtype).encode())
        h.update(repr(tuple(t.shape)).encode())
        h.update(t.view(-1).view(torch.uint8).numpy().tobytes() if t.numel() else b"")
    return h.hexdigest()


def content_sha256(weights_digest: str, config: dict, train_config: dict, metrics: dict) -> str:
    """SHA-256 over everything a checkpoint says besides its weights (config, training config, metrics)
    and the weights' digest: a flipped `gray` or `ber_aware` flag is a different, refused, file."""
    text = json.dumps({"weights_sha256": weights_digest, "config": config, "train_config": train_config,
                       "metrics": metrics}, sort_keys=True, separators=(",", ":"), allow_nan=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


MAX_META_ITEMS = 10_000
MAX_META_DEPTH = 8


def _meta_problem(value, depth: int = 0, budget: list[int] | None = None) -> str | None:
    """What makes `value` unfit as checkpoint metadata (plain JSON-like data, bounded), or None."""
    budget = budget if budget is not None else [MAX_META_ITEMS]
    budget[0] -= 1
    if budget[0] < 0:
        return f"more than {MAX_META_ITEMS} values"
    if depth > MAX_META_DEPTH:
        return f"nested deeper than {MAX_META_DEPTH}"
    if value is None or isinstance(value, (bool, int, str)):
        return None if not isinstance(value, str) or len(value) <= 10_000 else "a text longer than 10,000 characters"
    if isinstance(value, float):
        return None
    if isinstance(value, (list, tuple)):
        return next((p for v in value if (p := _meta_problem(v, depth + 1, budget))), None)
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                return f"key {k!r} is not a string"
            problem = _meta_problem(v, depth + 1, budget)
            if problem:
                return f"{k}: {problem}"
        return None
    return f"a {type(value).__name__} is not plain data"


def _mapping(raw: dict, key: str, path: Path) -> dict:
    value = raw.get(key, {})
    value = {} if value is None else value
    if not isinstance(value, dict):
        raise CheckpointError(f"{path}: checkpoint '{key}' must be a mapping, got {type(value).__name__}")
    problem = _meta_problem(value)
    if problem:
        raise CheckpointError(f"{path}: checkpoint '{key}': {problem}")
    return value


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


@dataclass(frozen=True)
class CheckpointData:
    """The verified content of a checkpoint file."""

    path: Path
    config: CodecConfig
    state_dict: dict[str, torch.Tensor]
    train_config: dict
    metrics: dict
    weights_sha256: str
    file_sha256: str


def list_builtin() -> list[str]:
    """Names of the shipped checkpoints (usable as `builtin:NAME`)."""
    return sorted(p.stem for p in BUILTIN_DIR.glob("*.pt"))


def resolve(spec: str | Path) -> Path:
    """Path of a checkpoint spec (a path or `builtin:NAME`); CheckpointError if there is no such file."""
    text = str(spec)
    if text.startswith("builtin:"):
        name = text[len("builtin:"):]
        path = BUILTIN_DIR / f"{name}.pt"
        if not name or "/" in name or not path.is_file():
            from cosim.suggest import did_you_mean

            known = ["builtin:" + n for n in list_builtin()]
            raise CheckpointError(f"{text}: no such built-in codec{did_you_mean(text, known)} (available: "
                                  f"{', '.join(known) or 'none'})")
        return path
    path = Path(text).expanduser()
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file")
    return path


def save_checkpoint(path: str | Path, model: SplitModel, train_config: dict | None = None,
                    metrics: dict | None = None) -> str:
    """Write `model` atomically to `path`; returns the weights' SHA-256."""
    path = Path(path)
    state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
    digest = weights_sha256(state)
    config = dataclasses.asdict(model.config)
    config["image_shape"] = list(config["image_shape"])
    train_config, metrics = dict(train_config or {}), dict(metrics or {})
    for key, value in (("train_config", train_config), ("metrics", metrics)):
        problem = _meta_problem(value)
        if problem:
            raise CheckpointError(f"{path}: cannot save {key}: {problem}")
    payload = {"format": FORMAT, "version": VERSION, "config": config, "train_config": train_config,
               "metrics": metrics, "weights_sha256": digest,
               "content_sha256": content_sha256(digest, config, train_config, metrics), "state_dict": state}
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(path, lambda tmp: torch.save(payload, tmp))
    return digest


def read_checkpoint(spec: str | Path) -> CheckpointData:
    """Load and verify a checkpoint; CheckpointError naming the file if anything is wrong."""
    path = resolve(spec)
    with open(path, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise CheckpointError(f"{path}: not a cosim codec checkpoint (not a torch zip archive; empty, "
                              f"truncated at the start, or a foreign file)")
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # noqa: BLE001 - torch.load raises many types for corrupt/foreign files
        text = str(exc)
        if "Unsupported global" in text:
            reason = "it holds Python objects other than tensors and plain data (refused, never unpickled)"
        elif "Weights only load failed" in text:
            reason = "corrupt pickle data"
        else:
            lines = text.strip().splitlines()
            first = lines[0].split(". ")[0][:160] if lines else type(exc).__name__
            reason = f"corrupt or truncated ({first})"
        raise CheckpointError(f"{path}: not a readable cosim codec checkpoint: {reason}") from None
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a cosim codec checkpoint (foreign file: no "
                              f"'format: {FORMAT}' tag)")
    if raw.get("version") != VERSION:
        raise CheckpointError(f"{path}: checkpoint version {raw.get('version')!r} is not supported "
                              f"(expected {VERSION})")
    state = raw.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise CheckpointError(f"{path}: checkpoint has no valid 'state_dict' of tensors")
    digest = weights_sha256(state)
    if digest != raw.get("weights_sha256"):
        raise CheckpointError(f"{path}: weights do not match their SHA-256 (file tampered with or "
                              f"damaged)")
    if not isinstance(raw.get("config"), dict):
        raise CheckpointError(f"{path}: checkpoint 'config' must be a mapping")
    config_raw = _mapping(raw, "config", path)
    train_config, metrics = _mapping(raw, "train_config", path), _mapping(raw, "metrics", path)
    if raw.get("content_sha256") != content_sha256(digest, config_raw, train_config, metrics):
        state_ = "has no hash over its settings (written by an older cosim: retrain it)" \
            if "content_sha256" not in raw else "settings do not match their SHA-256 (edited or damaged)"
        raise CheckpointError(f"{path}: checkpoint {state_}")
    try:
        fields = dict(raw["config"])
        fields["image_shape"] = tuple(int(v) for v in fields["image_shape"])
        config = CodecConfig(**fields)
    except (KeyError, TypeError, ValueError) as exc:
        raise CheckpointError(f"{path}: invalid codec config in checkpoint: {exc}") from None
    problem = config_problem(config)
    if problem:
        raise CheckpointError(f"{path}: invalid codec config in checkpoint: {problem}")
    return CheckpointData(path=path, config=config, state_dict=state,
                          train_config=train_config, metrics=metrics, weights_sha256=digest,
                          file_sha256=file_sha256(path))


# The SHA-256 covers the weights, not the config: a config is checked field by field before any model
# is built from it (wrong types or absurd sizes would crash torch or allocate without bound).
_CONFIG_INTS = {"num_classes": (1, 100_000), "bits": (1, 16), "channels": (1, 1024), "kernel": (1, 64),
                "decoder_width": (1, 4096), "local_channels": (0, 1024)}
_CONFIG_BOOLS = ("gray", "ber_aware", "fal", "xai", "erasures")
_CONFIG_STRS = ("name", "dataset", "backbone", "task", "kind")
MAX_IMAGE_SIDE = 1024


def config_problem(config: CodecConfig) -> str | None:
    """What is wrong with a codec config read from a file (types and ranges), or None."""
    for name in _CONFIG_STRS:
        if not isinstance(getattr(config, name), str):
            return f"{name} must be a string, got {getattr(config, name)!r}"
    for name, (lo, hi) in _CONFIG_INTS.items():
        v = getattr(config, name)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            return f"{name} must be an integer in {lo}..{hi}, got {v!r}"
    for name in _CONFIG_BOOLS:
        if not isinstance(getattr(config, name), bool):
            return f"{name} must be true or false, got {getattr(config, name)!r}"
    if config.kind not in CODEC_KINDS:
        return f"kind must be one of {', '.join(CODEC_KINDS.names())}, got {config.kind!r}"
    shape = config.image_shape
    if len(shape) != 3 or not 1 <= shape[0] <= 16 or not all(1 <= v <= MAX_IMAGE_SIDE for v in shape[1:]):
        return f"image_shape must be (channels 1..16, height, width 1..{MAX_IMAGE_SIDE}), got {shape!r}"
    p = config.power_rms
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 < p < 1e6:
        return f"power_rms must be a positive number, got {p!r}"
    return None


def build_model(data: CheckpointData) -> SplitModel:
    """A `SplitModel` with the checkpoint's architecture and weights (a checkpoint without int8 device
    scales keeps a float32 device side)."""
    try:
        model = build_split_model(data.config)
        state = dict(data.state_dict)
        # checkpoints written before the int8 device side: keep their float device (scales zero)
        state.setdefault("device_act_scales", model.device_act_scales.clone())
        model.load_state_dict(state, strict=True)
    except (RuntimeError, ValueError, TypeError, ArithmeticError) as exc:
        lines = str(exc).strip().splitlines()
        first = lines[0] if lines else type(exc).__name__
        raise CheckpointError(f"{data.path}: weights do not fit the codec config: {first[:200]}") from None
    return model


def load_codec(spec: str | Path):
    """The `Codec` stored at `spec` (a path or `builtin:NAME`)."""
    from cosim.codec.service import Codec

    data = read_checkpoint(spec)
    model = build_model(data)
    name = str(spec)[len("builtin:"):] if str(spec).startswith("builtin:") else data.config.name
    return Codec(model, name=name or data.path.stem, sha256=data.file_sha256,
                 weights_sha256=data.weights_sha256, metrics=data.metrics, train_config=data.train_config)
