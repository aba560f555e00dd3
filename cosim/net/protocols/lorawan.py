"""LoRaWAN class A: after every uplink the device opens RX1 (RECEIVE_DELAY1) and RX2 (RECEIVE_DELAY2).

With nothing sent to it, each window stays open for the preamble detection time (`rx_window_symbols`
symbols at the window's spreading factor) and closes. An unconfirmed uplink pays both windows; a
confirmed one receives its ACK in RX1 (booked as the ACK) and opens RX2 only when the ACK is missed.
"""

from __future__ import annotations

from typing import ClassVar

from cosim.net.protocols.base import Protocol, ProtocolCosts, register


@register("lora")
class LoRaWanClassA(Protocol):
    FIELDS: ClassVar[dict] = {
        "rx_window_symbols": "symbols",
        "rx2_sf": "",
    }

    def window_s(self, sf: int) -> float:
        """How long a receive window with no downlink stays open at spreading factor `sf`, s."""
        return self.p["rx_window_symbols"] * 2.0**sf / self.radio.lora_bw_hz

    def costs(self, arq: bool) -> ProtocolCosts:
        rx1_s = self.window_s(self.radio.lora_sf)
        rx2_s = self.window_s(int(self.p["rx2_sf"]))
        if arq:
            return ProtocolCosts(ack_miss_rx_s=rx2_s, frame_listen_phase="rx_window")
        return ProtocolCosts(frame_listen_s=rx1_s + rx2_s, frame_listen_phase="rx_window")
