"""The engine against theory: packet errors, Gilbert-Elliott BER, M/D/1 waits, energy, latency."""

from __future__ import annotations

import math
import pathlib

import numpy as np
import pytest
import torch

from cosim.config.profiles import load_board, load_edge, load_radio
from cosim.net.frames import fragment

torch.set_num_threads(1)


def scenario(**over) -> dict:
    base = {
        "name": "t", "seed": 5, "duration_s": 30.0, "codec": "builtin:digits", "deadline_ms": 10_000,
        "devices": [{"name": "g", "count": 50, "board": "stm32l476", "radio": "ble-1m",
                     "workload": {"kind": "poisson", "rate_hz": 1.0}}],
        "edge": [{"name": "e", "profile": "rpi5", "max_batch": 64, "max_wait_ms": 1,
                  "channel": {"kind": "constant", "ber": 0.0}}],
    }
    for k, v in over.items():
        base[k] = v
    return base




def within(observed: float, expected: float, n: int, sigmas: float = 4.5) -> bool:
    sd = math.sqrt(max(expected * (1 - expected), 1e-12) / n)
    return abs(observed - expected) <= sigmas * sd + 1e-9


def test_frame_losses_and_payload_errors_follow_1_minus_1_minus_p_to_the_n(tmp_path, simulate):
    p = 3e-3
    data = scenario()
    data["edge"][0]["channel"] = {"kind": "constant", "ber": p}
    summary, c = simulate(data, tmp_path)
    from cosim.codec.checkpoint import load_codec

    plan = fragment(load_codec("builtin:digits").meta.payload_bits, load_radio("ble-1m"))
    header, frames = plan.header_bits, plan.n_frames
    n = len(c["lost"])
    assert summary["inferences"] == n > 1000
    lost_rate = float((c["lost"] == 1).mean())
    assert within(lost_rate, 1 - (1 - p) ** (header * frames), n)
    delivered = c["lost"] == 0
    payload_bits = int(c["bits_on_air"][0]) - header * frames
    err_rate = float((c["bit_errors"][delivered] > 0).mean())
    assert within(err_rate, 1 - (1 - p) ** payload_bits, int(delivered.sum()))


def test_gilbert_elliott_time_average_ber(tmp_path, simulate):
    ch = {"kind": "gilbert-elliott", "ber_good": 1e-4, "ber_bad": 1e-2, "mean_good_s": 1.0, "mean_bad_s": 0.5}
    data = scenario(duration_s=100.0)
    data["devices"][0]["count"] = 100
    data["edge"][0]["channel"] = ch
    _, c = simulate(data, tmp_path)
    stationary = (1e-4 * 1.0 + 1e-2 * 0.5) / 1.5
    assert abs(c["ber"].mean() - stationary) / stationary < 0.08


def _slow_edge(tmp_path) -> tuple[str, float]:
    """(path of an rpi5 profile slowed to ~20 ms per digits sample, that service time, s)."""
    profile = (pathlib.Path(load_edge("rpi5").path).read_text()
               .replace("value: 0.2\n", "value: 20.0\n", 1).replace("value: 16.7\n", "value: 0.001\n", 1))
    (tmp_path / "slow-edge.yaml").write_text(profile)
    edge = load_edge(str(tmp_path / "slow-edge.yaml"))
    from cosim.codec.checkpoint import load_codec

    macs = load_codec("builtin:digits").meta.edge_macs
    service = edge.batch_t0_ms / 1000 + edge.batch_t1_ms / 1000 * macs / edge.reference_macs
    assert 0.019 < service < 0.021
    return str(tmp_path / "slow-edge.yaml"), service


def test_edge_queue_mean_wait_is_pollaczek_khinchine(tmp_path, simulate):
    """Poisson arrivals (many slow devices merged), deterministic service, batches of one: M/D/1."""
    path, service = _slow_edge(tmp_path)
    data = scenario(duration_s=1500.0)
    rho, devices = 0.7, 300
    data["devices"][0]["count"] = devices
    data["devices"][0]["workload"] = {"kind": "poisson", "rate_hz": rho / service / devices}
    data["edge"][0].update(profile=path, max_batch=1, max_wait_ms=0)
    summary, c = simulate(data, tmp_path)
    wait = c["t_service_s"] - c["t_arrive_s"]
    theory = rho * service / (2 * (1 - rho))
    assert len(wait) > 40_000
    assert abs(wait.mean() - theory) / theory < 0.08, (wait.mean(), theory)
    assert abs(summary["edge_utilization"]["e"] - rho) < 0.03


