"""Each radio protocol's energy against hand-worked timelines (figures from the shipped profiles)."""

from __future__ import annotations

import math

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch

from cosim.config.profiles import load_radio
from cosim.config.scenario import validate_scenario
from cosim.engine.run import run_scenario
from cosim.net.frames import fragment
from cosim.net.protocols import protocol_costs

torch.set_num_threads(1)


def test_ble_one_connection_event():
    # ble-1m: RX 6.26 mA, TX 6.4 mA at 3.0 V; empty PDU = preamble 1 + AA 4 + header 2 + CRC 3 = 10 B = 80 us
    # event: start-up 140 us + central's PDU 80 us + T_IFS 150 us at RX, our empty PDU 80 us at TX
    event_mj = (140e-6 + 80e-6 + 150e-6) * 6.26 * 3.0 + 80e-6 * 6.4 * 3.0  # = 8.4846 uJ
    costs = protocol_costs(load_radio("ble-1m"), arq=False)
    assert dict(costs.background_mw)["conn_events"] == pytest.approx(event_mj / 0.050, rel=1e-9)
    assert costs.access_s == pytest.approx(0.025)  # mean wait: half the 50 ms interval
    assert costs.frame_listen_s == pytest.approx(80e-6 + 150e-6)  # the central's packet before each frame
    assert dict(costs.phases_mj)["wake"] == pytest.approx(140e-6 * 6.26 * 3.0)


def test_ble_supervision_timeout_must_exceed_twice_the_event_period(tmp_path):
    import yaml

    from cosim.config.profiles import load_radio as load
    from cosim.errors import ProfileError

    data = yaml.safe_load(load_radio("ble-1m").path.read_text())
    data["supervision_timeout_ms"]["value"] = 90  # < 2 x 50 ms
    path = tmp_path / "ble.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    with pytest.raises(ProfileError, match="supervision_timeout_ms"):
        protocol_costs(load(path), arq=False)


def test_lorawan_class_a_windows_after_one_uplink():
    radio = load_radio("lora-sf10")
    # unconfirmed: RX1 at SF10 for 12 symbols (12 x 1024 / 125 kHz = 98.304 ms), RX2 at SF12 (393.216 ms)
    unconfirmed = protocol_costs(radio, arq=False)
    assert unconfirmed.frame_listen_s == pytest.approx(0.098304 + 0.393216, rel=1e-12)
    assert unconfirmed.frame_listen_s * radio.rx_supply_mw == pytest.approx(0.49152 * 4.6 * 3.3)  # 7.461 mJ
    # confirmed: the ACK arrives in RX1 (billed as the ACK); RX2 opens only when it is missed
    confirmed = protocol_costs(radio, arq=True)
    assert confirmed.frame_listen_s == 0.0 and confirmed.ack_miss_rx_s == pytest.approx(0.393216)


def test_ieee802154_cca_and_ack_wait():
    radio = load_radio("ieee802154")
    costs = protocol_costs(radio, arq=True)
    # CCA 8 symbols x 16 us + aTurnaroundTime 12 symbols (192 us) before each frame
    assert costs.frame_listen_s == pytest.approx(128e-6 + 192e-6)
    assert costs.frame_listen_phase == "cca"
    # missed ACK: macAckWaitDuration 54 x 16 = 864 us in all, the received case being turnaround + ACK
    assert costs.ack_miss_rx_s == pytest.approx(864e-6 - 192e-6 - radio.ack_airtime_s())
    assert protocol_costs(radio, arq=False).ack_miss_rx_s == 0.0


def test_nbiot_one_rrc_cycle_with_its_tail():
    costs = protocol_costs(load_radio("nbiot"), arq=False)
    # TX 200 mA, RX 30 mA at 3.3 V: NPRACH 5.6 ms TX; RAR 50 + set-up 300 + release 50 ms RX
    setup_mj = 5.6e-3 * 200 * 3.3 + (0.050 + 0.300 + 0.050) * 30 * 3.3  # = 3.696 + 39.6 = 43.296 mJ
    # inactivity timer 20 s at 6 mA (connected, no data), then T3324 10 s in idle DRX at 0.12 mA
    tail_mj = 3.3 * (20 * 6 + 10 * 0.12)  # = 399.96 mJ
    phases = dict(costs.phases_mj)
    assert phases["setup"] == pytest.approx(setup_mj) and phases["tail"] == pytest.approx(tail_mj)
    assert costs.access_s == pytest.approx(0.0056 + 0.050 + 0.300)
    assert costs.background_mw == ()  # PSM: the radio's sleep current, nothing else


