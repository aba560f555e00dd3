"""Bluetooth LE connection: data rides in connection events; the central's packet opens every event.

Timeline of one idle connection event (Core 5.x Vol 6 Part B 4.5.1): radio start-up, receive the
central's empty PDU, T_IFS, transmit the peripheral's empty PDU. The peripheral attends every
(peripheral_latency + 1)-th event; the supervision timeout must exceed 2 x that period (4.5.2).
An inference waits on average half a connection interval for the next event; each of its frames
is preceded by the central's packet (received) and T_IFS. With ARQ the central's packet after a frame
is its ACK (booked as the ACK), so only the event's first central packet is added.
"""

from __future__ import annotations

from typing import ClassVar

from cosim.errors import ProfileError
from cosim.net.protocols.base import Protocol, ProtocolCosts, register


@register("ble")
class BleConnection(Protocol):
    FIELDS: ClassVar[dict] = {
        "conn_interval_ms": "ms",
        "peripheral_latency": "events",
        "supervision_timeout_ms": "ms",
        "radio_startup_us": "µs",
    }

    def event_period_s(self) -> float:
        """Time between the connection events the peripheral attends, s."""
        return (self.p["peripheral_latency"] + 1) * self.p["conn_interval_ms"] / 1000.0

    def idle_event_mj(self) -> float:
        """Energy of one connection event with nothing to send, mJ."""
        r = self.radio
        startup_s = self.p["radio_startup_us"] / 1e6
        empty_s = r.ack_airtime_s()  # an empty PDU
        return (startup_s + empty_s + r.ifs_us / 1e6) * self.rx_mw + empty_s * self.tx_mw

    def costs(self, arq: bool) -> ProtocolCosts:
        period_s = self.event_period_s()
        if self.p["supervision_timeout_ms"] / 1000.0 <= 2.0 * period_s:
            raise ProfileError(
                f"{self.radio.path or self.radio.name}: field 'supervision_timeout_ms': must exceed "
                f"2 x (1 + peripheral_latency) x conn_interval_ms = {2000 * period_s:g} ms "
                "(Bluetooth Core Vol 6 Part B 4.5.2)")
        startup_s = self.p["radio_startup_us"] / 1e6
        central_s = self.radio.ack_airtime_s() + self.radio.ifs_us / 1e6  # the central's packet + T_IFS
        phases = (("wake", startup_s * self.rx_mw),)
        if arq:  # the central's packet after each frame is its ACK (booked as such): one more opens the event
            phases += (("rx_window", central_s * self.rx_mw),)
        return ProtocolCosts(
            access_s=self.p["conn_interval_ms"] / 2000.0,
            phases_mj=phases,
            frame_listen_s=0.0 if arq else central_s,
            frame_listen_phase="rx_window",
            background_mw=(("conn_events", self.idle_event_mj() / period_s),),
        )
