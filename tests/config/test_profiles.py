"""Hardware profiles: every shipped file loads, broken files fail clearly, units and airtimes follow theory."""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
import yaml

from cosim.config.profiles import (
    BatteryProfile,
    BoardProfile,
    EdgeProfile,
    RadioProfile,
    list_profiles,
    load_board,
    load_edge,
    load_profile,
    load_radio,
    lora_airtime_s,
)
from cosim.errors import ProfileError

REQUIRED = {
    "board": ["stm32f401", "stm32f411", "stm32f746", "stm32h743", "stm32h7a3", "stm32l476", "stm32l4r5",
              "stm32u575"],
    "radio": ["ble-1m", "ble-2m", "ieee802154", "lora-sf7", "lora-sf8", "lora-sf9", "lora-sf10", "lora-sf11",
              "lora-sf12", "nbiot", "wifi-esp32"],
    "edge": ["rpi5", "jetson-orin-nano", "x86-gpu"],
    "battery": ["saft-ls14500", "saft-ls33600", "cr2032", "liion-pouch-1000", "alkaline-2aa"],
}
CLASSES = {"board": BoardProfile, "radio": RadioProfile, "edge": EdgeProfile, "battery": BatteryProfile}
SHIPPED = list_profiles()


def test_required_profiles_are_shipped():
    names = {(i.kind, i.name) for i in SHIPPED}
    for kind, required in REQUIRED.items():
        for name in required:
            assert (kind, name) in names


@pytest.mark.parametrize("info", SHIPPED, ids=lambda i: f"{i.kind}:{i.name}")
def test_every_shipped_profile_loads_with_sources(info):
    profile = load_profile(info.name, info.kind)
    assert isinstance(profile, CLASSES[info.kind])
    assert profile.name == info.path.stem
    assert profile.sources, "a profile must carry its sources"
    for key, src in profile.sources.items():
        assert src.source.strip(), f"{info.path}: {key} has no source"
        value = profile.protocol[key] if key in getattr(profile, "protocol", {}) else getattr(profile, key)
        assert value == src.value
        if src.estimate:
            assert src.note.strip(), f"{info.path}: estimate {key} must say how it was derived"


def test_loaders_cache_and_accept_paths():
    board = load_board("stm32l476")
    assert load_board("stm32l476") is board
    assert load_board(board.path) is board
    assert load_board(str(board.path)).clock_mhz == board.clock_mhz
    assert isinstance(load_radio("ble-1m"), RadioProfile)
    assert isinstance(load_edge("rpi5"), EdgeProfile)


def test_wrong_kind_is_refused():
    with pytest.raises(ProfileError, match=r"ble-1m\.yaml.*'kind'.*radio profile, expected a board"):
        load_board(load_radio("ble-1m").path)


def test_unknown_name_lists_known_profiles():
    with pytest.raises(ProfileError, match=r"unknown board profile 'stm99'.*stm32l476"):
        load_board("stm99")


def test_env_root(tmp_path, monkeypatch):
    src = load_board("stm32l476").path
    (tmp_path / "boards").mkdir()
    (tmp_path / "boards" / "myboard.yaml").write_text(src.read_text().replace("name: stm32l476", "name: myboard"))
    monkeypatch.setenv("COSIM_HW_PROFILES", str(tmp_path))
    assert [i.name for i in list_profiles()] == ["myboard"]
    assert load_board("myboard").name == "myboard"


