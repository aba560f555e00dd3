"""Bad input, case by case: each ends with exit status 2 and one line naming the file, line and field
(or runs correctly), including YAML merge keys, alias bombs, deep nesting, special files, trace CSV
defects, and scenarios far too big for this machine (refused up front with the estimate, or --force).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from reliability_fixtures import ROOT, assert_one_line_error, cli

from cosim.config.scenario import load_scenario
from cosim.engine.budget import check_budget, estimate
from cosim.errors import ScenarioError

QUICKSTART = ROOT / "scenarios" / "quickstart-digits.yaml"
TEXT = QUICKSTART.read_text()


def _write(tmp_path: Path, text: str | bytes, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return path


def test_merge_keys_work_and_errors_point_into_the_anchor(tmp_path):
    text = """name: merged
duration_s: 5
defaults: &sensor
  count: 3
  board: stm32l476
  workload: {kind: periodic, period_s: 1.0}
devices:
  - <<: *sensor
    name: a
  - <<: *sensor
    name: b
    count: 4
edge:
  - channel: {kind: constant, ber: 0.0}
"""
    path = _write(tmp_path, text.replace("defaults:", "x-defaults:"))
    line = assert_one_line_error(cli(["validate", str(path)]), str(path))
    assert f"{path}:3: x-defaults: Extra inputs are not permitted" in line  # a stray top-level key
    # anchors must live somewhere the schema allows: inline in the first group
    good = """name: merged
duration_s: 5
devices:
  - &sensor
    name: a
    count: 3
    workload: {kind: periodic, period_s: 1.0}
  - <<: *sensor
    name: b
    count: 4
edge:
  - channel: {kind: constant, ber: 0.0}
