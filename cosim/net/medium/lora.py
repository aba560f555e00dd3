"""LoRa reception as gateways do it: capture, quasi-orthogonal spreading factors, several gateways.

Every gateway of one network (`medium: {kind: lora, network: NAME}` on several edge servers) hears one
air. A frame is heard by a gateway when its SNR there is at least the demodulator limit of its SF; its
received power is the SNR plus the noise floor (`snr` channel: path loss, shadowing and fading of the
link from the device to that gateway). When two frames overlap at a gateway, the pairwise rule of
LoRaSim (Bor et al., MSWiM 2016, `full_collision`) decides:

- same SF: if the earlier frame ends before the later one's critical section (its last `lock_symbols`
  preamble symbols) nothing is lost; otherwise a frame at least `capture_db` stronger than the other
  survives and the weaker is lost, and within `capture_db` both are lost. Without capture, any overlap
  loses both (LoRaSim's simple check);
- different SFs: the wanted frame survives when its power minus the interferer's is at least the
  inter-SF rejection threshold of the pair (Croce et al. 2018 or Goursaud & Gorce 2015), or always
  (`sf_rejection: perfect`, LoRaSim's assumption).

A frame is received when at least one gateway decodes it; the inference is served by the edge server
of the gateway that received it first (the nearest decoding gateway: propagation delay is distance / c). Each pair of overlapping frames is checked once, when the
later one starts, against the frames still on the air: the cost per frame grows with the number of
frames on the air at once, not with the run. The network server removes duplicates and keeps the
strongest decoded copy: a frame's bit errors are drawn on the link to that gateway (the device's own
when none decoded it), while the edge server of the first receiving gateway serves the inference.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from pathlib import Path

from cosim.config.yamlio import load_yaml
from cosim.errors import ProfileError
from cosim.net.medium.base import UNHEARD, Medium
from cosim.net.medium.registry import register_medium

PROFILE = Path(__file__).resolve().parents[2] / "hw_profiles" / "reception" / "lora.yaml"
SF_REJECTIONS = ("croce", "goursaud", "perfect")


@dataclass(frozen=True)
class ReceptionRule:
    """The numbers of a LoRa gateway's decision (from `hw_profiles/reception/lora.yaml`)."""

    capture: bool
    capture_db: float
    preamble_symbols: int
    lock_symbols: int
    snr_min_db: dict[int, float]  # demodulator SNR limit per SF, dB
    rejection_db: dict[int, dict[int, float]] | None  # [wanted SF][interferer SF], dB; None = orthogonal

    def critical_s(self, sf: int, bw_hz: float) -> float:
        """Time from a frame's start to its critical section (the preamble symbols it may lose), s."""
        return (self.preamble_symbols - self.lock_symbols) * 2.0**sf / bw_hz


def capture_losses(margin_db: float, capture_db: float) -> tuple[bool, bool]:
    """(new frame lost, old frame lost) when two frames overlap and the new one is `margin_db` stronger:
    a frame at least `capture_db` stronger captures the receiver, within it both are lost (LoRaSim)."""
    if abs(margin_db) < capture_db:
        return True, True
    return margin_db < 0, margin_db > 0


def _value(data: dict, key: str, where: str):
    try:
        return data[key]["value"]
    except (KeyError, TypeError):
        raise ProfileError(f"{where}: {key}: missing or without a value") from None


@functools.lru_cache(maxsize=32)  # one parse per run, not one per device (was 98 s of YAML at 1,000 devices)
def load_rule(capture: bool = True, capture_db: float | None = None, sf_rejection: str = "croce",
              path: Path = PROFILE) -> ReceptionRule:
    """The reception rule of the profile at `path`, with the scenario's choices applied."""
    data, _ = load_yaml(path)
    where = str(path)
    if sf_rejection not in SF_REJECTIONS:
        raise ProfileError(f"{where}: sf_rejection {sf_rejection!r} is not one of {SF_REJECTIONS}")
    rejection = None
    if sf_rejection != "perfect":
        table = _value(data.get("sf_rejection", {}), sf_rejection, where)
        rejection = {int(a): {int(b): float(v) for b, v in row.items()} for a, row in table.items()}
    return ReceptionRule(
        capture=capture,
        capture_db=float(_value(data, "capture_db", where) if capture_db is None else capture_db),
        preamble_symbols=int(_value(data, "preamble_symbols", where)),
        lock_symbols=int(_value(data, "lock_symbols", where)),
        snr_min_db={int(k): float(v) for k, v in _value(data, "snr_min_db", where).items()},
        rejection_db=rejection,
    )