def test_priority_discipline_waits_follow_cobham(tmp_path, simulate):
    """Two Poisson classes, deterministic service S, non-preemptive priority (M/D/1, Cobham): with
    W0 = lambda S^2 / 2, the high class waits W0 / (1 - rho_h), the low one W0 / ((1 - rho_h)(1 - rho))."""
    path, service = _slow_edge(tmp_path)
    rho_h, rho_l, devices = 0.3, 0.4, 150
    data = scenario(duration_s=1500.0)
    group = data["devices"][0]
    data["devices"] = [
        {**group, "name": name, "count": devices, "workload": {"kind": "poisson", "rate_hz": r / service / devices}}
        for name, r in (("urgent", rho_h), ("bulk", rho_l))]
    data["edge"][0].update(profile=path, max_batch=1, max_wait_ms=0,
                           discipline={"kind": "priority", "priorities": {"urgent": 0, "bulk": 1}})
    _, c = simulate(data, tmp_path)
    wait = c["t_service_s"] - c["t_arrive_s"]
    rho = rho_h + rho_l
    w0 = rho * service / 2  # lambda E[S^2] / 2 with lambda = rho / S
    for gi, name, theory in ((0, "urgent", w0 / (1 - rho_h)), (1, "bulk", w0 / ((1 - rho_h) * (1 - rho)))):
        mean = wait[c["group"] == gi].mean()
        assert abs(mean - theory) / theory < 0.08, (name, mean, theory)


def test_energy_is_v_times_i_times_t_and_latency_adds_up(tmp_path, simulate):
    data = scenario(duration_s=20.0)
    data["devices"][0].update(count=1, workload={"kind": "periodic", "period_s": 2.0})
    data["edge"][0].update(max_batch=1, max_wait_ms=0)
    summary, c = simulate(data, tmp_path)
    from cosim.codec.checkpoint import load_codec

    meta = load_codec("builtin:digits").meta
    board, radio, edge = load_board("stm32l476"), load_radio("ble-1m"), load_edge("rpi5")
    compute_s = meta.device_macs * board.cycles_per_mac_conv / (board.clock_mhz * 1e6)
    assert np.allclose(c["compute_mj"], board.supply_v * board.run_current_ma * compute_s)
    plan = fragment(meta.payload_bits, radio)
    assert np.allclose(c["tx_mj"], radio.supply_v * radio.tx_current_ma * plan.total_airtime_s)
    sense_s = 0.002
    service = edge.batch_t0_ms / 1000 + edge.batch_t1_ms / 1000 * meta.edge_macs / edge.reference_macs
    ifs = radio.ifs_us / 1e6 * (plan.n_frames - 1)
    wait_s = radio.protocol["conn_interval_ms"] / 2000  # mean wait for the next BLE connection event
    expect_ms = (sense_s + compute_s + wait_s + plan.total_airtime_s + ifs + service) * 1000
    lat = (c["t_done_s"] - c["t_sense_s"]) * 1000
    assert np.allclose(lat, expect_ms, rtol=1e-9, atol=1e-9)
    # the central's packet + T_IFS before every frame, the radio start-up and the MCU wake-up
    central_s = radio.ack_airtime_s() + radio.ifs_us / 1e6
    assert np.allclose(c["rx_window_mj"], plan.n_frames * central_s * radio.rx_current_ma * radio.supply_v)
    startup_s = radio.protocol["radio_startup_us"] / 1e6
    wake = board.wakeup_us / 1e6 * board.core_current_ma * board.supply_v + startup_s * radio.rx_supply_mw
    assert np.allclose(c["wake_mj"], wake)
    g = summary["groups"]["g"]
    active_mj = sum(c[k].sum() for k in ("sense_mj", "compute_mj", "tx_mj", "rx_window_mj", "wake_mj"))
    # idle connection event: start-up, the central's empty PDU, T_IFS (RX), our empty PDU (TX), every interval
    event_mj = (startup_s + central_s) * radio.rx_supply_mw + radio.ack_airtime_s() * radio.tx_supply_mw
    sleep_mw = (board.sleep_current_ua * board.supply_v / 1000 + radio.sleep_current_ua * radio.supply_v / 1000
                + event_mj / (radio.protocol["conn_interval_ms"] / 1000))
    sleep_mj = sleep_mw * (20.0 - c["active_s"].sum())
    assert math.isclose(g["device_avg_power_mw"], (active_mj + sleep_mj) / 20.0, rel_tol=1e-9)
    days = 1000 * 3.0 / g["device_avg_power_mw"] / 24
    assert math.isclose(g["battery_life_days"], days, rel_tol=1e-9)


