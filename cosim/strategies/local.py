"""The whole model on the device; only its result is sent."""

from __future__ import annotations

from cosim.errors import ScenarioError
from cosim.strategies import base
from cosim.strategies.base import (
    StrategySetup,
    bit_exact_start,
    evaluator,
    register,
    where,
)
from cosim.tasks.base import DEFAULT_TASK, get_task


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
    """The whole model on the device (int8 flash and peak RAM checked against the board); only its
    result is sent, bit-exact with ARQ, as the task encodes it (`Task.local_result`: the predicted class
    as 8 bits; a detector's fixed 61-byte detection record). The edge computes nothing."""

    accepts = frozenset({"arq", "max_retries"})

    def setup(self, ctx: base.StrategyContext, codec_spec: str, group) -> StrategySetup:
        from cosim.config.profiles import load_board

        _, arq, retries, codec = bit_exact_start(self, ctx, codec_spec, group)
        meta = codec.meta
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
        try:  # what the device sends: the class byte, a detector's fixed-size detection record, ...
            payloads, decode = get_task(getattr(meta, "task", DEFAULT_TASK)).local_result(codec, preds)
        except ValueError as exc:
            raise ScenarioError(f"{where(group)}: strategy 'local' {exc}") from None
        return StrategySetup(
            payload_bits=8 * int(payloads.shape[1]), device_macs=float(meta.full_model_macs), edge_macs=0.0,
            arq=arq, max_retries=retries, evaluator_key=f"local:{codec_spec}",
            make_evaluator=evaluator(payloads, decode, False),
        )
