"""The `Codec` the engine uses: deterministic encoding, batched BER-aware decoding + classification.

Encoding runs the int8 device side (`int8.py`) when the checkpoint carries its calibration, as the MCU
does; older checkpoints encode with the float32 stem and encoder.

Also the uncompressed model (`classify_full`) and the bit-exact int8 split baseline (`split_int8`,
`classify_split_int8`: the same stem features as uint8, per-tensor scale, decoded byte for byte).

Every task (`config.task`, a `cosim.tasks` name) has the same interface; its task turns head outputs
into predictions: class indices, or a 1-D object array of per-image `Detections` for detection.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

from cosim.codec import costs
from cosim.codec.erasure import ERASED_VALUE
from cosim.codec.fast import optimise_for_inference
from cosim.codec.int8 import Int8Device
from cosim.codec.model import CodecConfig, SplitModel, channel_state
from cosim.codec.quantize import pack_symbols, payload_bytes, unpack_symbols
from cosim.tasks.base import get_task

ENCODE_CHUNK = 512


@dataclass(frozen=True)
class CodecMeta:
    """What the engine and reports need to know about a codec (sizes in bits/bytes, compute in MACs)."""

    name: str
    dataset: str
    backbone: str
    bits: int
    channels: int
    symbol_shape: tuple[int, int, int]
    num_symbols: int
    payload_bits: int
    payload_bytes: int
    split_feature_shape: tuple[int, int, int]
    split_feature_bits_float32: int
    split_feature_bits_int8: int
    compression_ratio: float  # split_feature_bits_float32 / payload_bits
    stem_macs: int  # stem only (the device side of the int8 split baseline)
    device_macs: int  # stem + encoder
    encoder_macs: int  # = device_macs (what the MCU computes)
    edge_macs: int  # decoder + tail
    full_model_macs: int  # stem + tail, uncompressed
    split_int8_edge_macs: int  # tail only
    device_params: int
    flash_bytes_int8: int
    peak_activation_bytes_int8: int
    fits_boards: tuple[str, ...]
    gray: bool
    ber_aware: bool
    fal: bool
    xai: bool
    num_classes: int
    image_shape: tuple[int, int, int]
    sha256: str  # of the checkpoint file
    weights_sha256: str  # of the weights (checked on load)
    task: str = "classification"  # or "detection"
    device_int8: bool = False  # stem + encoder conv run in int8 (calibrated, `int8.py`); else float32
    erasures: bool = False  # trained to decode payloads with erased (lost-frame) symbols
    kind: str = "semanticnn"  # architecture (`model.CODEC_KINDS`): semanticnn, adjscc, agilenn
    encoder_uses_ber: bool = False  # the device encoder takes the channel state (ADJSCC): `encode(x, ber=...)`


def _measure(model: SplitModel, config: CodecConfig, name: str, sha256: str,
             weights_sha256: str) -> CodecMeta:
    """Count MACs, parameters and memory of every part with forward hooks on a single sample."""
    x = torch.zeros(1, *config.image_shape)
    stem_shape = model.stem_shape()
    sym_shape = model.symbol_shape()
    num_symbols = model.num_symbols()
    nbytes = payload_bytes(num_symbols, config.bits)
    feat = torch.zeros(1, *stem_shape)
    sym = torch.zeros(1, num_symbols)
    state = torch.zeros(1)
    # the device side: stem + encoder (with a baseline's local predictor or attention modules)
    device = torch.nn.ModuleList([model.backbone.stem, model.encoder])

    def run_device() -> None:
        model.encode_features(model.backbone.stem(x), state)

    device_macs = costs.count_macs(device, run_device)
    decoder_macs = costs.count_macs(model.decoder, lambda: model.decode_logits(sym, state))
    tail_macs = costs.count_macs(model.backbone.tail, lambda: model.backbone.tail(feat))
    stem_macs = costs.count_macs(model.backbone.stem, lambda: model.backbone.stem(x))
    flash = costs.flash_bytes_int8([model.backbone.stem, model.encoder], model.quantizer.levels)
    peak = costs.peak_activation_bytes(device, run_device, extra_bytes=nbytes)
    boards = costs.board_costs(device_macs, flash, peak)
    float_bits = int(np.prod(stem_shape)) * 32
    return CodecMeta(
        name=name, dataset=config.dataset, backbone=config.backbone, bits=config.bits,
        channels=config.channels, symbol_shape=sym_shape, num_symbols=num_symbols,
        payload_bits=num_symbols * config.bits, payload_bytes=nbytes, split_feature_shape=stem_shape,
        split_feature_bits_float32=float_bits, split_feature_bits_int8=float_bits // 4,
        compression_ratio=float_bits / (num_symbols * config.bits),
        stem_macs=stem_macs, device_macs=device_macs, encoder_macs=device_macs, edge_macs=decoder_macs + tail_macs,
        full_model_macs=stem_macs + tail_macs, split_int8_edge_macs=tail_macs,
        device_params=costs.param_count([model.backbone.stem, model.encoder, model.quantizer]),
        flash_bytes_int8=flash, peak_activation_bytes_int8=peak,
        fits_boards=tuple(b.board for b in boards if b.fits), gray=config.gray,
        ber_aware=config.ber_aware, fal=config.fal, xai=config.xai, num_classes=config.num_classes,
        image_shape=tuple(config.image_shape), sha256=sha256, weights_sha256=weights_sha256, task=config.task,
        device_int8=bool(model.int8_device and (model.device_act_scales > 0).all()), erasures=config.erasures,
        kind=config.kind, encoder_uses_ber=bool(model.encoder_uses_state and config.ber_aware))


class Codec:
    """A trained SemanticNN codec ready for simulation (eval mode, no gradients)."""

    def __init__(self, model: SplitModel, name: str, sha256: str = "", weights_sha256: str = "",
                 metrics: dict | None = None, train_config: dict | None = None) -> None:
        self.model = model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)
        self.config: CodecConfig = model.config
        self._task = get_task(self.config.task)
        self.metrics = dict(metrics or {})
        self.train_config = dict(train_config or {})
        self.meta = _measure(self.model, self.config, name, sha256, weights_sha256)
        self._centres = self.model.quantizer.sorted_centres().detach().clone()
        # inference copies: transposed convs rewritten, channels_last memory format (see fast.py)
        self._decoder = optimise_for_inference(copy.deepcopy(self.model.decoder)).eval()
        self._tail = copy.deepcopy(self.model.backbone.tail).to(memory_format=torch.channels_last).eval()
        self._semantic_tail = (self._tail if self.model.codec_tail is None else
                               copy.deepcopy(self.model.codec_tail).to(memory_format=torch.channels_last).eval())
        self._int8_device = (Int8Device(self.model.backbone.stem, self.model.encoder, self.model.device_act_scales)
                             if self.meta.device_int8 else None)

    # -- device side -------------------------------------------------------------------------
    def symbol_indices(self, x: np.ndarray, float_device: bool = False, ber: float = 0.0) -> np.ndarray:
        """Level indices (N, num_symbols) of images x (N, C, H, W) float32 in [0, 1], from the int8
        device side if the codec is calibrated for it (unless `float_device`), else float32; `ber` is
        the BER the device believes (only an encoder with `meta.encoder_uses_ber` reads it)."""
        x = self._images(x)
        out = np.empty((x.shape[0], self.meta.num_symbols), dtype=np.int64)
        device = self._int8_device if self._int8_device is not None and not float_device else None
        state_value = float(channel_state(ber)) if self.meta.encoder_uses_ber else 0.0
        with torch.inference_mode():
            for start in range(0, x.shape[0], ENCODE_CHUNK):
                xb = torch.from_numpy(x[start:start + ENCODE_CHUNK])
                if device is not None:
                    y = device(xb)
                else:
                    state = torch.full((xb.shape[0],), state_value)
                    y = self.model.encode_features(self.model.backbone.stem(xb), state)
                out[start:start + xb.shape[0]] = self.model.quantizer(y).indices.flatten(1).numpy()
        return out

    def encode(self, x: np.ndarray, float_device: bool = False, ber: float = 0.0) -> np.ndarray:
        """Packed payloads uint8 (N, payload_bytes) of images x (int8 device side when calibrated,
        unless `float_device`), for a device that believes the channel has `ber` (read only by an
        encoder with `meta.encoder_uses_ber`); deterministic."""
        return pack_symbols(self.symbol_indices(x, float_device, ber), self.config.bits, self.config.gray)

    # -- edge side ---------------------------------------------------------------------------
    def decode_classify(self, packed: np.ndarray, ber_estimate: float | np.ndarray,
                        erased: np.ndarray | None = None) -> np.ndarray:
        """Predicted classes int64 (B,) of received payloads (B, payload_bytes) given BER estimates;
        `erased` (B, num_symbols) bool marks symbols of lost frames (`erasure.py`), fed as value 0."""
        packed = np.asarray(packed, dtype=np.uint8)
        if packed.ndim != 2 or packed.shape[1] != self.meta.payload_bytes:
            raise ValueError(f"codec {self.meta.name!r}: payloads must be (B, {self.meta.payload_bytes}) "
                             f"uint8, got {packed.shape}")
        batch = packed.shape[0]
        if batch == 0:
            return np.empty(0, dtype=np.int64)
        idx = unpack_symbols(packed, self.meta.num_symbols, self.config.bits, self.config.gray)
        if self.config.ber_aware:
            state = channel_state(np.broadcast_to(np.asarray(ber_estimate, dtype=np.float64), (batch,)))
        else:
            state = np.zeros(batch, dtype=np.float32)
        with torch.inference_mode():
            values = self._centres[torch.from_numpy(idx)]
            if erased is not None:
                mask = np.asarray(erased, dtype=bool)
                if mask.shape != idx.shape:
                    raise ValueError(f"codec {self.meta.name!r}: erased must be {idx.shape} bool, got {mask.shape}")
                values = values.masked_fill(torch.from_numpy(mask), ERASED_VALUE)
            out = self.model.edge_forward(values, torch.from_numpy(np.ascontiguousarray(state)), self._decoder,
                                          self._semantic_tail, memory_format=torch.channels_last)
            return self._predict(out)

    # -- uncompressed and bit-exact baselines --------------------------------------------------
    def classify_full(self, x: np.ndarray) -> np.ndarray:
        """Predictions int64 (N,) of the uncompressed backbone (local / raw strategies)."""
        x = self._images(x)
        with torch.inference_mode():
            parts = [self._predict(self.model.backbone(torch.from_numpy(x[i:i + ENCODE_CHUNK])))
                     for i in range(0, x.shape[0], ENCODE_CHUNK)]
        return np.concatenate(parts) if parts else self._predict_empty()

    def split_int8(self, x: np.ndarray) -> np.ndarray:
        """Stem features of x as uint8 bytes (N, prod(split_feature_shape)): round(f / scale), clipped."""
        scale = float(self.model.int8_scale)

        def one(xb: torch.Tensor) -> torch.Tensor:
            f = self.model.backbone.stem(xb).flatten(1)
            return torch.clamp(torch.round(f / scale), 0, 255).to(torch.uint8)

        return self._batched(self._images(x), one)

    def classify_split_int8(self, packed: np.ndarray) -> np.ndarray:
        """Predictions int64 (B,) from uint8 split features (possibly corrupted), through the tail."""
        packed = np.asarray(packed, dtype=np.uint8)
        size = int(np.prod(self.meta.split_feature_shape))
        if packed.ndim != 2 or packed.shape[1] != size:
            raise ValueError(f"codec {self.meta.name!r}: int8 features must be (B, {size}), got {packed.shape}")
        scale = float(self.model.int8_scale)
        with torch.inference_mode():
            f = torch.from_numpy(packed).float().mul_(scale).view(-1, *self.meta.split_feature_shape)
            return self._predict(self._tail(f.contiguous(memory_format=torch.channels_last)))

    # -- helpers -----------------------------------------------------------------------------
    def _predict(self, out: torch.Tensor) -> np.ndarray:
        """The task's predictions (B,) from head outputs: class indices int64, a detector's `Detections`."""
        return self._task.predict(out, self.config)

    def _predict_empty(self) -> np.ndarray:
        """No predictions, with the task's dtype."""
        with torch.inference_mode():
            return self._predict(self.model.backbone(torch.zeros(1, *self.config.image_shape)))[:0]

    def _images(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if not x.flags.writeable:  # torch.from_numpy warns on read-only (cached data set) arrays
            x = x.copy()
        if x.ndim != 4 or tuple(x.shape[1:]) != tuple(self.config.image_shape):
            raise ValueError(f"codec {self.meta.name!r}: images must be (N, {self.config.image_shape}), "
                             f"got {x.shape}")
        return x

    def _batched(self, x: np.ndarray, fn) -> np.ndarray:
        outs = []
        with torch.inference_mode():
            for start in range(0, x.shape[0], ENCODE_CHUNK):
                outs.append(fn(torch.from_numpy(x[start:start + ENCODE_CHUNK])).numpy())
        if not outs:
            return np.empty((0,), dtype=np.int64)
        out = np.concatenate(outs)
        return out.astype(np.int64) if out.dtype != np.uint8 else out