def test_lora_duty_cycle_spaces_transmissions(tmp_path, simulate):
    data = scenario(duration_s=600.0)
    data["devices"][0].update(count=1, radio="lora-sf12", workload={"kind": "periodic", "period_s": 5.0})
    data["edge"][0].update(max_batch=1, max_wait_ms=0)
    _, c = simulate(data, tmp_path)
    radio = load_radio("lora-sf12")
    start = c["t_arrive_s"]  # one frame per inference: arrival = start + airtime
    gaps = np.diff(np.sort(start))
    air = c["tx_mj"][0] / (radio.supply_v * radio.tx_current_ma)
    assert gaps.min() >= air / radio.duty_cycle - 1e-6


def test_same_seed_same_outputs_whatever_the_codec_batch(tmp_path, simulate):
    data = scenario()
    data["edge"][0]["channel"] = {"kind": "gilbert-elliott", "ber_good": 1e-4, "ber_bad": 2e-2,
                                  "mean_good_s": 2.0, "mean_bad_s": 1.0}
    s1, c1 = simulate(data, tmp_path, "a")
    data["codec_batch"] = 17
    s2, c2 = simulate(data, tmp_path, "b")
    o1, o2 = np.lexsort((c1["t_sense_s"], c1["device"])), np.lexsort((c2["t_sense_s"], c2["device"]))
    for k in c1:
        assert np.array_equal(c1[k][o1], c2[k][o2], equal_nan=c1[k].dtype.kind == "f"), k
    s1.pop("wall_time_s"), s2.pop("wall_time_s")
    s1.pop("decoder_calls"), s2.pop("decoder_calls")
    s1.pop("decoder_cache_hits"), s2.pop("decoder_cache_hits")
    assert s1 == s2


@pytest.mark.parametrize("kind", ["aloha", "csma", "tdma"])
def test_shared_media_run_and_account(tmp_path, kind, simulate):
    data = scenario(duration_s=20.0)
    medium = {"kind": kind}
    if kind == "tdma":
        medium["slot_ms"] = 5.0
    data["edge"][0]["medium"] = medium
    data["devices"][0]["workload"] = {"kind": "poisson", "rate_hz": 20.0}
    summary, c = simulate(data, tmp_path)
    assert summary["inferences"] == len(c["lost"]) > 0
    if kind == "aloha":
        assert summary["lost"]["collision"] > 0
    if kind == "tdma":
        assert summary["lost"]["collision"] == 0


def test_run_accuracy_at_constant_ber_agrees_with_codec_eval(tmp_path, simulate):
    """The engine decodes exactly what `cosim codec eval` decodes: same accuracy at BER p."""
    from cosim.codec.checkpoint import load_codec
    from cosim.codec.evaluate import evaluate_codec
    from cosim.data import load_dataset

    p = 6e-3  # high enough to matter, low enough that frame headers (128 bits) mostly survive
    data = scenario(duration_s=60.0)
    data["devices"][0]["count"] = 100
    data["edge"][0]["channel"] = {"kind": "constant", "ber": p}
    summary, c = simulate(data, tmp_path)
    delivered = c["lost"] == 0
    n = int(delivered.sum())
    assert n > 1000
    run_acc = float((c["pred"][delivered] == c["label"][delivered]).mean())
    assert math.isclose(run_acc, summary["delivered_accuracy"], rel_tol=1e-12)
    ds = load_dataset("digits")
    ev = evaluate_codec(load_codec("builtin:digits"), ds.x_test, ds.y_test, bers=[p], realisations=5, int8=False)
    stat = ev.semantic[0]
    sampling = 4.5 * math.sqrt(stat.mean * (1 - stat.mean) / n)
    assert abs(run_acc - stat.mean) <= stat.ci95 + sampling, (run_acc, stat)
