"""A sweep run's key covers the content of every file it reads: editing a board profile that some
points use reruns exactly those points; the others stay cached. `--set` applies to every run."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sweep_fixtures import FakeSimulate, write_base, write_sweep

from cosim.config.profiles import resolve
from cosim.errors import ScenarioError
from cosim.sweep.execute import load_sweep, run_sweep


def _sweep(tmp_path: Path) -> Path:
    copy = tmp_path / "myboard.yaml"
    shutil.copy(resolve("stm32l476", "board"), copy)
    write_base(tmp_path)
    return write_sweep(tmp_path, f"base: base.yaml\ngrid:\n  devices.0.board: [stm32l476, {copy}]\n"
                                 "  devices.0.count: [2, 3]\n")


def test_edited_profile_reruns_exactly_its_points(tmp_path):
    path = _sweep(tmp_path)
    out = tmp_path / "out"
    fake = FakeSimulate()
    first = run_sweep(load_sweep(path), out, workers=0, simulate=fake, figures=False)
    assert (first.runs, first.executed, first.cached) == (4, 4, 0)
    again = run_sweep(load_sweep(path), out, workers=0, simulate=fake, figures=False)
    assert (again.executed, again.cached) == (0, 4)
    copy = tmp_path / "myboard.yaml"
    copy.write_text(copy.read_text().replace("description:", "description: edited,", 1))
    edited = load_sweep(path)
    boards = []

    def simulate(scenario):
        boards.append((scenario.devices[0].board, scenario.devices[0].count))
        return fake(scenario)

    rerun = run_sweep(edited, out, workers=0, simulate=simulate, figures=False)
    assert (rerun.executed, rerun.cached) == (2, 2)
    assert sorted(boards) == [(str(copy), 2), (str(copy), 3)]


def test_key_changes_with_an_input_file_only(tmp_path):
    path = _sweep(tmp_path)
    before = {dict(r.params)["devices.0.board"] + str(dict(r.params)["devices.0.count"]): r.key
              for r in load_sweep(path).runs}
    copy = tmp_path / "myboard.yaml"
    copy.write_text(copy.read_text() + "\n# a comment changes the bytes\n")
    after = {dict(r.params)["devices.0.board"] + str(dict(r.params)["devices.0.count"]): r.key
             for r in load_sweep(path).runs}
    for name, key in before.items():
        assert (after[name] == key) == name.startswith("stm32l476"), name


def test_sweep_set_applies_to_every_run_and_refuses_a_varied_path(tmp_path):
    path = _sweep(tmp_path)
    sweep = load_sweep(path, ["duration_s=2"])
    assert {r.scenario.duration_s for r in sweep.runs} == {2.0}
    with pytest.raises(ScenarioError, match="varied"):
        load_sweep(path, ["devices.0.count=5"])


def test_sweep_outdir_with_other_files_refused(tmp_path):
    from cosim.io import OutputError

    path = _sweep(tmp_path)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "thesis.tex").write_text("keep me")
    with pytest.raises(OutputError, match="thesis.tex"):
        run_sweep(load_sweep(path), out, workers=0, simulate=FakeSimulate(), figures=False)
    assert (out / "thesis.tex").read_text() == "keep me"
    run_sweep(load_sweep(path), out, workers=0, simulate=FakeSimulate(), figures=False, force_outdir=True)
    assert (out / "thesis.tex").read_text() == "keep me" and (out / "results.parquet").is_file()
