"""Every device is an independent physical device: shared-medium contention, channel independence (or
one process per gateway with `scope: gateway`), no synthetic burst at t = 0, BER over every attempt."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy import stats
from test_world_theory import run, scenario

from cosim.codec.checkpoint import load_codec
from cosim.config.profiles import load_radio
from cosim.config.scenario import validate_scenario
from cosim.engine.world import World
from cosim.net.frames import fragment

torch.set_num_threads(1)

GE = {"kind": "gilbert-elliott", "ber_good": 1e-4, "ber_bad": 1e-2, "mean_good_s": 1.0, "mean_bad_s": 0.5}


def test_two_groups_on_one_aloha_gateway_contend_as_one_load_of_independent_devices(tmp_path):
    """Pure ALOHA, one frame per inference, no ARQ: P(success) = exp(-2G) for the combined offered load G
    (frames per frame time) of both groups. Devices sharing streams would collide every time (0.000)."""
    plan = fragment(load_codec("builtin:digits").meta.payload_bits, load_radio("ble-1m"))
    assert plan.n_frames == 1
    airtime_s = plan.airtime_s[0]
    counts, load = (300, 200), 0.25
    rate_hz = load / (sum(counts) * airtime_s)
    data = scenario(duration_s=20.0)
    g = data["devices"][0]
    data["devices"] = [dict(g, name="a", count=counts[0], workload={"kind": "poisson", "rate_hz": rate_hz}),
                       dict(g, name="b", count=counts[1], board="stm32u575",
                            workload={"kind": "poisson", "rate_hz": rate_hz})]
    data["edge"][0]["medium"] = {"kind": "aloha"}
    summary, _ = run(data, tmp_path)
    n = summary["inferences"]
    g_offered = n * airtime_s / 20.0  # the load actually offered (Poisson count over the window)
    assert abs(g_offered - load) < 0.02
    expected = math.exp(-2 * g_offered)
    for name, m in [("ALL", summary), *summary["groups"].items()]:
        k = m["inferences"]
        success = m["delivered"] / k
        assert abs(success - expected) <= 4.5 * math.sqrt(expected * (1 - expected) / k), (name, success, expected)
    assert summary["lost"]["collision"] == n - summary["delivered"]


def _links(tmp_path, channel: dict, placement: dict | None = None):
    """The links of two groups of two devices (not run)."""
    data = scenario(duration_s=1.0)
    g = dict(data["devices"][0], count=2, channel=channel, **({"placement": placement} if placement else {}))
    data["devices"] = [dict(g, name="a"), dict(g, name="b")]
    return [d.link for d in World(validate_scenario(data, "test"), tmp_path).devices]


def _bad(links, times) -> np.ndarray:
    return np.array([[link.ber_at(t) == GE["ber_bad"] for t in times] for link in links], dtype=np.float64)


def test_channels_of_different_devices_are_independent(tmp_path):
    times = np.arange(0.0, 4000.0, 1.0)  # samples 1 s apart: about independent for dwells of 1 and 0.5 s
    bad = _bad(_links(tmp_path, GE), times)
    bound = 4.5 / math.sqrt(len(times))
    for i in range(4):
        assert abs(bad[i].mean() - 1 / 3) < 4.5 * math.sqrt(2 / 9 / len(times)) * 2  # stationary bad share
        for j in range(i + 1, 4):  # within a group and across groups
            assert abs(np.corrcoef(bad[i], bad[j])[0, 1]) < bound, (i, j)


def test_gateway_scope_is_one_process_every_device_sees(tmp_path):
    times = np.sort(np.random.default_rng(0).uniform(0.0, 500.0, 5000))
    bad = _bad(_links(tmp_path, dict(GE, scope="gateway")), times)
    assert 0.2 < bad[0].mean() < 0.45
    for i in range(1, 4):
        assert np.array_equal(bad[i], bad[0])


def test_gateway_scope_snr_shares_fading_and_keeps_each_path_loss(tmp_path):
    snr = {"kind": "snr", "fading": "rayleigh", "coherence_time_s": 0.5, "sigma_db": 6.0, "scope": "gateway"}
    links = _links(tmp_path, snr, {"kind": "uniform", "min_m": 2.0, "max_m": 40.0})
    times = np.arange(0.0, 50.0, 0.25)
    snrs = np.array([[link.snr_db_at(t) for t in times] for link in links])
    diff = snrs - snrs[0]
    assert np.allclose(diff, diff[:, :1])  # same fading in time: constant offsets (path loss)
    assert np.ptp(diff[:, 0]) > 1.0  # ... which differ with distance
    assert np.ptp(snrs[0]) > 10.0  # and the fading does vary


def test_no_device_senses_at_t0_first_times_uniform_over_the_first_period(tmp_path):
    data = scenario(duration_s=2.5)
    data["devices"][0].update(count=400, workload={"kind": "periodic", "period_s": 2.0, "jitter_s": 0.5})
    _, c = run(data, tmp_path)
    first = np.array([c["t_sense_s"][c["device"] == d].min() for d in np.unique(c["device"])])
    assert len(first) == 400 and first.min() > 0.0
    assert stats.kstest(first, "uniform", args=(0.0, 2.0)).pvalue > 1e-3
    # a later sensing time is the phase plus a period, jittered by at most jitter_s
    ids = [d for d in np.unique(c["device"]) if (c["device"] == d).sum() > 1]
    gap = np.array([np.diff(np.sort(c["t_sense_s"][c["device"] == d])[:2])[0] for d in ids])
    assert len(gap) > 50 and gap.min() >= 1.5 - 1e-9 and gap.max() <= 2.5 + 1e-9


def test_mean_ber_over_every_attempt_is_the_stationary_gilbert_elliott_ber(tmp_path):
    """Frames go out at times independent of the channel (no ARQ), so the mean BER over every attempt is
    the channel's time average; devices are independent, so the spread of their means gives the interval.
    Delivered frames are biased to the good state (headers hit in the bad one)."""
    data = scenario(duration_s=100.0)
    data["devices"][0]["count"] = 100
    data["edge"][0]["channel"] = GE
    summary, c = run(data, tmp_path)
    stationary = (1e-4 * 1.0 + 1e-2 * 0.5) / 1.5
    w = c["tx_attempts"].astype(np.float64)
    assert summary["mean_ber"] == pytest.approx(float((c["ber"] * w).sum() / w.sum()), rel=1e-9)
    devices = np.unique(c["device"])
    per_device = np.array([np.average(c["ber"][c["device"] == d], weights=w[c["device"] == d]) for d in devices])
    se = per_device.std(ddof=1) / math.sqrt(len(devices))
    assert abs(summary["mean_ber"] - stationary) < 4.5 * se, (summary["mean_ber"], stationary, se)
    assert summary["delivered_mean_ber"] < summary["mean_ber"]
