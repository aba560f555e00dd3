"""Never lose a user's file: cosim replaces only what it wrote (its folders carry a marker listing their
files); an output folder holding anything else, an empty `-o`, a scenario name that is not a plain file
name, a NUL byte or an over-long path component are refused in one line with exit 2; written files
respect the umask."""

from __future__ import annotations

import os
import stat

import pytest
from reliability_fixtures import ROOT, cli

from cosim.io import MARKER, atomic_write_text, foreign_entries, read_marker

QUICKSTART = ROOT / "scenarios" / "quickstart-digits.yaml"
TINY = ["-q", "--set", "duration_s=2", "--set", "devices.0.count=5"]


def _run(*args):
    return cli(["run", str(QUICKSTART), *TINY, *args])


def _one_line(o, *needles):
    assert o.rc == 2 and len(o.err_lines) == 1 and "Traceback" not in o.err, o.err
    for n in needles:
        assert n in o.err, o.err
    return o.err_lines[0]


def test_user_figures_folder_is_kept(tmp_path):
    out = tmp_path / "DIR"
    (out / "figures").mkdir(parents=True)
    (out / "figures" / "my-plot.png").write_bytes(b"mine")
    _one_line(_run("-o", str(out)), "figures")
    _one_line(_run("-o", str(out), "--force-outdir"), "figures", "move them away")  # never taken over
    assert (out / "figures" / "my-plot.png").read_bytes() == b"mine"


def test_user_file_inside_an_earlier_run_is_kept(tmp_path):
    out = tmp_path / "DIR"
    assert _run("-o", str(out)).rc == 0
    (out / "figures" / "annotated.png").write_bytes(b"mine")
    _one_line(_run("-o", str(out)), "figures/annotated.png")
    assert (out / "figures" / "annotated.png").read_bytes() == b"mine"


def test_folder_with_other_files_refused_unless_forced(tmp_path):
    out = tmp_path / "DIR"
    out.mkdir()
    (out / "notes.txt").write_text("keep")
    _one_line(_run("-o", str(out)), "notes.txt", "--force-outdir")
    assert sorted(p.name for p in out.iterdir()) == ["notes.txt"]
    assert _run("-o", str(out), "--force-outdir").rc == 0
    assert (out / "notes.txt").read_text() == "keep" and (out / "summary.json").is_file()
    assert _run("-o", str(out), "--force-outdir", "--seed", "3").rc == 0  # replaces its own files only
    assert (out / "notes.txt").read_text() == "keep"
    assert foreign_entries(out, "run") == ["notes.txt"]


def test_rerun_into_own_folder_replaces_it(tmp_path):
    out = tmp_path / "DIR"
    assert _run("-o", str(out)).rc == 0
    first = (out / "summary.json").read_text()
    assert _run("-o", str(out), "--seed", "9").rc == 0
    assert (out / "summary.json").read_text() != first
    assert read_marker(out)["kind"] == "run" and "figures/latency_cdf.png" in read_marker(out)["entries"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".cosim-run-")]


@pytest.mark.parametrize("name", ["..", ".", "/etc", "a/b", "../escape", ".hidden", "x" * 300])
def test_scenario_name_must_be_a_plain_file_name(tmp_path, name, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _one_line(_run("--set", f"name={name!r}" if name != "." else "name='.'"), "scenario name")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_empty_nul_and_long_output_paths(tmp_path):
    _one_line(_run("-o", ""), "-o: empty path")
    _one_line(_run("-o", f"{tmp_path}/a\x00b"), "NUL byte")
    _one_line(_run("-o", str(tmp_path / ("x" * 300))), "longer than 255 bytes")
    _one_line(cli(["validate", f"{tmp_path}/a\x00b.yaml"]), "NUL")


def test_written_files_respect_the_umask(tmp_path):
    old = os.umask(0o027)
    try:
        out = tmp_path / "DIR"
        assert _run("-o", str(out)).rc == 0
        atomic_write_text(tmp_path / "t.txt", "x")
    finally:
        os.umask(old)
    for p in [out, out / "summary.json", out / "packets.parquet", out / "figures",
              out / "figures" / "latency_cdf.png", out / MARKER, tmp_path / "t.txt"]:
        mode = stat.S_IMODE(p.stat().st_mode)
        assert mode == (0o750 if p.is_dir() else 0o640), (p, oct(mode))


def test_unwritable_output_place_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    _one_line(_run("-o", str(tmp_path / "file" / "sub")), "cannot write outputs")
    sweep = tmp_path / "s.yaml"
    sweep.write_text(f"base: {QUICKSTART}\ngrid:\n  devices.0.count: [2]\n")
    _one_line(cli(["sweep", str(sweep), "-o", str(tmp_path / "file" / "sub"), "--serial", "-q"]), "-o")
