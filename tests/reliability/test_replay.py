"""`cosim run OUTDIR/manifest.json` (or `--replay OUTDIR`) reproduces the run: byte-identical
packets.parquet and summary.json (wall time aside); the manifest's scenario validates as it is written;
a changed input file is named and refused."""

from __future__ import annotations

import json
import shutil

import yaml
from reliability_fixtures import ROOT, cli

QUICKSTART = ROOT / "scenarios" / "quickstart-digits.yaml"
TINY = ["--set", "duration_s=4", "--set", "devices.0.count=12", "--set", "edge.0.channel.ber_bad=0.05",
        "--set", "devices.0.strategy_options.arq=true"]


def _summary(folder):
    s = json.loads((folder / "summary.json").read_text())
    s.pop("wall_time_s")
    return s


def test_replayed_manifest_is_byte_identical(tmp_path):
    first, second, third = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    assert cli(["run", str(QUICKSTART), "-o", str(first), "-q", *TINY, "--seed", "11"]).rc == 0
    o = cli(["run", str(first / "manifest.json"), "-o", str(second), "-q"])
    assert o.rc == 0, o.err
    assert (first / "packets.parquet").read_bytes() == (second / "packets.parquet").read_bytes()
    assert _summary(first) == _summary(second)
    assert cli(["run", "--replay", str(first), "-o", str(third), "-q"]).rc == 0
    assert (first / "packets.parquet").read_bytes() == (third / "packets.parquet").read_bytes()
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["seed"] == 11 and manifest["cosim_version"]
    assert {"board:stm32l476", "radio:ble-1m", "edge:rpi5", "codec:builtin:digits"} <= set(manifest["inputs"])
    assert all(len(e["sha256"]) == 64 for e in manifest["inputs"].values())


def test_manifest_scenario_validates_as_written(tmp_path):
    out = tmp_path / "a"
    assert cli(["run", str(QUICKSTART), "-o", str(out), "-q", *TINY]).rc == 0
    scenario = json.loads((out / "manifest.json").read_text())["scenario"]
    assert "strategy_options" in scenario["devices"][0]  # set by --set: kept
    assert scenario["devices"][0]["strategy_options"] == {"arq": True}  # unset options: not written as null
    path = tmp_path / "resolved.yaml"
    path.write_text(yaml.safe_dump(scenario))
    o = cli(["validate", str(path)])
    assert o.rc == 0, o.err
    assert cli(["validate", str(out / "manifest.json")]).rc == 0


def test_replay_refuses_a_changed_input(tmp_path):
    board = tmp_path / "board.yaml"
    shutil.copy(ROOT / "cosim" / "hw_profiles" / "boards" / "stm32l476.yaml", board)
    out = tmp_path / "a"
    assert cli(["run", str(QUICKSTART), "-o", str(out), "-q", *TINY, "--set", f"devices.0.board={board}"]).rc == 0
    board.write_text(board.read_text() + "\n# edited\n")
    o = cli(["run", str(out / "manifest.json"), "-o", str(tmp_path / "b"), "-q"])
    assert o.rc == 2 and len(o.err_lines) == 1 and "changed since the run" in o.err and "board:" in o.err
    assert cli(["run", str(out / "manifest.json"), "-o", str(tmp_path / "b"), "-q", "--force"]).rc == 0
