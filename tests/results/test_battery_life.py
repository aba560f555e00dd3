"""Battery life against capacity, average power, self-discharge and shelf life; the NB-IoT reference."""

from __future__ import annotations

import pyarrow.parquet as pq
import pytest
import torch

from cosim.config.profiles import HOURS_PER_YEAR, load_battery, load_radio
from cosim.config.scenario import validate_scenario
from cosim.engine.run import run_scenario
from cosim.net.frames import fragment
from cosim.net.protocols import protocol_costs

torch.set_num_threads(1)


def test_life_is_usable_energy_over_load_plus_self_discharge():
    cell = load_battery("saft-ls14500")
    usable_mwh = 2600 * 3.6 * 0.7  # capacity x nominal voltage x pulse derating = 6552 mWh
    leak_mw = 0.01 * 2600 * 3.6 / 8766  # 1 %/year of the rated 9360 mWh = 0.01068 mW
    assert cell.usable_mwh == pytest.approx(usable_mwh)
    assert cell.self_discharge_mw == pytest.approx(leak_mw)
    assert cell.life_days(0.1) == pytest.approx(usable_mwh / (0.1 + leak_mw) / 24)  # 2466.6 days
    # an idle device lives as long as the shelf life, not the 25,567 days self-discharge alone gives
    assert cell.life_days(0.0) == pytest.approx(20 * 365.25)
    # the Li-ion pouch cell's 25 %/year self-discharge dominates a 10 uW load
    pouch = load_battery("liion-pouch-1000")
    assert pouch.life_days(0.01) < 0.2 * pouch.usable_mwh / 0.01 / 24


def test_a_group_with_a_battery_profile_lives_by_it(tmp_path):
    data = {
        "name": "t", "seed": 3, "duration_s": 60.0, "codec": "builtin:digits", "deadline_ms": 10_000,
        "devices": [{"name": "g", "count": 2, "board": "stm32l476", "radio": "ble-1m", "battery": "cr2032",
                     "workload": {"kind": "periodic", "period_s": 10.0}}],
        "edge": [{"name": "e", "profile": "rpi5", "channel": {"kind": "constant", "ber": 0.0}}],
    }
    summary = run_scenario(validate_scenario(data, "test"), tmp_path / "o").summary
    cell = load_battery("cr2032")
    power = summary["device_avg_power_mw"]
    days = 225 * 3.0 * 0.5 / (power + 0.01 * 225 * 3.0 / HOURS_PER_YEAR) / 24
    assert summary["battery_life_days"] == pytest.approx(days, rel=1e-9)
    assert summary["battery_life_days"] == pytest.approx(cell.life_days(power), rel=1e-12)
    table = pq.read_table(tmp_path / "o" / "packets.parquet")
    assert {"wake_mj", "rx_window_mj", "cca_mj", "setup_mj", "tail_mj"} <= set(table.column_names)


def test_nbiot_battery_life_matches_a_published_measurement_for_the_same_traffic():
    """Joerke, Falkenberg, Wietfeld, 'Power Consumption Analysis of NB-IoT and eMTC in Challenging Smart
    City Environments', IEEE Globecom Workshops 2018 (as summarised by wyrls.com, 'NB-IoT basics part 2'):
    84 bytes once a day at 144 dB coupling loss -> about 25 years, module only, on the 5 Wh battery of
    the 3GPP TR 45.820 methodology. The same traffic through cosim's NB-IoT radio and protocol model
    must land within a factor 1.5."""
    radio = load_radio("nbiot")
    costs = protocol_costs(radio, arq=False)
    report_mj = costs.fixed_mj + radio.tx_supply_mw * fragment(84 * 8, radio).total_airtime_s
    avg_mw = report_mj / 86_400 + radio.sleep_supply_mw  # one RRC cycle a day, PSM in between
    years = 5_000 / avg_mw / HOURS_PER_YEAR
    assert 25 / 1.5 <= years <= 25 * 1.5, years
