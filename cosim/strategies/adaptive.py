"""BER-adaptive choice among SemanticNN codec variants, per inference."""

from __future__ import annotations

import dataclasses

import numpy as np

from cosim.errors import ScenarioError
from cosim.net.frames import fragment
from cosim.strategies.base import (
    StrategyContext,
    StrategySetup,
    classification_only,
    load_codec,
    options,
    register,
    require_kind,
    where,
)
from cosim.strategies.evaluator import quantise_ber
from cosim.strategies.semantic import semantic_setup

ADAPTIVE_BERS = (0.0, 1e-4, 3e-4, 1e-3, 3e-3, 1e-2, 3e-2, 1e-1)  # grid of the accuracy tables
ADAPTIVE_REALISATIONS = 3  # error draws per grid BER
ADAPTIVE_SEED = 0
_TABLES: dict[tuple, tuple[float, ...]] = {}  # exact memo across runs: keyed by the checkpoint's hash


def accuracy_table(ctx: StrategyContext, spec: str, bers: tuple[float, ...] = ADAPTIVE_BERS) -> tuple[float, ...]:
    """Accuracy of codec `spec` on the test split at each BER (payload bit flips, the decoder told the
    BER), mean over `ADAPTIVE_REALISATIONS` seeded draws; measured once per checkpoint and process."""
    from cosim.codec.evaluate import accuracy_under_errors

    codec = ctx.codec(spec)
    y = np.asarray(ctx.dataset.y_test, dtype=np.int64)
    key = (spec, codec.meta.sha256, ctx.dataset.name, len(y), bers, ADAPTIVE_REALISATIONS, ADAPTIVE_SEED)
    if key not in _TABLES:
        payloads = ctx.encoded(spec)
        _TABLES[key] = tuple(
            accuracy_under_errors(codec.decode_classify, payloads, y, codec.meta.payload_bits, b,
                                  ADAPTIVE_REALISATIONS, ADAPTIVE_SEED, stream=0).mean
            for b in bers)
    return _TABLES[key]


class AdaptivePolicy:
    """Cheapest variant whose predicted accuracy at the reported BER meets the target.

    Predicted accuracy of variant v at BER b = P(no frame lost to a header error) x codec accuracy:
    (1 - b)^(header bits x frames of v) x table_v(b), the table interpolated linearly in log10(BER)
    between grid points (BER 0 placed at 1e-6, the estimate's floor; clamped at the ends). Cost = the
    device energy of one error-free transmission (`cosim.node.energy.EnergyModel.error_free_mj`, the
    engine's own per-inference costs). No variant meets
    the target: the one with the highest predicted accuracy at b. No report yet: the most robust one
    (highest predicted accuracy at the grid's largest BER). The choice is precomputed for every BER
    estimate quantisation step (`cosim.strategies.evaluator.quantise_ber`), so a device's choice costs one lookup.
    """

    def __init__(self, bers: tuple[float, ...], tables: list[tuple[float, ...]], header_bits: list[int],
                 energy_mj: list[float], target: float) -> None:
        self.bers = bers
        self.tables = [np.asarray(t, dtype=np.float64) for t in tables]
        self.header_bits = header_bits
        self.energy_mj = energy_mj
        self.target = target
        self._log_grid = np.log10(np.maximum(np.asarray(bers, dtype=np.float64), 1e-6))
        self.order = sorted(range(len(tables)), key=lambda v: (energy_mj[v], v))  # cheapest first
        self.robust = self._best(bers[-1])
        lo, hi = quantise_ber(0.0), quantise_ber(0.5)
        self._lo = lo
        self._lookup = [self.choice(10.0 ** (q / 20.0)) for q in range(lo, hi + 1)]

    def predicted_accuracy(self, v: int, ber: float) -> float:
        """Expected accuracy of variant v at `ber`: header survival x interpolated codec accuracy."""
        acc = float(np.interp(np.log10(max(ber, 1e-6)), self._log_grid, self.tables[v]))
        return (1.0 - min(ber, 1.0)) ** self.header_bits[v] * acc

    def _best(self, ber: float) -> int:
        return max(self.order, key=lambda v: (self.predicted_accuracy(v, ber), -self.order.index(v)))

    def choice(self, ber: float) -> int:
        """The variant for a reported BER (exact, not via the lookup)."""
        for v in self.order:
            if self.predicted_accuracy(v, ber) >= self.target:
                return v
        return self._best(ber)

    def choose(self, ber: float | None, sample: int) -> int:
        """The engine's per-inference hook: the precomputed choice at the quantised reported BER."""
        if ber is None:
            return self.robust
        q = min(max(quantise_ber(ber), self._lo), self._lo + len(self._lookup) - 1)
        return self._lookup[q - self._lo]


@register("adaptive")
class Adaptive:
    """Per inference, the device picks a SemanticNN variant (e.g. 1, 2, 3, 4 bits per symbol) from the
    BER the gateway last fed back, minimising energy subject to `accuracy_target` (`AdaptivePolicy`).

    Options: `accuracy_target` (required), `variants` (codec specs; default builtin:<dataset>-b1, -b2,
    the group's codec, -b4). Sent without ARQ (the policy trades bits for robustness instead).
    """

    accepts = frozenset({"accuracy_target", "variants"})

    def setup(self, ctx: StrategyContext, codec_spec: str, group) -> StrategySetup:
        from cosim.config.profiles import load_board, load_radio
        from cosim.node.energy import EnergyModel

        opts = options(group, self.name, self.accepts)
        classification_only(self.name, load_codec(ctx, codec_spec, group, "codec").meta, group,
                             "its policy is built on accuracy tables")
        if opts.accuracy_target is None:
            raise ScenarioError(f"{where(group)}: strategy_options.accuracy_target: required by strategy "
                                f"'adaptive'")
        specs = opts.variants
        if specs is None:
            ds = ctx.dataset.name
            specs = (f"builtin:{ds}-b1", f"builtin:{ds}-b2", codec_spec, f"builtin:{ds}-b4")
        for spec in specs:
            load_codec(ctx, spec, group, "strategy_options.variants")
            require_kind(ctx, spec, group, self.name, "semanticnn")
        setups = [semantic_setup(ctx, spec) for spec in specs]
        board, radio = load_board(group.board), load_radio(group.radio)
        est = ctx.scenario.ber_estimate
        pilot_bits = est.pilot_bits if est.kind == "pilot" else 0
        plans = [fragment(s.payload_bits, radio, pilot_bits) for s in setups]
        model = EnergyModel.of(board, radio, group.sense, arq=False)
        energy = [model.error_free_mj(s.device_macs, p.airtime_s) for s, p in zip(setups, plans)]
        policy = AdaptivePolicy(ADAPTIVE_BERS, [accuracy_table(ctx, spec) for spec in specs],
                                [p.header_bits * p.n_frames for p in plans], energy, float(opts.accuracy_target))
        return dataclasses.replace(setups[policy.robust], variants=tuple(setups), choose=policy.choose)
