"""CLI conventions: -v/-q on every (sub)command, -v logs what a run does, a closed pipe ends quietly,
plain `cosim` exits 2 after the help, every validation error is listed, "did you mean" for unknown keys
and names."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from cosim.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
QUICKSTART = ROOT / "scenarios" / "quickstart-digits.yaml"


def _leaf_parsers(parser, path=()):
    import argparse

    yield path, parser
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _leaf_parsers(sub, path + (name,))


def test_every_subcommand_has_verbose_and_quiet():
    seen = 0
    for path, parser in _leaf_parsers(build_parser()):
        opts = parser._option_string_actions
        assert {"-v", "--verbose", "-q", "--quiet"} <= set(opts), path
        seen += 1
    assert seen > 12


def test_plain_cosim_exits_2_after_the_help(capsys):
    assert main([]) == 2
    assert "usage: cosim" in capsys.readouterr().err
    assert main(["hw"]) == 2


def test_verbose_logs_what_the_run_does(tmp_path, capsys):
    rc = main(["run", str(QUICKSTART), "-v", "-q", "-o", str(tmp_path / "o"), "--set", "duration_s=2",
               "--set", "devices.0.count=3"])
    err = capsys.readouterr().err
    assert rc == 0
    assert "temporary folder" in err and "simulated to t=" in err and "published" in err


def test_closed_pipe_ends_quietly():
    code = "import sys; from cosim.cli import main; sys.exit(main(['data', 'list']))"
    proc = subprocess.run(f"{sys.executable} -c \"{code}\" | head -1", shell=True, check=False, capture_output=True,
                          text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert proc.stdout.startswith("name") and proc.stderr == "", proc.stderr


def test_broken_pipe_in_process_returns_0(monkeypatch, capsys):
    from cosim.commands import data

    def boom(args):
        raise BrokenPipeError

    monkeypatch.setattr(data, "_list", boom)
    assert main(["data", "list"]) == 0


def test_every_validation_error_listed_with_did_you_mean(capsys):
    rc = main(["validate", str(QUICKSTART), "--set", "devices.0.cuont=3", "--set", "edge.0.wrokers=2",
               "--set", "duration_s=-1", "--set", "devices.0.workload.perod_s=2"])
    err = capsys.readouterr().err.strip()
    assert rc == 2 and len(err.splitlines()) == 1 and "more)" not in err
    for hint in ("did you mean 'count'", "did you mean 'workers'", "did you mean 'period_s'", "duration_s:"):
        assert hint in err, err


@pytest.mark.parametrize("argv, hint", [
    (["hw", "show", "stm32l47"], "did you mean 'stm32l476'"),
    (["data", "show", "mnst"], "did you mean 'mnist'"),
])
def test_did_you_mean_for_names(capsys, argv, hint):
    assert main(argv) == 2
    assert hint in capsys.readouterr().err


LORA_FARM = QUICKSTART.parent / "lora-farm.yaml"


@pytest.mark.parametrize("scenario, override, hint", [
    (QUICKSTART, "devices.0.strategy=semanticn", "did you mean 'semanticnn'?"),
    (QUICKSTART, "devices.0.board=stm32l47", "did you mean 'stm32l476'?"),
    (QUICKSTART, "devices.0.radio=ble-1n", "did you mean 'ble-1m'?"),
    (QUICKSTART, "devices.0.battery=cr203", "did you mean 'cr2032'?"),
    (QUICKSTART, "edge.0.profile=rpi6", "did you mean 'rpi5'?"),
    (QUICKSTART, "edge.0.medium.kind=alohaa", "did you mean 'aloha'?"),
    (QUICKSTART, "edge.0.channel.kind=gilbert-eliott", "did you mean 'gilbert-elliott'?"),
    (QUICKSTART, "edge.0.discipline.kind=fifoo", "did you mean 'fifo'?"),
    (QUICKSTART, "devices.0.workload.kind=periodc", "did you mean 'periodic'?"),
    (QUICKSTART, "devices.0.placement.kind=unifrm", "did you mean 'uniform'?"),
    (QUICKSTART, "ber_estimate.kind=pilott", "did you mean 'pilot'?"),
    (QUICKSTART, "devices.0.receiver_policy=dorp", "did you mean 'drop'?"),
    (QUICKSTART, "task=clasification", "did you mean 'classification'?"),
    (QUICKSTART, "dataset=digitz", "did you mean 'digits'?"),
    (QUICKSTART, "codec=builtin:digitss", "did you mean 'builtin:digits'?"),
    (LORA_FARM, "edge.0.medium.sf_rejection=croc", "did you mean 'croce'?"),
    (LORA_FARM, "edge.0.channel.fading=rayleig", "did you mean 'rayleigh'?"),
])
def test_did_you_mean_for_every_registry_name_in_a_scenario(capsys, scenario, override, hint):
    """A mistyped name of a strategy, profile, medium / channel / workload / placement / discipline /
    estimate kind, option value, data set or built-in codec: one line, exit 2, the closest name."""
    assert main(["validate", str(scenario), "--set", override]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and hint in err, err


def test_sweep_accepts_set(tmp_path, capsys):
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"base: {QUICKSTART}\ngrid:\n  devices.0.count: [2, 3]\n")
    rc = main(["sweep", str(sweep), "-o", str(tmp_path / "out"), "--serial", "-q", "--no-figures",
               "--set", "duration_s=2"])
    assert rc == 0, capsys.readouterr().err
    import pyarrow.parquet as pq

    assert pq.read_table(tmp_path / "out" / "results.parquet").num_rows == 2
