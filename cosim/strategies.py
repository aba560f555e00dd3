"""Offloading strategies: what a device computes and sends, and how the edge turns it into a prediction.

A strategy is one registered class; the engine asks it for a `StrategySetup` per device group and
never changes when a strategy is added.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from cosim.inference import Inference
from cosim.semantics import SemanticEvaluator


class Evaluator(Protocol):
    """Turns delivered inferences into predictions (in batches) and passes them to a sink."""

    def submit(self, inf: Inference) -> None: ...

    def flush(self) -> None: ...


@dataclass(frozen=True)
class StrategySetup:
    """Everything the engine needs to simulate one group under one strategy."""

    payload_bits: int  # application bits sent per inference
    device_macs: float  # MACs the device runs per inference
    edge_macs: float  # MACs the edge runs per inference (scales the server's service time)
    arq: bool  # bit-exact delivery with CRC, ACK and retransmissions
    evaluator_key: str  # groups with equal keys share one evaluator (and its cache)
    make_evaluator: Callable[[Callable[[Inference], None], int], Evaluator]


class StrategyContext(Protocol):
    """What strategies may ask of the world: the data set and codecs (loaded and encoded once)."""

    def codec(self, spec: str): ...

    def encoded(self, spec: str) -> np.ndarray: ...


class SemanticNN:
    """The SemanticNN codec: soft-quantised symbols sent without ARQ, decoded by the BER-aware decoder."""

    name = "semanticnn"
    default_codec: str | None = None  # None: the group's (or scenario's) codec

    def setup(self, ctx: StrategyContext, codec_spec: str) -> StrategySetup:
        spec = self.default_codec or codec_spec
        codec = ctx.codec(spec)
        payloads = ctx.encoded(spec)
        meta = codec.meta
        return StrategySetup(
            payload_bits=int(meta.payload_bits),
            device_macs=float(meta.device_macs),
            edge_macs=float(meta.edge_macs),
            arq=False,
            evaluator_key=f"semantic:{spec}",
            make_evaluator=lambda sink, batch: SemanticEvaluator(payloads, codec.decode_classify, sink, batch),
        )


STRATEGIES: dict[str, type] = {"semanticnn": SemanticNN}


def get_strategy(name: str):
    """An instance of the registered strategy `name` (KeyError lists the known names)."""
    try:
        return STRATEGIES[name]()
    except KeyError:
        raise KeyError(f"unknown strategy {name!r}; known: {', '.join(sorted(STRATEGIES))}") from None