# -- broken files ---------------------------------------------------------------------------------------
def _broken(tmp_path: Path, edit) -> Path:
    data = yaml.safe_load(load_board("stm32l476").path.read_text())
    edit(data)
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@pytest.mark.parametrize(
    ("edit", "field", "message"),
    [
        (lambda d: d.pop("clock_mhz"), "clock_mhz", "missing field"),
        (lambda d: d["clock_mhz"].update(value="fast"), "clock_mhz.value", "must be a number"),
        (lambda d: d["clock_mhz"].update(value="8.0e7"), "clock_mhz.value", "as text"),
        (lambda d: d["sram_kb"].update(value=12.5), "sram_kb.value", "whole number"),
        (lambda d: d["run_current_ma"].update(value=-3.0), "run_current_ma.value", "positive"),
        (lambda d: d["supply_v"].update(value=0), "supply_v.value", "positive"),
        (lambda d: d["supply_v"].update(value=True), "supply_v.value", "must be a number"),
        (lambda d: d.update(turbo_mhz={"value": 1, "source": "x"}), "turbo_mhz", "unknown field"),
        (lambda d: d["supply_v"].update(unit="V"), "supply_v.unit", "unknown field"),
        (lambda d: d["supply_v"].pop("source"), "supply_v.source", "missing field"),
        (lambda d: d["supply_v"].update(estimate="yes"), "supply_v.estimate", "true or false"),
        (lambda d: d.update(supply_v=3.3), "supply_v", "expected"),
        (lambda d: d.update(core=7), "core", "non-empty string"),
        (lambda d: d["clock_mhz"].update(value=1000), "clock_mhz", "max_clock_mhz"),
    ],
)
def test_broken_board_names_file_and_field(tmp_path, edit, field, message):
    path = _broken(tmp_path, edit)
    with pytest.raises(ProfileError) as info:
        load_board(path)
    text = str(info.value)
    assert "broken.yaml" in text
    assert f"field '{field}'" in text
    assert re.search(message, text), text


def test_bad_yaml_and_missing_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: board\nname: [unclosed\n")
    with pytest.raises(ProfileError, match=r"bad\.yaml:\d+: invalid YAML"):
        load_board(bad)
    with pytest.raises(ProfileError, match=r"nothere\.yaml: file not found"):
        load_board(tmp_path / "nothere.yaml")
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    with pytest.raises(ProfileError, match=r"empty\.yaml: expected a mapping"):
        load_board(empty)


def test_radio_rules(tmp_path):
    base = yaml.safe_load(load_radio("ble-1m").path.read_text())
    cases = [
        ({"modulation": "psk8"}, "'modulation'"),
        ({"phy": "zigbee"}, "'phy'"),
        ({"lora_sf": {"value": 7, "source": "x"}}, "'lora_sf'"),
        ({"duty_cycle": {"value": 1.5, "source": "x"}}, "'duty_cycle.value'"),
        ({"ack_bytes": {"value": -1, "source": "x"}}, "'ack_bytes.value'"),
    ]
    for i, (change, field) in enumerate(cases):
        path = tmp_path / f"radio{i}.yaml"
        path.write_text(yaml.safe_dump({**base, **change}, sort_keys=False))
        with pytest.raises(ProfileError, match=f"radio{i}.yaml.*field {field}"):
            load_radio(path)
    lora = yaml.safe_load(load_radio("lora-sf7").path.read_text())
    lora.pop("lora_sf")
    path = tmp_path / "lora.yaml"
    path.write_text(yaml.safe_dump(lora, sort_keys=False))
    with pytest.raises(ProfileError, match=r"lora\.yaml.*'lora_sf': missing field"):
        load_radio(path)


def test_zero_and_negative_dbm_allowed(tmp_path):
    data = yaml.safe_load(load_radio("ble-1m").path.read_text())
    data["tx_power_dbm"]["value"] = -20
    data["ack_bytes"]["value"] = 0
    path = tmp_path / "quiet.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    radio = load_radio(path)
    assert radio.tx_power_dbm == -20
    assert radio.ack_airtime_s() == 0.0


# -- units -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("name", REQUIRED["board"])
def test_board_units(name):
    b = load_board(name)
    macs = 3.7e6
    t = b.compute_time_s(macs)
    assert t == pytest.approx(macs * b.cycles_per_mac_conv / (b.clock_mhz * 1e6))
    assert b.compute_time_s(macs, "fc") == pytest.approx(macs * b.cycles_per_mac_fc / (b.clock_mhz * 1e6))
    # energy = V · I · t: volts × milliamps × seconds = millijoules
    assert b.compute_energy_mj(macs) == pytest.approx(b.supply_v * b.run_current_ma * t)
    assert b.run_power_mw == pytest.approx(b.supply_v * b.run_current_ma)
    assert b.sleep_power_mw == pytest.approx(b.supply_v * b.sleep_current_ua / 1000)
    assert b.clock_mhz <= b.max_clock_mhz
    with pytest.raises(ValueError):
        b.compute_time_s(macs, "depthwise")


def test_edge_service_time_scales_t1():
    e = load_edge("jetson-orin-nano")
    assert e.service_time_s(1) == pytest.approx((e.batch_t0_ms + e.batch_t1_ms) / 1000)
    assert e.service_time_s(10) - e.service_time_s(9) == pytest.approx(e.batch_t1_ms / 1000)
    half = e.service_time_s(8, e.reference_macs / 2)
    assert half == pytest.approx((e.batch_t0_ms + 8 * e.batch_t1_ms / 2) / 1000)
    with pytest.raises(ValueError):
        e.service_time_s(0)


# -- airtime against theory ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("pl", "sf", "expected_s"),
    [
        # Semtech SX1262 §6.1.4, BW 125 kHz, CR 4/5, 8-symbol preamble, explicit header, CRC on, by hand:
        # SF7:  ceil((160+16-28+8+20)/28)=7 → 35 symbols; (8+4.25+8+35)·1.024 ms = 56.576 ms
        (20, 7, 0.056576),
        # SF10: ceil(164/40)=5 → 25; (20.25+25)·8.192 ms = 370.688 ms
        (20, 10, 0.370688),
        # SF12 (LDRO): ceil(156/(4·10))=4 → 20; (20.25+20)·32.768 ms = 1318.912 ms
        (20, 12, 1.318912),
        # SF11 (LDRO), 51 B: ceil((408+16-44+28)/36)=12 → 60; (20.25+60)·16.384 ms = 1314.816 ms
        (51, 11, 1.314816),
        # SF12 (LDRO), 64 B: ceil((512+16-48+28)/40)=13 → 65; (20.25+65)·32.768 ms = 2793.472 ms
        # (without LDRO it would be ceil(508/48)=11 → 2465.792 ms)
        (64, 12, 2.793472),
    ],
)
def test_lora_airtime_semtech(pl, sf, expected_s):
    assert lora_airtime_s(pl, sf, 125e3, 1) == pytest.approx(expected_s, rel=1e-12)