class Frame:
    """One frame on the air: its time, SF and received power at each gateway that hears it."""

    __slots__ = ("alive", "critical_s", "end_s", "order", "power", "sf", "start_s")

    def __init__(self, start_s: float, end_s: float, listener: Listener, power: dict[int, float]) -> None:
        self.start_s = start_s
        self.end_s = end_s
        self.sf = listener.sf
        self.critical_s = start_s + listener.lock_s  # its critical section starts here
        self.power = power  # gateway (server index) -> received power, dBm
        self.alive = set(power)  # gateways where it can still be decoded
        self.order = listener.links  # gateways by distance: the first alive one receives it first


class Listener:
    """What the air knows of one device: its SF and its link to each gateway in its network."""

    __slots__ = ("link_to", "links", "lock_s", "sf")

    def __init__(self, sf: int, lock_s: float, links: list[tuple[int, object, float | None, float]]) -> None:
        self.sf = sf
        self.lock_s = lock_s  # from a frame's start to its critical section, s
        # (server index, link, noise floor dBm or None when the channel has no SNR, distance m), nearest first
        self.links = sorted(links, key=lambda x: (x[3], x[0]))
        self.link_to = {server: link for server, link, *_ in links}


class LoraAir:
    """The LoRa channel shared by every gateway of one network."""

    def __init__(self, rule: ReceptionRule) -> None:
        self.rule = rule
        self.on_air: list[Frame] = []
        self.gateways: dict[int, LoraGateway] = {}
        self.listeners: dict[int, Listener] = {}

    def heard(self, listener: Listener, t_s: float) -> dict[int, float]:
        """Received power (dBm) at each gateway that hears a frame of `listener` sent at `t_s`."""
        snr_min = self.rule.snr_min_db[listener.sf]
        power = {}
        for server, link, noise_dbm, _ in listener.links:
            snr = link.snr_db_at(t_s)
            if snr is None or noise_dbm is None:  # no SNR modelled: heard, all frames equally strong
                power[server] = 0.0
            elif snr >= snr_min:
                power[server] = snr + noise_dbm
        return power

    def begin(self, t_s: float, airtime_s: float, device: int) -> Frame:
        listener = self.listeners[device]
        power = self.heard(listener, t_s)
        frame = Frame(t_s, t_s + airtime_s, listener, power)
        on_air = [f for f in self.on_air if f.end_s > t_s]
        for other in on_air:
            for g in power.keys() & other.power.keys():
                self.interact(frame, other, g)
        on_air.append(frame)
        self.on_air = on_air
        for g in power:
            self.gateways[g].heard(t_s, frame.end_s)
        return frame

    def interact(self, new: Frame, old: Frame, g: int) -> None:
        """Decide, at gateway `g`, what the overlap of `new` (starting now) and `old` destroys."""
        rule = self.rule
        p_new, p_old = new.power[g], old.power[g]
        lose = self.gateways[g].lose
        if new.sf == old.sf:
            if not rule.capture:
                lose(new)
                lose(old)
            elif old.end_s > new.critical_s:  # LoRaSim timingCollision: the old frame hits the lock
                new_lost, old_lost = capture_losses(p_new - p_old, rule.capture_db)
                if new_lost:
                    lose(new)
                if old_lost:
                    lose(old)
        elif rule.rejection_db is not None:
            if p_new - p_old < rule.rejection_db[new.sf][old.sf]:
                lose(new)
            if p_old - p_new < rule.rejection_db[old.sf][new.sf]:
                lose(old)

    def end(self, frame: Frame) -> int | None:
        """The gateway that received `frame` first (the nearest decoding one); None if interference
        destroyed it everywhere it was heard; UNHEARD if no gateway heard it."""
        if not frame.power:
            return UNHEARD
        for g in frame.power:
            if g not in frame.alive:
                self.gateways[g].collisions += 1
        for server, *_ in frame.order:
            if server in frame.alive:
                return server
        return None


