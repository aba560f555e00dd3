"""The protocol interface: per-inference phases, per-frame listening, background power."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

from cosim.registry import Registry

# radio phy -> protocol class; plug-ins register through the `cosim.protocols` entry-point group
PROTOCOLS: Registry = Registry("protocol", group="cosim.protocols", builtins=tuple(
    f"cosim.net.protocols.{m}" for m in ("ble", "ieee802154", "lorawan", "nbiot", "wifi")))


def register(phy: str):
    """Class decorator: the protocol of radios whose profile says `phy: <phy>`."""

    def wrap(cls: type[Protocol]) -> type[Protocol]:
        cls.phy = phy
        return PROTOCOLS.register(phy)(cls)

    return wrap


@dataclass(frozen=True)
class ProtocolCosts:
    """What a radio protocol adds to one inference, and what it costs in the background.

    Energies are mJ, times s, powers mW (= mJ/s). Phase names become `<phase>_mj` record columns
    (per inference) or keys of the summary's per-phase breakdown (background).
    """

    access_s: float = 0.0  # delay before the first frame (wait for a connection event, RRC set-up), s
    phases_mj: tuple[tuple[str, float], ...] = ()  # fixed energy per inference, by phase
    frame_listen_s: float = 0.0  # radio listening per frame attempt (RX windows, central's packet, CCA), s
    frame_listen_phase: str = "rx_window"  # the phase that listening is booked to
    ack_miss_rx_s: float = 0.0  # extra listening when an awaited ACK does not come, s
    background_mw: tuple[tuple[str, float], ...] = ()  # continuous cost while the device sleeps, by phase

    @property
    def fixed_mj(self) -> float:
        """Energy per inference of the fixed phases, mJ."""
        return sum(mj for _, mj in self.phases_mj)


class Protocol:
    """A radio protocol: its profile fields (name -> unit) and its costs for a radio profile."""

    phy: ClassVar[str] = ""
    FIELDS: ClassVar[Mapping[str, str]] = {}

    def __init__(self, radio) -> None:
        self.radio = radio
        self.p = radio.protocol

    def costs(self, arq: bool) -> ProtocolCosts:  # pragma: no cover - every protocol overrides it
        raise NotImplementedError

    def for_link(self, mean_snr_db: float | None):
        """The radio a device with this mean SNR (dB; None: the channel has no SNR) transmits with.

        The profile's radio unless the protocol adapts to coverage (NB-IoT repetitions)."""
        return self.radio

    # helpers: radio powers, mW
    @property
    def rx_mw(self) -> float:
        return self.radio.rx_supply_mw

    @property
    def tx_mw(self) -> float:
        return self.radio.tx_supply_mw


def protocol_fields(phy: str) -> Mapping[str, str]:
    """The profile fields (name -> unit) of the protocol of `phy` (empty when it has none)."""
    return PROTOCOLS.get(phy).FIELDS if phy in PROTOCOLS else {}


def link_radio(radio, mean_snr_db: float | None):
    """The radio `radio`'s protocol uses on a link of mean SNR `mean_snr_db` (see `Protocol.for_link`)."""
    return PROTOCOLS.get(radio.phy)(radio).for_link(mean_snr_db) if radio.phy in PROTOCOLS else radio


def protocol_costs(radio, arq: bool) -> ProtocolCosts:
    """The costs of `radio`'s protocol for an inference sent with or without ARQ."""
    return PROTOCOLS.get(radio.phy)(radio).costs(arq) if radio.phy in PROTOCOLS else ProtocolCosts()
