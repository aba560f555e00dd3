"""NB-IoT: random access, RRC connection set-up, data, inactivity tail, release, idle, then PSM or eDRX.

Timeline of one report (3GPP TS 36.321 5.1 random access, TS 36.331 5.3.3 RRC connection
establishment and 5.3.8 release, TS 24.008 10.5.7.4a T3324):
  NPRACH preamble (TX) -> RAR window (RX) -> Msg3 / RRC set-up (RX-dominated) -> the frames ->
  connected, no data, until the eNB's inactivity timer releases the connection (`connected_idle_ma`)
  -> RRC release -> RRC idle with paging DRX for T3324 (`idle_drx_ma`) -> PSM (the radio's
  `sleep_current_ua`) or, when `edrx_cycle_s` > 0, eDRX: a paging occasion every cycle.
Set-up delays the first frame; set-up and tail are billed per inference (phases `setup`, `tail`),
eDRX paging in the background (`edrx`).

Coverage enhancement (TS 36.213 16.5.1.1 NPUSCH repetitions, TS 36.331 NPRACH repetitions per CE
level): a device whose mean uplink SNR falls below `ce1_snr_db` (`ce2_snr_db`) repeats every
transport block and preamble `ce1_repetitions` (`ce2_repetitions`) times: airtime and TX energy x R,
and the receiver combines the repetitions, an SNR gain of 10 log10 R dB (ideal combining).
"""

from __future__ import annotations

import dataclasses
import math
from types import MappingProxyType
from typing import ClassVar

from cosim.net.protocols.base import Protocol, ProtocolCosts, register


@register("nbiot")
class NbIotRrc(Protocol):
    FIELDS: ClassVar[dict] = {
        "nprach_ms": "ms",
        "ra_response_ms": "ms",
        "rrc_setup_ms": "ms",
        "rrc_release_ms": "ms",
        "inactivity_timer_s": "s",
        "connected_idle_ma": "mA",
        "t3324_s": "s",
        "idle_drx_ma": "mA",
        "edrx_cycle_s": "s",
        "paging_wake_ms": "ms",
        "ce1_snr_db": "dB",
        "ce2_snr_db": "dB",
        "ce1_repetitions": "repetitions",
        "ce2_repetitions": "repetitions",
    }

    def repetitions(self, mean_snr_db: float | None) -> int:
        """Repetitions of the coverage level a device with this mean uplink SNR uses (1 = CE level 0)."""
        p = self.p
        if mean_snr_db is None or mean_snr_db >= p["ce1_snr_db"]:
            return 1
        return int(p["ce1_repetitions"] if mean_snr_db >= p["ce2_snr_db"] else p["ce2_repetitions"])

    def for_link(self, mean_snr_db: float | None):
        """The radio of the device's CE level: bit rate / R, SNR (as TX power) + 10 log10 R, NPRACH x R."""
        reps = self.repetitions(mean_snr_db)
        if reps == 1:
            return self.radio
        r = self.radio
        protocol = MappingProxyType({**r.protocol, "nprach_ms": r.protocol["nprach_ms"] * reps})
        return dataclasses.replace(r, name=f"{r.name}@x{reps}", bitrate_bps=r.bitrate_bps / reps,
                                   tx_power_dbm=r.tx_power_dbm + 10.0 * math.log10(reps), protocol=protocol)

    def setup_s(self) -> float:
        """Random access + RRC connection set-up, s (delays the first frame)."""
        p = self.p
        return (p["nprach_ms"] + p["ra_response_ms"] + p["rrc_setup_ms"]) / 1000.0

    def setup_mj(self) -> float:
        """Energy of random access, RRC set-up and release, mJ."""
        p = self.p
        listen_s = (p["ra_response_ms"] + p["rrc_setup_ms"] + p["rrc_release_ms"]) / 1000.0
        return p["nprach_ms"] / 1000.0 * self.tx_mw + listen_s * self.rx_mw

    def tail_mj(self) -> float:
        """Energy of the connected-mode inactivity tail and the T3324 idle period, mJ."""
        p, v = self.p, self.radio.supply_v
        return v * (p["inactivity_timer_s"] * p["connected_idle_ma"] + p["t3324_s"] * p["idle_drx_ma"])

    def costs(self, arq: bool) -> ProtocolCosts:
        p = self.p
        background = ()
        if p["edrx_cycle_s"] > 0:
            background = (("edrx", p["paging_wake_ms"] / 1000.0 * self.rx_mw / p["edrx_cycle_s"]),)
        return ProtocolCosts(access_s=self.setup_s(),
                             phases_mj=(("setup", self.setup_mj()), ("tail", self.tail_mj())),
                             background_mw=background)
