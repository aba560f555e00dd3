"""Wi-Fi station power save: associated and asleep, waking for every DTIM beacon; or reconnecting.

With `stay_associated` = 1 the station sleeps between DTIM beacons (IEEE 802.11-2016 11.2.3) and
wakes for each, every dtim_period x beacon_interval_tu x 1.024 ms, for `beacon_wake_ms` at RX
current (background phase `beacons`). With 0 it powers down and associates again before every
inference (`association_ms` at RX current, phase `setup`, delaying the first frame).
"""

from __future__ import annotations

from typing import ClassVar

from cosim.net.protocols.base import Protocol, ProtocolCosts, register

TU_S = 1024e-6  # IEEE 802.11 time unit, s


@register("wifi")
class WifiPowerSave(Protocol):
    FIELDS: ClassVar[dict] = {
        "stay_associated": "",
        "beacon_interval_tu": "TU",
        "dtim_period": "beacons",
        "beacon_wake_ms": "ms",
        "association_ms": "ms",
    }

    def costs(self, arq: bool) -> ProtocolCosts:
        p = self.p
        if p["stay_associated"]:
            period_s = p["dtim_period"] * p["beacon_interval_tu"] * TU_S
            return ProtocolCosts(background_mw=(("beacons", p["beacon_wake_ms"] / 1000.0 * self.rx_mw / period_s),))
        assoc_s = p["association_ms"] / 1000.0
        return ProtocolCosts(access_s=assoc_s, phases_mj=(("setup", assoc_s * self.rx_mw),))
