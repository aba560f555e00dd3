"""Compatibility names of the channel models (one module per model now: `cosim.channel.<kind>`).

`ChannelConfig` is the discriminated union of every registered channel (`cosim.channel.base.CHANNELS`,
built-ins and plug-ins), as the scenario schema embeds it.
"""

from __future__ import annotations

from cosim.channel.base import CHANNELS, Channel, Link
from cosim.channel.constant import ConstantChannel, ConstantLink
from cosim.channel.gilbert_elliott import GilbertElliottChannel, GilbertElliottLink
from cosim.channel.snr import SnrChannel, SnrLink, free_space_path_loss_db
from cosim.channel.trace import TraceChannel, TraceLink

ChannelConfig = CHANNELS.union()

__all__ = [
    "CHANNELS", "Channel", "ChannelConfig", "ConstantChannel", "ConstantLink", "GilbertElliottChannel",
    "GilbertElliottLink", "Link", "SnrChannel", "SnrLink", "TraceChannel", "TraceLink",
    "free_space_path_loss_db",
]
