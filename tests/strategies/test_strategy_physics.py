"""The expected physics of the strategies side by side (same channel, same samples)."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from strategy_fixtures import group, scenario, world

from cosim.channel.errors import apply_errors, error_positions
from cosim.config.profiles import load_radio
from cosim.config.scenario import DeviceGroup
from cosim.inference import Inference
from cosim.net.frames import fragment
from cosim.strategies.base import get_strategy

torch.set_num_threads(1)

GE_1E2 = {"kind": "gilbert-elliott", "ber_good": 1e-5, "ber_bad": 1e-2, "mean_good_s": 8.0, "mean_bad_s": 2.0}
ARQ = ["raw", "split-int8", "local"]


def test_arq_strategies_pay_latency_and_energy_as_ber_rises(tmp_path, simulate):
    groups = [group(s, s, count=10) for s in ARQ + ["semanticnn"]]
    results = []
    for ber in (0.0, 3e-4, 1e-3):
        summary, c = simulate(scenario(groups, {"kind": "constant", "ber": ber}, duration_s=30.0), tmp_path, f"b{ber:g}")
        results.append((summary["groups"], c))
    for name in ARQ:
        latency = [g[name]["latency_ms"]["mean"] for g, _ in results]
        energy = [g[name]["device_energy_mj_per_inference"] for g, _ in results]
        attempts = [g[name]["frames_per_inference"] for g, _ in results]
        assert latency[0] < latency[1] < latency[2], (name, latency)
        assert energy[0] < energy[1] < energy[2], (name, energy)
        assert attempts[0] < attempts[1] < attempts[2], (name, attempts)
    # without ARQ, SemanticNN sends each frame once whatever the BER: its latency does not grow
    for g, c in results:
        m = c["group"] == 3
        assert np.all(c["tx_attempts"][m] == 1)
    sem = [g["semanticnn"]["latency_ms"]["mean"] for g, _ in results]
    assert max(sem) - min(sem) < 0.05 * min(sem)


@pytest.fixture(scope="module")
def side_by_side(tmp_path_factory, simulate):
    """The strategies as `compare:` variants of one fleet (common random numbers)."""
    compare = [{"name": s, "set": {"devices.0.strategy": s}} for s in ("semanticnn", "split-int8", "raw", "local")]
    compare.append({"name": "split-int8-noarq", "set": {"devices.0.strategy": "split-int8",
                                                        "devices.0.strategy_options": {"arq": False}}})
    compare.append({"name": "raw-jpeg", "set": {"devices.0.strategy": "raw",
                                                "devices.0.strategy_options": {"jpeg_quality": 75}}})
    data = scenario([group("nodes", "semanticnn")], GE_1E2, duration_s=40.0, compare=compare)
    summary, c = simulate(data, tmp_path_factory.mktemp("side"))
    return summary["variants"], c


def test_same_samples_and_sensing_times_in_every_variant(side_by_side):
    g, c = side_by_side
    first = c["variant"] == "semanticnn"
    for name in g:
        m = c["variant"] == name
        assert np.array_equal(np.sort(c["sample"][m]), np.sort(c["sample"][first]))
        np.testing.assert_allclose(np.sort(c["t_sense_s"][m]), np.sort(c["t_sense_s"][first]))


def test_airtime_compute_and_bits_on_air_rank_as_expected(side_by_side):
    g, _ = side_by_side
    bits = {k: v["bits_on_air_per_inference"] for k, v in g.items()}
    compute = {k: v["device_energy_mj_by_phase"]["compute"] for k, v in g.items()}
    # raw sends the image: more airtime than the codec's symbols or the on-device result
    assert bits["raw"] > bits["semanticnn"] and bits["raw"] > bits["local"]
    # ... but the stem's int8 features are larger than the 8x8 image itself (16 channels x 64 px)
    assert bits["split-int8"] > bits["raw"]
    # SemanticNN sends the fewest bits of the strategies that offload the task to the edge
    assert bits["semanticnn"] == min(bits[k] for k in bits if k != "local")
    # only the result leaves a device that runs the whole model ...
    assert bits["local"] == min(bits.values())
    # ... which costs it the most compute energy
    assert compute["local"] == max(compute.values())
    assert compute["raw"] == 0.0


def test_split_int8_without_arq_loses_frames_at_ber_1e2(tmp_path, simulate):
    """At BER 1e-2 a frame header (128 bits on BLE) survives with probability 0.99^128; the int8
    features need 5 frames, all of which must arrive."""
    p = 1e-2
    groups = [group("noarq", "split-int8", strategy_options={"arq": False}), group("arq", "split-int8")]
    summary, _ = simulate(scenario(groups, {"kind": "constant", "ber": p}), tmp_path)
    plan = fragment(8 * 1024, load_radio("ble-1m"))
    survive = (1 - p) ** (plan.header_bits * plan.n_frames)
    clean, _ = simulate(scenario(groups[:1]), tmp_path, "clean")
    assert clean["groups"]["noarq"]["accuracy"] > 0.9
    assert summary["groups"]["noarq"]["accuracy"] <= survive + 0.01
    assert summary["groups"]["noarq"]["lost"]["header"] > 0.95 * summary["groups"]["noarq"]["inferences"]


def test_split_int8_without_arq_decodes_corrupted_bytes(tmp_path):
    """Delivered with bit errors at BER 1e-2, the int8 features decode to worse predictions; the
    evaluator decodes exactly the corrupted bytes."""
    ctx = world(scenario([group("g", "semanticnn", count=1)]), tmp_path).services
    g = DeviceGroup.model_validate({"name": "g", "count": 1, "strategy": "split-int8",
                                    "strategy_options": {"arq": False}})
    setup = get_strategy("split-int8").setup(ctx, "builtin:digits", g)
    codec = ctx.codec("builtin:digits")
    feats = codec.split_int8(ctx.dataset.x_test)
    n, nbits = len(feats), setup.payload_bits
    labels = ctx.dataset.y_test.astype(int).tolist()
    got: list[Inference] = []
    ev = setup.make_evaluator(got.append, 128)
    rng = random.Random(1)
    positions = []
    for i in range(n):
        inf = Inference(0, 0, i, labels[i], 0.0)
        pos = error_positions(rng, nbits, 1e-2)
        inf.positions = pos or None
        inf.ber_est = 1e-2
        positions.append(pos)
        ev.submit(inf)
    ev.flush()
    corrupted = feats.copy()
    rows = np.repeat(np.arange(n), [len(p) for p in positions])
    apply_errors(corrupted, rows, np.fromiter((q for p in positions for q in p), dtype=np.int64))
    expected = codec.classify_split_int8(corrupted)
    preds = np.array([inf.pred for inf in sorted(got, key=lambda inf: inf.sample)])
    assert np.array_equal(preds, expected)
    labels = np.asarray(labels)
    clean_acc = float(np.mean(codec.classify_split_int8(feats) == labels))
    assert float(np.mean(preds == labels)) < clean_acc - 0.01


def test_semanticnn_arq_retransmits_lost_headers_and_keeps_payload_errors(tmp_path, simulate):
    """With `arq: true` a frame is repeated only while its header is hit; payload errors are kept."""
    p = 1e-2
    groups = [group("sem", "semanticnn", count=40), group("sem-arq", "semanticnn", count=40,
                                                         strategy_options={"arq": True, "max_retries": 7})]
    summary, c = simulate(scenario(groups, {"kind": "constant", "ber": p}, duration_s=30.0), tmp_path)
    g = summary["groups"]
    plan = fragment(384, load_radio("ble-1m"))
    header_ok = (1 - p) ** plan.header_bits * (1 - p) ** (8 * load_radio("ble-1m").ack_bytes)
    arq = c["group"] == 1
    n = int(arq.sum())
    delivered = float((c["lost"][arq] == 0).mean())
    expect = 1 - (1 - header_ok) ** 8  # a frame, and its ACK, must get through in 8 attempts
    assert delivered > g["sem"]["delivered"] / g["sem"]["inferences"] + 0.3
    assert abs(delivered - expect) < 4.5 * np.sqrt(expect * (1 - expect) / n), (delivered, expect)
    ok = arq & (c["lost"] == 0)
    errored = float((c["bit_errors"][ok] > 0).mean())
    assert abs(errored - (1 - (1 - p) ** 384)) < 4.5 * np.sqrt(0.25 / ok.sum()) + 0.01
    assert c["tx_attempts"][arq].mean() > 2 and n > 300
    assert g["sem-arq"]["accuracy"] > g["sem"]["accuracy"] + 0.3


def test_per_sample_jpeg_sizes_hold_on_a_shared_medium_while_the_next_frame_is_sensed(tmp_path, simulate):
    """On CSMA a device senses its next image while the previous one is still on the air: each image
    keeps its own JPEG size (frames, airtime), whatever the size of the one sensed meanwhile."""
    g = group("cams", "raw", count=4, rate_hz=40.0, strategy_options={"jpeg_quality": 75})
    data = scenario([g], duration_s=3.0)
    data["edge"][0]["medium"] = {"kind": "csma", "backoff_max_ms": 2, "max_attempts": 8}
    _, c = simulate(data, tmp_path)
    assert len(c["sample"]) > 100 and len(np.unique(c["codec_variant"])) > 3
    checked = 0
    for s in np.unique(c["sample"]):
        m = c["sample"] == s
        first_time = m & (c["tx_attempts"] == c["tx_attempts"][m].min())  # no frame sent twice
        assert np.unique(c["bits_on_air"][first_time]).size == 1, s
        assert np.unique(c["codec_variant"][m]).size == 1, s
        checked += first_time.sum() > 1
    assert checked > 20