def test_wifi_dtim_wake():
    costs = protocol_costs(load_radio("wifi-esp32"), arq=False)
    # 3 ms at 100 mA x 3.3 V per DTIM beacon, every 1 x 100 TU = 102.4 ms
    assert dict(costs.background_mw)["beacons"] == pytest.approx(3e-3 * 100 * 3.3 / 0.1024)


def _one_device(tmp_path, radio: str, period_s: float, duration_s: float, **group):
    data = {
        "name": "t", "seed": 3, "duration_s": duration_s, "codec": "builtin:digits", "deadline_ms": 600_000,
        "devices": [{"name": "g", "count": 1, "board": "stm32l476", "radio": radio,
                     "workload": {"kind": "periodic", "period_s": period_s}, **group}],
        "edge": [{"name": "e", "profile": "rpi5", "max_batch": 1, "max_wait_ms": 0,
                  "channel": {"kind": "constant", "ber": 0.0}}],
    }
    res = run_scenario(validate_scenario(data, "test"), tmp_path / radio)
    table = pq.read_table(tmp_path / radio / "packets.parquet")
    return res.summary, {c: table.column(c).to_numpy() for c in table.column_names}


def test_engine_bills_the_lorawan_windows_and_the_nbiot_cycle(tmp_path):
    from cosim.codec.checkpoint import load_codec

    bits = load_codec("builtin:digits").meta.payload_bits
    lora = load_radio("lora-sf10")
    frames = fragment(bits, lora).n_frames
    _, c = _one_device(tmp_path, "lora-sf10", 600.0, 1800.0)
    assert len(c["rx_window_mj"]) >= 2
    assert np.allclose(c["rx_window_mj"], frames * 0.49152 * lora.rx_supply_mw, rtol=1e-9)
    summary, c = _one_device(tmp_path, "nbiot", 300.0, 1200.0)
    assert np.allclose(c["setup_mj"], 43.296) and np.allclose(c["tail_mj"], 399.96)
    by_phase = summary["device_energy_mj_by_phase"]
    assert by_phase["setup"] == pytest.approx(43.296) and by_phase["tail"] == pytest.approx(399.96)
    # the first frame waits for random access and RRC set-up
    assert (c["t_arrive_s"] - c["t_sense_s"] >= 0.3556).all()
    assert math.isclose(summary["device_energy_mj_per_inference"],
                        sum(v for v in by_phase.values() if v is not None), rel_tol=1e-9)


def test_nbiot_coverage_enhancement_repeats_as_snr_falls():
    from cosim.net.protocols import link_radio

    radio = load_radio("nbiot")
    assert link_radio(radio, 0.0) is radio and link_radio(radio, None) is radio  # CE level 0
    ce1 = link_radio(radio, -10.0)  # between -4.55 and -14.55 dB: 8 repetitions
    assert ce1.airtime_s(100) == pytest.approx(8 * radio.airtime_s(100))
    assert ce1.tx_power_dbm == pytest.approx(23 + 10 * math.log10(8))  # +9.03 dB of combining gain
    assert ce1.protocol["nprach_ms"] == pytest.approx(8 * 5.6)
    setup_ce1 = dict(protocol_costs(ce1, arq=False).phases_mj)["setup"]
    assert setup_ce1 == pytest.approx(8 * 5.6e-3 * 200 * 3.3 + 0.4 * 30 * 3.3)
    ce2 = link_radio(radio, -20.0)
    assert ce2.airtime_s(100) == pytest.approx(128 * radio.airtime_s(100))


def test_cell_edge_nbiot_devices_pay_for_repetitions(tmp_path):
    data = {
        "name": "t", "seed": 4, "duration_s": 600.0, "codec": "builtin:digits", "deadline_ms": 600_000,
        "devices": [{"name": "g", "count": 40, "board": "stm32l4r5", "radio": "nbiot",
                     "workload": {"kind": "periodic", "period_s": 300.0},
                     "placement": {"kind": "disc", "radius_m": 3000, "min_m": 30}}],
        "edge": [{"name": "e", "profile": "x86-gpu", "channel": {"kind": "snr", "exponent": 3.5, "sigma_db": 8.0}}],
    }
    run_scenario(validate_scenario(data, "test"), tmp_path / "o")
    c = {k: v.to_numpy() for k, v in zip(pq.read_table(tmp_path / "o" / "packets.parquet").column_names,
                                          pq.read_table(tmp_path / "o" / "packets.parquet").columns)}
    per_attempt = c["tx_mj"] / c["tx_attempts"]
    levels = np.unique(np.round(per_attempt / per_attempt.min()))
    assert set(levels) <= {1.0, 8.0, 128.0} and len(levels) >= 2  # CE0 and repeated levels both occur
