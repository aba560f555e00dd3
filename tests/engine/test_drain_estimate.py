"""The up-front estimate covers the drain after duration_s: backlogs at an overloaded edge server and
duty-cycle queues on devices, bounded by drain_limit_s (a warning when the limit will cut)."""

from __future__ import annotations

import pathlib

import pytest
import yaml

from cosim.cli import main
from cosim.config.profiles import load_edge, load_radio
from cosim.config.scenario import load_scenario
from cosim.engine.budget import GroupLoad, ServerLoad, drain_estimate, estimate
from cosim.engine.preflight import scenario_loads

ROOT = pathlib.Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart-digits.yaml"
# quickstart at 900 s: 200 devices x 0.5 Hz = 90,000 inferences; one worker serving one at a time in
# T s each clears them 90,000 T s after the start: a drain of 90,000 T - 900 = 250,000 s for T below
T_S = 250_900 / 90_000


def _slow_edge(tmp_path) -> str:
    data = yaml.safe_load(pathlib.Path(load_edge("rpi5").path).read_text())
    data["batch_t0_ms"]["value"] = T_S * 1000
    data["batch_t1_ms"]["value"] = 1e-9
    path = tmp_path / "slow.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _overrides(tmp_path, *more: str) -> list[str]:
    return ["duration_s=900", "devices.0.workload.jitter_s=0", f"edge.0.profile={_slow_edge(tmp_path)}",
            "edge.0.max_batch=1", "edge.0.queue_limit=1000000", *more]


def test_drain_estimate_by_hand():
    # an edge server: 10 devices x 1 Hz x 100 s = 1,000 inferences at 4 per s (2 workers, batches of 4
    # in 2 s): 400 served while sensing, 600 queued, 150 s to clear
    edge = [ServerLoad(workers=2, max_batch=4, queue_limit=10_000, t0_s=1.0, t1_s_per_mac=0.25)]
    d = drain_estimate(100.0, 1e9, [GroupLoad(10, 1.0, (0,), 0.1, 1.0)], edge)
    assert d.drain_s == pytest.approx(150.0) and d.backlog == pytest.approx(600.0) and d.cut == 0.0
    # the queue limit bounds the backlog (the rest is lost as `queue`)
    capped = [ServerLoad(2, 4, 100, 1.0, 0.25)]
    assert drain_estimate(100.0, 1e9, [GroupLoad(10, 1.0, (0,), 0.1, 1.0)], capped).drain_s == pytest.approx(25.0)
    # a duty-cycle queue: 1 s of airtime at 1 % is 100 s per inference, sensed every 50 s for 1,000 s:
    # each device ends 10 inferences behind and needs 1,000 s more; a limit of 250 s cuts 3/4 of them
    d = drain_estimate(1000.0, 250.0, [GroupLoad(3, 0.02, (0,), 100.0, 0.0)], [ServerLoad(1, 1, 10, 0.0, 0.0)])
    assert d.drain_s == pytest.approx(1000.0) and d.backlog == pytest.approx(30.0)
    assert d.simulated_s == 250.0 and d.cut == pytest.approx(22.5)


def test_device_time_per_inference_is_airtime_over_duty_cycle_on_lora():
    sc = load_scenario(ROOT / "scenarios" / "lora-farm.yaml", ["devices.0.workload.period_s=1", "devices.0.workload.jitter_s=0"])
    (groups, _), = scenario_loads(sc)
    from cosim.codec.checkpoint import load_codec
    from cosim.net.frames import fragment

    radio = load_radio(sc.devices[0].radio)
    plan = fragment(load_codec(sc.codec).meta.payload_bits, radio)
    assert groups[0].device_s == pytest.approx(sum(plan.airtime_s) / radio.duty_cycle)
    assert estimate(sc, [(groups, _)]).drain.drain_s == pytest.approx(
        sc.duration_s * (groups[0].device_s / 1.0 - 1.0))


def test_a_250000_s_drain_after_900_s_is_estimated_as_such(tmp_path):
    sc = load_scenario(QUICKSTART, _overrides(tmp_path, "drain_limit_s=1000000"))
    est = estimate(sc, scenario_loads(sc))
    assert est.drain.drain_s == pytest.approx(250_000, rel=1e-3) and est.drain.cut == 0.0
    assert est.drain.backlog == pytest.approx(90_000 - 900 / T_S, rel=1e-3)
    assert "draining ~2.89 days after duration_s" in est.describe()


def test_validate_shows_the_drain_and_warns_when_drain_limit_s_cuts_it(tmp_path, capsys):
    args = ["validate", str(QUICKSTART)] + [a for o in _overrides(tmp_path) for a in ("--set", o)]
    assert main(args) == 0  # default drain_limit_s = 86,400 s: the run is bounded, with a warning
    out = capsys.readouterr()
    warning = out.err.strip().splitlines()
    assert len(warning) == 1 and "cut at drain_limit_s=86400 s" in warning[0] and "reason drain" in warning[0]
    assert "draining ~2.89 days after duration_s" in out.out


def test_a_drain_that_makes_the_run_too_long_is_refused_in_one_line(tmp_path, capsys):
    """Every Gilbert-Elliott state change is simulated, through the drain too: with 10 µs dwells the
    900 s of sensing are ~15 min of run time, the 250,000 s drain far more than a day."""
    fast = ["edge.0.channel.mean_good_s=1e-5", "edge.0.channel.mean_bad_s=1e-5"]
    ok = ["validate", str(QUICKSTART), "--set", "duration_s=900", *(a for o in fast for a in ("--set", o))]
    assert main(ok) == 0
    capsys.readouterr()
    args = ["validate", str(QUICKSTART)] + [a for o in _overrides(tmp_path, "drain_limit_s=1000000", *fast)
                                             for a in ("--set", o)]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "too long for this machine" in err[0] and "draining" in err[0], err
    assert "lower drain_limit_s" in err[0]
