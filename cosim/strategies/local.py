"""The whole model on the device; only its result is sent."""

from __future__ import annotations

import numpy as np

from cosim.errors import ScenarioError
from cosim.strategies import base
from cosim.strategies.base import (
    StrategySetup,
    bit_exact_start,
    evaluator,
    register,
    where,
)

RESULT_BITS = 8  # `local` sends the class index as one byte (up to 256 classes)


def full_model_footprint(codec) -> tuple[int, int]:
    """(flash bytes, peak activation RAM bytes) of the whole uncompressed model deployed int8.

    Counted from the torch modules like the codec's own device-side figures (`cosim.codec.costs`).
    """
    import torch

    from cosim.codec import costs

    backbone = codec.model.backbone
    x = torch.zeros(1, *codec.meta.image_shape)
    flash = costs.flash_bytes_int8([backbone])
    peak = costs.peak_activation_bytes(backbone, lambda: backbone(x))
    return int(flash), int(peak)


@register("local")
class Local:
    """The whole model on the device (int8 flash and peak RAM checked against the board); only the
    predicted class (8 bits) is sent, bit-exact with ARQ. The edge computes nothing.

    A detector sends its detections instead: a fixed 61-byte record (`cosim.detection.wire`)."""

    accepts = frozenset({"arq", "max_retries"})

    def setup(self, ctx: base.StrategyContext, codec_spec: str, group) -> StrategySetup:
        from cosim.config.profiles import load_board

        _, arq, retries, codec = bit_exact_start(self, ctx, codec_spec, group)
        meta = codec.meta
        if meta.num_classes > 2 ** RESULT_BITS:
            raise ScenarioError(f"{where(group)}: strategy 'local' sends the class in {RESULT_BITS} bits, "
                                f"codec {codec_spec} has {meta.num_classes} classes")
        board = load_board(group.board)
        flash, peak = ctx.cached(("full-footprint", codec_spec), lambda: full_model_footprint(codec))
        short = []
        if flash > board.flash_kb * 1024:
            short.append(f"flash {flash / 1024:.1f} KiB > {board.flash_kb:g} KiB "
                         f"(short by {flash / 1024 - board.flash_kb:.1f} KiB)")
        if peak > board.sram_kb * 1024:
            short.append(f"peak RAM {peak / 1024:.1f} KiB > {board.sram_kb:g} KiB "
                         f"(short by {peak / 1024 - board.sram_kb:.1f} KiB)")
        if short:
            raise ScenarioError(f"{where(group)}: strategy 'local': the int8 model of {codec_spec} does not "
                                f"fit board {board.name!r}: {'; '.join(short)}")
        preds = ctx.cached(("full-preds", codec_spec), lambda: codec.classify_full(ctx.dataset.x_test))
        if getattr(meta, "task", "classification") == "detection":
            return _local_detections(codec, codec_spec, preds, arq, retries)
        result = np.asarray(preds, dtype=np.uint8).reshape(-1, 1)  # the byte the device sends

        def decode(packed: np.ndarray, ber) -> np.ndarray:
            return packed[:, 0].astype(np.int64)  # a corrupted byte is a wrong (or invalid) class

        return StrategySetup(
            payload_bits=RESULT_BITS, device_macs=float(meta.full_model_macs), edge_macs=0.0, arq=arq,
            max_retries=retries, evaluator_key=f"local:{codec_spec}", make_evaluator=evaluator(result, decode, False),
        )


def _local_detections(codec, codec_spec: str, dets: np.ndarray, arq: bool, retries: int) -> StrategySetup:
    """`local` for a detector: the device's detections as fixed-size records, decoded by the edge."""
    from cosim.detection.wire import pack_detections, unpack_detections

    meta = codec.meta
    hw = tuple(meta.image_shape[1:])
    payloads = pack_detections(dets, hw)

    def decode(packed: np.ndarray, ber) -> np.ndarray:
        return unpack_detections(packed, hw, meta.num_classes)

    return StrategySetup(
        payload_bits=8 * int(payloads.shape[1]), device_macs=float(meta.full_model_macs), edge_macs=0.0, arq=arq,
        max_retries=retries, evaluator_key=f"local:{codec_spec}", make_evaluator=evaluator(payloads, decode, False),
    )