def test_lora_profile_airtime_uses_header_and_ldro():
    r = load_radio("lora-sf7")
    assert r.airtime_s(20) == pytest.approx(lora_airtime_s(r.header_bytes + 20, 7, 125e3, 1))
    # A downlink ACK has no payload CRC.
    assert r.ack_airtime_s() == pytest.approx(lora_airtime_s(r.ack_bytes, 7, 125e3, 1, crc=False))
    for name in ("lora-sf7", "lora-sf8", "lora-sf9", "lora-sf10", "lora-sf11", "lora-sf12"):
        radio = load_radio(name)
        assert radio.lora_bw_hz == 125e3 and radio.lora_cr == 1 and radio.duty_cycle == 0.01
        assert radio.bitrate_bps == pytest.approx(radio.lora_sf * 125e3 / 2**radio.lora_sf * 0.8, rel=1e-3)


def test_ble_airtime_matches_core_spec():
    one, two = load_radio("ble-1m"), load_radio("ble-2m")
    for r in (one, two):
        n = 100
        assert r.airtime_s(n) == pytest.approx(8 * (r.preamble_bytes + r.header_bytes + n + r.crc_bytes) / r.bitrate_bps)
        assert r.frame_overhead_bits == 8 * (r.header_bytes + r.crc_bytes)
    # Core spec: a 251-byte LL payload (data length extension, no MIC) lasts 2088 µs on LE 1M; an empty
    # PDU lasts 80 µs on LE 1M and 44 µs on LE 2M.
    assert one.airtime_s(one.max_payload_bytes) == pytest.approx(2088e-6)
    assert one.ack_airtime_s() == pytest.approx(80e-6)
    assert two.ack_airtime_s() == pytest.approx(44e-6)
    with pytest.raises(ValueError):
        one.airtime_s(one.max_payload_bytes + 1)


def test_ieee802154_airtime_matches_standard():
    r = load_radio("ieee802154")
    # 127-byte PSDU + 6-byte SHR/PHR at 32 µs per byte = 4256 µs; ACK frame 11 bytes = 352 µs.
    assert r.airtime_s(r.max_payload_bytes) == pytest.approx(4256e-6)
    assert r.ack_airtime_s() == pytest.approx(352e-6)


def test_modulations_are_known_to_the_channel():
    from cosim.channel.modulation import MODULATIONS, ber_from_snr_db, radio_ber_params

    for name in REQUIRED["radio"]:
        r = load_radio(name)
        assert r.modulation in MODULATIONS
        ber = ber_from_snr_db(r.modulation, 10.0, **radio_ber_params(r))
        assert 0.0 <= ber <= 0.5 and math.isfinite(ber)
