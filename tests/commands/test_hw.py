"""`cosim hw list|show`: tables, units and sources; user files; errors as one line with exit status 2."""

from __future__ import annotations

import subprocess
import sys

import yaml

from cosim.cli import main
from cosim.config.profiles import list_profiles, load_board


def test_list_shows_every_profile(capsys):
    assert main(["hw", "list"]) == 0
    out = capsys.readouterr().out
    for info in list_profiles():
        assert info.name in out
    assert "kind" in out.splitlines()[0] and "name" in out.splitlines()[0]


def test_show_prints_values_units_sources(capsys):
    board = load_board("stm32l476")
    assert main(["hw", "show", "stm32l476"]) == 0
    out = capsys.readouterr().out
    for key, src in board.sources.items():
        assert key in out
        assert src.source in out
    assert "MHz" in out and "mA" in out and "cycles/MAC" in out and "[estimate]" in out


def test_list_and_show_user_file(tmp_path, capsys):
    data = yaml.safe_load(load_board("stm32l476").path.read_text())
    data["name"] = "my-board"
    data["clock_mhz"]["value"] = 40
    path = tmp_path / "my-board.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    assert main(["hw", "show", str(path)]) == 0
    assert "my-board" in capsys.readouterr().out
    assert main(["hw", "list", str(path)]) == 0
    out = capsys.readouterr().out
    assert "my-board" in out and "40 MHz" in out
    root = tmp_path / "root"
    (root / "boards").mkdir(parents=True)
    (root / "boards" / "my-board.yaml").write_text(path.read_text())
    assert main(["hw", "list", str(root)]) == 0
    assert "my-board" in capsys.readouterr().out
    assert main(["hw", "list", str(tmp_path / "root" / "boards")]) == 2  # not a profile root
    assert "no profiles found" in capsys.readouterr().err


def test_errors_are_one_line_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: board\nname: x\n")
    assert main(["hw", "show", str(bad)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.yaml" in err[0] and "field 'description'" in err[0]
    assert main(["hw", "show", "no-such-board"]) == 2
    assert main(["hw", "list", str(tmp_path / "missing.yaml")]) == 2
    assert "missing.yaml: file not found" in capsys.readouterr().err


def test_subprocess_exit_status_and_no_traceback(tmp_path):
    bad = tmp_path / "neg.yaml"
    data = yaml.safe_load(load_board("stm32l476").path.read_text())
    data["run_current_ma"]["value"] = -1
    bad.write_text(yaml.safe_dump(data, sort_keys=False))
    proc = subprocess.run([sys.executable, "-m", "cosim.cli", "hw", "show", str(bad)],
                          check=False, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    assert "neg.yaml" in lines[0] and "run_current_ma" in lines[0]
