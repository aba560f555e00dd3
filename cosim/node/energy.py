"""A device's energy per inference, in one place: sensing, compute, MCU wake-up and the radio protocol.

The engine's link plans and the adaptive strategy's cost ranking both read it, so a variant is ranked
by exactly what the engine will bill for it. Energies are mJ (V x mA x s), powers mW.
"""

from __future__ import annotations

from dataclasses import dataclass

from cosim.net.protocols import ProtocolCosts, protocol_costs


@dataclass(frozen=True)
class EnergyModel:
    """The per-inference costs one group's devices pay, whatever they send."""

    sense_s: float
    sense_mj: float
    wake_mj: float  # MCU wake-up from its stop mode + the protocol's radio start-up
    protocol: ProtocolCosts
    tx_mw: float
    rx_mw: float
    board: object
    radio: object

    @classmethod
    def of(cls, board, radio, sense, arq: bool) -> EnergyModel:
        """The model for a group: `sense` is its SenseModel (time_ms, current_ma), `arq` its strategy's."""
        sense_s = sense.time_ms / 1000.0
        costs = protocol_costs(radio, arq)
        radio_wake = sum(mj for phase, mj in costs.phases_mj if phase == "wake")
        return cls(
            sense_s=sense_s,
            sense_mj=(board.run_power_mw + sense.current_ma * board.supply_v) * sense_s,
            wake_mj=board.wake_mj + radio_wake,
            protocol=costs,
            tx_mw=radio.tx_supply_mw,
            rx_mw=radio.rx_supply_mw,
            board=board,
            radio=radio,
        )

    def compute_mj(self, device_macs: float) -> float:
        """Energy of the device's share of the network, mJ."""
        return self.board.compute_energy_mj(device_macs)

    def fixed_phases_mj(self) -> tuple[tuple[str, float], ...]:
        """Per-inference phases other than sense and compute (wake, set-up, tail, ...), mJ, by phase."""
        rest = tuple((p, mj) for p, mj in self.protocol.phases_mj if p != "wake")
        return (("wake", self.wake_mj),) + rest

    def frame_listen_mj(self) -> float:
        """Protocol listening per frame attempt (RX windows, the central's packet, CCA), mJ."""
        return self.protocol.frame_listen_s * self.rx_mw

    def error_free_mj(self, device_macs: float, frame_airtime_s) -> float:
        """Device energy of one inference whose frames all get through at the first attempt, mJ."""
        n = len(frame_airtime_s)
        return (self.sense_mj + self.compute_mj(device_macs) + sum(mj for _, mj in self.fixed_phases_mj())
                + self.tx_mw * sum(frame_airtime_s) + n * self.frame_listen_mj())