@register_medium("lora")
class LoraGateway(Medium):
    """One gateway of a LoRa network: pure ALOHA access, LoRaSim reception on the network's air."""

    def __init__(self, air: LoraAir, server: int) -> None:
        self.air = air
        self.server = server
        self.frames = 0
        self.collisions = 0  # frames heard here but destroyed here by another frame
        # airtime statistics of the frames heard here that start at or after `count_from_s` (the
        # summary's warm-up cut), as ALOHA and CSMA keep them
        self.count_from_s = 0.0
        self.counted_frames = 0
        self.counted_collided = 0  # counted frames destroyed here by interference
        self.busy_s = 0.0  # time at least one counted frame heard here was on the air, s
        self.busy_until = -math.inf  # end of the last frame heard here, s
        air.gateways[server] = self

    def heard(self, t_s: float, end_s: float) -> None:
        """A frame heard here (above its SF's demodulator limit) is on the air from `t_s` to `end_s`."""
        self.frames += 1
        if t_s >= self.count_from_s:
            self.counted_frames += 1
            self.busy_s += max(0.0, end_s - max(t_s, self.busy_until))
        self.busy_until = max(self.busy_until, end_s)

    def lose(self, frame: Frame) -> None:
        """Interference destroys `frame` here (counted once, when it first happens)."""
        if self.server in frame.alive:
            frame.alive.discard(self.server)
            if frame.start_s >= self.count_from_s:
                self.counted_collided += 1

    def airtime_stats(self) -> tuple[int, int, float]:
        """(counted frames heard here, of which interference destroyed here, time a counted frame heard
        here was on the air in s): the server's `frames_on_air`, `collided_frames`, airtime utilisation."""
        return self.counted_frames, self.counted_collided, self.busy_s

    @classmethod
    def build(cls, config, ctx) -> LoraGateway:
        key = ("lora", config.network)
        if key not in ctx.shared:
            rule = load_rule(config.capture, config.capture_db, config.sf_rejection)
            ctx.shared[key] = (LoraAir(rule), config)
        air, first = ctx.shared[key]
        if config != first:
            raise ValueError(f"edge server {ctx.server_name!r}: every gateway of LoRa network "
                             f"{config.network!r} needs the same medium settings")
        return cls(air, ctx.server)

    def servers(self) -> list[int]:
        """The edge servers whose gateways hear this network's air."""
        return sorted(self.air.gateways)

    def attach(self, device: int, radio, links: list[tuple[int, object, float | None, float]]) -> None:
        """Register a device's radio (SF, bandwidth) and its links to the network's gateways (its own
        included): (server index, link, noise floor dBm or None, distance m)."""
        rule = self.air.rule
        sf = getattr(radio, "lora_sf", None)
        if sf not in rule.snr_min_db:
            raise ValueError(f"radio {radio.name!r} is not a LoRa radio with an SF in "
                             f"{sorted(rule.snr_min_db)} (medium kind lora)")
        self.air.listeners[device] = Listener(sf, rule.critical_s(sf, float(radio.lora_bw_hz)), links)

    def begin(self, t_s: float, airtime_s: float, sender) -> Frame:
        return self.air.begin(t_s, airtime_s, sender.index)

    def end(self, token: Frame, sender) -> int | None:
        return self.air.end(token)

    def error_link(self, token: Frame, server: int | None, sender):
        """The network server keeps the strongest decoded copy: its bit errors are those of the channel
        to that gateway (the device's own channel when no gateway decoded the frame)."""
        if server is None or server < 0 or len(token.alive) == 1 and server == sender.server:
            return sender.link
        best = max(token.alive, key=lambda g: (token.power[g], -g))
        return self.air.listeners[sender.index].link_to[best]
