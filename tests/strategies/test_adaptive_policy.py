"""The BER-adaptive policy: its choice rule, its accuracy tables, and its energy against fixed variants."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from strategy_fixtures import group, scenario, world

from cosim.config.scenario import DeviceGroup
from cosim.strategies.adaptive import ADAPTIVE_BERS, AdaptivePolicy, accuracy_table
from cosim.strategies.base import get_strategy
from cosim.strategies.evaluator import dequantise_ber, quantise_ber

torch.set_num_threads(1)
VARIANTS = ("builtin:digits-b1", "builtin:digits-b2", "builtin:digits", "builtin:digits-b4")


def synthetic() -> AdaptivePolicy:
    bers = (0.0, 1e-3, 1e-2, 1e-1)
    tables = [(0.90, 0.85, 0.60, 0.30), (0.95, 0.93, 0.85, 0.50), (0.97, 0.96, 0.93, 0.70)]
    return AdaptivePolicy(bers, tables, header_bits=[0, 0, 0], energy_mj=[1.0, 2.0, 3.0], target=0.9)


def test_policy_picks_the_cheapest_variant_meeting_the_target():
    pol = synthetic()
    assert pol.choice(0.0) == 0  # 0.90 >= 0.9
    assert pol.choice(1e-3) == 1  # 0.85 < 0.9 <= 0.93
    assert pol.choice(1e-2) == 2
    assert pol.choice(1e-1) == 2  # nobody meets it: the most accurate at that BER
    assert pol.choose(None, 0) == 2  # no report yet: the most robust


def test_policy_interpolates_in_log_ber_and_counts_header_losses():
    pol = synthetic()
    mid = 10 ** -2.5  # halfway between 1e-3 and 1e-2 in log10
    assert pol.predicted_accuracy(1, mid) == pytest.approx((0.93 + 0.85) / 2)
    assert pol.predicted_accuracy(0, 1e-9) == pytest.approx(0.90)  # below the grid: BER-0 accuracy
    with_header = AdaptivePolicy(pol.bers, [tuple(t) for t in pol.tables], [100, 100, 100], [1.0, 2.0, 3.0], 0.9)
    assert with_header.predicted_accuracy(1, 1e-3) == pytest.approx(0.999 ** 100 * 0.93)


def test_lookup_equals_the_exact_choice_at_every_quantised_ber():
    pol = synthetic()
    for q in range(quantise_ber(0.0), quantise_ber(0.5) + 1):
        ber = float(dequantise_ber(q))
        assert pol.choose(ber, 0) == pol.choice(ber)


def test_accuracy_table_at_ber_0_is_the_clean_test_accuracy(tmp_path):
    ctx = world(scenario([group("g", "semanticnn", count=1)]), tmp_path).services
    table = accuracy_table(ctx, "builtin:digits-b2")
    codec = ctx.codec("builtin:digits-b2")
    clean = np.mean(codec.decode_classify(ctx.encoded("builtin:digits-b2"), 0.0) == ctx.dataset.y_test)
    assert len(table) == len(ADAPTIVE_BERS) and ADAPTIVE_BERS[0] == 0.0
    assert table[0] == pytest.approx(clean)
    assert table[-1] < table[0]
    assert accuracy_table(ctx, "builtin:digits-b2") is table  # measured once


def test_adaptive_meets_its_target_with_less_energy_than_the_fixed_variant_that_meets_it(tmp_path, simulate):
    """Bursty link: good spells at BER 1e-5, bad ones at 1e-3. The target is set between the cheapest
    variant's and the best variant's predicted accuracy in the bad state, so the fixed variant that meets
    it on every channel state is a costlier one; adaptive uses the cheapest variant in good spells."""
    ber_good, ber_bad = 1e-5, 1e-3
    ctx = world(scenario([group("g", "semanticnn", count=1)]), tmp_path / "ctx").services
    g = DeviceGroup.model_validate({"name": "a", "count": 1, "strategy": "adaptive",
                                    "strategy_options": {"accuracy_target": 0.5}})
    probe = get_strategy("adaptive").setup(ctx, "builtin:digits", g).choose.__self__
    cheap = probe.order[0]
    bad = [probe.predicted_accuracy(v, ber_bad) for v in range(len(VARIANTS))]
    assert max(bad) - bad[cheap] > 0.01, "the variants must differ in the bad state for this test"
    target = (bad[cheap] + max(bad)) / 2
    meets = [v for v in probe.order if min(probe.predicted_accuracy(v, ber_good), bad[v]) >= target]
    fixed = meets[0]  # the cheapest variant meeting the target on every channel state
    assert fixed != cheap

    compare = [{"name": "adaptive", "set": {"devices.0.strategy": "adaptive",
                                            "devices.0.strategy_options": {"accuracy_target": target}}}]
    compare += [{"name": f"fixed{v}", "set": {"devices.0.codec": spec}} for v, spec in enumerate(VARIANTS)]
    channel = {"kind": "gilbert-elliott", "ber_good": ber_good, "ber_bad": ber_bad,
               "mean_good_s": 6.0, "mean_bad_s": 6.0}
    # the same devices and channel under every alternative (common random numbers)
    summary, c = simulate(scenario([group("g", "semanticnn")], channel, duration_s=60.0, compare=compare), tmp_path)
    res = summary["variants"]
    adaptive, fixed_res = res["adaptive"], res[f"fixed{fixed}"]
    assert adaptive["accuracy"] >= target
    energy = adaptive["device_energy_mj_per_inference"]
    assert energy < fixed_res["device_energy_mj_per_inference"]
    assert res[f"fixed{cheap}"]["device_energy_mj_per_inference"] < energy  # it does pay for robustness
    used = np.bincount(c["codec_variant"][c["variant"] == "adaptive"], minlength=len(VARIANTS)) / adaptive["inferences"]
    assert used[cheap] > 0.3 and used[[v for v in range(len(VARIANTS)) if v != cheap]].sum() > 0.2
