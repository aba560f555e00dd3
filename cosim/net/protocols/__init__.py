"""The radio protocols' own time and energy (connection events, receive windows, CCA, RRC, beacons).

One module per protocol; the radio profile's `phy` chooses it and its timers are profile fields with
sources. `protocol_costs(radio, arq)` returns what one inference pays beyond its frames' airtime and
what the radio pays in the background while the device sleeps (`ProtocolCosts`).
"""

from cosim.net.protocols.base import (
    PROTOCOLS,
    Protocol,
    ProtocolCosts,
    link_radio,
    protocol_costs,
    protocol_fields,
)

__all__ = ["PROTOCOLS", "Protocol", "ProtocolCosts", "link_radio", "protocol_costs", "protocol_fields"]
