"""IEEE 802.15.4 unslotted CSMA-CA: a CCA before every frame, then the ACK wait when one is requested.

Per frame attempt the radio listens for the CCA (aCCATime) and the RX-to-TX turnaround
(aTurnaroundTime). An ACK that does not come keeps the receiver on for macAckWaitDuration in all;
the received case is the profile's turnaround + ACK airtime (booked as the ACK).
"""

from __future__ import annotations

from typing import ClassVar

from cosim.net.protocols.base import Protocol, ProtocolCosts, register


@register("ieee802154")
class Ieee802154Csma(Protocol):
    FIELDS: ClassVar[dict] = {
        "symbol_us": "µs",
        "cca_symbols": "symbols",
        "ack_wait_symbols": "symbols",
    }

    def costs(self, arq: bool) -> ProtocolCosts:
        sym_s = self.p["symbol_us"] / 1e6
        turnaround_s = self.radio.turnaround_us / 1e6
        cca_s = self.p["cca_symbols"] * sym_s + turnaround_s
        miss_s = 0.0
        if arq:
            received_s = turnaround_s + self.radio.ack_airtime_s()
            miss_s = max(self.p["ack_wait_symbols"] * sym_s - received_s, 0.0)
        return ProtocolCosts(frame_listen_s=cca_s, frame_listen_phase="cca", ack_miss_rx_s=miss_s)
