"""`cosim plot` and `cosim sweep` from the command line: a PNG is written; bad input is one line, exit 2."""

from __future__ import annotations

import pytest
from sweep_fixtures import FakeSimulate, write_base, write_sweep

from cosim.cli import main
from cosim.sweep.execute import load_sweep, run_sweep


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("plotting")
    write_base(folder)
    sweep = load_sweep(write_sweep(folder, "base: base.yaml\ngrid:\n  devices.0.count: [4, 40, 400]\n"
                                   "  devices.0.strategy: [semanticnn, raw]\nreplications: 2\n"))
    run_sweep(sweep, folder / "out", workers=0, simulate=FakeSimulate(), figures=False)
    return folder / "out"


def _png(path) -> bool:
    return path.is_file() and path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_plot_command_writes_a_png(results, tmp_path, capsys):
    out = tmp_path / "p95.png"
    rc = main(["plot", str(results / "results.parquet"), "--x", "devices", "--y", "latency_ms.p95",
               "--hue", "strategy", "--out", str(out)])
    assert rc == 0 and _png(out)
    assert capsys.readouterr().out.strip() == str(out)


def test_plot_command_reads_csv_and_folders_with_default_name(results, tmp_path):
    out = tmp_path / "acc.png"
    assert main(["plot", str(results / "results.csv"), "--x", "count", "--y", "accuracy", "--out", str(out)]) == 0
    assert _png(out)
    assert main(["plot", str(results), "--x", "strategy", "--y", "edge_utilization.gateway"]) == 0
    assert _png(results / "figures" / "edge_utilization.gateway_vs_devices.0.strategy.png")


@pytest.mark.parametrize("argv, message", [
    (["--x", "nope", "--y", "accuracy"], "no column 'nope'"),
    (["--x", "devices", "--y", "status"], "not a numeric metric"),
    (["--x", "devices", "--y", "accuracy", "--hue", "accuracy"], "not a swept parameter"),
])
def test_plot_command_bad_columns_exit_2(results, capsys, argv, message):
    assert main(["plot", str(results), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_plot_missing_results_exit_2(tmp_path, capsys):
    assert main(["plot", str(tmp_path / "none.parquet"), "--x", "a", "--y", "b"]) == 2
    assert "no such results file" in capsys.readouterr().err


def test_bad_sweep_file_exits_2_with_one_line(tmp_path, capsys):
    write_base(tmp_path)
    path = write_sweep(tmp_path, "base: base.yaml\ngrid:\n  devices.0.cuont: [4]\n")
    assert main(["sweep", str(path), "-o", str(tmp_path / "out"), "--workers", "0"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"cosim: error: {path}:3: run devices.0.cuont=4:") and "cuont" in err
    assert not (tmp_path / "out").exists()