"""
    path = _write(tmp_path, good, "good.yaml")
    assert cli(["validate", str(path)]).rc == 0
    sc = load_scenario(path)
    assert [(g.name, g.count, g.workload.period_s) for g in sc.devices] == [("a", 3, 1.0), ("b", 4, 1.0)]
    bad = _write(tmp_path, good.replace("period_s: 1.0}", "period_s: -1.0}"), "bad.yaml")
    line = assert_one_line_error(cli(["validate", str(bad)]), str(bad))
    assert f"{bad}:7: devices.0.workload.period_s: Input should be greater than 0" in line, line


CASES = [
    ("recursive", "a: &a [*a]\n", ":1: invalid YAML: an alias refers to an enclosing anchor"),
    ("laughs", "\n".join(["a0: &a0 [x, x, x, x, x, x, x, x, x]"]
                         + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]) + "\n",
     "invalid YAML: more than 200000 values once aliases are expanded"),
    ("deep", "[" * 3000 + "\n", "invalid YAML: nested too deeply"),
    ("control", "name: a\nseed: \x01\n", ":2: invalid YAML: control character U+0001 is not allowed"),
    ("nul", b"name: a\x00\n", "binary data, expected a YAML file"),
    ("latin1", b"name: caf\xe9\n", "not a UTF-8 text file (byte 9)"),
    ("empty", "", "empty file, expected a scenario mapping"),
    ("comments-only", "# nothing\n", "empty file, expected a scenario mapping"),
    ("list", "- a\n- b\n", "expected a mapping at the top level, got list"),
    ("two-documents", "a: 1\n---\nb: 2\n", ":2: invalid YAML: but found another document"),
    ("duplicate", TEXT.replace("    board: stm32l476", "    board: stm32l476\n    board: stm32u575"),
     ":15: invalid YAML: duplicate key 'board' (first on line 14)"),
    ("complex-key", "? [a, b]\n: 1\n", ":1: invalid YAML: a mapping key must be a plain value"),
    ("bad-tagged-value", "seed: !!int zz\n", "invalid YAML: a value cannot be read as its tag says"),
    ("object-tag", "seed: !!python/object/apply:os.getpid []\n", ":1: invalid YAML: tag"),
    ("unclosed", TEXT.replace("{kind: periodic, period_s: 2.0, jitter_s: 0.2}", "{kind: periodic"),
     ":18: invalid YAML:"),
    ("count-negative", TEXT.replace("count: 200", "count: -3"), ":13: devices.0.count: Input should be greater than 0"),
    ("count-huge", TEXT.replace("count: 200", "count: 1000000000000"),
     ":13: devices.0.count: Input should be less than or equal to 1000000"),
    ("ber-above-half", TEXT.replace("ber_bad: 1.0e-2", "ber_bad: 0.7"),
     ":32: edge.0.channel.ber_bad: Input should be less than or equal to 0.5"),
    ("ge-dwell-tiny", TEXT.replace("mean_good_s: 20.0", "mean_good_s: 1.0e-300"),  # a run never ended
     ":33: edge.0.channel.mean_good_s: Input should be greater than or equal to 0.000001"),
    ("nan", TEXT.replace("duration_s: 60", "duration_s: .nan"), ":6: duration_s: Input should be"),
    ("inf", TEXT.replace("duration_s: 60", "duration_s: .inf"), ":6: duration_s: Input should be"),
    ("unknown-key", TEXT.replace("    count: 200", "    count: 200\n    colour: red"),
     ":14: devices.0.colour: Extra inputs are not permitted"),
    ("missing-key", TEXT.replace("duration_s: 60 ", "# no duration "), "duration_s: Field required"),
    ("unknown-board", TEXT.replace("board: stm32l476 ", "board: stm32l999 "),
     ":14: devices.0.board: unknown board profile 'stm32l999'"),
    ("unknown-edge", TEXT.replace("profile: rpi5", "profile: rpi9"), ":24: edge.0.profile: unknown edge profile"),
    ("unknown-strategy", TEXT.replace("strategy: semanticnn", "strategy: telepathy"),
     ":16: devices.0.strategy: unknown strategy 'telepathy'"),
    ("unknown-codec", TEXT.replace("codec: builtin:digits ", "codec: builtin:nope "),
     ":8: codec: builtin:nope: no such built-in codec"),
    ("unknown-dataset", TEXT.replace("dataset: digits ", "dataset: imagenet "),
     ":7: dataset: unknown data set 'imagenet'"),
    ("unused-option", TEXT.replace("    strategy: semanticnn", "    strategy: semanticnn\n    strategy_options: {jpeg_quality: 50}"),
     ":17: devices.0.strategy_options.jpeg_quality (group 'sensors'): not used by strategy 'semanticnn'"),
    ("adaptive-needs-target", TEXT.replace("strategy: semanticnn", "strategy: adaptive"),
     "devices.0.strategy_options.accuracy_target (group 'sensors'): required by strategy 'adaptive'"),
]


@pytest.mark.parametrize("name, content, expected", CASES, ids=[c[0] for c in CASES])
def test_bad_scenarios_one_line_with_file_line_field(tmp_path, name, content, expected):
    path = _write(tmp_path, content)
    o = cli(["validate", str(path)], timeout_s=30)  # refused within the timeout
    line = assert_one_line_error(o, str(path))
    assert expected in line, line


def test_control_characters_in_keys_stay_on_one_line(tmp_path):
    for key in ("\r", "a\rb", "x\u2028y", "\u202eevil", "\x1b[2J"):
        path = _write(tmp_path, TEXT + f'"{key.encode("unicode_escape").decode()}": 1\n')
        line = assert_one_line_error(cli(["validate", str(path)]), str(path))
        assert "Extra inputs are not permitted" in line and line.isprintable(), repr(line)


def test_bad_output_folder_is_one_line(tmp_path):
    (tmp_path / "file").write_text("x")
    for out, expected in ((tmp_path / "file", "exists and is not a folder"),
                          (tmp_path / "file" / "sub", "cannot write outputs")):
        line = assert_one_line_error(cli(["run", str(QUICKSTART), "-o", str(out), "--quiet", "--set", "duration_s=1"]),
                                     str(out))
        assert expected in line, line


def test_special_files_are_refused_without_reading_them(tmp_path):
    assert "is a directory" in assert_one_line_error(cli(["validate", str(tmp_path)]), str(tmp_path))
    assert "file not found" in assert_one_line_error(cli(["validate", str(tmp_path / "no.yaml")]), "no.yaml")
    if os.path.exists("/dev/zero"):
        line = assert_one_line_error(cli(["validate", "/dev/zero"], timeout_s=10), "/dev/zero")
        assert "not a regular file" in line
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    assert "not a regular file" in assert_one_line_error(cli(["validate", str(fifo)], timeout_s=10), str(fifo))


@pytest.mark.parametrize("csv, expected", [
    ("time_s,ber\n0,0.01\n1,\n2,0.01\n", "trace.csv:3: column 'ber': '' is not a number"),  # a gap
    ("time_s,ber\n0,0.01\n2,0.02\n1,0.01\n", "trace.csv:4: column 'time_s': 1 does not increase"),
    ("time_s,ber\n0,0.01\n1,0.02\n1,0.01\n", "trace.csv:4: column 'time_s': 1 does not increase"),
    ("time_s,ber\n0,NaN\n", "trace.csv:2: column 'ber': 'NaN' is not a finite number"),
    ("time_s,ber\nnan,0.1\n", "trace.csv:2: column 'time_s': 'nan' is not a finite number"),
    ("time_s,ber\n0,0.6\n", "trace.csv:2: column 'ber': 0.6 is outside [0, 0.5]"),
    ("time_s,ber\n0,-0.1\n", "trace.csv:2: column 'ber': -0.1 is outside [0, 0.5]"),
    ("time,ber\n0,0.1\n", "trace.csv:1: header must be 'time_s,ber' or 'time_s,snr_db'"),
    ("time_s,ber\n", "trace.csv: trace has a header but no data rows"),
    ("", "trace.csv:1: empty trace"),
    ("time_s,ber\n0,0.1,7\n", "trace.csv:2: expected 2 columns"),
    ("time_s,snr_db\n0,inf\n", "trace.csv:2: column 'snr_db': 'inf' is not a finite number"),
])
def test_trace_csv_defects_name_both_files(tmp_path, csv, expected):
    (tmp_path / "trace.csv").write_text(csv)
    text = TEXT.replace("""    channel:
      kind: gilbert-elliott""", """    channel:
      kind: trace
      path: trace.csv
    old_channel:
      kind: gilbert-elliott""")
    text = text.replace("    old_channel:\n", "    # old_channel:\n").replace(
        "      ber_good: 1.0e-5\n      ber_bad: 1.0e-2\n      mean_good_s: 20.0   # mean dwell in the good state, s\n"
        "      mean_bad_s: 2.0     # mean dwell in the bad state, s\n", "")
    text = text.replace("    # old_channel:\n      kind: gilbert-elliott\n", "")
    path = _write(tmp_path, text)
    for argv in (["validate", str(path)], ["run", str(path), "-o", str(tmp_path / "o"), "--quiet"]):
        line = assert_one_line_error(cli(argv), str(path))
        assert f"{path}:" in line and "edge.0.channel.path" in line and expected in line, line
    assert not (tmp_path / "o").exists()


def test_validate_and_run_refuse_alike(tmp_path):
    """`validate` runs the checks `run` runs: same message, and run creates nothing."""
    for sets in (["devices.0.strategy=raw", "devices.0.strategy_options.arq=false",
                  "devices.0.strategy_options.jpeg_quality=50"],
                 ["devices.0.strategy=split-int8", "devices.0.strategy_options={arq: false, max_retries: 3}"],
                 ["edge.0.medium={kind: tdma, slot_ms: 0.01}"],
                 ["devices.0.codec=builtin:shapes"]):
        args = [a for s in sets for a in ("--set", s)]
        v = cli(["validate", str(QUICKSTART), *args])
        r = cli(["run", str(QUICKSTART), "-o", str(tmp_path / "o"), "--quiet", *args])
        assert v.rc == 2 and v.err_lines == r.err_lines, (v.err, r.err)
        assert_one_line_error(v, str(QUICKSTART))
        assert not (tmp_path / "o").exists()


def test_validate_checks_every_gateway_a_nearest_group_may_use(tmp_path):
    """Found by the fuzzer: the few devices `validate` builds all sat near one gateway, so a broken trace
    of another gateway passed `validate` and stopped `run`."""
    import yaml

    data = yaml.safe_load((ROOT / "scenarios" / "ble-office.yaml").read_text())
    data["seed"], data["devices"][0]["count"] = 0, 40
    data["devices"][0]["placement"]["x_m"] = [0, 44]  # few devices nearest gw-east (x = 50)
    data["edge"][2]["channel"] = {"kind": "trace", "path": "trace.csv"}  # gw-east's
    (tmp_path / "trace.csv").write_text("time_s,ber\n")
    path = _write(tmp_path, yaml.safe_dump(data, sort_keys=False))
    for argv in (["validate", str(path)], ["run", str(path), "-o", str(tmp_path / "o"), "--quiet",
                                            "--set", "duration_s=5"]):
        line = assert_one_line_error(cli(argv), str(path))
        assert "edge.2.channel.path" in line and "trace has a header but no data rows" in line, line


def test_far_too_big_is_refused_up_front_with_the_estimate(tmp_path):
    big = ["--set", "devices.0.count=1000000", "--set", "duration_s=1000000"]
    for argv in (["validate", str(QUICKSTART), *big],
                 ["run", str(QUICKSTART), "-o", str(tmp_path / "o"), "--quiet", *big]):
        line = assert_one_line_error(cli(argv), str(QUICKSTART))
        assert "too large for this machine: 1,000,000 devices, about 5e+11 inferences" in line, line
        assert "--force runs anyway" in line
    assert not (tmp_path / "o").exists()
    long = ["--set", "devices.0.count=1000", "--set", "duration_s=1.0e+6", "--set", "devices.0.workload.period_s=10"]
    line = assert_one_line_error(cli(["validate", str(QUICKSTART), *long]), str(QUICKSTART))
    assert "too" in line and "of run time" in line
    flapping = ["--set", "edge.0.channel.mean_good_s=1e-6", "--set", "edge.0.channel.mean_bad_s=1e-6",
                "--set", "duration_s=36000"]  # every Gilbert-Elliott state change is simulated
    line = assert_one_line_error(cli(["validate", str(QUICKSTART), *flapping]), str(QUICKSTART))
    assert "too long for this machine" in line and "days of run time" in line, line
    o = cli(["validate", str(QUICKSTART), *big, "--force"])
    assert o.rc == 0 and "estimate: 1,000,000 devices" in o.out


def test_sweep_refuses_a_run_far_too_big(tmp_path):
    sweep = _write(tmp_path, f"base: {QUICKSTART}\ngrid:\n  devices.0.count: [10, 1000000]\nset:\n"
                             "  duration_s: 1000000\n", "sweep.yaml")
    line = assert_one_line_error(cli(["sweep", str(sweep), "-o", str(tmp_path / "o"), "--quiet"]), str(sweep))
    assert "run devices.0.count=1000000: too large for this machine" in line, line
    assert not (tmp_path / "o").exists()


def test_estimate_figures():
    sc = load_scenario(QUICKSTART)
    est = estimate(sc)
    assert est.devices == 200 and est.inferences == pytest.approx(200 * 60 / 2.0)
    assert 0.5e9 < est.memory_bytes < 1e9 and 1 < est.wall_s < 10  # measured: ~0.46 GB, 1.6 s
    assert check_budget(sc, "q") == est
    huge = load_scenario(QUICKSTART, ["devices.0.count=1000000", "duration_s=1e6"])
    with pytest.raises(ScenarioError, match="^q: too large"):
        check_budget(huge, "q")
    assert check_budget(huge, "q", force=True).inferences == pytest.approx(5e11)
