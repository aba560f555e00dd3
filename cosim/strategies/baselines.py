"""The SemanticNN paper's learned baselines in the engine: ADJSCC and AgileNN checkpoints.

Both send quantised symbols without ARQ like `semanticnn` (option `arq: true` retransmits frames whose
header was lost), decoded at the edge by the checkpoint's decoder with the receiver's BER estimate.
A checkpoint of another kind is refused with the strategy to use (`base.require_kind`).
"""

from __future__ import annotations

import bisect
import dataclasses

from cosim.strategies.base import (
    StrategyContext,
    StrategySetup,
    arq_setting,
    evaluator,
    options,
    register,
    require_kind,
)
from cosim.strategies.semantic import semantic_setup

# SNRs (dB) an ADJSCC device encodes for: integer dB over SemanticNN's training range -6..7 dB, plus the
# error-free state the training's clean batches use (BER 0, i.e. the 1e-6 floor: 11.3 dB)
DEVICE_SNR_GRID_DB = tuple(range(-6, 8))


class DeviceChannelState:
    """Which SNR an ADJSCC device encodes for, from the BER the gateway last fed back.

    The device knows the channel only through that report (the receiver's estimate of the previous
    inference's BER: oracle or pilot-based, `scenario.ber_estimate`), as the `adaptive` strategy's
    devices do. It encodes for the grid SNR nearest (in dB) to the report's BPSK SNR-equivalent
    (`model.ber_to_snr_db`, BER clipped to [1e-6, 0.4]); the grid is `DEVICE_SNR_GRID_DB` plus the
    error-free state (BER 0 -> 11.3 dB). Before the first report: the lowest SNR (most robust), as
    `adaptive` starts with its most robust variant. Exact and O(log n) per inference: the BERs of the
    midpoints between grid SNRs are precomputed and the report is bisected among them.
    """

    def __init__(self, grid_db: tuple[float, ...]) -> None:
        from cosim.codec.model import BER_CEIL, BER_FLOOR, snr_db_to_ber

        if list(grid_db) != sorted(grid_db):
            raise ValueError("device SNR grid must increase")
        self.grid_db = tuple(float(g) for g in grid_db)
        self.robust = 0
        mid = [(a + b) / 2 for a, b in zip(self.grid_db, self.grid_db[1:])]
        # BER of each midpoint, ascending (higher SNR, lower BER); a report is clipped as the decoder's is
        self._ascending = sorted(float(snr_db_to_ber(m)) for m in mid)
        self._clip = (BER_FLOOR, BER_CEIL)

    def choose(self, ber: float | None, sample: int) -> int:
        """The engine's per-inference hook: index of the grid SNR the device encodes for."""
        if ber is None:
            return self.robust
        ber = min(max(ber, self._clip[0]), self._clip[1])
        return len(self._ascending) - bisect.bisect_right(self._ascending, ber)


@register("adjscc")
class Adjscc:
    """ADJSCC baseline (`cosim.codec.adjscc`): the encoder's attention modules take the channel state the
    device knows (`DeviceChannelState`: the BER the gateway last fed back, quantised to 1 dB), so each
    grid SNR is a variant with its own payload table; the decoder gets the receiver's estimate.
    """

    accepts = frozenset({"arq", "max_retries"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        from cosim.codec.model import BER_FLOOR, ber_to_snr_db, snr_db_to_ber

        opts = options(group, self.name, self.accepts)
        arq, retries = arq_setting(group, opts, default=False)
        codec = require_kind(ctx, codec_spec, group, self.name, "adjscc")
        meta = codec.meta
        bers = [float(snr_db_to_ber(s)) for s in DEVICE_SNR_GRID_DB] + [0.0]
        grid_db = tuple(float(s) for s in DEVICE_SNR_GRID_DB) + (float(ber_to_snr_db(BER_FLOOR)),)

        def variant(ber: float, snr_db: float) -> StrategySetup:
            payloads = ctx.cached(("adjscc-encoded", codec_spec, ber),
                                  lambda: codec.encode(ctx.dataset.x_test, ber=ber))
            return StrategySetup(
                payload_bits=int(meta.payload_bits), device_macs=float(meta.device_macs),
                edge_macs=float(meta.edge_macs), arq=arq, max_retries=retries, exact=False,
                evaluator_key=f"adjscc:{codec_spec}:{snr_db:g}dB",
                make_evaluator=evaluator(payloads, codec.decode_classify, bool(meta.ber_aware)))

        variants = tuple(variant(b, s) for b, s in zip(bers, grid_db))
        policy = DeviceChannelState(grid_db)
        return dataclasses.replace(variants[policy.robust], variants=variants, choose=policy.choose)


@register("agilenn")
class AgileNN:
    """AgileNN baseline (`cosim.codec.agilenn`): the device runs the stem, the feature extractor and the
    local predictor on the important channels, and sends the other channels' symbols with the local
    class scores; the edge decodes the remote part and combines. Its decoder has no channel input."""

    accepts = frozenset({"arq", "max_retries"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        opts = options(group, self.name, self.accepts)
        arq, retries = arq_setting(group, opts, default=False)
        require_kind(ctx, codec_spec, group, self.name, "agilenn")
        return semantic_setup(ctx, codec_spec, arq, retries)
