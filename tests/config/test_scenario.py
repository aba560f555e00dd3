"""Scenario loading: validation errors name file, line and field; overrides; safe YAML."""

from __future__ import annotations

import pytest

from cosim.cli import main
from cosim.config.scenario import load_scenario
from cosim.errors import ScenarioError

GOOD = """\
name: s
duration_s: 10
devices:
  - name: g
    count: 3
    workload: {kind: periodic, period_s: 1.0}
edge:
  - name: e
    channel: {kind: constant, ber: 0.001}
"""


def write(tmp_path, text, name="s.yaml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_good_scenario_loads_with_defaults(tmp_path):
    sc = load_scenario(write(tmp_path, GOOD))
    assert sc.devices[0].board == "stm32l476"
    assert sc.edge[0].medium.kind == "dedicated"
    assert sc.codec == "builtin:digits"


@pytest.mark.parametrize("text, line, field", [
    (GOOD.replace("count: 3", "count: -3"), 5, "devices.0.count"),
    (GOOD.replace("count: 3", "count: lots"), 5, "devices.0.count"),
    (GOOD.replace("ber: 0.001", "ber: 0.7"), 9, "edge.0.channel.ber"),
    (GOOD.replace("    count: 3\n", "    count: 3\n    colour: red\n"), 6, "devices.0.colour"),
    (GOOD.replace("period_s: 1.0", "period_s: 0"), 6, "devices.0.workload.period_s"),
])
def test_errors_name_file_line_and_field(tmp_path, text, line, field):
    p = write(tmp_path, text)
    with pytest.raises(ScenarioError) as err:
        load_scenario(p)
    msg = str(err.value)
    assert msg.startswith(f"{p}:{line}: {field}:"), msg
    assert "\n" not in msg


def test_duplicate_keys_and_broken_yaml_are_refused(tmp_path):
    with pytest.raises(ScenarioError, match="duplicate key 'duration_s'"):
        load_scenario(write(tmp_path, GOOD + "duration_s: 20\n"))
    with pytest.raises(ScenarioError, match=r"s.yaml:\d+: invalid YAML"):
        load_scenario(write(tmp_path, GOOD + "  - [unclosed\n"))
    with pytest.raises(ScenarioError, match="empty file"):
        load_scenario(write(tmp_path, ""))
    with pytest.raises(ScenarioError, match="binary data|not a UTF-8"):
        p = tmp_path / "b.yaml"
        p.write_bytes(b"\x00\xff\xfe junk")
        load_scenario(p)
    with pytest.raises(ScenarioError, match="file not found"):
        load_scenario(tmp_path / "missing.yaml")


def test_yaml_never_constructs_objects(tmp_path):
    text = GOOD.replace("name: s", "name: !!python/object/apply:os.system ['echo pwned']")
    with pytest.raises(ScenarioError, match="invalid YAML"):
        load_scenario(write(tmp_path, text))


def test_overrides_and_seed(tmp_path):
    p = write(tmp_path, GOOD)
    sc = load_scenario(p, ["devices.0.count=500", "edge.0.channel.ber=1e-4"], seed=3)
    assert sc.devices[0].count == 500 and sc.edge[0].channel.ber == 1e-4 and sc.seed == 3
    with pytest.raises(ScenarioError, match="no list item"):
        load_scenario(p, ["devices.4.count=1"])
    with pytest.raises(ScenarioError, match="devices.0.count"):
        load_scenario(p, ["devices.0.count=-1"])
    with pytest.raises(ScenarioError, match="expected PATH=VALUE"):
        load_scenario(p, ["devices.0.count"])


def test_references_are_checked(tmp_path):
    text = GOOD.replace("    count: 3\n", "    count: 3\n    server: nowhere\n")
    with pytest.raises(ScenarioError, match="no edge server named 'nowhere'"):
        load_scenario(write(tmp_path, text))


def test_cli_validate_exit_status_and_one_line(tmp_path, capsys):
    good = write(tmp_path, GOOD)
    assert main(["validate", str(good)]) == 0
    bad = write(tmp_path, GOOD.replace("count: 3", "count: -3"), "bad.yaml")
    assert main(["validate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "bad.yaml:5: devices.0.count" in err and "Traceback" not in err


def test_cli_schema_prints_json_schema(capsys):
    import json

    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "devices" in schema["properties"]


def test_discipline_naming_an_unknown_group_names_the_field(tmp_path):
    text = GOOD.replace("    channel: {kind: constant, ber: 0.001}\n",
                        "    channel: {kind: constant, ber: 0.001}\n"
                        "    discipline: {kind: priority, priorities: {cams: 0}}\n")
    with pytest.raises(ScenarioError, match=r"edge\.0\.discipline\.priorities: no device group named 'cams'"):
        load_scenario(write(tmp_path, text))
    sc = load_scenario(write(tmp_path, text.replace("cams", "g")))
    assert sc.edge[0].discipline.kind == "priority"
    with pytest.raises(ScenarioError, match="edge.0.discipline"):
        load_scenario(write(tmp_path, text.replace("priority", "lifo")))
