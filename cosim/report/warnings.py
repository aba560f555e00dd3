"""Warnings a run's summary implies: an overloaded edge server or shared channel, a radio at its
duty-cycle budget, a backlog that did not drain while sensing, most answers late, partial payloads
decoded by a codec not trained for erasures."""

from __future__ import annotations

UTILISATION_LIMIT = 0.9  # an M/G/1-like queue's wait grows without bound as utilisation nears 1
CHANNEL_LOSS_LIMIT = 0.05  # share of inferences lost to collisions or a busy channel
DUTY_MARGIN = 0.95  # offered airtime at or above this share of the duty-cycle limit


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


def run_warnings(summary: dict, manifest: dict) -> list[str]:
    """One sentence per problem found in the summary (and the scenario in the manifest); [] if none."""
    out = []
    n = summary.get("inferences") or 0
    for server, util in (summary.get("edge_utilization") or {}).items():
        if util is not None and util >= UTILISATION_LIMIT:
            out.append(f"Edge server {server} was busy {util:.0%} of the time: overloaded, its queue grows "
                       f"(add workers or servers, or lower the load).")
    lost = summary.get("lost") or {}
    channel_lost = (lost.get("collision") or 0) + (lost.get("access") or 0)
    if n and _share(channel_lost, n) >= CHANNEL_LOSS_LIMIT:
        out.append(f"Shared channel overloaded: {_share(channel_lost, n):.1%} of inferences were lost to "
                   f"collisions or found no free channel ({lost.get('collision', 0)} collisions, "
                   f"{lost.get('access', 0)} access failures).")
    if lost.get("queue"):
        out.append(f"Edge queue full: {lost['queue']} inferences were dropped at a server.")
    scenario = manifest.get("scenario") or {}
    duration = scenario.get("duration_s")
    sim = summary.get("sim_time_s")
    deadline_s = (scenario.get("deadline_ms") or 0) / 1000.0
    if duration and sim and sim > duration + max(1.0, 0.05 * duration, 2 * deadline_s):
        out.append(f"Backlog never drained: sensing stopped at {duration:g} s but the last queued inference "
                   f"finished at {sim:.1f} s; the offered load exceeds what the link or the servers carry.")
    out += _duty_cycle(summary, scenario)
    out += _untrained_erasures(manifest)
    miss = summary.get("deadline_miss_ratio")
    if miss is not None and miss > 0.5:
        out.append(f"{miss:.0%} of inferences were lost or missed the {deadline_s * 1000:g} ms deadline.")
    return out


def _duty_cycle(summary: dict, scenario: dict) -> list[str]:
    """Groups whose radio is duty-cycle limited and whose offered airtime (frames per inference × the
    radio's frame airtime for the bits each frame carried, LoRa by SX1262 §6.1.4) reaches the budget."""
    from cosim.config.profiles import load_radio
    from cosim.errors import CosimError

    out = []
    duration = scenario.get("duration_s") or 0
    for g in scenario.get("devices", []):
        entry = (summary.get("groups") or {}).get(g.get("name")) or {}
        bits = entry.get("bits_on_air_per_inference")
        count = entry.get("inferences")
        devices = g.get("count") or 0
        try:
            radio = load_radio(g.get("radio"))
        except CosimError:  # an unknown or moved profile: no duty-cycle check, not a broken report
            continue
        if radio.duty_cycle >= 1 or not (bits and count and devices and duration):
            continue
        frames = entry.get("frames_per_inference") or 1.0
        payload = int(min(radio.max_payload_bytes, max(0, bits / frames / 8 - radio.header_bytes - radio.crc_bytes)))
        airtime = frames * radio.airtime_s(payload) * count / devices / duration
        if airtime >= DUTY_MARGIN * radio.duty_cycle:
            out.append(f"Group {g.get('name')}: each device needs about {airtime:.2%} of the time on air, at or "
                       f"over the {radio.duty_cycle:.1%} duty-cycle budget of {g.get('radio')}; transmissions "
                       f"wait for their off-time.")
    return out


def _untrained_erasures(manifest: dict) -> list[str]:
    """Groups with on_frame_loss `erase` whose codec's checkpoint meta says it was not trained for erasures."""
    out = []
    for group, codecs in (manifest.get("erasure_codecs") or {}).items():
        for spec in (spec for spec, trained in codecs.items() if not trained):
            out.append(f"Group {group}: on_frame_loss erase decodes partial payloads with codec {spec}, which "
                       f"was not trained for erasures (checkpoint meta erasures: false); its accuracy on "
                       f"payloads with lost frames is lower than a codec trained with "
                       f"`cosim train --erasure-frames F` would give.")
    return out
