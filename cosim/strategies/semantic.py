"""SemanticNN and its ablations: soft-quantised symbols sent without ARQ, decoded by the BER-aware decoder."""

from __future__ import annotations

from cosim.errors import ScenarioError
from cosim.strategies.base import (
    DEFAULT_MAX_RETRIES,
    ErasureSupport,
    StrategyContext,
    StrategySetup,
    arq_setting,
    evaluator,
    load_codec,
    options,
    register,
    require_kind,
    where,
)


def semantic_setup(ctx: StrategyContext, spec: str, arq: bool = False,
                   max_retries: int = DEFAULT_MAX_RETRIES) -> StrategySetup:
    """A SemanticNN codec's setup: its symbols sent (by default without ARQ), decoded at the edge."""
    codec = ctx.codec(spec)
    meta = codec.meta
    return StrategySetup(
        payload_bits=int(meta.payload_bits),
        device_macs=float(meta.device_macs),
        edge_macs=float(meta.edge_macs),
        arq=arq,
        max_retries=max_retries,
        exact=False,
        evaluator_key=f"semantic:{spec}",
        # a BER-unaware decoder ignores the estimate: cache error-free payloads per sample
        make_evaluator=evaluator(ctx.encoded(spec), codec.decode_classify, bool(meta.ber_aware),
                                 symbols=(int(meta.num_symbols), int(meta.bits))),
        erasure=ErasureSupport(spec, bool(getattr(meta, "erasures", False))),
    )


@register("semanticnn")
class SemanticNN:
    """The SemanticNN codec: soft-quantised symbols sent without ARQ, decoded by the BER-aware decoder.

    Option `arq: true` retransmits frames whose header was lost (no ACK); a frame whose header
    survived is acknowledged with its payload errors, which the decoder tolerates.
    """

    accepts = frozenset({"arq", "max_retries"})
    ablation: tuple[str, str] | None = None  # (codec meta flag that must be False, checkpoint suffix)

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        opts = options(group, self.name, self.accepts)
        arq, retries = arq_setting(group, opts, default=False)
        spec = self.codec_spec(ctx, codec_spec, group)
        require_kind(ctx, spec, group, self.name, "semanticnn")
        return semantic_setup(ctx, spec, arq, retries)

    def codec_spec(self, ctx: StrategyContext, codec_spec: str, group) -> str:
        """The checkpoint this strategy runs: the group's codec if it already is the ablation, else
        the shipped ablation of the same data set, `builtin:<dataset>-<suffix>`."""
        if self.ablation is None:
            return codec_spec
        flag, suffix = self.ablation
        meta = load_codec(ctx, codec_spec, group, "codec").meta
        if not getattr(meta, flag):
            return codec_spec
        spec = f"builtin:{meta.dataset}-{suffix}"
        if getattr(load_codec(ctx, spec, group, f"strategy {self.name!r} needs its ablation checkpoint").meta, flag):
            raise ScenarioError(f"{where(group)}: strategy {self.name!r}: codec {spec} has {flag}=true, "
                                f"it is not the ablation")
        return spec


@register("semanticnn-nofal")
class SemanticNNNoFal(SemanticNN):
    """SemanticNN trained without Feature-augmentation Learning (clean bits only)."""

    ablation = ("fal", "nofal")


@register("semanticnn-berunaware")
class SemanticNNBerUnaware(SemanticNN):
    """SemanticNN whose decoder is not told the BER (a constant channel state)."""

    ablation = ("ber_aware", "berunaware")
