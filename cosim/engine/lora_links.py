"""LoRa devices in a World: each device's spreading factor and its links to every gateway of its network."""

from __future__ import annotations

import math
from collections.abc import Callable

from cosim.config.profiles import load_radio
from cosim.errors import ScenarioError
from cosim.rng import python_stream


def sf_radio(radio, sf: int, where: str):
    """The shipped radio profile `lora-sf<sf>` (same SX1262 front end, the SF's airtime and payload)."""
    if radio.phy != "lora":
        raise ScenarioError(f"{where}.lora_sf: needs a LoRa radio, {radio.name!r} is {radio.phy}")
    if sf == radio.lora_sf:
        return radio
    return load_radio(f"lora-sf{sf}")


def device_radio(group, radio, link, make_link: Callable, index: int, where: str, snr_min_db: dict[int, float]):
    """The radio and link of device `index` of `group`: the group's, or those of its own SF.

    `lora_sf` a list: device i uses entry i mod len. `lora_sf: {kind: adr}`: the smallest SF whose
    demodulator limit plus `margin_db` is below the device's mean SNR at its gateway (path loss and
    shadowing, fading averaged out), SF12 if none is: the data rate a network server's ADR settles on.
    `make_link(radio)` rebuilds the link from the same stream (same shadowing and fading draws).
    """
    rule = group.lora_sf
    if rule is None:
        return radio, link
    if isinstance(rule, tuple | list):
        sf = int(rule[index % len(rule)])
    else:
        mean = getattr(link, "mean_snr_db", None)
        if mean is None:
            raise ScenarioError(f"{where}.lora_sf: adr needs an snr channel (the device's mean SNR)")
        sf = next((s for s in sorted(snr_min_db) if mean >= snr_min_db[s] + rule.margin_db), max(snr_min_db))
    r = sf_radio(radio, sf, where)
    return (radio, link) if r is radio else (r, make_link(r))


def gateway_links(scenario, group, index: int, radio, home: int, link, xy_m, air_servers: list[int],
                  noise_of: Callable) -> list[tuple[int, object, float | None, float]]:
    """(server index, link, noise floor dBm or None, distance m) of a device to each gateway of its
    network: its own gateway through its own link; the others only when positions are known (`area`
    placement), each through a link of its own (own shadowing and fading, stream named by the gateway)."""
    sc = scenario
    home_channel = group.channel or sc.edge[home].channel
    if xy_m is None:
        return [(home, link, noise_of(home_channel, radio), 0.0)]
    out = []
    for k in air_servers:
        gx, gy = sc.edge[k].position_m
        d = max(math.hypot(xy_m[0] - gx, xy_m[1] - gy), group.placement.min_m)
        if k == home:
            out.append((k, link, noise_of(home_channel, radio), d))
            continue
        channel = group.channel or sc.edge[k].channel
        gateway = sc.edge[k].name
        who = (("channel", group.name, index, "gateway", gateway) if channel.scope == "device"
               else ("gateway-channel", gateway))
        out.append((k, channel.make_link(python_stream(sc.seed, *who), radio, d), noise_of(channel, radio), d))
    return out


def noise_dbm(channel, radio) -> float | None:
    """The receiver noise floor the channel assumes, dBm (None when it models no SNR)."""
    noise = getattr(channel, "noise_dbm", None)
    return None if noise is None else noise(radio)
