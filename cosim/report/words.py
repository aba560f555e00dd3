"""A scenario (as stored in a run's manifest) described in a few plain sentences, for the run report."""

from __future__ import annotations


def _g(v) -> str:
    return format(v, "g") if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)


def _workload(w: dict | None) -> str:
    if not w:
        return "a default workload"
    kind = w.get("kind", "?")
    if kind == "periodic":
        jitter = f" ± {_g(w['jitter_s'])} s" if w.get("jitter_s") else ""
        return f"one inference every {_g(w.get('period_s'))} s{jitter}"
    if kind == "poisson" and w.get("rate_hz"):
        return f"Poisson arrivals at {_g(w['rate_hz'])} per second"
    rest = ", ".join(f"{k} {_g(v)}" for k, v in w.items() if k != "kind" and v is not None)
    return f"a {kind} workload ({rest})" if rest else f"a {kind} workload"


def _placement(p: dict | None) -> str:
    if not p:
        return ""
    kind = p.get("kind")
    if kind == "fixed" and p.get("distance_m") is not None:
        return f", all {_g(p['distance_m'])} m from their gateway"
    if kind == "uniform" and p.get("max_m") is not None:
        return f", placed uniformly {_g(p.get('min_m', 0))} to {_g(p['max_m'])} m from their gateway"
    rest = ", ".join(f"{k} {_g(v)}" for k, v in p.items() if k != "kind" and v is not None)
    return f", placement {kind} ({rest})" if rest else f", placement {kind}"


def _channel(c: dict | None) -> str:
    if not c:
        return "an ideal channel"
    kind = c.get("kind", "?")
    if kind == "constant":
        return f"a constant BER of {_g(c.get('ber'))}"
    if kind == "gilbert-elliott":
        return (f"a bursty Gilbert-Elliott channel (BER {_g(c.get('ber_good'))} good, {_g(c.get('ber_bad'))} "
                f"bad; mean dwell {_g(c.get('mean_good_s'))} s good, {_g(c.get('mean_bad_s'))} s bad)")
    rest = ", ".join(f"{k} {_g(v)}" for k, v in c.items() if k != "kind" and v is not None and not isinstance(v, dict))
    return f"a {kind} channel ({rest})" if rest else f"a {kind} channel"


def _options(o: dict | None) -> str:
    set_ = {k: v for k, v in (o or {}).items() if v is not None}
    return f" ({', '.join(f'{k}={_g(v)}' for k, v in set_.items())})" if set_ else ""


def describe_scenario(scenario: dict) -> list[str]:
    """Sentences: what is simulated, for how long, against which deadline; each device group; each
    edge server with its link; the variants compared (if any)."""
    if not scenario:
        return ["No manifest: the scenario is unknown."]
    devices = scenario.get("devices", [])
    edges = scenario.get("edge", [])
    total = sum(int(g.get("count", 0)) for g in devices)
    task = scenario.get("task") or "classification"
    out = [(
        f"Scenario {scenario.get('name', '?')!s}: {total} devices in {len(devices)} group(s) send "
        f"{scenario.get('dataset', '?')} samples ({task}, codec {scenario.get('codec', '?')}) to "
        f"{len(edges)} edge server(s) for {_g(scenario.get('duration_s'))} s of simulated sensing; an answer "
        f"later than {_g(scenario.get('deadline_ms'))} ms counts as wrong. Seed {scenario.get('seed')}."
    )]
    for g in devices:
        battery = (f"; battery {_g(g['battery_mah'])} mAh at {_g(g.get('battery_v', '?'))} V"
                   if g.get("battery_mah") else "")
        own = f"; own channel: {_channel(g['channel'])}" if g.get("channel") else ""
        out.append(
            f"Group {g.get('name')}: {g.get('count')} × {g.get('board')} with a {g.get('radio')} radio, "
            f"strategy {g.get('strategy')}{_options(g.get('strategy_options'))}, "
            f"{_workload(g.get('workload'))}{_placement(g.get('placement'))}{battery}{own}.")
    for e in edges:
        medium = (e.get("medium") or {}).get("kind", "?")
        pos = e.get("position_m")
        where = f" at ({_g(pos[0])}, {_g(pos[1])}) m" if isinstance(pos, (list, tuple)) and len(pos) >= 2 else ""
        out.append(
            f"Edge server {e.get('name')}{where}: {e.get('profile')} with {e.get('workers')} worker(s), batches "
            f"of up to {e.get('max_batch')} (waiting at most {_g(e.get('max_wait_ms'))} ms); {medium} medium "
            f"and {_channel(e.get('channel'))}.")
    variants = scenario.get("compare")
    if isinstance(variants, (list, dict)) and variants:
        names = [v.get("name", "?") if isinstance(v, dict) else str(v) for v in
                 (variants if isinstance(variants, list) else variants.keys())]
        out.append(f"Compared variants: {', '.join(names)}.")
    return out
