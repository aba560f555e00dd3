"""Split computing with int8 features: the stem's activations sent bit-exact with ARQ, the tail on the edge."""

from __future__ import annotations

from cosim.strategies.base import (
    StrategyContext,
    StrategySetup,
    bit_exact_start,
    evaluator,
    register,
)


@register("split-int8")
class SplitInt8:
    """Same split as SemanticNN: the stem's features as int8 bytes (per-tensor scale), bit-exact with ARQ.

    Option `arq: false` sends them unprotected: flipped bits corrupt the bytes the tail decodes.
    """

    accepts = frozenset({"arq", "max_retries"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        _, arq, retries, codec = bit_exact_start(self, ctx, codec_spec, group)
        meta = codec.meta
        feats = ctx.cached(("split-int8", codec_spec), lambda: codec.split_int8(ctx.dataset.x_test))
        return StrategySetup(
            payload_bits=8 * int(feats.shape[1]),
            device_macs=float(meta.full_model_macs - meta.split_int8_edge_macs),  # the stem
            edge_macs=float(meta.split_int8_edge_macs),  # the tail
            arq=arq,
            max_retries=retries,
            evaluator_key=f"split-int8:{codec_spec}",
            make_evaluator=evaluator(feats, lambda packed, ber: codec.classify_split_int8(packed), False),
        )
