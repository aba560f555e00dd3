"""`compare:` variants: one World per variant from the same seed, so every variant sees the same devices
(common random numbers), each alone on its media; outputs side by side."""

from __future__ import annotations

import json

import numpy as np
import pyarrow.parquet as pq
import pytest
import torch
from test_world_theory import scenario

from cosim.config.scenario import validate_scenario
from cosim.engine.run import run_scenario
from cosim.engine.world import World
from cosim.errors import ScenarioError

torch.set_num_threads(1)

SNR = {"kind": "snr", "fading": "rayleigh", "coherence_time_s": 0.5, "sigma_db": 6.0, "exponent": 3.5}
VARIANTS = [{"name": "semanticnn"},
            {"name": "berunaware", "set": {"devices.0.strategy": "semanticnn-berunaware"}},
            {"name": "drop", "set": {"devices.0.receiver_policy": "drop"}},
            {"name": "split-int8", "set": {"devices.0.strategy": "split-int8"}}]


def compare_data() -> dict:
    data = scenario(duration_s=20.0, compare=VARIANTS)
    data["devices"][0].update(count=30, placement={"kind": "uniform", "min_m": 2.0, "max_m": 60.0},
                              workload={"kind": "periodic", "period_s": 0.5, "jitter_s": 0.1})
    data["edge"][0]["channel"] = SNR
    return data


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    out = tmp_path_factory.mktemp("compare") / "out"
    res = run_scenario(validate_scenario(compare_data(), "test"), out)
    t = pq.read_table(out / "packets.parquet")
    cols = {c: t.column(c).to_numpy() for c in t.column_names if c != "variant"}
    cols["variant"] = np.array(t.column("variant").to_pylist())
    return res.summary, cols, out


def _by_variant(c: dict, name: str) -> dict:
    m = c["variant"] == name
    order = np.lexsort((c["t_sense_s"][m], c["device"][m]))
    return {k: v[m][order] for k, v in c.items()}


def test_variants_see_the_same_arrivals_samples_and_channel(compared):
    _, c, _ = compared
    base = _by_variant(c, "semanticnn")
    assert len(base["device"]) > 1000
    for name in ("berunaware", "drop", "split-int8"):
        v = _by_variant(c, name)
        assert np.array_equal(v["device"], base["device"])
        assert np.array_equal(v["t_sense_s"], base["t_sense_s"])
        assert np.array_equal(v["sample"], base["sample"])
    # the same frames at the same times: the same channel BER and the same bit errors, record by record
    for name in ("berunaware", "drop"):
        v = _by_variant(c, name)
        assert np.array_equal(v["ber"], base["ber"])
    assert np.array_equal(_by_variant(c, "berunaware")["bit_errors"], base["bit_errors"])
    assert base["ber"].std() > 0  # the channel does vary (fading and distance)


def test_variants_see_the_same_positions(tmp_path):
    sc = validate_scenario(compare_data(), "test")
    distances = []
    for k, (_, variant) in enumerate(sc.variants()):
        (tmp_path / str(k)).mkdir()
        world = World(variant, tmp_path / str(k))
        distances.append(np.asarray(world._attached[0][1]))
        world.recorder.close()
    assert np.ptp(distances[0]) > 10
    for d in distances[1:]:
        assert np.array_equal(d, distances[0])


def test_summary_parquet_and_manifest_side_by_side(compared):
    summary, c, out = compared
    names = [v["name"] for v in VARIANTS]
    assert list(summary["variants"]) == names
    assert summary["inferences"] == sum(v["inferences"] for v in summary["variants"].values()) == len(c["device"])
    assert summary["devices"] == 30 * len(names)  # pooled: the group's devices once per variant
    assert sorted(set(c["variant"])) == sorted(names)
    policies = {n: summary["variants"][n]["receiver_policy"]["g"] for n in names}
    assert policies == {"semanticnn": "deliver", "berunaware": "deliver", "drop": "drop", "split-int8": "drop"}
    assert summary["receiver_policy"] == {"g": None}  # they differ between variants
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["variants"]["split-int8"]["scenario"]["devices"][0]["strategy"] == "split-int8"
    assert manifest["variants"]["drop"]["receiver_policy"] == {"g": "drop"}
    assert (out / "figures" / "group_comparison.png").is_file()
    assert not list(out.glob(".variant-*"))
    # drop: no payload error ever reaches the decoder; deliver keeps them
    v = summary["variants"]
    assert v["drop"]["lost"]["payload"] > 0 and v["semanticnn"]["lost"]["payload"] == 0
    assert (c["bit_errors"][c["variant"] == "drop"] == 0).all()
    assert (c["bit_errors"][c["variant"] == "semanticnn"] > 0).any()


def test_codec_variant_column_is_the_adaptive_choice(compared):
    _, c, _ = compared
    assert "codec_variant" in c and (c["codec_variant"] == 0).all()


@pytest.mark.parametrize("overrides, message", [
    ({"seed": 3}, r"compare\.1\.set: seed: a variant may not change 'seed'"),
    ({"devices.0.count": 31}, r"compare\.1\.set: variant 'x' changes the devices"),
    ({"devices.0.strategy_options.nope": 1}, r"compare\.1\.set: variant 'x': devices\.0\.strategy_options\.nope"),
    ({"devices.2.count": 1}, r"compare\.1\.set: .*no list item 'devices\.2'"),
])
def test_bad_variants_are_named(overrides, message):
    data = compare_data()
    data["compare"] = [{"name": "a"}, {"name": "x", "set": overrides}]
    with pytest.raises(ScenarioError, match=message):
        validate_scenario(data, "test")


def test_variant_names_are_unique():
    data = compare_data()
    data["compare"] = [{"name": "a"}, {"name": "a"}]
    with pytest.raises(ScenarioError, match="unique"):
        validate_scenario(data, "test")


def test_a_variant_that_cannot_build_is_refused_before_running(tmp_path):
    from cosim.engine.preflight import check_scenario

    data = compare_data()
    data["compare"] = [{"name": "a"}, {"name": "jpeg-deliver", "set": {
        "devices.0.strategy": "raw", "devices.0.strategy_options": {"jpeg_quality": 75},
        "devices.0.receiver_policy": "deliver"}}]
    with pytest.raises(ScenarioError, match=r"compare\.1 \(variant 'jpeg-deliver'\).*receiver_policy.*bit-exact"):
        check_scenario(validate_scenario(data, "test"))


def test_console_table_has_a_row_per_variant(compared, capsys):
    from cosim.report.console import print_summary

    summary, _, _ = compared
    print_summary(summary)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("variant/group")
    assert [line.split()[0] for line in lines[2:2 + len(VARIANTS)]] == [v["name"] for v in VARIANTS]
    assert "semanticnn: e " in lines[-1]  # edge utilisation per variant


def test_cosim_run_names_the_variant_that_fails_and_writes_nothing(tmp_path, capsys):
    import yaml

    from cosim.cli import main

    data = scenario(duration_s=1.0, compare=[{"name": "ok"}, {"name": "jpeg", "set": {
        "devices.0.strategy": "raw", "devices.0.strategy_options": {"jpeg_quality": 50},
        "devices.0.receiver_policy": "deliver"}}])
    data["devices"][0]["count"] = 2
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["run", str(path), "-o", str(tmp_path / "out"), "--quiet"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "compare.1 (variant 'jpeg'): devices.0.receiver_policy:" in err and str(path) in err
    assert not (tmp_path / "out" / "summary.json").exists()
